//! The store's listings: the partner directory, the sweep's due terms, the dashboard's tabs and
//! counts, the history feed by month, and a partner's own history and audit trail.

use super::cursor::{self, InvalidCursor, Key};
use super::items::{from_item, string_attr};
use super::keys::*;
use super::queries::IndexQuery;
use super::{dynamo_error, Page, PageRequest, Store, StoreError};
use crate::domain::dates::CalendarDate;
use crate::domain::history_and_audit::{AuditEntry, HistoryEntry, HistoryEventType};
use crate::domain::partner::{Partner, PartnerId, SubscriptionStatus};
use crate::domain::tier::Tier;
use serde::de::DeserializeOwned;

/// Which partners a directory listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerFilter {
    pub tier: Option<Tier>,
    pub status: Option<SubscriptionStatus>,
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
    pub(super) fn index_query(&self) -> IndexQuery {
        let mut query =
            IndexQuery::new(DASHBOARD_INDEX, "gsi4pk", "gsi4sk", dashboard_pk(self.status)).descending(self.descending);
        if let Some((from, to)) = self.ending_between {
            query = query
                .sort_key_from(from.to_string())
                .sort_key_below(end_date_upper_bound(to));
        }
        if let Some(tier) = self.tier {
            query = query.filter("last_paid_tier = :tier", ":tier", string_attr(tier.as_str()));
        }
        query
    }
}

fn history_month_query(month: &str, event_type: Option<HistoryEventType>) -> IndexQuery {
    let query =
        IndexQuery::new(HISTORY_BY_MONTH_INDEX, "gsi3pk", "gsi3sk", history_month_pk_for(month)).descending(true);
    match event_type {
        Some(t) => query.filter("event_type = :event_type", ":event_type", string_attr(t.as_str())),
        None => query,
    }
}

impl Store {
    /// The partner directory by company name, filtered by tier and status.
    ///
    /// The partner directory by company name, filtered by tier and status.
    ///
    /// Filters apply after DynamoDB reads a page, so a page can hold fewer than `limit` rows while
    /// more follow: callers continue while `next_cursor` is present.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn list_partners(&self, filter: &PartnerFilter, page: &PageRequest) -> Result<Page<Partner>, StoreError> {
        let mut query = IndexQuery::new(DIRECTORY_INDEX, "gsi2pk", "gsi2sk", DIRECTORY_PK);
        if let Some(tier) = filter.tier {
            query = query.filter("engagement_tier = :tier", ":tier", string_attr(tier.as_str()));
        }
        if let Some(status) = filter.status {
            query = query.filter("subscription_status = :status", ":status", string_attr(status.as_str()));
        }
        self.query_page(&query, page).await
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
        self.fetch_page(&query, start, Some(i32::from(page_size))).await
    }

    /// Partners with a Stripe change still to confirm, oldest request first, at most `limit`
    /// (eventually consistent: the pusher re-reads each one before it acts).
    pub async fn pending_stripe_syncs(&self, limit: u16) -> Result<Vec<Partner>, StoreError> {
        let query = IndexQuery::new(STRIPE_SYNC_INDEX, "gsi6pk", "gsi6sk", STRIPE_SYNC_PENDING_PK);
        let (partners, _) = self.fetch_page(&query, None, Some(i32::from(limit))).await?;
        Ok(partners)
    }

    /// Partners with a billing start for stripe-reconcile to carry out, oldest first, at most
    /// `limit` (eventually consistent: the start re-reads each one).
    pub async fn pending_billing_starts(&self, limit: u16) -> Result<Vec<Partner>, StoreError> {
        let query = IndexQuery::new(STRIPE_SYNC_INDEX, "gsi6pk", "gsi6sk", BILLING_START_PENDING_PK);
        let (partners, _) = self.fetch_page(&query, None, Some(i32::from(limit))).await?;
        Ok(partners)
    }

    /// Partners whose emailed invoice was due on or before `until`, soonest first, one page.
    pub async fn unpaid_invoices_due(
        &self,
        until: CalendarDate,
        start: Option<Key>,
        page_size: u16,
    ) -> Result<(Vec<Partner>, Option<Key>), StoreError> {
        let query = IndexQuery::new(INVOICES_DUE_INDEX, "gsi7pk", "gsi7sk", INVOICES_DUE_PK)
            .sort_key_below(end_date_upper_bound(until));
        self.fetch_page(&query, start, Some(i32::from(page_size))).await
    }

    /// Dashboard rows: subscriptions with `status`, optionally ending within `end_range`, of `tier`.
    pub async fn dashboard_page(&self, view: &DashboardQuery, page: &PageRequest) -> Result<Page<Partner>, StoreError> {
        self.query_page(&view.index_query(), page).await
    }

    /// Every dashboard row of a view (bounded), for sorting by name and for exports.
    pub async fn dashboard_all(&self, view: &DashboardQuery, max: usize) -> Result<Vec<Partner>, StoreError> {
        self.query_all(&view.index_query(), max).await
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
    pub(super) async fn partner_collection<T: DeserializeOwned>(
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
            Some(t) => (Some("event_type = :event_type"), Some(string_attr(t.as_str()))),
            None => (None, None),
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", string_attr(pk))
            .expression_attribute_values(":prefix", string_attr(prefix))
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
}
