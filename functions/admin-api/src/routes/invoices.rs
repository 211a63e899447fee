//! Invoices: the list and its CSV, one invoice and its PDF, the resend, paid outside Stripe, refunds.

use super::{Answered, CSV};
use crate::App;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::Admin;
use shared::http::{Answer, Created, Done, Download, Pending, Redirect};
use shared::store::{InvoiceFilter, PageRequest, ResendOutcome};
use shared::usecases::invoice_actions::{self, MarkPaidCommand, MarkedPaid, RefundCommand, Refunded};
use shared::usecases::invoices::{self, InvoiceRow};
use shared::usecases::stripe_events::BillingRules;

#[derive(Serialize)]
pub(super) struct InvoiceList {
    invoices: Vec<InvoiceRow>,
    next_cursor: Option<String>,
}

impl Answer for InvoiceList {}

/// `GET /admin/invoices?status=&partner_id=&from=&to=&limit=&cursor=`
pub(super) async fn list(app: &App, (filter, page): (InvoiceFilter, PageRequest)) -> Answered<InvoiceList> {
    let page = invoices::list_invoices(&app.store, &filter, &page).await?;
    Ok(InvoiceList {
        invoices: page.items,
        next_cursor: page.next_cursor,
    })
}

/// `GET /admin/invoices/export.csv?status=&partner_id=&from=&to=`
pub(super) async fn export(app: &App, (filter, _): (InvoiceFilter, PageRequest), now: Timestamp) -> Answered<Download> {
    let body = invoices::export_invoices_csv(&app.store, &filter).await?;
    let name = format!("invoices-{}.csv", app.calendar.today(now));
    Ok(Download {
        name,
        content_type: CSV,
        body,
    })
}

/// `GET /admin/invoices/{invoice_id}`
pub(super) async fn detail(app: &App, invoice_id: &str) -> Answered<Done<InvoiceRow>> {
    Ok(Done(invoices::invoice(&app.store, invoice_id).await?))
}

/// `GET /admin/invoices/{invoice_id}/pdf`: to the PDF at Stripe.
pub(super) async fn pdf(app: &App, invoice_id: &str) -> Answered<Redirect> {
    Ok(Redirect(invoices::invoice_pdf(&app.store, invoice_id).await?))
}

/// The invoice email: queued (202), or already sent this minute (200).
#[derive(Serialize)]
pub(super) struct Resent {
    queued: bool,
    message: &'static str,
}

impl Resent {
    fn of(outcome: ResendOutcome) -> Pending<Resent> {
        let (queued, message) = match outcome {
            ResendOutcome::Queued => (true, "the invoice email is on its way to the partner"),
            ResendOutcome::AlreadyQueued => (false, "already sent this minute: one email per minute"),
        };
        Pending {
            answer: Resent { queued, message },
            pending: queued,
        }
    }
}

/// `POST /admin/invoices/{invoice_id}/resend`
pub(super) async fn resend(app: &App, invoice_id: &str, admin: &Admin, now: Timestamp) -> Answered<Pending<Resent>> {
    let outcome = invoice_actions::resend_invoice(&app.store, invoice_id, &admin.actor(), now).await?;
    Ok(Resent::of(outcome))
}

/// `POST /admin/invoices/{invoice_id}/mark-paid` `{reason, restore_tier?}`
pub(super) async fn mark_paid(app: &App, command: MarkPaidCommand, now: Timestamp) -> Answered<Done<MarkedPaid>> {
    let billing = app.required_billing()?;
    let rules = BillingRules {
        calendar: &app.calendar,
        prices: &billing.prices,
    };
    let marked = invoice_actions::mark_invoice_paid(&app.store, billing, &rules, command, now);
    Ok(Done(Box::pin(marked).await?))
}

/// `POST /admin/invoices/{invoice_id}/refund` `{reason, amount_cents?}`
pub(super) async fn refund(app: &App, command: RefundCommand, now: Timestamp) -> Answered<Created<Refunded>> {
    let stripe = &app.required_billing()?.stripe;
    let refunded = invoice_actions::refund_invoice(&app.store, stripe, command, now);
    Ok(Created(Box::pin(refunded).await?))
}
