//! A partner's own invoices (as the webhooks stored them) and their PDFs at Stripe.

use super::super::error::UseCaseError;
use crate::domain::dates::CalendarDate;
use crate::domain::invoice::{InvoiceRecord, InvoiceStatus};
use crate::domain::money::Cents;
use crate::domain::partner::PartnerId;
use crate::domain::tier::Tier;
use crate::store::{Page, PageRequest, Store};
use jiff::Timestamp;
use serde::Serialize;

/// One invoice as the partner sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceView {
    pub invoice_id: String,
    pub number: Option<String>,
    pub status: InvoiceStatus,
    pub amount_cents: Cents,
    pub amount: String,
    pub amount_paid_cents: Cents,
    pub amount_paid: String,
    pub tier: Option<Tier>,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    /// Stripe's page for paying or viewing the invoice.
    pub hosted_invoice_url: Option<String>,
    /// Whether `GET /portal/invoices/{invoice_id}/pdf` has a PDF to send the partner to.
    pub has_pdf: bool,
}

impl From<InvoiceRecord> for InvoiceView {
    fn from(record: InvoiceRecord) -> InvoiceView {
        InvoiceView {
            amount: record.amount_cents.to_string(),
            amount_paid: record.amount_paid_cents.to_string(),
            has_pdf: record.pdf_url.is_some(),
            invoice_id: record.stripe_invoice_id,
            number: record.invoice_number,
            status: record.status,
            amount_cents: record.amount_cents,
            amount_paid_cents: record.amount_paid_cents,
            tier: record.tier,
            period_start: record.period_start,
            period_end: record.period_end,
            created_at: record.created_at,
            paid_at: record.paid_at,
            hosted_invoice_url: record.invoice_url,
        }
    }
}

/// A page of `partner_id`'s invoices, newest first.
#[tracing::instrument(skip(store), err(Display))]
pub async fn my_invoices(
    store: &Store,
    partner_id: &PartnerId,
    page: &PageRequest,
) -> Result<Page<InvoiceView>, UseCaseError> {
    let page = store.partner_invoices(partner_id, page).await?;
    Ok(Page {
        items: page.items.into_iter().map(InvoiceView::from).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Where the PDF of `partner_id`'s invoice `invoice_id` is. An invoice of another partner is
/// exactly as unknown as one that does not exist.
#[tracing::instrument(skip(store), err(Display))]
pub async fn invoice_pdf(store: &Store, partner_id: &PartnerId, invoice_id: &str) -> Result<String, UseCaseError> {
    let unknown = || UseCaseError::NotFound(format!("you have no invoice {invoice_id}"));
    let valid =
        (1..=100).contains(&invoice_id.len()) && invoice_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(unknown());
    }
    let invoice = store
        .partner_invoice(partner_id, invoice_id)
        .await?
        .ok_or_else(unknown)?;
    invoice.pdf_url.ok_or_else(|| {
        UseCaseError::NotFound(format!(
            "Stripe has no PDF for invoice {invoice_id} yet (it is made when the invoice is finalized)"
        ))
    })
}
