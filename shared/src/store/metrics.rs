//! The counters the dashboard and the metrics read (`domain::counters` says what each fact
//! contributes): kept in the partition `METRICS`, one item per counter item and shard, moved by
//! every write in its own transaction (an `ADD` per item, built here and nowhere else), read back
//! by sort-key ranges, and recounted from the items themselves by the backfill.
//!
//! | sk                      | counter item |
//! |-------------------------|--------------|
//! | `DAY#<date>#<shard>`    | a business day's movements and invoice figures |
//! | `END#<date>#<shard>`    | active terms ending that day, by last paid tier |
//! | `HIST#<yyyy-mm>#<shard>`| history entries by kind, of the history index's (UTC) month |
//! | `SEATS#<shard>`         | paid seats by tier |
//! | `TABS#<shard>`          | the dashboard's status tabs by last paid tier |
//!
//! The dashboard reads `END#` over its 30-day horizon and `HIST#`..`TABS#` (every month, the seats
//! and the tabs) in two queries; the metrics read `DAY#` over the window and `SEATS#`.

use super::items::{number_attr, string_attr, Item};
use super::keys::*;
use super::{dynamo_error, Store, StoreError};
use crate::domain::counters::{CounterItem, Counts, Month};
use crate::domain::dates::CalendarDate;
use crate::domain::history_and_audit::HistoryEntry;
use crate::domain::invoice::InvoiceRecord;
use crate::domain::metrics::PaidSeats;
use crate::domain::partner::Partner;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use jiff::Timestamp;
use std::collections::HashMap;

pub const METRICS_PK: &str = "METRICS";
/// The single paid-seat item of releases before the counters were sharded (the backfill removes it).
const LEGACY_PAID_SEATS_SK: &str = "PAID_SEATS";

/// The sort key of counter item `item` in shard `shard`.
pub fn counter_sk(shard: u8, item: CounterItem) -> String {
    match item {
        CounterItem::Day(day) => format!("DAY#{day}#{shard}"),
        CounterItem::Ending(day) => format!("END#{day}#{shard}"),
        CounterItem::HistoryMonth(month) => format!("HIST#{month}#{shard}"),
        CounterItem::PaidSeats => format!("SEATS#{shard}"),
        CounterItem::Tabs => format!("TABS#{shard}"),
    }
}

/// The counter item and shard a sort key names (`None`: not a counter item).
pub fn parse_counter_sk(sk: &str) -> Option<(u8, CounterItem)> {
    let mut parts = sk.split('#');
    let kind = parts.next()?;
    let (item, shard) = match kind {
        "SEATS" | "TABS" => {
            let item = if kind == "SEATS" {
                CounterItem::PaidSeats
            } else {
                CounterItem::Tabs
            };
            (item, parts.next()?)
        }
        "DAY" | "END" | "HIST" => {
            let at = parts.next()?;
            let item = match kind {
                "DAY" => CounterItem::Day(at.parse().ok()?),
                "END" => CounterItem::Ending(at.parse().ok()?),
                _ => CounterItem::HistoryMonth(Month::parse(at)?),
            };
            (item, parts.next()?)
        }
        _ => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((shard.parse().ok()?, item))
}

fn counter_key(shard: u8, item: CounterItem) -> Item {
    HashMap::from([
        (PK.to_owned(), string_attr(METRICS_PK)),
        (SK.to_owned(), string_attr(counter_sk(shard, item))),
    ])
}

/// One `Update` that adds `fields` to counter item `item` of shard `shard` (creating it at zero).
fn counter_update(table: &str, shard: u8, item: CounterItem, fields: &[(&str, i64)]) -> Result<Update, StoreError> {
    let mut names = HashMap::new();
    let mut values = HashMap::from([(":entity".to_owned(), string_attr("counter"))]);
    let mut adds = Vec::new();
    for (i, (field, by)) in fields.iter().enumerate() {
        names.insert(format!("#f{i}"), (*field).to_owned());
        values.insert(format!(":v{i}"), number_attr(by));
        adds.push(format!("#f{i} :v{i}"));
    }
    Update::builder()
        .table_name(table)
        .set_key(Some(counter_key(shard, item)))
        .update_expression(format!("ADD {} SET entity = :entity", adds.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| StoreError::Dynamo(e.to_string()))
}

/// The transaction items that move the counters by `change`: one per counter item it touches.
/// Every transaction that writes a profile, a history entry or an invoice adds these (merged into
/// one `Counts` first: a transaction may touch an item once).
pub(super) fn counter_updates(table: &str, change: &Counts) -> Result<Vec<TransactWriteItem>, StoreError> {
    change
        .by_item()
        .into_iter()
        .map(|((shard, item), fields)| {
            let update = counter_update(table, shard, item, &fields)?;
            Ok(TransactWriteItem::builder().update(update).build())
        })
        .collect()
}

/// The counts one counter item holds.
fn read_counter_item(item: &Item, into: &mut Counts) {
    let Some((shard, counter)) = item
        .get(SK)
        .and_then(|v| v.as_s().ok())
        .and_then(|sk| parse_counter_sk(sk))
    else {
        return;
    };
    for (name, value) in item {
        if name == PK || name == SK || name == "entity" {
            continue;
        }
        if let Some(n) = value.as_n().ok().and_then(|n| n.parse::<i64>().ok()) {
            into.add(shard, counter, name.clone(), n);
        }
    }
}

/// What a drift check found: the counters whose stored value differs from a recount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// (sort key of the counter item, field, stored, recounted)
    pub counters: Vec<(String, String, i64, i64)>,
    /// Counter items compared.
    pub items_checked: usize,
}

impl Drift {
    fn between(stored: &Counts, truth: &Counts) -> Drift {
        let items_checked = stored
            .by_item()
            .keys()
            .chain(truth.by_item().keys())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        Drift {
            counters: stored
                .drift(truth)
                .into_iter()
                .map(|(key, stored, expected)| (counter_sk(key.shard, key.item), key.field, stored, expected))
                .collect(),
            items_checked,
        }
    }

    pub fn is_clean(&self) -> bool {
        self.counters.is_empty()
    }
}

impl Store {
    /// The counter items whose sort keys lie between `from` and `to` (both inclusive), every page
    /// (one request unless the range holds more than 1 MB of counters).
    async fn counters_between(&self, from: &str, to: &str) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", string_attr(METRICS_PK))
                .expression_attribute_values(":from", string_attr(from))
                .expression_attribute_values(":to", string_attr(to))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo_error)?;
            for item in output.items() {
                read_counter_item(item, &mut counts);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(counts),
            }
        }
    }

    /// Every counter.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn all_counters(&self) -> Result<Counts, StoreError> {
        self.counters_between("A", "~").await
    }

    /// What the dashboard counts: the active terms ending from `from` to `to` (one query over
    /// `END#`), and every history month, the paid seats and the tabs (one query from `HIST#` to
    /// `TABS#`). Two requests, side by side, whatever the history's length.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn dashboard_counters(&self, from: CalendarDate, to: CalendarDate) -> Result<Counts, StoreError> {
        let (ending, rest) = futures::future::try_join(
            self.counters_between(&format!("END#{from}"), &format!("END#{to}#~")),
            self.counters_between("HIST#", "TABS#~"),
        )
        .await?;
        Ok(ending.plus(&rest))
    }

    /// The business days `from` to `to` (inclusive) and the paid seats: two requests.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn metrics_counters(&self, from: CalendarDate, to: CalendarDate) -> Result<Counts, StoreError> {
        let (days, seats) = futures::future::try_join(
            self.counters_between(&format!("DAY#{from}"), &format!("DAY#{to}#~")),
            self.counters_between("SEATS#", "SEATS#~"),
        )
        .await?;
        Ok(days.plus(&seats))
    }

    /// The paid-seat count as the writes keep it (one strongly consistent query over its shards).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn paid_seats(&self) -> Result<PaidSeats, StoreError> {
        Ok(self.counters_between("SEATS#", "SEATS#~").await?.paid_seats())
    }

    /// Every counter from scratch: every partner, history entry and invoice of the table (one
    /// scan; for the backfill, not for a request path).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn recount_all(&self) -> Result<Counts, StoreError> {
        // Counted page by page, nothing kept: a table of any size fits the function's memory.
        let mut counts = Counts::default();
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("entity IN (:partner, :history, :invoice)")
                .expression_attribute_values(":partner", string_attr("partner"))
                .expression_attribute_values(":history", string_attr("history"))
                .expression_attribute_values(":invoice", string_attr("invoice"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo_error)?;
            for item in output.items.unwrap_or_default() {
                let counted = match item.get("entity").and_then(|v| v.as_s().ok()).map(String::as_str) {
                    Some("partner") => Counts::of_partner(&super::items::from_item::<Partner>(item)?),
                    Some("history") => {
                        Counts::of_history(&super::items::from_item::<HistoryEntry>(item)?, &self.calendar)
                    }
                    Some("invoice") => {
                        Counts::of_invoice(&super::items::from_item::<InvoiceRecord>(item)?, &self.calendar)
                    }
                    _ => continue,
                };
                counts = counts.plus(&counted);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(counts)
    }

    /// Stored counters against a recount of the whole table.
    pub async fn check_all_counters(&self) -> Result<Drift, StoreError> {
        let (stored, truth) = futures::future::try_join(self.all_counters(), self.recount_all()).await?;
        Ok(Drift::between(&stored, &truth))
    }

    /// The counters of one month against a recount of that month: its history month (UTC, the
    /// history index's partition) and its business days (their history entries, and the invoices
    /// Stripe created on them). What the daily sweep checks: it reads only the month.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn check_month_counters(&self, month: Month) -> Result<Drift, StoreError> {
        let first = month.first_day();
        let next = first
            .checked_add(jiff::Span::new().months(1))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let last = next.yesterday().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let utc = |d: CalendarDate| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp());
        let business = |d: CalendarDate| self.calendar.start_of(d);
        let bad = |e: jiff::Error| StoreError::Corrupt(e.to_string());
        let (utc_start, utc_end) = (utc(first).map_err(bad)?, utc(next).map_err(bad)?);
        let (day_start, day_end) = (business(first).map_err(bad)?, business(next).map_err(bad)?);
        let filter = super::InvoiceFilter {
            from: Some(day_start),
            before: Some(day_end),
            ..super::InvoiceFilter::default()
        };
        // One read of history covers both the UTC month and the business month (they differ by the
        // zone's offset at each end).
        let (history, invoices, stored_month, stored_days) = futures::future::try_join4(
            self.history_between(utc_start.min(day_start), utc_end.max(day_end)),
            self.invoices_all(&filter, usize::MAX),
            self.counters_between(&format!("HIST#{month}#"), &format!("HIST#{month}#~")),
            self.counters_between(&format!("DAY#{first}"), &format!("DAY#{last}#~")),
        )
        .await?;
        let within = |from: Timestamp, before: Timestamp| {
            history
                .iter()
                .filter(move |h| h.created_at >= from && h.created_at < before)
                .cloned()
                .collect::<Vec<_>>()
        };
        let (month_history, day_history) = (within(utc_start, utc_end), within(day_start, day_end));
        let in_days = |item: &CounterItem| matches!(item, CounterItem::Day(d) if *d >= first && *d <= last);
        let truth = Counts::recount([], &month_history, [], &self.calendar)
            .only(|item| *item == CounterItem::HistoryMonth(month))
            .plus(&Counts::recount([], &day_history, &invoices, &self.calendar).only(in_days));
        Ok(Drift::between(&stored_month.plus(&stored_days), &truth))
    }

    /// Recounts every counter and repairs what drifted: each drifted counter moves by the
    /// difference (an `ADD`, so a write that lands meanwhile is not lost; run it on a quiet table
    /// for an exact result). Removes the paid-seat item of earlier releases. What it found.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn repair_counters(&self) -> Result<Drift, StoreError> {
        let drift = self.check_all_counters().await?;
        let mut fix = Counts::default();
        for (sk, field, stored, expected) in &drift.counters {
            if let Some((shard, item)) = parse_counter_sk(sk) {
                fix.add(shard, item, field.clone(), expected - stored);
            }
        }
        for ((shard, item), fields) in fix.by_item() {
            let update = counter_update(&self.table, shard, item, &fields)?;
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await
                .map_err(dynamo_error)?;
        }
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, string_attr(METRICS_PK))
            .key(SK, string_attr(LEGACY_PAID_SEATS_SK))
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(drift)
    }

    /// Repairs every counter (after a bulk load, which writes profiles without counting them) and
    /// answers the paid seats as now stored.
    pub async fn recount_paid_seats(&self) -> Result<PaidSeats, StoreError> {
        self.repair_counters().await?;
        self.paid_seats().await
    }

    /// Moves the counters by `change` outside any other write (a refund Stripe reports failed,
    /// whose reversal is a single update of its own).
    pub(super) async fn move_counters(&self, change: &Counts) -> Result<(), StoreError> {
        if change.is_empty() {
            return Ok(());
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(counter_updates(&self.table, change)?))
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(())
    }

    /// Moves one counter outside any write: a drift, for the tests of the check and its alarm.
    #[cfg(feature = "test-support")]
    pub async fn drift_counter_for_tests(&self, sk: &str, field: &str, by: i64) -> Result<(), StoreError> {
        let (shard, item) = parse_counter_sk(sk).ok_or_else(|| StoreError::Corrupt(format!("{sk} is no counter")))?;
        let mut change = Counts::default();
        change.add(shard, item, field, by);
        self.move_counters(&change).await
    }

    /// Every history entry written at or after `from` and before `before`, month by month.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn history_between(&self, from: Timestamp, before: Timestamp) -> Result<Vec<HistoryEntry>, StoreError> {
        let utc = |t: Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
        // `before` is excluded: a window ending at midnight on the 1st does not read that month.
        let last_instant = before
            .checked_sub(jiff::SignedDuration::from_millis(1))
            .unwrap_or(before);
        let (first, last) = (utc(from).first_of_month(), utc(last_instant));
        let mut month = first;
        let mut entries = Vec::new();
        while month <= last {
            let key = month.strftime("%Y-%m").to_string();
            let query =
                super::queries::IndexQuery::new(HISTORY_BY_MONTH_INDEX, "gsi3pk", "gsi3sk", history_month_pk_for(&key))
                    .sort_key_from(timestamp_key(from))
                    .sort_key_below(timestamp_key(before));
            let rows: Vec<HistoryEntry> = self.query_all(&query, usize::MAX).await?;
            entries.extend(rows);
            month = match month.checked_add(jiff::Span::new().months(1)) {
                Ok(next) => next,
                Err(_) => break,
            };
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_keys_read_back() {
        for item in [
            CounterItem::Day(jiff::civil::date(2026, 12, 6)),
            CounterItem::Ending(jiff::civil::date(2027, 1, 31)),
            CounterItem::HistoryMonth(Month::parse("2026-11").unwrap()),
            CounterItem::PaidSeats,
            CounterItem::Tabs,
        ] {
            for shard in 0..crate::domain::counters::SHARDS {
                assert_eq!(parse_counter_sk(&counter_sk(shard, item)), Some((shard, item)));
            }
        }
        assert_eq!(parse_counter_sk(LEGACY_PAID_SEATS_SK), None);
        // The dashboard's second range holds the months, the seats and the tabs, nothing else.
        let range = "HIST#".to_owned().."TABS#~".to_owned();
        assert!(range.contains(&counter_sk(7, CounterItem::Tabs)));
        assert!(range.contains(&counter_sk(0, CounterItem::PaidSeats)));
        assert!(!range.contains(&counter_sk(0, CounterItem::Day(jiff::civil::date(2026, 1, 1)))));
        assert!(!range.contains(&counter_sk(0, CounterItem::Ending(jiff::civil::date(2026, 1, 1)))));
    }
}
