//! The one DynamoDB table: partner profiles with their history, audit trail and outbox events.
//!
//! Every state change goes through [`Store::commit`]: one `TransactWriteItems` holding the profile
//! (guarded by its version), its history entry, its audit entry and its outbox events, so that
//! nothing is half-written and no event is announced for a change that did not commit.
//!
//! Each concern has its file: `keys` (every key), `items` (item mapping), `queries` (index queries
//! and paging), `listings` (what the routes list), `notices`, `billing`, `email_log`, `bulk_load`, `invoices` (invoice reads), `personal_data` (export and erasure),
//! `rate_limit` (request counters), `metrics` (the counters kept in the writes, their reads and their recount), `refunds` (refund reservations and records).

pub mod billing;
mod bulk_load;
pub mod cards;
pub mod cursor;
pub mod email_log;
mod invoices;
mod items;
pub mod keys;
mod listings;
pub mod metrics;
mod notices;
pub mod personal_data;
mod queries;
pub mod rate_limit;
pub mod refunds;
pub mod schema;
pub mod sign_in;

pub use invoices::{InvoiceFilter, ResendOutcome, ResendWrite};
pub use items::profile_item;
pub use listings::{DashboardQuery, PartnerFilter};
pub use notices::{NoticeOutcome, NoticeWrite};
pub use queries::{Page, PageRequest};

use crate::domain::counters::Counts;
use crate::domain::dates::BusinessCalendar;
use crate::domain::events::DomainEvent;
use crate::domain::history_and_audit::{AuditEntry, HistoryEntry};
use crate::domain::partner::{Partner, PartnerId};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_dynamodb::Client;
use cursor::InvalidCursor;
use items::{
    audit_item_announcing, conditional_put, from_item, history_item, number_attr, outbox_item, string_attr, Item,
};
use keys::*;
use std::collections::HashMap;
use ulid::Ulid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Somebody else changed the partner since it was read (or it exists when it should not).
    #[error("the partner was changed by another request")]
    VersionConflict,
    #[error(transparent)]
    InvalidCursor(#[from] InvalidCursor),
    #[error("stored item could not be read: {0}")]
    Corrupt(String),
    #[error("DynamoDB call failed: {0}")]
    Dynamo(String),
}

pub(super) fn dynamo_error<E: std::error::Error + 'static>(err: SdkError<E>) -> StoreError {
    StoreError::Dynamo(aws_smithy_types::error::display::DisplayErrorContext(&err).to_string())
}

/// One state change of one partner, written all or nothing.
#[derive(Debug, Clone)]
pub struct PartnerWrite {
    /// The new state; its `version` must be one more than `expected_version` (or 1 for a new partner).
    pub partner: Partner,
    /// The version the change was planned on; `None` for a partner that must not exist yet.
    pub expected_version: Option<u64>,
    /// Its history entry and the id that keys it.
    pub history: Option<(Ulid, HistoryEntry)>,
    /// Its audit entry and the id that keys it.
    pub audit: (Ulid, AuditEntry),
    /// The state the change was planned on (`None`: a new partner): the counters move by the
    /// difference (`domain::counters`), in the same transaction.
    pub before: Option<Partner>,
    /// Events to announce, each keyed by its own id.
    pub events: Vec<(Ulid, DomainEvent)>,
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    /// Which business day a counted fact belongs to (`domain::counters`).
    calendar: BusinessCalendar,
}

/// Whether an update failed only because its condition did not hold.
pub(super) fn update_condition_failed(
    err: &SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError>,
) -> bool {
    matches!(
        err.as_service_error(),
        Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_))
    )
}

/// Whether a conditional `UpdateItem` applied: `false` when its condition did not hold (the update
/// was not needed, or another request made it), an error for anything else.
pub(super) fn update_applied(
    result: Result<
        aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
        SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError>,
    >,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(err) if update_condition_failed(&err) => Ok(false),
        Err(err) => Err(dynamo_error(err)),
    }
}

/// Whether a cancelled transaction met another one on some item (a counter item, most often): the
/// same change may be tried again.
pub(super) fn conflicted(codes: &[Option<String>]) -> bool {
    codes.iter().any(|c| c.as_deref() == Some("TransactionConflict"))
}

/// Whether a cancelled transaction failed only because another one held one of its items at the
/// time (no condition failed): sent again as it is, it decides the same.
pub(super) fn only_conflicted(codes: &[Option<String>]) -> bool {
    conflicted(codes)
        && codes
            .iter()
            .all(|c| matches!(c.as_deref(), None | Some("None") | Some("TransactionConflict")))
}

/// How often a transaction that only met another is sent again (10, 20, 40 ms apart).
const CONFLICT_RETRIES: u32 = 3;

/// Whether item `index` of a cancelled transaction failed its condition.
pub(super) fn failed_condition(codes: &[Option<String>], index: usize) -> bool {
    codes.get(index).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed")
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
            calendar: BusinessCalendar::utc(),
        }
    }

    /// The same store counting business days in `calendar`'s time zone (UTC otherwise).
    pub fn with_calendar(mut self, calendar: BusinessCalendar) -> Store {
        self.calendar = calendar;
        self
    }

    /// A store whose client is built from the SDK configuration (once per cold start), counting
    /// business days in `BUSINESS_TIME_ZONE` (each function checks that setting at start).
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Store {
        let calendar = crate::config::business_calendar().unwrap_or_else(|_| BusinessCalendar::utc());
        Store::new(Client::new(sdk), table).with_calendar(calendar)
    }

    pub fn calendar(&self) -> &BusinessCalendar {
        &self.calendar
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The partner's current profile (strongly consistent), or `None`.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn get_partner(&self, id: &PartnerId) -> Result<Option<Partner>, StoreError> {
        self.get_item(partner_pk(id), PROFILE_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// One item by its keys, strongly consistent.
    pub(super) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, string_attr(pk))
            .key(SK, string_attr(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(output.item)
    }

    /// Writes one partner change atomically; [`StoreError::VersionConflict`] if the profile moved on.
    #[tracing::instrument(skip_all, fields(partner_id = %write.partner.id, version = write.partner.version), err(Display))]
    pub async fn commit(&self, write: PartnerWrite) -> Result<(), StoreError> {
        let (mut items, counts) = self.partner_write_items(&write)?;
        items.extend(metrics::counter_updates(&self.table, &counts)?);
        match self.transact_through_conflicts(items, write.audit.0).await? {
            None => Ok(()),
            // The profile's version condition is the first item.
            Some(codes) if failed_condition(&codes, 0) || conflicted(&codes) => Err(StoreError::VersionConflict),
            Some(codes) => Err(StoreError::Dynamo(format!("transaction cancelled: {codes:?}"))),
        }
    }

    /// The items of one partner change: the profile (first, guarded by its version), its history
    /// entry, its audit entry and its outbox events; and how it moves the counters, which the
    /// caller merges with the rest of its transaction's and appends ([`metrics::counter_updates`]).
    fn partner_write_items(&self, write: &PartnerWrite) -> Result<(Vec<TransactWriteItem>, Counts), StoreError> {
        let now = write.partner.updated_at;
        let (condition, values) = match write.expected_version {
            Some(version) => (
                format!("attribute_exists({PK}) AND version = :expected_version"),
                Some(HashMap::from([(":expected_version".to_owned(), number_attr(version))])),
            ),
            None => (format!("attribute_not_exists({PK})"), None),
        };
        let mut items = vec![conditional_put(
            &self.table,
            profile_item(&write.partner)?,
            &condition,
            values,
        )?];
        let fresh = format!("attribute_not_exists({PK})");
        if let Some((id, entry)) = &write.history {
            items.push(conditional_put(&self.table, history_item(*id, entry)?, &fresh, None)?);
        }
        let event_ids: Vec<Ulid> = write.events.iter().map(|(id, _)| *id).collect();
        items.push(conditional_put(
            &self.table,
            audit_item_announcing(write.audit.0, &write.audit.1, &event_ids)?,
            &fresh,
            None,
        )?);
        for (id, event) in &write.events {
            items.push(conditional_put(
                &self.table,
                outbox_item(*id, event, now)?,
                &fresh,
                None,
            )?);
        }
        let mut counts = Counts::change(write.before.as_ref(), &write.partner);
        if let Some((_, entry)) = &write.history {
            counts = counts.plus(&Counts::of_history(entry, &self.calendar));
        }
        Ok((items, counts))
    }

    /// [`Store::transact`], sent again while it fails only on meeting another transaction on some
    /// item: every write moves counter items that other writes move too (sharded, see
    /// `domain::counters`), and a meeting there says nothing about this write's own conditions. Each
    /// new attempt has a token of its own (the cancelled one wrote nothing).
    pub(super) async fn transact_through_conflicts(
        &self,
        items: Vec<TransactWriteItem>,
        token: Ulid,
    ) -> Result<Option<Vec<Option<String>>>, StoreError> {
        let mut outcome = self.transact(items.clone(), token).await?;
        for attempt in 0..CONFLICT_RETRIES {
            match &outcome {
                Some(codes) if only_conflicted(codes) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
                    outcome = self.transact(items.clone(), Ulid::new()).await?;
                }
                _ => break,
            }
        }
        Ok(outcome)
    }

    /// Runs one transaction: `None` when it committed, the cancellation reason code of each item when
    /// a condition failed. `token` makes an SDK retry of a transaction that did commit a no-op.
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        token: Ulid,
    ) -> Result<Option<Vec<Option<String>>>, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token.to_string())
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                    tracing::debug!(reasons = ?cancel.cancellation_reasons(), "transaction cancelled");
                    Ok(Some(
                        cancel
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().map(str::to_owned))
                            .collect(),
                    ))
                }
                _ => Err(dynamo_error(err)),
            },
        }
    }
}

#[cfg(test)]
mod conflict_tests {
    use super::*;

    #[test]
    fn only_a_meeting_with_another_transaction_is_sent_again() {
        let code = |c: &str| Some(c.to_owned());
        assert!(only_conflicted(&[code("None"), code("TransactionConflict"), None]));
        assert!(!only_conflicted(&[
            code("ConditionalCheckFailed"),
            code("TransactionConflict")
        ]));
        assert!(!only_conflicted(&[code("None"), code("ConditionalCheckFailed")]));
        assert!(!only_conflicted(&[code("ValidationError")]));
    }
}
