//! Invoices: the list and its CSV, one invoice and its PDF, the resend, paid outside Stripe, refunds.

use super::CSV;
use crate::App;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::Admin;
use shared::error::AppError;
use shared::http::Answer;
use shared::http::{Done, Download, Redirect};
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
pub(super) async fn list(app: &App, (filter, page): (InvoiceFilter, PageRequest)) -> Result<InvoiceList, AppError> {
    let page = invoices::list_invoices(&app.store, &filter, &page).await?;
    Ok(InvoiceList {
        invoices: page.items,
        next_cursor: page.next_cursor,
    })
}

/// `GET /admin/invoices/export.csv?status=&partner_id=&from=&to=`
pub(super) async fn export(
    app: &App,
    (filter, _): (InvoiceFilter, PageRequest),
    now: Timestamp,
) -> Result<Download, AppError> {
    let body = invoices::export_invoices_csv(&app.store, &filter).await?;
    let name = format!("invoices-{}.csv", app.calendar.today(now));
    Ok(Download {
        name,
        content_type: CSV,
        body,
    })
}

/// `GET /admin/invoices/{invoice_id}`
pub(super) async fn detail(app: &App, invoice_id: &str) -> Result<Done<InvoiceRow>, AppError> {
    Ok(Done(invoices::invoice(&app.store, invoice_id).await?))
}

/// `GET /admin/invoices/{invoice_id}/pdf`: to the PDF at Stripe.
pub(super) async fn pdf(app: &App, invoice_id: &str) -> Result<Redirect, AppError> {
    Ok(Redirect(invoices::invoice_pdf(&app.store, invoice_id).await?))
}

/// The invoice email: 202 when queued, 200 when it was already sent this minute.
#[derive(Serialize)]
pub(super) struct Resent {
    queued: bool,
    message: &'static str,
}

impl From<ResendOutcome> for Resent {
    fn from(outcome: ResendOutcome) -> Resent {
        match outcome {
            ResendOutcome::Queued => Resent {
                queued: true,
                message: "the invoice email is on its way to the partner",
            },
            ResendOutcome::AlreadyQueued => Resent {
                queued: false,
                message: "already sent this minute: one email per minute",
            },
        }
    }
}

impl Answer for Resent {
    fn status(&self) -> u16 {
        if self.queued {
            202
        } else {
            200
        }
    }
}

/// `POST /admin/invoices/{invoice_id}/resend`
pub(super) async fn resend(app: &App, invoice_id: &str, admin: &Admin, now: Timestamp) -> Result<Resent, AppError> {
    let outcome = invoice_actions::resend_invoice(&app.store, invoice_id, &admin.actor(), now).await?;
    Ok(Resent::from(outcome))
}

/// `POST /admin/invoices/{invoice_id}/mark-paid` `{reason, restore_tier?}`
pub(super) async fn mark_paid(
    app: &App,
    command: MarkPaidCommand,
    now: Timestamp,
) -> Result<Done<MarkedPaid>, AppError> {
    let billing = app.required_billing()?;
    let rules = BillingRules {
        calendar: &app.calendar,
        prices: &billing.prices,
    };
    let marked = invoice_actions::mark_invoice_paid(&app.store, billing, &rules, command, now);
    Ok(Done(Box::pin(marked).await?))
}

/// A refund Stripe made: 201.
#[derive(Serialize)]
#[serde(transparent)]
pub(super) struct Refund(Refunded);

impl Answer for Refund {
    fn status(&self) -> u16 {
        201
    }
}

/// `POST /admin/invoices/{invoice_id}/refund` `{reason, amount_cents?}`
pub(super) async fn refund(app: &App, command: RefundCommand, now: Timestamp) -> Result<Refund, AppError> {
    let stripe = &app.required_billing()?.stripe;
    let refunded = invoice_actions::refund_invoice(&app.store, stripe, command, now);
    Ok(Refund(Box::pin(refunded).await?))
}
