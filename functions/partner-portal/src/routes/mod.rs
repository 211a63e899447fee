//! The portal's routes as a table: [`route`] authenticates the partner and hands the request,
//! by path and method, to one route function of an area module; each takes its decoded request and
//! returns its answer, a serializable type that says its own status (`shared::http::Answer`). The
//! payment routes count against the partner's per-minute limit first, after decoding.

mod account;
mod cancel;
mod card;
mod invoices;
mod personal_data;
mod upgrade;

use crate::{decode, Portal};
use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use shared::auth::PartnerUser;
use shared::error::AppError;
use shared::http::{header_str, path_segments, Reply};

/// A route's response, or the error its problem answer says.
type Routed = Result<Response<Body>, AppError>;

/// A route function's answer, or the error its problem answer says.
type Answered<T> = Result<T, AppError>;

/// The partner first (401/403 before anything), then the route of the path and method.
pub(crate) async fn route(portal: &Portal, req: &Request, now: Timestamp) -> Routed {
    let user = portal.auth.partner(header_str(req, "authorization"))?;
    dispatch(portal, req, &path_segments(req), &user, now).await
}

/// The table: path and method to the route function, its request decoded on the way.
async fn dispatch(portal: &Portal, req: &Request, segments: &[&str], user: &PartnerUser, now: Timestamp) -> Routed {
    let p = portal;
    match (segments, req.method().as_str()) {
        (["portal", "me"], "GET") => ok(account::me(p, decode::path_only(req, user)?, now).await?),
        (["portal", "tiers"], "GET") => ok(account::tiers(p, decode::path_only(req, user)?).await?),
        (["portal", "upgrade"], "POST") => ok(upgrade::upgrade(p, user, decode::upgrade(req)?, now).await?),
        (["portal", "payment-method"], "POST") => ok(card::setup(p, decode::no_body(req, user)?, now).await?),
        (["portal", "invoices"], "GET") => ok(invoices::list(p, user, decode::page(req)?).await?),
        (["portal", "invoices", id, "pdf"], "GET") => ok(invoices::pdf(p, user, decode::path_only(req, id)?).await?),
        (["portal", "cancel"], "POST") => ok(cancel::cancel(p, user, decode::cancellation(req)?, now).await?),
        (["portal", "cancel", "withdraw"], "POST") => ok(cancel::withdraw(p, decode::no_body(req, user)?, now).await?),
        (["portal", "export"], "GET") => ok(personal_data::export(p, decode::path_only(req, user)?, now).await?),
        (["portal", "payment-history"], "DELETE") => {
            ok(personal_data::erase(p, user, decode::erasure(req)?, now).await?)
        }
        (segments, method) => Err(unrouted(segments, method)),
    }
}

/// 405 with the methods a known path takes, else 404.
fn unrouted(segments: &[&str], method: &str) -> AppError {
    let allow = match segments {
        ["portal", "me" | "tiers" | "invoices" | "export"] | ["portal", "invoices", _, "pdf"] => "GET",
        ["portal", "upgrade" | "payment-method" | "cancel"] | ["portal", "cancel", "withdraw"] => "POST",
        ["portal", "payment-history"] => "DELETE",
        _ => return AppError::NotFound(format!("no route for {method} /{}", segments.join("/"))),
    };
    AppError::MethodNotAllowed {
        method: method.to_owned(),
        allow,
    }
}

fn ok(reply: impl Reply) -> Routed {
    Ok(reply.into_response())
}
