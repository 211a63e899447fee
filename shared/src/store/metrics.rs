//! The figures the metrics read keeps cheap: the paid-seat count (`METRICS` / `PAID_SEATS`), moved
//! by every partner write in its own transaction and recounted from scratch on demand, and the
//! history entries of a time window (by month, from the history index).

use super::items::{number_attr, string_attr, Item};
use super::keys::*;
use super::queries::IndexQuery;
use super::{dynamo_error, Store, StoreError};
use crate::domain::history_and_audit::HistoryEntry;
use crate::domain::metrics::PaidSeats;
use crate::domain::partner::Partner;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use jiff::Timestamp;
use std::collections::HashMap;

const METRICS_PK: &str = "METRICS";
const PAID_SEATS_SK: &str = "PAID_SEATS";

fn seats_key() -> Item {
    HashMap::from([
        (PK.to_owned(), string_attr(METRICS_PK)),
        (SK.to_owned(), string_attr(PAID_SEATS_SK)),
    ])
}

/// The transaction item that moves the paid-seat count by `change`.
pub(super) fn seat_count_update(table: &str, change: PaidSeats) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(seats_key()))
        .update_expression("ADD gold :gold, platinum :platinum SET entity = :entity")
        .expression_attribute_values(":gold", number_attr(change.gold))
        .expression_attribute_values(":platinum", number_attr(change.platinum))
        .expression_attribute_values(":entity", string_attr("metrics"))
        .build()
        .map_err(|e| StoreError::Dynamo(e.to_string()))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn count(item: &Item, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl Store {
    /// The paid-seat count as the writes keep it (one strongly consistent read).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn paid_seats(&self) -> Result<PaidSeats, StoreError> {
        let item = self
            .get_item(METRICS_PK.to_owned(), PAID_SEATS_SK)
            .await?
            .unwrap_or_default();
        Ok(PaidSeats {
            gold: count(&item, "gold"),
            platinum: count(&item, "platinum"),
        })
    }

    /// Counts the paid seats from every partner (the directory index) and stores the count: after
    /// a bulk load, which writes profiles without the count. The count it stored.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn recount_paid_seats(&self) -> Result<PaidSeats, StoreError> {
        let query = IndexQuery::new(DIRECTORY_INDEX, "gsi2pk", "gsi2sk", DIRECTORY_PK);
        let partners: Vec<Partner> = self.query_all(&query, usize::MAX).await?;
        let seats = PaidSeats::count(&partners);
        let mut item = seats_key();
        item.insert("gold".into(), number_attr(seats.gold));
        item.insert("platinum".into(), number_attr(seats.platinum));
        item.insert("entity".into(), string_attr("metrics"));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(seats)
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
            let query = IndexQuery::new(HISTORY_BY_MONTH_INDEX, "gsi3pk", "gsi3sk", history_month_pk_for(&key))
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
