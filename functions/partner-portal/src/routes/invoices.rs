//! The partner's invoices: `GET /portal/invoices` and `GET /portal/invoices/{invoice_id}/pdf`.

use super::Answered;
use crate::Portal;
use serde::Serialize;
use shared::auth::PartnerUser;
use shared::http::{Answer, Redirect};
use shared::store::PageRequest;
use shared::usecases::invoices::InvoiceRow;
use shared::usecases::portal::invoices::{invoice_pdf, my_invoices};

#[derive(Serialize)]
pub(super) struct InvoiceList {
    invoices: Vec<InvoiceRow>,
    next_cursor: Option<String>,
}

impl Answer for InvoiceList {}

/// `GET /portal/invoices?limit=&cursor=`
pub(super) async fn list(portal: &Portal, user: &PartnerUser, page: PageRequest) -> Answered<InvoiceList> {
    let page = my_invoices(&portal.store, &user.partner_id, &page).await?;
    Ok(InvoiceList {
        invoices: page.items,
        next_cursor: page.next_cursor,
    })
}

/// `GET /portal/invoices/{invoice_id}/pdf`: to the PDF at Stripe (only the partner's own invoices).
pub(super) async fn pdf(portal: &Portal, user: &PartnerUser, invoice_id: &str) -> Answered<Redirect> {
    Ok(Redirect(
        invoice_pdf(&portal.store, &user.partner_id, invoice_id).await?,
    ))
}
