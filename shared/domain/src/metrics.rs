//! Business figures as pure functions: the paid seats a partner holds (kept as a running count,
//! moved by every partner change in the same transaction), and the window's movements, rates and
//! revenue from its history entries and invoices. Money is integer cents; rates are basis points
//! (1/100 of a percent) with a display string, never floats.

use super::dates::CalendarDate;
use super::history_and_audit::{HistoryEntry, HistoryEventType};
use super::invoice::{InvoiceRecord, InvoiceStatus};
use super::lifecycle::NoticeStage;
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

/// The spec's success metrics, each watched by a CloudWatch alarm on the business dashboard
/// (template.yaml, beside its target). The sweep reports them once a day (`usecases::metrics::
/// success_figures`); the alarms compare them with these targets.
pub mod targets {
    /// Renewal rate (renewed over came due, the last [`WINDOW_DAYS`]) below 80 % alarms.
    pub const RENEWAL_RATE_BP: i64 = 8_000;
    /// Payment success (paid over attempted, invoices of the last [`WINDOW_DAYS`]) below 95 % alarms.
    pub const PAYMENT_SUCCESS_BP: i64 = 9_500;
    /// A payment recorded more than this after Stripe's own payment time alarms.
    pub const RECORD_LAG_SECONDS: i64 = 3_600;
    /// The rates' window, in business days up to today.
    pub const WINDOW_DAYS: i64 = 30;
}

/// Whether a paid invoice was recorded more than [`targets::RECORD_LAG_SECONDS`] after Stripe took
/// the payment (`false` when either time is unknown).
pub fn recorded_late(invoice: &InvoiceRecord) -> bool {
    match (invoice.paid_at, invoice.recorded_at) {
        (Some(paid), Some(recorded)) => recorded.as_second() - paid.as_second() > targets::RECORD_LAG_SECONDS,
        _ => false,
    }
}

/// Whether a term was running on the day it reached `stage`'s mark (`stage.days()` before its end):
/// a term that began inside the window never reached it here, and owes no reminder for it.
fn running_at_mark(stage: NoticeStage, end: CalendarDate, start: Option<CalendarDate>) -> bool {
    let mark = end.checked_sub(jiff::Span::new().days(i64::from(stage.days())));
    match (mark, start) {
        (Ok(mark), Some(start)) => start <= mark,
        _ => true,
    }
}

/// Whether the sweep's `stage` notice, going out with `days_left`, comes after the term reached that
/// mark on an earlier day without it (a missed reminder: the sweep did not run, or failed for it).
pub fn reminder_late(stage: NoticeStage, days_left: i32, end: CalendarDate, start: Option<CalendarDate>) -> bool {
    days_left < i32::from(stage.days()) && running_at_mark(stage, end, start)
}

/// The earlier reminder a `stage` notice should find sent: the 30-day one, for a 7-day notice of a
/// term that was running at its 30-day mark.
pub fn earlier_reminder_expected(
    stage: NoticeStage,
    end: CalendarDate,
    start: Option<CalendarDate>,
) -> Option<NoticeStage> {
    (stage == NoticeStage::SevenDay && running_at_mark(NoticeStage::ThirtyDay, end, start))
        .then_some(NoticeStage::ThirtyDay)
}

/// The figures the success alarms watch, as the sweep reports them each day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuccessFigures {
    pub renewal_rate: Rate,
    pub payment_success: Rate,
    /// Payments recorded late, by the business day we recorded them: yesterday and today.
    pub invoices_recorded_late: i64,
    /// Terms whose 30- or 7-day mark passed without their reminder, found by today's sweep.
    pub reminders_missed: u64,
}

impl SuccessFigures {
    /// The alarms each figure would raise, by metric name (a rate with nothing counted raises none).
    pub fn breaches(&self) -> Vec<&'static str> {
        let below = |rate: &Rate, target: i64| rate.basis_points.is_some_and(|bp| bp < target);
        let mut out = Vec::new();
        if below(&self.renewal_rate, targets::RENEWAL_RATE_BP) {
            out.push("RenewalRateBasisPoints");
        }
        if below(&self.payment_success, targets::PAYMENT_SUCCESS_BP) {
            out.push("PaymentSuccessBasisPoints");
        }
        if self.invoices_recorded_late > 0 {
            out.push("InvoicesRecordedLate");
        }
        if self.reminders_missed > 0 {
            out.push("RemindersMissed");
        }
        out
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
    fn a_reminder_is_missed_only_by_a_term_that_was_running_at_its_mark() {
        let end = jiff::civil::date(2027, 1, 31);
        let long_ago = Some(jiff::civil::date(2026, 1, 31));
        let (thirty, seven) = (NoticeStage::ThirtyDay, NoticeStage::SevenDay);
        assert!(!reminder_late(thirty, 30, end, long_ago), "on its mark");
        assert!(reminder_late(thirty, 29, end, long_ago), "a day after it");
        assert!(!reminder_late(seven, 7, end, long_ago));
        assert!(reminder_late(seven, 3, end, long_ago));
        // Begun 20 days before its end: it never had a 30-day mark here.
        let late_start = Some(jiff::civil::date(2027, 1, 11));
        assert!(!reminder_late(thirty, 20, end, late_start));
        assert_eq!(earlier_reminder_expected(seven, end, long_ago), Some(thirty));
        assert_eq!(earlier_reminder_expected(seven, end, late_start), None);
        assert_eq!(earlier_reminder_expected(thirty, end, long_ago), None);
    }

    #[test]
    fn a_payment_recorded_over_an_hour_after_stripe_took_it_is_late() {
        let paid: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let record = |recorded_after: i64| InvoiceRecord {
            partner_id: crate::partner::PartnerId::parse("p1").unwrap(),
            company_name: None,
            stripe_invoice_id: "in_1".into(),
            invoice_number: None,
            amount_cents: Cents(100),
            amount_paid_cents: Cents(100),
            amount_refunded_cents: Cents(0),
            tier: None,
            period_start: jiff::civil::date(2026, 12, 1),
            period_end: jiff::civil::date(2026, 12, 31),
            status: InvoiceStatus::Paid,
            attempt_count: 1,
            paid_at: Some(paid),
            invoice_url: None,
            pdf_url: None,
            created_at: paid,
            stripe_event_order: 0,
            recorded_at: Some(
                paid.checked_add(jiff::SignedDuration::from_secs(recorded_after))
                    .unwrap(),
            ),
        };
        assert!(!recorded_late(&record(3_600)), "an hour is in time");
        assert!(recorded_late(&record(3_601)));
        assert!(!recorded_late(&InvoiceRecord {
            recorded_at: None,
            ..record(0)
        }));
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
