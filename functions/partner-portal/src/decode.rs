//! Portal request bodies and query strings as domain values. A portal request never names a
//! partner: the token does; a body or query that tries answers 403 before anything is read.

use lambda_http::Request;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use shared::domain::partner::Note;
use shared::domain::tier::Tier;
use shared::error::AppError;
use shared::http::{self as edge, only_known_params, page_request};
use shared::store::PageRequest;

/// Names under which a request could try to choose a partner.
const PARTNER_NAMES: [&str; 3] = ["partner_id", "partner", "partnerId"];

fn naming_a_partner() -> AppError {
    AppError::Forbidden("the partner comes from your token; a portal request cannot name one".into())
}

/// The query string, refusing any parameter that names a partner and any the route does not know.
fn query(req: &Request, known: &[&str]) -> Result<std::collections::HashMap<String, String>, AppError> {
    let query = edge::query(req)?;
    if PARTNER_NAMES.iter().any(|name| query.contains_key(*name)) {
        return Err(naming_a_partner());
    }
    only_known_params(&query, known)?;
    Ok(query)
}

/// A route without parameters.
pub fn no_query(req: &Request) -> Result<(), AppError> {
    query(req, &[]).map(drop)
}

/// A JSON object body as `T` (unknown fields refused); no body at all is `{}` when `optional` (a body
/// of only whitespace is not JSON: 400).
fn body<T: DeserializeOwned>(req: &Request, optional: bool) -> Result<T, AppError> {
    no_query(req)?;
    let empty = req.body().as_ref().is_empty();
    let value = if empty && optional {
        Value::Object(Default::default())
    } else {
        edge::parse_json::<Value>(req)?
    };
    let Value::Object(map) = &value else {
        return Err(AppError::invalid("body", "must be a JSON object"));
    };
    if PARTNER_NAMES.iter().any(|name| map.contains_key(*name)) {
        return Err(naming_a_partner());
    }
    serde_json::from_value(value).map_err(|e| AppError::invalid("body", e))
}

/// `limit` and `cursor` of the invoice list.
pub fn page(req: &Request) -> Result<PageRequest, AppError> {
    page_request(&query(req, &["limit", "cursor"])?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpgradeBody {
    tier: String,
}

/// `{tier: "gold" | "platinum"}`
pub fn upgrade(req: &Request) -> Result<Tier, AppError> {
    let body: UpgradeBody = body(req, false)?;
    match body.tier.parse::<Tier>().ok() {
        Some(tier) if tier.is_paid() => Ok(tier),
        Some(tier) => Err(AppError::invalid(
            "tier",
            format!("{tier} is not a paid tier: choose gold or platinum (to leave a paid tier, cancel it)"),
        )),
        None => Err(AppError::invalid(
            "tier",
            format!("must be gold or platinum, got {:?}", body.tier),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmedBody {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    confirm: Option<bool>,
}

fn confirmed(body: &ConfirmedBody, what: &str) -> Result<(), AppError> {
    match body.confirm {
        Some(true) => Ok(()),
        _ => Err(AppError::invalid(
            "confirm",
            format!("must be true: {what} is confirmed explicitly"),
        )),
    }
}

/// `{reason, confirm: true}`
pub fn cancellation(req: &Request) -> Result<Note, AppError> {
    let body: ConfirmedBody = body(req, false)?;
    confirmed(&body, "a cancellation")?;
    match Note::parse_optional(body.reason.as_deref()) {
        Ok(Some(reason)) => Ok(reason),
        Err(e) => Err(AppError::invalid("reason", e)),
        Ok(None) => Err(AppError::invalid(
            "reason",
            "is required: say why you are cancelling (it helps us improve)",
        )),
    }
}

/// `{confirm: true}` (no reason)
pub fn erasure(req: &Request) -> Result<(), AppError> {
    let body: ConfirmedBody = body(req, false)?;
    if body.reason.is_some() {
        return Err(AppError::invalid("reason", "is not taken by this route"));
    }
    confirmed(&body, "an erasure")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

/// No body, or `{}`.
pub fn empty(req: &Request) -> Result<(), AppError> {
    body::<EmptyBody>(req, true).map(drop)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInBody {
    email: String,
}

/// `{email}` of a sign-in request: an address (3 to 254 characters, one `@`, no spaces).
pub fn sign_in(req: &Request) -> Result<String, AppError> {
    let body: SignInBody = body(req, false)?;
    let email = body.email;
    let shaped = email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && !email.chars().any(ecma_space);
    if !(3..=254).contains(&email.chars().count()) || !shaped {
        return Err(AppError::invalid("email", "must be an email address"));
    }
    Ok(email)
}

/// `\s` of the description's patterns (ECMA-262): Unicode white space but U+0085, and the byte-order mark.
fn ecma_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    code: String,
}

/// `{code}` of a sign-in link: 43 base64url characters.
pub fn session(req: &Request) -> Result<String, AppError> {
    let body: SessionBody = body(req, false)?;
    if !shared::domain::sign_in::is_code(&body.code) {
        return Err(AppError::invalid(
            "code",
            "must be the 43-character code of a sign-in link",
        ));
    }
    Ok(body.code)
}

#[cfg(test)]
mod tests {
    use super::ecma_space;

    #[test]
    fn white_space_is_the_descriptions_not_rusts() {
        for c in [' ', '\t', '\n', '\u{a0}', '\u{2028}', '\u{3000}', '\u{feff}'] {
            assert!(ecma_space(c), "{c:?}");
        }
        for c in ['\u{85}', '\u{1b}', 'a', '@'] {
            assert!(!ecma_space(c), "{c:?}");
        }
    }
}
