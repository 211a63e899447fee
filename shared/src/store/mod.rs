//! The one DynamoDB table: partner profiles with their history, audit trail and outbox events.
//!
//! Every state change goes through [`Store::commit`]: one `TransactWriteItems` holding the profile
//! (guarded by its version), its history entry, its audit entry and its outbox events, so that
//! nothing is half-written and no event is announced for a change that did not commit.

pub mod cursor;
pub mod keys;
pub mod schema;

use crate::domain::partner::{Partner, PartnerId, SubscriptionStatus};
use crate::domain::records::{AuditEntry, HistoryEntry};
use crate::domain::tier::Tier;
use crate::events::{DomainEvent, SOURCE};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use cursor::{InvalidCursor, Key};
use keys::*;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use ulid::Ulid;

type Item = HashMap<String, AttributeValue>;

/// How long outbox items stay after the relay has had them.
const OUTBOX_RETENTION_SECONDS: i64 = 7 * 24 * 3600;

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

fn dynamo_error<E: std::error::Error + 'static>(err: SdkError<E>) -> StoreError {
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
    /// Events to announce, each keyed by its own id.
    pub events: Vec<(Ulid, DomainEvent)>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more may follow: pass it back as `cursor`.
    pub next_cursor: Option<String>,
}

/// Which partners a directory listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerFilter {
    pub tier: Option<Tier>,
    pub status: Option<SubscriptionStatus>,
}

/// How many rows and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u16,
    pub cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let where_ = item
        .get(PK)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("{where_}: {e}")))
}

fn put(
    table: &str,
    item: Item,
    condition: &str,
    values: Option<Item>,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_values(values)
        .build()
        .map_err(|e| StoreError::Dynamo(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The profile item: the partner's fields plus its keys; index keys only where they apply.
pub fn profile_item(partner: &Partner) -> Result<Item, StoreError> {
    let mut item = to_item(partner)?;
    item.insert(PK.into(), s(partner_pk(&partner.id)));
    item.insert(SK.into(), s(PROFILE_SK));
    item.insert("entity".into(), s("partner"));
    if let (true, Some(end)) = (
        partner.engagement_tier.is_paid(),
        partner.subscription_end_date,
    ) {
        item.insert(
            "gsi1pk".into(),
            s(subscriptions_pk(partner.subscription_status)),
        );
        item.insert("gsi1sk".into(), s(subscriptions_sk(end, &partner.id)));
    }
    item.insert("gsi2pk".into(), s(DIRECTORY_PK));
    item.insert(
        "gsi2sk".into(),
        s(directory_sk(&partner.company_name.sort_key(), &partner.id)),
    );
    Ok(item)
}

fn history_item(id: Ulid, entry: &HistoryEntry) -> Result<Item, StoreError> {
    let mut item = to_item(entry)?;
    item.insert(PK.into(), s(partner_pk(&entry.partner_id)));
    item.insert(SK.into(), s(history_sk(id)));
    item.insert("entity".into(), s("history"));
    item.insert("gsi3pk".into(), s(history_month_pk(id)));
    item.insert("gsi3sk".into(), s(history_month_sk(id)));
    Ok(item)
}

fn audit_item(id: Ulid, entry: &AuditEntry) -> Result<Item, StoreError> {
    let mut item = to_item(entry)?;
    item.insert(PK.into(), s(partner_pk(&entry.partner_id)));
    item.insert(SK.into(), s(audit_sk(id)));
    item.insert("entity".into(), s("audit"));
    Ok(item)
}

/// The outbox item the relay publishes from the table's stream.
fn outbox_item(id: Ulid, event: &DomainEvent, now: jiff::Timestamp) -> Result<Item, StoreError> {
    let detail = event
        .detail_json()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(HashMap::from([
        (PK.into(), s(outbox_pk(id))),
        (SK.into(), s(OUTBOX_SK)),
        ("entity".into(), s("outbox")),
        ("event_id".into(), s(&event.event_id)),
        ("source".into(), s(SOURCE)),
        ("detail_type".into(), s(event.detail_type())),
        ("detail".into(), s(detail)),
        ("partner_id".into(), s(event.partner_id.as_str())),
        ("created_at".into(), s(now.to_string())),
        (
            EXPIRES_AT.into(),
            n(now.as_second() + OUTBOX_RETENTION_SECONDS),
        ),
    ]))
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
        }
    }

    /// A store whose client is built from the SDK configuration (once per cold start).
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Store {
        Store::new(Client::new(sdk), table)
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
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(partner_pk(id)))
            .key(SK, s(PROFILE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo_error)?;
        output.item.map(from_item).transpose()
    }

    /// Writes one partner change atomically; [`StoreError::VersionConflict`] if the profile moved on.
    #[tracing::instrument(skip_all, fields(partner_id = %write.partner.id, version = write.partner.version), err(Display))]
    pub async fn commit(&self, write: PartnerWrite) -> Result<(), StoreError> {
        let now = write.partner.updated_at;
        let (condition, values) = match write.expected_version {
            Some(version) => (
                format!("attribute_exists({PK}) AND version = :expected_version"),
                Some(HashMap::from([(
                    ":expected_version".to_owned(),
                    n(version),
                )])),
            ),
            None => (format!("attribute_not_exists({PK})"), None),
        };
        let mut items = vec![put(
            &self.table,
            profile_item(&write.partner)?,
            &condition,
            values,
        )?];
        let fresh = format!("attribute_not_exists({PK})");
        if let Some((id, entry)) = &write.history {
            items.push(put(&self.table, history_item(*id, entry)?, &fresh, None)?);
        }
        items.push(put(
            &self.table,
            audit_item(write.audit.0, &write.audit.1)?,
            &fresh,
            None,
        )?);
        for (id, event) in &write.events {
            items.push(put(
                &self.table,
                outbox_item(*id, event, now)?,
                &fresh,
                None,
            )?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            // Makes an SDK retry of a transaction that did commit a no-op instead of a conflict.
            .client_request_token(write.audit.0.to_string())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => Err(match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                    let profile_failed = cancel
                        .cancellation_reasons()
                        .first()
                        .and_then(|r| r.code())
                        .is_some_and(|code| {
                            code == "ConditionalCheckFailed" || code == "TransactionConflict"
                        });
                    tracing::debug!(reasons = ?cancel.cancellation_reasons(), "transaction cancelled");
                    if profile_failed {
                        StoreError::VersionConflict
                    } else {
                        dynamo_error(err)
                    }
                }
                _ => dynamo_error(err),
            }),
        }
    }

    /// The partner directory by company name, filtered by tier and status.
    ///
    /// Filters apply after DynamoDB reads a page, so a page can hold fewer than `limit` rows while
    /// more follow: callers continue while `next_cursor` is present.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn list_partners(
        &self,
        filter: &PartnerFilter,
        page: &PageRequest,
    ) -> Result<Page<Partner>, StoreError> {
        const MAX_ROUND_TRIPS: usize = 8;
        let mut start = page
            .cursor
            .as_deref()
            .map(|c| {
                cursor::decode(
                    c,
                    &[PK, SK, "gsi2pk", "gsi2sk"],
                    &[("gsi2pk", DIRECTORY_PK)],
                )
            })
            .transpose()?;
        let mut filters = Vec::new();
        let mut values = HashMap::from([(":pk".to_owned(), s(DIRECTORY_PK))]);
        if let Some(tier) = filter.tier {
            filters.push("engagement_tier = :tier");
            values.insert(":tier".into(), s(tier.as_str()));
        }
        if let Some(status) = filter.status {
            filters.push("subscription_status = :status");
            values.insert(":status".into(), s(status.as_str()));
        }
        let filter_expression = (!filters.is_empty()).then(|| filters.join(" AND "));
        let mut items = Vec::new();
        for _ in 0..MAX_ROUND_TRIPS {
            let remaining = usize::from(page.limit) - items.len();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DIRECTORY_INDEX)
                .key_condition_expression("gsi2pk = :pk")
                .set_filter_expression(filter_expression.clone())
                .set_expression_attribute_values(Some(values.clone()))
                .limit(remaining as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo_error)?;
            for item in output.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() || items.len() >= usize::from(page.limit) {
                break;
            }
        }
        Ok(Page {
            items,
            next_cursor: start.as_ref().and_then(cursor::encode),
        })
    }

    /// A partner's history entries, newest first.
    pub async fn partner_history(
        &self,
        id: &PartnerId,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, StoreError> {
        self.partner_collection(id, HISTORY_PREFIX, page).await
    }

    /// A partner's audit entries, newest first.
    pub async fn partner_audit(
        &self,
        id: &PartnerId,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        self.partner_collection(id, AUDIT_PREFIX, page).await
    }

    #[tracing::instrument(skip(self), err(Display))]
    async fn partner_collection<T: DeserializeOwned>(
        &self,
        id: &PartnerId,
        prefix: &str,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let pk = partner_pk(id);
        let start = page
            .cursor
            .as_deref()
            .map(|c| cursor::decode(c, &[PK, SK], &[(PK, &pk)]))
            .transpose()?;
        if let Some(sk) = start
            .as_ref()
            .and_then(|k| k.get(SK))
            .and_then(|v| v.as_s().ok())
        {
            if !sk.starts_with(prefix) {
                return Err(InvalidCursor.into());
            }
        }
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .scan_index_forward(false)
            .limit(i32::from(page.limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(dynamo_error)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        let next_cursor = output.last_evaluated_key.as_ref().and_then(cursor::encode);
        Ok(Page { items, next_cursor })
    }

    /// Every outbox event not yet expired, oldest first (for tests and local inspection; the relay
    /// reads the stream, not this).
    pub async fn outbox_events(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut events = Vec::new();
        let mut start: Option<Key> = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("entity = :outbox")
                .expression_attribute_values(":outbox", s("outbox"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo_error)?;
            for item in output.items.unwrap_or_default() {
                let get = |name: &str| {
                    item.get(name)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                events.push((get("detail_type"), get("detail")));
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok(events)
    }
}
