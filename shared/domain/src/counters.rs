//! The counters the dashboard and the metrics read, as pure functions: what each stored fact
//! (a partner profile, a history entry, an invoice) contributes, so that a write moves the counters
//! by `contribution(after) - contribution(before)` in its own transaction, and a recount from
//! scratch is the sum of every fact's contribution. The two must always agree (the store's
//! property test and `devtool recount --check` hold them to it).
//!
//! | counter item            | fields                                                    | moved by |
//! |-------------------------|-----------------------------------------------------------|----------|
//! | `PaidSeats`             | `gold`, `platinum` (partners on the tier)                  | profiles |
//! | `Tabs`                  | `<status>.<last paid tier or none>` (the dashboard index)  | profiles |
//! | `Ending(day)`           | `<last paid tier or none>`: active terms ending that day   | profiles |
//! | `HistoryMonth(yyyy-mm)` | `<event type>`: history entries of the index's UTC month   | history  |
//! | `Day(business day)`     | movements (`new`, `upgraded`, ...) of its history entries; `paid`, `recovered`, `collected_cents`, `refunded_cents` of the invoices Stripe created that day; payments recorded late that day | history, invoices |
//!
//! Every counter is split over [`SHARDS`] items by the partner it counts, so that concurrent writes
//! of different partners rarely meet on one item (see the README's Performance and cost). Readers
//! sum the shards.

use super::dates::{BusinessCalendar, CalendarDate};
use super::history_and_audit::HistoryEntry;
use super::invoice::{InvoiceRecord, InvoiceStatus};
use super::metrics::{movements, Movements, PaidSeats};
use super::partner::{Partner, PartnerId, SubscriptionStatus};
use super::tier::Tier;
use std::collections::BTreeMap;

/// How many items each counter is split over.
pub const SHARDS: u8 = 8;

/// The shard a partner's counts go to: FNV-1a of its id, stable across processes and releases.
pub fn shard_of(id: &PartnerId) -> u8 {
    let hash = id.as_str().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(SHARDS)) as u8
}

/// A UTC month, `2026-11`: the history index's partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i16,
    pub month: i8,
}

impl Month {
    pub fn of_date(date: CalendarDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn of_instant(at: jiff::Timestamp) -> Month {
        Month::of_date(at.to_zoned(jiff::tz::TimeZone::UTC).date())
    }

    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        let (year, month) = (year.parse().ok()?, month.parse().ok()?);
        jiff::civil::Date::new(year, month, 1).ok()?;
        Some(Month { year, month })
    }

    pub fn first_day(self) -> CalendarDate {
        jiff::civil::date(self.year, self.month, 1)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Which counter item a count lives in (each split over [`SHARDS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CounterItem {
    /// A business day's movements and the figures of the invoices created on it.
    Day(CalendarDate),
    /// Active terms ending on that day, by last paid tier.
    Ending(CalendarDate),
    /// History entries by kind in a UTC month.
    HistoryMonth(Month),
    PaidSeats,
    /// The dashboard's status tabs by last paid tier.
    Tabs,
}

/// One counter: its shard, its item and its field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CounterKey {
    pub shard: u8,
    pub item: CounterItem,
    pub field: String,
}

/// Invoice figure fields of a [`CounterItem::Day`].
pub mod field {
    pub const PAID: &str = "inv_paid";
    pub const RECOVERED: &str = "inv_recovered";
    pub const COLLECTED_CENTS: &str = "inv_collected_cents";
    pub const REFUNDED_CENTS: &str = "inv_refunded_cents";
    /// Payments recorded more than an hour after Stripe's payment time, by the day we recorded them.
    pub const RECORDED_LATE: &str = "inv_recorded_late";
    pub const NEW: &str = "new";
    pub const UPGRADED: &str = "upgraded";
    pub const DOWNGRADED: &str = "downgraded";
    pub const CHURNED: &str = "churned";
    pub const RENEWED: &str = "renewed";
    pub const CAME_DUE: &str = "came_due";
    pub const NO_TIER: &str = "none";
}

/// The field of the `Tabs` item for `status` and `tier` (the tier a subscription has or had).
pub fn tab_field(status: SubscriptionStatus, tier: Option<Tier>) -> String {
    format!("{}.{}", status.as_str(), tier.map_or(field::NO_TIER, Tier::as_str))
}

/// A set of counts (or of changes to them); zeros are never kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(BTreeMap<CounterKey, i64>);

impl Counts {
    pub fn add(&mut self, shard: u8, item: CounterItem, field: impl Into<String>, by: i64) {
        if by == 0 {
            return;
        }
        let key = CounterKey {
            shard,
            item,
            field: field.into(),
        };
        let value = self.0.entry(key.clone()).or_insert(0);
        *value += by;
        if *value == 0 {
            self.0.remove(&key);
        }
    }

    pub fn plus(mut self, other: &Counts) -> Counts {
        for (key, by) in &other.0 {
            self.add(key.shard, key.item, key.field.clone(), *by);
        }
        self
    }

    pub fn minus(self, other: &Counts) -> Counts {
        let negated = Counts(other.0.iter().map(|(k, v)| (k.clone(), -v)).collect());
        self.plus(&negated)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CounterKey, i64)> {
        self.0.iter().map(|(k, v)| (k, *v))
    }

    /// The counts grouped by item (shard and item), as a write or a read sees them.
    pub fn by_item(&self) -> BTreeMap<(u8, CounterItem), Vec<(&str, i64)>> {
        let mut items: BTreeMap<(u8, CounterItem), Vec<(&str, i64)>> = BTreeMap::new();
        for (key, value) in &self.0 {
            items
                .entry((key.shard, key.item))
                .or_default()
                .push((key.field.as_str(), *value));
        }
        items
    }

    /// One field of one item, summed over the shards.
    pub fn total(&self, item: CounterItem, field: &str) -> i64 {
        self.0
            .iter()
            .filter(|(k, _)| k.item == item && k.field == field)
            .map(|(_, v)| v)
            .sum()
    }

    /// Every field of the items `select` picks, summed over shards and items.
    pub fn sum_where(&self, select: impl Fn(&CounterItem, &str) -> bool) -> i64 {
        self.0
            .iter()
            .filter(|(k, _)| select(&k.item, &k.field))
            .map(|(_, v)| v)
            .sum()
    }

    /// What partner `partner` contributes: its paid seat, its dashboard tab and its ending day.
    pub fn of_partner(partner: &Partner) -> Counts {
        let mut counts = Counts::default();
        let shard = shard_of(&partner.id);
        let seats = PaidSeats::of(partner);
        counts.add(shard, CounterItem::PaidSeats, Tier::Gold.as_str(), seats.gold);
        counts.add(shard, CounterItem::PaidSeats, Tier::Platinum.as_str(), seats.platinum);
        // As the dashboard index holds it: a term's end, any status but inactive.
        if let Some(end) = partner.subscription_end_date {
            let status = partner.subscription_status;
            if status != SubscriptionStatus::Inactive {
                counts.add(shard, CounterItem::Tabs, tab_field(status, partner.last_paid_tier), 1);
            }
            if status == SubscriptionStatus::Active {
                let tier = partner.last_paid_tier.map_or(field::NO_TIER, Tier::as_str);
                counts.add(shard, CounterItem::Ending(end), tier, 1);
            }
        }
        counts
    }

    /// How a write from `before` (`None`: a new partner) to `after` moves the counts.
    pub fn change(before: Option<&Partner>, after: &Partner) -> Counts {
        let from = before.map(Counts::of_partner).unwrap_or_default();
        Counts::of_partner(after).minus(&from)
    }

    /// What a history entry contributes: its kind in its month, its movement on its business day.
    pub fn of_history(entry: &HistoryEntry, calendar: &BusinessCalendar) -> Counts {
        let mut counts = Counts::default();
        let shard = shard_of(&entry.partner_id);
        counts.add(
            shard,
            CounterItem::HistoryMonth(Month::of_instant(entry.created_at)),
            entry.event_type.as_str(),
            1,
        );
        let day = CounterItem::Day(calendar.today(entry.created_at));
        let m = movements([entry]);
        for (name, value) in [
            (field::NEW, m.new),
            (field::UPGRADED, m.upgraded),
            (field::DOWNGRADED, m.downgraded),
            (field::CHURNED, m.churned),
            (field::RENEWED, m.renewed),
            (field::CAME_DUE, m.came_due),
        ] {
            counts.add(shard, day, name, value);
        }
        counts
    }

    /// What an invoice contributes, on the business day Stripe created it: what was given back of
    /// it, and once paid, one paid invoice (recovered if it took more than one attempt) and what it
    /// collected. Unpaid invoices count no payment (the failed ones are counted from the invoice
    /// index: see `usecases::metrics`); a refund Stripe reports on one still counts as given back.
    pub fn of_invoice(invoice: &InvoiceRecord, calendar: &BusinessCalendar) -> Counts {
        let mut counts = Counts::default();
        let shard = shard_of(&invoice.partner_id);
        let day = CounterItem::Day(calendar.today(invoice.created_at));
        counts.add(shard, day, field::REFUNDED_CENTS, invoice.amount_refunded_cents.get());
        // Money collected says an invoice was paid: a refund Stripe reports on one never paid here
        // marks it refunded, and a reversal of that refund marks it `paid` again, neither of which
        // is a payment. Only a $0 invoice is paid by its status.
        let paid = invoice.amount_paid_cents.get() > 0
            || (invoice.status == InvoiceStatus::Paid && invoice.amount_cents.get() == 0);
        if paid {
            counts.add(shard, day, field::PAID, 1);
            counts.add(shard, day, field::RECOVERED, i64::from(invoice.attempt_count > 1));
            counts.add(shard, day, field::COLLECTED_CENTS, invoice.amount_paid_cents.get());
            if let (true, Some(recorded)) = (super::metrics::recorded_late(invoice), invoice.recorded_at) {
                counts.add(
                    shard,
                    CounterItem::Day(calendar.today(recorded)),
                    field::RECORDED_LATE,
                    1,
                );
            }
        }
        counts
    }

    /// A refund of `amount` cents recorded on (or, negative, taken back from) a paid invoice.
    pub fn of_refund(
        partner_id: &PartnerId,
        invoice_created: jiff::Timestamp,
        amount: i64,
        calendar: &BusinessCalendar,
    ) -> Counts {
        let mut counts = Counts::default();
        let day = CounterItem::Day(calendar.today(invoice_created));
        counts.add(shard_of(partner_id), day, field::REFUNDED_CENTS, amount);
        counts
    }

    /// Everything from scratch: every partner, history entry and invoice.
    pub fn recount<'a>(
        partners: impl IntoIterator<Item = &'a Partner>,
        history: impl IntoIterator<Item = &'a HistoryEntry>,
        invoices: impl IntoIterator<Item = &'a InvoiceRecord>,
        calendar: &BusinessCalendar,
    ) -> Counts {
        let mut counts = Counts::default();
        for partner in partners {
            counts = counts.plus(&Counts::of_partner(partner));
        }
        for entry in history {
            counts = counts.plus(&Counts::of_history(entry, calendar));
        }
        for invoice in invoices {
            counts = counts.plus(&Counts::of_invoice(invoice, calendar));
        }
        counts
    }

    /// The movements of the `Day` items between `from` and `to` (inclusive).
    pub fn movements_between(&self, from: CalendarDate, to: CalendarDate) -> Movements {
        let sum = |name: &str| {
            self.sum_where(|item, field| matches!(item, CounterItem::Day(d) if *d >= from && *d <= to) && field == name)
        };
        Movements {
            new: sum(field::NEW),
            upgraded: sum(field::UPGRADED),
            downgraded: sum(field::DOWNGRADED),
            churned: sum(field::CHURNED),
            renewed: sum(field::RENEWED),
            came_due: sum(field::CAME_DUE),
        }
    }

    /// The paid seats (summed over shards).
    pub fn paid_seats(&self) -> PaidSeats {
        PaidSeats {
            gold: self.total(CounterItem::PaidSeats, Tier::Gold.as_str()),
            platinum: self.total(CounterItem::PaidSeats, Tier::Platinum.as_str()),
        }
    }

    /// Subscriptions with `status` (of `tier` when given), from the `Tabs` items.
    pub fn tab(&self, status: SubscriptionStatus, tier: Option<Tier>) -> i64 {
        let prefix = format!("{}.", status.as_str());
        self.sum_where(|item, field| {
            *item == CounterItem::Tabs
                && match tier {
                    Some(t) => field == tab_field(status, Some(t)),
                    None => field.starts_with(&prefix),
                }
        })
    }

    /// Active terms ending between `from` and `to` (inclusive), of `tier` when given.
    pub fn ending_between(&self, from: CalendarDate, to: CalendarDate, tier: Option<Tier>) -> i64 {
        self.sum_where(|item, field| {
            matches!(item, CounterItem::Ending(d) if *d >= from && *d <= to) && tier.is_none_or(|t| field == t.as_str())
        })
    }

    /// History entries of the months from `first` on, of `kind` when given.
    pub fn history_since(&self, first: Month, kind: Option<&str>) -> i64 {
        self.sum_where(|item, field| {
            matches!(item, CounterItem::HistoryMonth(m) if *m >= first) && kind.is_none_or(|k| field == k)
        })
    }

    /// The counters that differ between `self` (as stored) and `truth` (a recount), with both values.
    pub fn drift(&self, truth: &Counts) -> Vec<(CounterKey, i64, i64)> {
        truth
            .clone()
            .minus(self)
            .iter()
            .map(|(key, _)| {
                let stored = self.0.get(key).copied().unwrap_or(0);
                let expected = truth.0.get(key).copied().unwrap_or(0);
                (key.clone(), stored, expected)
            })
            .collect()
    }

    /// Only the counters of the items `keep` picks.
    pub fn only(&self, keep: impl Fn(&CounterItem) -> bool) -> Counts {
        Counts(
            self.0
                .iter()
                .filter(|(k, _)| keep(&k.item))
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history_and_audit::{Actor, HistoryEventType};

    #[test]
    fn shards_are_stable_and_spread() {
        let id = PartnerId::parse("acme").unwrap();
        assert_eq!(shard_of(&id), shard_of(&PartnerId::parse("acme").unwrap()));
        let used: std::collections::BTreeSet<u8> = (0..200)
            .map(|i| shard_of(&PartnerId::parse(&format!("p{i}")).unwrap()))
            .collect();
        assert_eq!(used.len(), usize::from(SHARDS));
    }

    #[test]
    fn a_change_moves_only_what_changed() {
        let mut before = crate::partner::sample_partner(8_000, "2026-12-01T00:00:00Z".parse().unwrap());
        before.engagement_tier = Tier::Gold;
        before.last_paid_tier = Some(Tier::Gold);
        before.subscription_status = SubscriptionStatus::Active;
        before.subscription_end_date = Some(jiff::civil::date(2027, 1, 10));
        let mut after = before.clone();
        after.engagement_tier = Tier::Free;
        after.subscription_status = SubscriptionStatus::Expired;
        let change = Counts::change(Some(&before), &after);
        assert_eq!(change.paid_seats(), PaidSeats { gold: -1, platinum: 0 });
        assert_eq!(change.tab(SubscriptionStatus::Active, None), -1);
        assert_eq!(change.tab(SubscriptionStatus::Expired, Some(Tier::Gold)), 1);
        let day = jiff::civil::date(2027, 1, 10);
        assert_eq!(change.ending_between(day, day, None), -1);
        assert!(Counts::change(Some(&after), &after).is_empty());
    }

    #[test]
    fn history_counts_by_utc_month_and_business_day() {
        let at: jiff::Timestamp = "2026-12-01T02:00:00Z".parse().unwrap();
        let entry = HistoryEntry {
            id: "h".into(),
            partner_id: PartnerId::parse("p1").unwrap(),
            event_type: HistoryEventType::Renewal,
            from_tier: Some(Tier::Gold),
            to_tier: Some(Tier::Gold),
            subscription_start: None,
            subscription_end: None,
            amount_paid: None,
            payment_method: None,
            notes: None,
            pcr_before: None,
            pcr_after: None,
            version: 2,
            created_at: at,
            created_by: Actor::System,
        };
        let new_york = BusinessCalendar::named("America/New_York").unwrap();
        let counts = Counts::of_history(&entry, &new_york);
        assert_eq!(
            counts.history_since(Month::parse("2026-12").unwrap(), Some("renewal")),
            1
        );
        // 02:00 UTC on the 1st is still November 30th in New York.
        let nov30 = jiff::civil::date(2026, 11, 30);
        assert_eq!(counts.movements_between(nov30, nov30).renewed, 1);
        assert_eq!(counts.movements_between(nov30, nov30).came_due, 1);
    }
}
