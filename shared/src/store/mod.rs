//! The one DynamoDB table: partner profiles with their history, audit trail and outbox events.
//!
//! Every state change goes through [`Store::commit`]: one `TransactWriteItems` holding the profile
//! (guarded by its version), its history entry, its audit entry and its outbox events, so that
//! nothing is half-written and no event is announced for a change that did not commit.

pub mod billing;
pub mod cursor;
pub mod email_log;
pub mod keys;
pub mod schema;

use crate::domain::dates::CalendarDate;
use crate::domain::lifecycle::NoticeStage;
use crate::domain::partner::{Partner, PartnerId, SubscriptionStatus};
use crate::domain::records::{AuditEntry, HistoryEntry, HistoryEventType};
use crate::domain::tier::Tier;
use crate::events::{DomainEvent, SOURCE};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
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
    let where_ = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("{where_}: {e}")))
}

/// Whether item `index` of a cancelled transaction failed its condition.
fn failed_condition(codes: &[Option<String>], index: usize) -> bool {
    codes.get(index).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed")
}

fn put(table: &str, item: Item, condition: &str, values: Option<Item>) -> Result<TransactWriteItem, StoreError> {
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
    if let Some(end) = partner.subscription_end_date {
        // The due index: paid terms the sweep may have to act on.
        let due_status = matches!(
            partner.subscription_status,
            SubscriptionStatus::Active | SubscriptionStatus::Cancelled
        );
        if partner.engagement_tier.is_paid() && due_status {
            item.insert("gsi1pk".into(), s(subscriptions_pk(partner.subscription_status)));
            item.insert("gsi1sk".into(), s(subscriptions_sk(end, &partner.id)));
        }
        // The dashboard index: every subscription that is not inactive.
        if partner.subscription_status != SubscriptionStatus::Inactive {
            item.insert("gsi4pk".into(), s(dashboard_pk(partner.subscription_status)));
            item.insert("gsi4sk".into(), s(subscriptions_sk(end, &partner.id)));
        }
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
    let detail = event.detail_json().map_err(|e| StoreError::Corrupt(e.to_string()))?;
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
        (EXPIRES_AT.into(), n(now.as_second() + OUTBOX_RETENTION_SECONDS)),
    ]))
}

/// A query on one partition of an index: optional sort-key bounds and filters.
#[derive(Debug, Clone)]
struct IndexQuery {
    index: &'static str,
    pk_attr: &'static str,
    sk_attr: &'static str,
    pk: String,
    sk_from: Option<String>,
    sk_below: Option<String>,
    filters: Vec<&'static str>,
    values: Item,
    ascending: bool,
}

impl IndexQuery {
    fn new(index: &'static str, pk_attr: &'static str, sk_attr: &'static str, pk: impl Into<String>) -> IndexQuery {
        IndexQuery {
            index,
            pk_attr,
            sk_attr,
            pk: pk.into(),
            sk_from: None,
            sk_below: None,
            filters: Vec::new(),
            values: Item::new(),
            ascending: true,
        }
    }

    fn filter(mut self, expression: &'static str, name: &str, value: AttributeValue) -> IndexQuery {
        self.filters.push(expression);
        self.values.insert(name.to_owned(), value);
        self
    }

    fn sort_key_from(mut self, lower: String) -> IndexQuery {
        self.sk_from = Some(lower);
        self
    }

    fn sort_key_below(mut self, upper: String) -> IndexQuery {
        self.sk_below = Some(upper);
        self
    }

    fn descending(mut self, descending: bool) -> IndexQuery {
        self.ascending = !descending;
        self
    }

    /// Whether a sort key lies inside the query's key condition.
    fn sort_key_within_bounds(&self, sk: &str) -> bool {
        match (&self.sk_from, &self.sk_below) {
            (Some(from), Some(below)) => from.as_str() <= sk && sk <= below.as_str(),
            (Some(from), None) => from.as_str() <= sk,
            (None, Some(below)) => sk < below.as_str(),
            (None, None) => true,
        }
    }

    fn request(&self, store: &Store) -> QueryFluentBuilder {
        let mut values = self.values.clone();
        values.insert(":pk".into(), s(&self.pk));
        let key_condition = match (&self.sk_from, &self.sk_below) {
            (Some(from), Some(below)) => {
                values.insert(":from".into(), s(from));
                values.insert(":below".into(), s(below));
                format!("{} = :pk AND {} BETWEEN :from AND :below", self.pk_attr, self.sk_attr)
            }
            (Some(from), None) => {
                values.insert(":from".into(), s(from));
                format!("{} = :pk AND {} >= :from", self.pk_attr, self.sk_attr)
            }
            (None, Some(below)) => {
                values.insert(":below".into(), s(below));
                format!("{} = :pk AND {} < :below", self.pk_attr, self.sk_attr)
            }
            (None, None) => format!("{} = :pk", self.pk_attr),
        };
        store
            .client
            .query()
            .table_name(&store.table)
            .index_name(self.index)
            .key_condition_expression(key_condition)
            .set_filter_expression((!self.filters.is_empty()).then(|| self.filters.join(" AND ")))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(self.ascending)
    }
}

/// Which subscriptions a dashboard view shows: one status, optionally ending within a date range,
/// optionally of one paid tier (the tier they have or last had).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardQuery {
    pub status: SubscriptionStatus,
    pub ending_between: Option<(CalendarDate, CalendarDate)>,
    pub tier: Option<crate::domain::tier::Tier>,
    pub descending: bool,
}

impl DashboardQuery {
    fn index_query(&self) -> IndexQuery {
        let mut query =
            IndexQuery::new(DASHBOARD_INDEX, "gsi4pk", "gsi4sk", dashboard_pk(self.status)).descending(self.descending);
        if let Some((from, to)) = self.ending_between {
            query = query
                .sort_key_from(from.to_string())
                .sort_key_below(end_date_upper_bound(to));
        }
        if let Some(tier) = self.tier {
            query = query.filter("last_paid_tier = :tier", ":tier", s(tier.as_str()));
        }
        query
    }
}

fn history_month_query(month: &str, event_type: Option<HistoryEventType>) -> IndexQuery {
    let query =
        IndexQuery::new(HISTORY_BY_MONTH_INDEX, "gsi3pk", "gsi3sk", history_month_pk_for(month)).descending(true);
    match event_type {
        Some(t) => query.filter("event_type = :event_type", ":event_type", s(t.as_str())),
        None => query,
    }
}

/// A renewal notice to record: the marker (sweep notices only), its audit entry and its event,
/// written only while the partner is still at `partner_version`.
#[derive(Debug, Clone)]
pub struct NoticeWrite {
    pub partner_id: PartnerId,
    pub partner_version: u64,
    pub term_end: CalendarDate,
    /// `Some` for the sweep's notices (sent once per term end and stage); `None` for manual ones.
    pub marker_stage: Option<NoticeStage>,
    pub audit: (Ulid, AuditEntry),
    pub event: (Ulid, DomainEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeOutcome {
    Recorded,
    /// The marker exists: this notice was sent before.
    AlreadySent,
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
        self.get_item(partner_pk(id), PROFILE_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// One item by its keys, strongly consistent.
    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(output.item)
    }

    /// Writes one partner change atomically; [`StoreError::VersionConflict`] if the profile moved on.
    #[tracing::instrument(skip_all, fields(partner_id = %write.partner.id, version = write.partner.version), err(Display))]
    pub async fn commit(&self, write: PartnerWrite) -> Result<(), StoreError> {
        let items = self.partner_write_items(&write)?;
        match self.transact(items, write.audit.0).await? {
            None => Ok(()),
            // The profile's version condition is the first item.
            Some(codes)
                if failed_condition(&codes, 0)
                    || codes.first().and_then(|c| c.as_deref()) == Some("TransactionConflict") =>
            {
                Err(StoreError::VersionConflict)
            }
            Some(codes) => Err(StoreError::Dynamo(format!("transaction cancelled: {codes:?}"))),
        }
    }

    /// The items of one partner change: the profile (first, guarded by its version), its history
    /// entry, its audit entry and its outbox events.
    fn partner_write_items(&self, write: &PartnerWrite) -> Result<Vec<TransactWriteItem>, StoreError> {
        let now = write.partner.updated_at;
        let (condition, values) = match write.expected_version {
            Some(version) => (
                format!("attribute_exists({PK}) AND version = :expected_version"),
                Some(HashMap::from([(":expected_version".to_owned(), n(version))])),
            ),
            None => (format!("attribute_not_exists({PK})"), None),
        };
        let mut items = vec![put(&self.table, profile_item(&write.partner)?, &condition, values)?];
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
            items.push(put(&self.table, outbox_item(*id, event, now)?, &fresh, None)?);
        }
        Ok(items)
    }

    /// The partner directory by company name, filtered by tier and status.
    ///
    /// Filters apply after DynamoDB reads a page, so a page can hold fewer than `limit` rows while
    /// more follow: callers continue while `next_cursor` is present.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn list_partners(&self, filter: &PartnerFilter, page: &PageRequest) -> Result<Page<Partner>, StoreError> {
        let mut query = IndexQuery::new(DIRECTORY_INDEX, "gsi2pk", "gsi2sk", DIRECTORY_PK);
        if let Some(tier) = filter.tier {
            query = query.filter("engagement_tier = :tier", ":tier", s(tier.as_str()));
        }
        if let Some(status) = filter.status {
            query = query.filter("subscription_status = :status", ":status", s(status.as_str()));
        }
        self.query_page(&query, page).await
    }

    /// One page of an index query, following DynamoDB pages until `limit` rows pass the filter
    /// (or a few round trips have been made).
    async fn query_page<T: DeserializeOwned>(
        &self,
        query: &IndexQuery,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        const MAX_ROUND_TRIPS: usize = 8;
        let mut start = page
            .cursor
            .as_deref()
            .map(|c| {
                cursor::decode(
                    c,
                    &[PK, SK, query.pk_attr, query.sk_attr],
                    &[(query.pk_attr, &query.pk)],
                )
            })
            .transpose()?;
        if let Some(key) = &start {
            let sk = key
                .get(query.sk_attr)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                .unwrap_or("");
            if !query.sort_key_within_bounds(sk) {
                // DynamoDB refuses a start key outside the key condition; that is the caller's cursor.
                return Err(InvalidCursor.into());
            }
        }
        let mut items = Vec::new();
        for _ in 0..MAX_ROUND_TRIPS {
            let remaining = usize::from(page.limit) - items.len();
            let output = query
                .request(self)
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
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

    /// Every row of an index query (for sorting in memory and exports), up to `max` rows.
    async fn query_all<T: DeserializeOwned>(&self, query: &IndexQuery, max: usize) -> Result<Vec<T>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = query
                .request(self)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo_error)?;
            for item in output.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() || items.len() >= max {
                items.truncate(max);
                return Ok(items);
            }
        }
    }

    /// How many rows an index query matches.
    async fn query_count(&self, query: &IndexQuery) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let output = query
                .request(self)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo_error)?;
            count += u64::try_from(output.count).unwrap_or(0);
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    /// Records a renewal notice atomically: marker (exactly once), audit entry, outbox event.
    #[tracing::instrument(skip_all, fields(partner_id = %notice.partner_id, stage = ?notice.marker_stage), err(Display))]
    pub async fn record_notice(&self, notice: NoticeWrite) -> Result<NoticeOutcome, StoreError> {
        let now = notice.audit.1.at;
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key(PK, s(partner_pk(&notice.partner_id)))
            .key(SK, s(PROFILE_SK))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", n(notice.partner_version))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().condition_check(check).build()];
        let fresh = format!("attribute_not_exists({PK})");
        if let Some(stage) = notice.marker_stage {
            let marker = HashMap::from([
                (PK.to_owned(), s(partner_pk(&notice.partner_id))),
                (SK.to_owned(), s(notice_sk(notice.term_end, stage.days()))),
                ("entity".to_owned(), s("notice")),
                ("stage".to_owned(), n(stage.days())),
                ("term_end".to_owned(), s(notice.term_end.to_string())),
                ("event_id".to_owned(), s(&notice.event.1.event_id)),
                ("sent_at".to_owned(), s(now.to_string())),
            ]);
            items.push(put(&self.table, marker, &fresh, None)?);
        }
        items.push(put(
            &self.table,
            audit_item(notice.audit.0, &notice.audit.1)?,
            &fresh,
            None,
        )?);
        items.push(put(
            &self.table,
            outbox_item(notice.event.0, &notice.event.1, now)?,
            &fresh,
            None,
        )?);
        match self.transact(items, notice.audit.0).await? {
            None => Ok(NoticeOutcome::Recorded),
            // Item 0 checks the profile's version, item 1 is the marker (sweep notices only).
            Some(codes) if failed_condition(&codes, 0) => Err(StoreError::VersionConflict),
            Some(codes) if notice.marker_stage.is_some() && failed_condition(&codes, 1) => {
                Ok(NoticeOutcome::AlreadySent)
            }
            Some(codes) => Err(StoreError::Dynamo(format!("transaction cancelled: {codes:?}"))),
        }
    }

    /// Runs one transaction: `None` when it committed, the cancellation reason code of each item when
    /// a condition failed. `token` makes an SDK retry of a transaction that did commit a no-op.
    async fn transact(
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

    /// The renewal notice stages already sent for a term.
    pub async fn notices_sent(&self, id: &PartnerId, term_end: CalendarDate) -> Result<Vec<NoticeStage>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(partner_pk(id)))
            .expression_attribute_values(":prefix", s(format!("{NOTICE_PREFIX}{term_end}#")))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(output
            .items()
            .iter()
            .filter_map(|item| item.get("stage")?.as_n().ok()?.parse::<u8>().ok())
            .filter_map(NoticeStage::from_days)
            .collect())
    }

    /// One page of the terms with `status` in the due index that end on or before `until`,
    /// soonest first (eventually consistent: callers write with version conditions).
    #[tracing::instrument(skip(self, start), err(Display))]
    pub async fn due_terms(
        &self,
        status: SubscriptionStatus,
        until: CalendarDate,
        start: Option<Key>,
        page_size: u16,
    ) -> Result<(Vec<Partner>, Option<Key>), StoreError> {
        let query = IndexQuery::new(SUBSCRIPTIONS_INDEX, "gsi1pk", "gsi1sk", subscriptions_pk(status))
            .sort_key_below(end_date_upper_bound(until));
        let output = query
            .request(self)
            .limit(i32::from(page_size))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(dynamo_error)?;
        let partners = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((partners, output.last_evaluated_key))
    }

    /// Dashboard rows: subscriptions with `status`, optionally ending within `end_range`, of `tier`.
    pub async fn dashboard_page(&self, view: &DashboardQuery, page: &PageRequest) -> Result<Page<Partner>, StoreError> {
        self.query_page(&view.index_query(), page).await
    }

    /// Every dashboard row of a view (bounded), for sorting by name and for exports.
    pub async fn dashboard_all(&self, view: &DashboardQuery, max: usize) -> Result<Vec<Partner>, StoreError> {
        self.query_all(&view.index_query(), max).await
    }

    pub async fn dashboard_count(&self, view: &DashboardQuery) -> Result<u64, StoreError> {
        self.query_count(&view.index_query()).await
    }

    /// History entries of one month (`2026-11`), newest first, optionally of one event type.
    pub async fn history_month_page(
        &self,
        month: &str,
        event_type: Option<HistoryEventType>,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, StoreError> {
        self.query_page(&history_month_query(month, event_type), page).await
    }

    pub async fn history_month_count(
        &self,
        month: &str,
        event_type: Option<HistoryEventType>,
    ) -> Result<u64, StoreError> {
        self.query_count(&history_month_query(month, event_type)).await
    }

    /// A partner's history entries, newest first, optionally of one event type.
    pub async fn partner_history(
        &self,
        id: &PartnerId,
        event_type: Option<HistoryEventType>,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, StoreError> {
        self.partner_collection(id, HISTORY_PREFIX, event_type, page).await
    }

    /// A partner's audit entries, newest first.
    pub async fn partner_audit(&self, id: &PartnerId, page: &PageRequest) -> Result<Page<AuditEntry>, StoreError> {
        self.partner_collection(id, AUDIT_PREFIX, None, page).await
    }

    #[tracing::instrument(skip(self), err(Display))]
    async fn partner_collection<T: DeserializeOwned>(
        &self,
        id: &PartnerId,
        prefix: &str,
        event_type: Option<HistoryEventType>,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let pk = partner_pk(id);
        let start = page
            .cursor
            .as_deref()
            .map(|c| cursor::decode(c, &[PK, SK], &[(PK, &pk)]))
            .transpose()?;
        if let Some(sk) = start.as_ref().and_then(|k| k.get(SK)).and_then(|v| v.as_s().ok()) {
            if !sk.starts_with(prefix) {
                return Err(InvalidCursor.into());
            }
        }
        let (filter, event_value) = match event_type {
            Some(t) => (Some("event_type = :event_type"), Some(s(t.as_str()))),
            None => (None, None),
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .set_filter_expression(filter.map(str::to_owned))
            .scan_index_forward(false)
            .limit(i32::from(page.limit))
            .set_exclusive_start_key(start);
        if let Some(value) = event_value {
            request = request.expression_attribute_values(":event_type", value);
        }
        let output = request.send().await.map_err(dynamo_error)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        let next_cursor = output.last_evaluated_key.as_ref().and_then(cursor::encode);
        Ok(Page { items, next_cursor })
    }

    /// Writes profiles in batches of 25 without history (bulk loads for benchmarks and imports of
    /// partners that have no past here). Existing profiles with the same ids are replaced.
    pub async fn load_profiles(&self, partners: &[Partner]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in partners.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|p| {
                    let put = PutRequest::builder()
                        .set_item(Some(profile_item(p)?))
                        .build()
                        .map_err(|e| StoreError::Dynamo(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for attempt in 0..8 {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.clone(), requests)
                    .send()
                    .await
                    .map_err(dynamo_error)?;
                requests = output
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if !requests.is_empty() {
                return Err(StoreError::Dynamo(format!(
                    "{} items stayed unprocessed",
                    requests.len()
                )));
            }
        }
        Ok(())
    }
}
