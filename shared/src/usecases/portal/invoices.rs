//! A partner's own invoices (as the webhooks stored them) and their PDFs at Stripe.

use super::super::error::UseCaseError;
use super::super::invoices::InvoiceRow;
use crate::domain::invoice::plausible_invoice_id;
use crate::domain::partner::PartnerId;
use crate::store::{Page, PageRequest, Store};

/// A page of `partner_id`'s invoices, newest first.
#[tracing::instrument(skip(store), err(Display))]
pub async fn my_invoices(
    store: &Store,
    partner_id: &PartnerId,
    page: &PageRequest,
) -> Result<Page<InvoiceRow>, UseCaseError> {
    let page = store.partner_invoices(partner_id, page).await?;
    Ok(Page {
        items: page.items.into_iter().map(InvoiceRow::from).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Where the PDF of `partner_id`'s invoice `invoice_id` is. An invoice of another partner is
/// exactly as unknown as one that does not exist.
#[tracing::instrument(skip(store), err(Display))]
pub async fn invoice_pdf(store: &Store, partner_id: &PartnerId, invoice_id: &str) -> Result<String, UseCaseError> {
    let unknown = || UseCaseError::NotFound(format!("you have no invoice {invoice_id}"));
    if !plausible_invoice_id(invoice_id) {
        return Err(unknown());
    }
    let invoice = store
        .partner_invoice(partner_id, invoice_id)
        .await?
        .ok_or_else(unknown)?;
    invoice
        .pdf_url
        .filter(|url| crate::domain::invoice::stripe_document_url(url).is_some())
        .ok_or_else(|| {
            UseCaseError::NotFound(format!(
                "Stripe has no PDF for invoice {invoice_id} yet (it is made when the invoice is finalized)"
            ))
        })
}
