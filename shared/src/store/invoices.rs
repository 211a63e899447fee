//! Reading invoice records: one partner's, one by its id, and the admin's listing across partners
//! by status, partner and date range (newest first), each reading only the range asked for.

use super::items::{audit_item_announcing, conditional_put, from_item, number_attr, outbox_item, string_attr};
use super::keys::*;
use super::queries::IndexQuery;
use super::{dynamo_error, failed_condition, Page, PageRequest, Store, StoreError};
use crate::domain::events::DomainEvent;
use crate::domain::history_and_audit::AuditEntry;
use crate::domain::invoice::{InvoiceRecord, InvoiceStatus};
use crate::domain::partner::PartnerId;
use jiff::Timestamp;
use std::collections::HashMap;
use ulid::Ulid;

/// A request to mail an invoice again: its marker for the window (one email per window), its audit
/// entry and its outbox event, written together.
#[derive(Debug, Clone)]
pub struct ResendWrite {
    pub partner_id: PartnerId,
    pub invoice_id: String,
    /// The window's first instant: a second request in the same window finds the marker.
    pub window_start: Timestamp,
    pub audit: (Ulid, AuditEntry),
    pub event: (Ulid, DomainEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendOutcome {
    Queued,
    /// Asked already in this window: nothing written.
    AlreadyQueued,
}

/// How long a resend marker stays (TTL).
const RESEND_MARKER_SECONDS: i64 = 24 * 3600;

/// Which invoices a listing holds; every filter is optional and they combine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    pub status: Option<InvoiceStatus>,
    pub partner_id: Option<PartnerId>,
    /// Created at or after.
    pub from: Option<Timestamp>,
    /// Created before.
    pub before: Option<Timestamp>,
}

impl InvoiceFilter {
    /// The index query: invoices by status when one is asked, else every invoice, by creation time
    /// within the range, newest first; the partner as a filter on that range.
    fn query(&self) -> IndexQuery {
        let mut query = match self.status {
            Some(status) => IndexQuery::new(
                INVOICES_INDEX,
                "gsi5pk",
                "gsi5sk",
                invoices_by_status_pk(status.as_str()),
            ),
            None => IndexQuery::new(INVOICES_BY_DATE_INDEX, "gsi8pk", "gsi8sk", INVOICES_BY_DATE_PK),
        }
        .descending(true);
        if let Some(from) = self.from {
            query = query.sort_key_from(from.to_string());
        }
        if let Some(before) = self.before {
            // Sort keys are `<created>#<id>`: everything created before `before` sorts below it.
            query = query.sort_key_below(before.to_string());
        }
        if let Some(partner) = &self.partner_id {
            query = query.filter("partner_id = :partner_id", ":partner_id", string_attr(partner.as_str()));
        }
        query
    }
}

impl Store {
    /// One partner's invoices, newest invoice id first.
    /// How many invoices the filter finds (a `COUNT` query: it reads only what it counts).
    pub async fn invoice_count(&self, filter: &InvoiceFilter) -> Result<u64, StoreError> {
        self.query_count(&filter.query()).await
    }

    pub async fn partner_invoices(
        &self,
        id: &PartnerId,
        page: &PageRequest,
    ) -> Result<Page<InvoiceRecord>, StoreError> {
        self.partner_collection(id, INVOICE_PREFIX, None, page).await
    }

    /// One of `id`'s invoices; `None` when `id` has no invoice of that id (another partner's included).
    pub async fn partner_invoice(&self, id: &PartnerId, invoice_id: &str) -> Result<Option<InvoiceRecord>, StoreError> {
        self.get_item(partner_pk(id), &invoice_sk(invoice_id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Every partner's invoices with `status`, newest first.
    pub async fn invoices_with_status(
        &self,
        status: InvoiceStatus,
        page: &PageRequest,
    ) -> Result<Page<InvoiceRecord>, StoreError> {
        let filter = InvoiceFilter {
            status: Some(status),
            ..InvoiceFilter::default()
        };
        self.invoice_page(&filter, page).await
    }

    /// A page of the invoices `filter` selects, newest first.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_page(
        &self,
        filter: &InvoiceFilter,
        page: &PageRequest,
    ) -> Result<Page<InvoiceRecord>, StoreError> {
        self.query_page(&filter.query(), page).await
    }

    /// Every invoice `filter` selects, newest first, up to `max` (exports).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoices_all(&self, filter: &InvoiceFilter, max: usize) -> Result<Vec<InvoiceRecord>, StoreError> {
        self.query_all(&filter.query(), max).await
    }

    /// The invoice of Stripe id `invoice_id`, whichever partner's it is.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_by_id(&self, invoice_id: &str) -> Result<Option<InvoiceRecord>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INVOICE_BY_ID_INDEX)
            .key_condition_expression("gsi9pk = :pk")
            .expression_attribute_values(":pk", string_attr(invoice_by_id_pk(invoice_id)))
            .limit(1)
            .send()
            .await
            .map_err(dynamo_error)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(from_item)
            .transpose()
    }

    /// Records a resend request once per window: marker, audit entry and outbox event together.
    #[tracing::instrument(skip_all, fields(partner_id = %write.partner_id, invoice_id = %write.invoice_id), err(Display))]
    pub async fn record_invoice_resend(&self, write: ResendWrite) -> Result<ResendOutcome, StoreError> {
        let now = write.audit.1.at;
        let fresh = format!("attribute_not_exists({PK})");
        let marker = HashMap::from([
            (PK.to_owned(), string_attr(partner_pk(&write.partner_id))),
            (
                SK.to_owned(),
                string_attr(format!("RESEND#{}#{}", write.invoice_id, write.window_start)),
            ),
            ("entity".to_owned(), string_attr("invoice_resend")),
            ("event_id".to_owned(), string_attr(&write.event.1.event_id)),
            ("requested_at".to_owned(), string_attr(now.to_string())),
            (
                EXPIRES_AT.to_owned(),
                number_attr(write.window_start.as_second() + RESEND_MARKER_SECONDS),
            ),
        ]);
        let items = vec![
            conditional_put(&self.table, marker, &fresh, None)?,
            conditional_put(
                &self.table,
                audit_item_announcing(write.audit.0, &write.audit.1, &[write.event.0])?,
                &fresh,
                None,
            )?,
            conditional_put(
                &self.table,
                outbox_item(write.event.0, &write.event.1, now)?,
                &fresh,
                None,
            )?,
        ];
        match self.transact(items, write.audit.0).await? {
            None => Ok(ResendOutcome::Queued),
            Some(codes) if failed_condition(&codes, 0) => Ok(ResendOutcome::AlreadyQueued),
            Some(codes) => Err(StoreError::Dynamo(format!("transaction cancelled: {codes:?}"))),
        }
    }
}
