//! Business figures as pure functions: the paid seats a partner holds (kept as a running count,
//! moved by every partner change in the same transaction), and the window's movements, rates and
//! revenue from its history entries and invoices. Money is integer cents; rates are basis points
//! (1/100 of a percent) with a display string, never floats.

use super::history_and_audit::{HistoryEntry, HistoryEventType};
use super::invoice::{InvoiceRecord, InvoiceStatus};
use super::money::Cents;
use super::partner::Partner;
use super::tier::Tier;
use serde::Serialize;

/// Paid partners by tier (or, as a change, how a write moves those counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PaidSeats {
    pub gold: i64,
    pub platinum: i64,
}

impl PaidSeats {
    /// The seat `partner` holds: one on its tier while that tier is paid (a term cancelled at its
    /// end still pays until then).
    pub fn of(partner: &Partner) -> PaidSeats {
        match partner.engagement_tier {
            Tier::Gold => PaidSeats { gold: 1, platinum: 0 },
            Tier::Platinum => PaidSeats { gold: 0, platinum: 1 },
            Tier::Free => PaidSeats::default(),
        }
    }

    /// How a write from `before` (`None`: a new partner) to `after` moves the counts.
    pub fn change(before: Option<&Partner>, after: &Partner) -> PaidSeats {
        let (from, to) = (before.map(PaidSeats::of).unwrap_or_default(), PaidSeats::of(after));
        PaidSeats {
            gold: to.gold - from.gold,
            platinum: to.platinum - from.platinum,
        }
    }

    /// The counts of a whole population, from scratch.
    pub fn count<'a>(partners: impl IntoIterator<Item = &'a Partner>) -> PaidSeats {
        partners
            .into_iter()
            .map(PaidSeats::of)
            .fold(PaidSeats::default(), |a, b| a.plus(b))
    }

    pub fn plus(self, other: PaidSeats) -> PaidSeats {
        PaidSeats {
            gold: self.gold + other.gold,
            platinum: self.platinum + other.platinum,
        }
    }

    pub fn is_zero(self) -> bool {
        self == PaidSeats::default()
    }

    pub fn total(self) -> i64 {
        self.gold + self.platinum
    }
}

/// Monthly recurring revenue by tier, at the tiers' list prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Revenue {
    pub gold_cents: Cents,
    pub platinum_cents: Cents,
    pub total_cents: Cents,
}

impl Revenue {
    pub fn monthly(seats: PaidSeats) -> Revenue {
        let gold = Cents(seats.gold * Tier::Gold.info().monthly_price_cents.get());
        let platinum = Cents(seats.platinum * Tier::Platinum.info().monthly_price_cents.get());
        Revenue {
            gold_cents: gold,
            platinum_cents: platinum,
            total_cents: Cents(gold.get() + platinum.get()),
        }
    }

    pub fn annual(self) -> Revenue {
        Revenue {
            gold_cents: Cents(self.gold_cents.get() * 12),
            platinum_cents: Cents(self.platinum_cents.get() * 12),
            total_cents: Cents(self.total_cents.get() * 12),
        }
    }
}

/// A ratio as basis points and as text (`83.33%`); `None` when nothing was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rate {
    pub numerator: i64,
    pub denominator: i64,
    pub basis_points: Option<i64>,
    pub percent: Option<String>,
}

impl Rate {
    pub fn of(numerator: i64, denominator: i64) -> Rate {
        let basis_points = (denominator > 0).then(|| (numerator * 10_000 + denominator / 2) / denominator);
        Rate {
            numerator,
            denominator,
            basis_points,
            percent: basis_points.map(|bp| format!("{}.{:02}%", bp / 100, bp % 100)),
        }
    }
}

/// How partners moved in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Movements {
    /// Free to a paid tier.
    pub new: i64,
    /// Between paid tiers, up.
    pub upgraded: i64,
    /// Between paid tiers, down.
    pub downgraded: i64,
    /// A paid tier to free (expired, cancelled now, downgraded for non-payment or by hand).
    pub churned: i64,
    pub renewed: i64,
    /// Terms that reached their end: renewed or expired.
    pub came_due: i64,
}

/// What the window's history entries say.
pub fn movements<'a>(history: impl IntoIterator<Item = &'a HistoryEntry>) -> Movements {
    let mut m = Movements::default();
    for entry in history {
        let paid = |t: Option<Tier>| t.is_some_and(Tier::is_paid);
        let (from_paid, to_paid) = (paid(entry.from_tier), paid(entry.to_tier));
        match entry.event_type {
            HistoryEventType::Renewal => {
                m.renewed += 1;
                m.came_due += 1;
            }
            HistoryEventType::Expiration => {
                m.churned += 1;
                m.came_due += 1;
            }
            _ if !from_paid && to_paid => m.new += 1,
            _ if from_paid && !to_paid => m.churned += 1,
            _ if from_paid && to_paid && entry.to_tier > entry.from_tier => m.upgraded += 1,
            _ if from_paid && to_paid && entry.to_tier < entry.from_tier => m.downgraded += 1,
            _ => {}
        }
    }
    m
}

/// What the window's invoices say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collections {
    /// Paid over attempted (paid, or failed at least once).
    pub payment_success: Rate,
    /// Of the invoices that failed at least once, those paid in the end.
    pub dunning_recovery: Rate,
    pub collected_cents: Cents,
    pub refunded_cents: Cents,
    /// Collected minus refunded.
    pub revenue_cents: Cents,
}

/// The collections of a window from its counts: `paid` invoices (`recovered` of them after a
/// failed attempt), `failed` ones not paid (yet), and the cents collected and given back.
pub fn collections_from_counts(
    paid: i64,
    recovered: i64,
    failed: i64,
    collected: Cents,
    refunded: Cents,
) -> Collections {
    Collections {
        payment_success: Rate::of(paid, paid + failed),
        dunning_recovery: Rate::of(recovered, recovered + failed),
        collected_cents: collected,
        refunded_cents: refunded,
        revenue_cents: Cents(collected.get() - refunded.get()),
    }
}

pub fn collections<'a>(invoices: impl IntoIterator<Item = &'a InvoiceRecord>) -> Collections {
    let (mut paid, mut attempted, mut failed_once, mut recovered) = (0, 0, 0, 0);
    let (mut collected, mut refunded) = (0i64, 0i64);
    for invoice in invoices {
        let was_paid = invoice.status.was_paid();
        let failed = invoice.status == InvoiceStatus::Failed || (was_paid && invoice.attempt_count > 1);
        if was_paid || invoice.status == InvoiceStatus::Failed {
            attempted += 1;
        }
        if was_paid {
            paid += 1;
            collected += invoice.amount_paid_cents.get();
            refunded += invoice.amount_refunded_cents.get();
        }
        if failed {
            failed_once += 1;
            if was_paid {
                recovered += 1;
            }
        }
    }
    Collections {
        payment_success: Rate::of(paid, attempted),
        dunning_recovery: Rate::of(recovered, failed_once),
        collected_cents: Cents(collected),
        refunded_cents: Cents(refunded),
        revenue_cents: Cents(collected - refunded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_in_basis_points() {
        assert_eq!(Rate::of(5, 6).percent.as_deref(), Some("83.33%"));
        assert_eq!(Rate::of(2, 3).basis_points, Some(6_667));
        assert_eq!(Rate::of(1, 1).percent.as_deref(), Some("100.00%"));
        assert_eq!(Rate::of(0, 0).percent, None);
    }

    #[test]
    fn revenue_is_list_price_times_seats() {
        let mrr = Revenue::monthly(PaidSeats { gold: 3, platinum: 2 });
        assert_eq!(mrr.gold_cents, Cents(1_080_000));
        assert_eq!(mrr.platinum_cents, Cents(1_200_000));
        assert_eq!(mrr.total_cents, Cents(2_280_000));
        assert_eq!(mrr.annual().total_cents, Cents(27_360_000));
    }
}
