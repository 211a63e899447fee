//! The HTTP edge shared by the API functions: JSON and `application/problem+json` responses, body
//! and query parsing that turn bad input into 4xx answers (a JSON body one way: [`body`]), and what
//! a route answers ([`Answer`], [`Reply`]).

pub mod body;

use crate::error::AppError;
use crate::store::PageRequest;
use crate::usecases::error::FieldError;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

pub const JSON: &str = "application/json";
pub const PROBLEM_JSON: &str = "application/problem+json";

pub const DEFAULT_PAGE_SIZE: u16 = 25;
pub const MAX_PAGE_SIZE: u16 = 100;
/// The largest request body any route accepts, refused (413) before anything reads it: the biggest
/// real bodies, a bulk renewal of a few hundred partners or a Stripe event, are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

fn response(status: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut res = Response::new(Body::Binary(body));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static(JSON)),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A route's answer: a JSON body and the status that goes with it (200 unless the answer says).
pub trait Answer: Serialize {
    fn status(&self) -> u16 {
        200
    }
}

/// What a route answers, as its response: an [`Answer`] with its status, a [`Download`], a [`Redirect`].
pub trait Reply {
    fn into_response(self) -> Response<Body>;
}

impl<A: Answer> Reply for A {
    fn into_response(self) -> Response<Body> {
        json(self.status(), &self)
    }
}

/// A use-case's own result, answered as it is with 200.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Done<T>(pub T);

impl<T: Serialize> Answer for Done<T> {}

/// Something made (a refund, a session...): 201.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Created<T>(pub T);

impl<T: Serialize> Answer for Created<T> {
    fn status(&self) -> u16 {
        201
    }
}

/// Work that goes on after the answer (an email to send, Stripe to confirm): 202 while `pending`,
/// else 200.
#[derive(Serialize)]
pub struct Pending<T> {
    #[serde(flatten)]
    pub answer: T,
    #[serde(skip)]
    pub pending: bool,
}

impl<T: Serialize> Answer for Pending<T> {
    fn status(&self) -> u16 {
        match self.pending {
            true => 202,
            false => 200,
        }
    }
}

/// 302 to a URL (an invoice's PDF at Stripe and the like).
pub struct Redirect(pub String);

impl Reply for Redirect {
    fn into_response(self) -> Response<Body> {
        redirect(&self.0)
    }
}

/// A file to save: `body` of `content_type`, named `name` (`Content-Disposition: attachment`).
pub struct Download {
    pub name: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply for Download {
    fn into_response(self) -> Response<Body> {
        let mut response = response(200, self.content_type, self.body);
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.name)) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    match serde_json::to_vec(body) {
        Ok(bytes) => response(status, JSON, bytes),
        Err(err) => problem(&AppError::Internal(format!("response did not serialize: {err}"))),
    }
}

/// 302 to `url` (an invoice's PDF at Stripe and the like).
pub fn redirect(url: &str) -> Response<Body> {
    match HeaderValue::from_str(url) {
        Ok(location) => {
            let mut response = response(302, "text/plain; charset=utf-8", Vec::new());
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        Err(_) => problem(&AppError::Internal(format!(
            "a redirect to a URL that is not a header value: {url:?}"
        ))),
    }
}

/// A body with another content type (CSV exports and the like).
pub fn with_content_type(status: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    response(status, content_type, body)
}

fn problem_slug(err: &AppError) -> &'static str {
    match err {
        AppError::BadRequest(_) => "bad-request",
        AppError::SignatureRefused(_) => "bad-signature",
        AppError::PayloadTooLarge { .. } => "payload-too-large",
        AppError::Auth(e) if e.is_forbidden() => "forbidden",
        AppError::Auth(_) | AppError::SignInRefused(_) => "unauthorized",
        AppError::Forbidden(_) => "forbidden",
        AppError::NotFound(_) => "not-found",
        AppError::MethodNotAllowed { .. } => "method-not-allowed",
        AppError::Conflict { .. } => "version-conflict",
        AppError::UnsupportedMediaType(_) => "unsupported-media-type",
        AppError::TooManyRequests { .. } => "too-many-requests",
        AppError::Invalid(_) => "validation-failed",
        AppError::Internal(_) => "internal-error",
        AppError::BadGateway(_) => "bad-gateway",
        AppError::Unavailable(_) | AppError::StripeKeyRefused(_) => "unavailable",
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    type_: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
}

/// An RFC 9457 problem response for `err`. Internal details are logged, not shown.
pub fn problem(err: &AppError) -> Response<Body> {
    let status = err.status();
    let title = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let detail = match err {
        AppError::Internal(why) => {
            tracing::error!(error = %why, "internal error");
            "something went wrong on our side; the error was logged".to_owned()
        }
        AppError::Auth(refused) => {
            // The caller learns only "invalid token"; the log says which check failed.
            tracing::info!(reason = refused.reason(), "request refused");
            refused.to_string()
        }
        AppError::Unavailable(why) => {
            tracing::warn!(error = %why, "dependency unavailable");
            "a service this depends on is unavailable; send the request again later".to_owned()
        }
        AppError::StripeKeyRefused(why) => {
            tracing::error!(error = %why, "Stripe refused our API key; the secrets are read again");
            "a service this depends on is unavailable; send the request again later".to_owned()
        }
        other => other.to_string(),
    };
    let (errors, current_version) = match err {
        AppError::Invalid(errors) => (errors.as_slice(), None),
        AppError::Conflict { current_version, .. } => (&[][..], *current_version),
        _ => (&[][..], None),
    };
    let body = Problem {
        type_: format!("urn:power100:problem:{}", problem_slug(err)),
        title,
        status,
        detail,
        errors,
        current_version,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"title":"Error"}"#.to_vec());
    let mut res = response(status, PROBLEM_JSON, bytes);
    if let Some(refused) = err.refused_secret() {
        res.extensions_mut().insert(refused);
    }
    match err {
        AppError::Auth(e) if !e.is_forbidden() => {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        AppError::MethodNotAllowed { allow, .. } => {
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        AppError::TooManyRequests {
            retry_after_seconds, ..
        } => {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
        _ => {}
    }
    res
}

/// Answers `req` with what `route` makes of it, an error as its problem response, and logs the
/// request's method, path, status and time (an error line for a 5xx).
pub async fn answer<'r, F>(req: &'r Request, route: impl FnOnce(&'r Request) -> F) -> Response<Body>
where
    F: std::future::Future<Output = Result<Response<Body>, AppError>>,
{
    let started = std::time::Instant::now();
    let outcome = match body_within_limit(req) {
        Ok(()) => route(req).await,
        Err(too_large) => Err(too_large),
    };
    let response = match outcome {
        Ok(response) => response,
        Err(err) => problem(&err),
    };
    let (method, path) = (req.method(), req.uri().path());
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if status >= 500 {
        tracing::error!(%method, %path, status, elapsed_ms, "request failed");
    } else {
        tracing::info!(%method, %path, status, elapsed_ms, "request");
    }
    response
}

/// 413 for a body over [`MAX_BODY_BYTES`], before anything reads it.
pub fn body_within_limit(req: &Request) -> Result<(), AppError> {
    let size = AsRef::<[u8]>::as_ref(req.body()).len();
    if size > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge {
            size,
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(())
}

/// The path's segments (`/admin/partners/p1` is `["admin", "partners", "p1"]`), for a router's table.
pub fn path_segments(req: &Request) -> Vec<&str> {
    req.uri().path().trim_matches('/').split('/').collect()
}

/// The value of a request header, if present and readable.
pub fn header_str<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Parses a JSON request body: 400 when it is not JSON at all, 422 when its values do not fit.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    if let Some(content_type) = header_str(req, "content-type") {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != JSON && !essence.ends_with("+json") {
            return Err(AppError::UnsupportedMediaType(format!(
                "Content-Type must be {JSON}, got {essence:?}"
            )));
        }
    }
    let bytes: &[u8] = req.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest(
            "the request body is empty; a JSON object is expected".into(),
        ));
    }
    body_within_limit(req)?;
    serde_json::from_slice(bytes).map_err(|err| {
        use serde_json::error::Category;
        match err.classify() {
            Category::Data => AppError::Invalid(vec![FieldError::new("body", err)]),
            Category::Syntax | Category::Eof | Category::Io => AppError::BadRequest(format!("malformed JSON: {err}")),
        }
    })
}

/// The query string as name -> value; a repeated name is an error.
pub fn query(req: &Request) -> Result<HashMap<String, String>, AppError> {
    let raw = req.uri().query().unwrap_or("");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|e| AppError::BadRequest(format!("malformed query string: {e}")))?;
    let mut map = HashMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        if map.insert(name.clone(), value).is_some() {
            return Err(AppError::BadRequest(format!(
                "query parameter {name:?} is given more than once"
            )));
        }
    }
    Ok(map)
}

/// Rejects query parameters a route does not know, so a typo is not silently ignored.
pub fn only_known_params(query: &HashMap<String, String>, known: &[&str]) -> Result<(), AppError> {
    let mut unknown: Vec<&str> = query
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    Err(AppError::invalid(
        "query",
        format!(
            "unknown parameter(s) {}; known: {}",
            unknown.join(", "),
            known.join(", ")
        ),
    ))
}

/// `limit` (1 to 100, default 25) and `cursor` from a query.
pub fn page_request(query: &HashMap<String, String>) -> Result<PageRequest, AppError> {
    let limit = match query.get("limit") {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => match text.parse::<u16>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Err(AppError::invalid(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                ))
            }
        },
    };
    let cursor = query.get("cursor").filter(|c| !c.is_empty()).cloned();
    Ok(PageRequest { limit, cursor })
}
