//! The admin's invoice dashboard: invoices across partners by status, partner and date range, one
//! invoice, its PDF, and the same listing as a spreadsheet-safe CSV.

use super::error::{not_found, UseCaseError};
use crate::domain::dates::CalendarDate;
use crate::domain::invoice::{plausible_invoice_id, InvoiceRecord, InvoiceStatus};
use crate::domain::money::Cents;
use crate::domain::partner::{Partner, PartnerId};
use crate::domain::spreadsheet::{amount_cell, text_cell};
use crate::domain::tier::Tier;
use crate::store::{InvoiceFilter, Page, PageRequest, Store};
use jiff::Timestamp;
use serde::Serialize;

/// The most rows one CSV export holds.
pub const MAX_EXPORT_ROWS: usize = 10_000;

/// One invoice as an admin (or, its own, a partner) reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceRow {
    pub invoice_id: String,
    pub partner_id: PartnerId,
    pub company_name: Option<String>,
    pub number: Option<String>,
    pub status: InvoiceStatus,
    pub amount_cents: Cents,
    pub amount: String,
    pub amount_paid_cents: Cents,
    pub amount_paid: String,
    pub amount_refunded_cents: Cents,
    pub amount_refunded: String,
    pub tier: Option<Tier>,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    pub attempt_count: u32,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub hosted_invoice_url: Option<String>,
    /// Stripe's PDF (`GET /admin/invoices/{invoice_id}/pdf` redirects to it).
    pub invoice_pdf_url: Option<String>,
}

impl From<InvoiceRecord> for InvoiceRow {
    fn from(record: InvoiceRecord) -> InvoiceRow {
        InvoiceRow {
            amount: record.amount_cents.to_string(),
            amount_paid: record.amount_paid_cents.to_string(),
            amount_refunded: record.amount_refunded_cents.to_string(),
            amount_refunded_cents: record.amount_refunded_cents,
            invoice_id: record.stripe_invoice_id,
            partner_id: record.partner_id,
            company_name: record.company_name,
            number: record.invoice_number,
            status: record.status,
            amount_cents: record.amount_cents,
            amount_paid_cents: record.amount_paid_cents,
            tier: record.tier,
            period_start: record.period_start,
            period_end: record.period_end,
            attempt_count: record.attempt_count,
            created_at: record.created_at,
            paid_at: record.paid_at,
            hosted_invoice_url: record.invoice_url,
            invoice_pdf_url: record.pdf_url,
        }
    }
}

/// A page of the invoices `filter` selects, newest first.
#[tracing::instrument(skip(store), err(Display))]
pub async fn list_invoices(
    store: &Store,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> Result<Page<InvoiceRow>, UseCaseError> {
    let page = store.invoice_page(filter, page).await?;
    Ok(Page {
        items: page.items.into_iter().map(InvoiceRow::from).collect(),
        next_cursor: page.next_cursor,
    })
}

fn unknown(invoice_id: &str) -> UseCaseError {
    UseCaseError::NotFound(format!("invoice {invoice_id} does not exist"))
}

/// The partner an invoice record belongs to.
pub(crate) async fn invoice_owner(store: &Store, record: &InvoiceRecord) -> Result<Partner, UseCaseError> {
    store
        .get_partner(&record.partner_id)
        .await?
        .ok_or_else(|| not_found(&record.partner_id))
}

/// The record of Stripe invoice `invoice_id`, whichever partner's it is.
pub(crate) async fn invoice_record(store: &Store, invoice_id: &str) -> Result<InvoiceRecord, UseCaseError> {
    if !plausible_invoice_id(invoice_id) {
        return Err(unknown(invoice_id));
    }
    store
        .invoice_by_id(invoice_id)
        .await?
        .ok_or_else(|| unknown(invoice_id))
}

/// The invoice of Stripe id `invoice_id`.
#[tracing::instrument(skip(store), err(Display))]
pub async fn invoice(store: &Store, invoice_id: &str) -> Result<InvoiceRow, UseCaseError> {
    Ok(invoice_record(store, invoice_id).await?.into())
}

/// Where Stripe keeps invoice `invoice_id`'s PDF.
pub async fn invoice_pdf(store: &Store, invoice_id: &str) -> Result<String, UseCaseError> {
    let pdf = invoice(store, invoice_id).await?.invoice_pdf_url;
    pdf.filter(|url| crate::domain::invoice::stripe_document_url(url).is_some())
        .ok_or_else(|| {
            UseCaseError::NotFound(format!(
                "Stripe has no PDF for invoice {invoice_id} yet (it is made when the invoice is finalized)"
            ))
        })
}

/// Every invoice `filter` selects as CSV: header row, ISO dates, dollar amounts, safe text cells.
#[tracing::instrument(skip(store), err(Display))]
pub async fn export_invoices_csv(store: &Store, filter: &InvoiceFilter) -> Result<Vec<u8>, UseCaseError> {
    let rows = store.invoices_all(filter, MAX_EXPORT_ROWS).await?;
    let csv_error = |e: csv::Error| UseCaseError::Internal(format!("CSV: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "created_at",
        "invoice_id",
        "number",
        "partner_id",
        "company_name",
        "status",
        "tier",
        "amount_usd",
        "amount_paid_usd",
        "amount_refunded_usd",
        "period_start",
        "period_end",
        "paid_at",
        "attempt_count",
    ])
    .map_err(csv_error)?;
    for r in rows {
        out.write_record([
            r.created_at.to_string(),
            text_cell(&r.stripe_invoice_id).into_owned(),
            text_cell(r.invoice_number.as_deref().unwrap_or("")).into_owned(),
            r.partner_id.to_string(),
            text_cell(r.company_name.as_deref().unwrap_or("")).into_owned(),
            r.status.as_str().to_owned(),
            r.tier.map(|t| t.as_str().to_owned()).unwrap_or_default(),
            amount_cell(r.amount_cents),
            amount_cell(r.amount_paid_cents),
            amount_cell(r.amount_refunded_cents),
            r.period_start.to_string(),
            r.period_end.to_string(),
            r.paid_at.map(|t| t.to_string()).unwrap_or_default(),
            r.attempt_count.to_string(),
        ])
        .map_err(csv_error)?;
    }
    out.into_inner()
        .map_err(|e| UseCaseError::Internal(format!("CSV: {e}")))
}
