//! The admin API's routes as a table: [`route`] authenticates the admin and hands the request, by
//! path and method, to one route function of an area module; each takes its decoded request and
//! returns its answer, a serializable type that says its own status (`shared::http::Answer`).

mod billing;
mod invoices;
mod metrics;
mod partners;
mod personal_data;
mod subscriptions;
mod tiers;

use crate::{decode, App};
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::auth::Admin;
use shared::domain::partner::{Partner, PartnerId};
use shared::error::AppError;
use shared::http::{header_str, path_segments, Pending, Reply};
use shared::usecases::views::PartnerView;

/// The admin first (401/403 before anything), then the route of the path and method.
pub(crate) async fn route(app: &App, req: &Request, now: Timestamp) -> Routed {
    let admin = app.auth.admin(header_str(req, "authorization"))?;
    dispatch(app, req, &path_segments(req), &admin, now).await
}

/// A route's response, or the error its problem answer says.
type Routed = Result<Response<Body>, AppError>;

/// A route function's answer, or the error its problem answer says.
type Answered<T> = Result<T, AppError>;

/// The table: path and method to the route function, its request decoded on the way.
async fn dispatch(app: &App, req: &Request, segments: &[&str], a: &Admin, now: Timestamp) -> Routed {
    match (segments, req.method().as_str()) {
        (["admin", "tiers"], "GET") => ok(tiers::catalog().await),
        (["admin", "partners"], "GET") => ok(partners::list(app, decode::partner_listing(req)?, now).await?),
        (["admin", "partners", id], "GET") => ok(partners::detail(app, &partner_id(id)?, now).await?),
        (["admin", "partners", id], "PUT") => {
            ok(partners::upsert(app, &partner_id(id)?, decode::profile_fields(req)?, a, now).await?)
        }
        (["admin", "partners", id, "tier-preview"], "GET") => {
            ok(partners::preview(app, &partner_id(id)?, decode::preview_tier(req)?).await?)
        }
        (["admin", "partners", id, "history"], "GET") => {
            ok(partners::history(app, &partner_id(id)?, decode::page_only(req)?).await?)
        }
        (["admin", "partners", id, "audit"], "GET") => {
            ok(partners::audit(app, &partner_id(id)?, decode::page_only(req)?).await?)
        }
        (["admin", "partners", id, "reminders"], "POST") => ok(partners::remind(app, &partner_id(id)?, a, now).await?),
        (["admin", "partners", id, "billing"], "POST") => ok(billing::start(
            app,
            app.required_billing()?,
            decode::billing_start(req, partner_id(id)?, a)?,
            now,
        )
        .await?),
        (["admin", "partners", id, "cancel"], "POST") => {
            ok(subscriptions::cancel(app, decode::cancellation(req, partner_id(id)?, a)?, now).await?)
        }
        (["admin", "partners", id, "pause"], "POST") => {
            ok(subscriptions::pause(app, decode::pause(req, partner_id(id)?, a)?, now).await?)
        }
        (["admin", "partners", id, "resume"], "POST") => {
            ok(subscriptions::pause(app, decode::resume(req, partner_id(id)?, a)?, now).await?)
        }
        (["admin", "partners", id, "subscription"], "PATCH") => {
            ok(subscriptions::settings(app, decode::settings(req, partner_id(id)?, a)?, now).await?)
        }
        (["admin", "partners", id, "export"], "GET") => {
            ok(personal_data::export(app, decode::path_only(req, partner_id(id)?)?, a, now).await?)
        }
        (["admin", "partners", id, "payment-history"], "DELETE") => {
            ok(personal_data::erase(app, partner_id(id)?, decode::erasure(req)?, a, now).await?)
        }
        (["api", "partners", id, "engagement-tier"], "PATCH" | "POST") => {
            ok(subscriptions::change_tier(app, decode::change_tier(req, partner_id(id)?, a)?, now).await?)
        }
        (["admin", "subscriptions"], "GET") => ok(subscriptions::dashboard(app, decode::dashboard(req)?, now).await?),
        (["admin", "subscriptions", "export.csv"], "GET") => {
            ok(subscriptions::export(app, decode::export(req)?, now).await?)
        }
        (["admin", "subscriptions", "renew"], "POST") => {
            ok(subscriptions::renew(app, decode::renewal(req)?, a, now).await)
        }
        (["admin", "metrics"], "GET") => {
            ok(metrics::metrics(app, decode::metrics_window(req, app.calendar.today(now))?).await?)
        }
        (["admin", "invoices"], "GET") => {
            ok(invoices::list(app, decode::invoice_listing(req, &app.calendar, true)?).await?)
        }
        (["admin", "invoices", "export.csv"], "GET") => {
            ok(invoices::export(app, decode::invoice_listing(req, &app.calendar, false)?, now).await?)
        }
        (["admin", "invoices", id], "GET") => ok(invoices::detail(app, decode::path_only(req, id)?).await?),
        (["admin", "invoices", id, "pdf"], "GET") => ok(invoices::pdf(app, decode::path_only(req, id)?).await?),
        (["admin", "invoices", id, "resend"], "POST") => {
            ok(invoices::resend(app, decode::no_body(req, id)?, a, now).await?)
        }
        (["admin", "invoices", id, "mark-paid"], "POST") => {
            ok(invoices::mark_paid(app, decode::mark_paid(req, id, a)?, now).await?)
        }
        (["admin", "invoices", id, "refund"], "POST") => {
            ok(invoices::refund(app, decode::refund(req, id, a)?, now).await?)
        }
        (segments, method) => Err(unrouted(segments, method)),
    }
}

/// 405 with the methods a known path takes (404 for an impossible partner's, as its route would), else 404.
fn unrouted(segments: &[&str], method: &str) -> AppError {
    let allow = match segments {
        ["admin", "partners", id] => match partner_id(id) {
            Ok(_) => Some("GET, PUT"),
            Err(unknown) => return unknown,
        },
        ["admin", "tiers" | "partners" | "subscriptions" | "metrics" | "invoices"]
        | ["admin", "subscriptions" | "invoices", "export.csv"]
        | ["admin", "partners", _, "tier-preview" | "history" | "audit" | "export"]
        | ["admin", "invoices", _]
        | ["admin", "invoices", _, "pdf"] => Some("GET"),
        ["admin", "subscriptions", "renew"]
        | ["admin", "partners", _, "reminders" | "billing" | "cancel" | "pause" | "resume"]
        | ["admin", "invoices", _, "resend" | "mark-paid" | "refund"] => Some("POST"),
        ["admin", "partners", _, "subscription"] => Some("PATCH"),
        ["admin", "partners", _, "payment-history"] => Some("DELETE"),
        ["api", "partners", _, "engagement-tier"] => Some("PATCH, POST"),
        _ => None,
    };
    match allow {
        Some(allow) => AppError::MethodNotAllowed {
            method: method.to_owned(),
            allow,
        },
        None => AppError::NotFound(format!("no route for {method} /{}", segments.join("/"))),
    }
}

/// A partner id from the path; one that cannot exist is an unknown partner.
fn partner_id(text: &str) -> Result<PartnerId, AppError> {
    PartnerId::parse(text).map_err(|e| AppError::NotFound(format!("partner id {e}")))
}

fn ok(reply: impl Reply) -> Routed {
    Ok(reply.into_response())
}

/// The content type of the CSV downloads.
const CSV: &str = "text/csv; charset=utf-8";

/// The partner after a change, and whether the change changed anything where that is asked.
#[derive(Serialize)]
struct PartnerAnswer {
    partner: PartnerView,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<bool>,
}

impl PartnerAnswer {
    /// 202 while Stripe has yet to confirm what the change asked (it is retried), else 200.
    fn new(partner: Partner, changed: Option<bool>, app: &App, now: Timestamp) -> Pending<PartnerAnswer> {
        Pending {
            pending: partner.stripe_sync.is_some(),
            answer: PartnerAnswer {
                partner: PartnerView::new(partner, app.calendar.today(now)),
                changed,
            },
        }
    }
}
