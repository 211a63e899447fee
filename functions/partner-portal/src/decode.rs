//! Portal request bodies and query strings as domain values, bodies the admin API's way
//! (`shared::http::body`: serde structs refusing unknown fields, each field parsed by its domain
//! type, every error in one 422). A portal request never names a partner: the token does; a body
//! or query that tries answers 403 before anything is read.

use lambda_http::Request;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared::domain::partner::Note;
use shared::domain::tier::Tier;
use shared::error::AppError;
use shared::http::body::{is_blank, object_body, ConfirmBody, Confirmed, Field, FieldErrors, Text};
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

/// What the route is about (`value`: the path's invoice, the token's partner), for a route without
/// query parameters.
pub fn path_only<T>(req: &Request, value: T) -> Result<T, AppError> {
    no_query(req).map(|()| value)
}

/// A JSON object body as `T` (a serde struct of `Field`s refusing unknown fields) with its field
/// errors to come; no body at all is `{}` when `optional` (a body of only whitespace is not JSON: 400).
fn body<T: DeserializeOwned>(req: &Request, optional: bool) -> Result<(T, FieldErrors), AppError> {
    no_query(req)?;
    let (body, errors) = object_body::<T>(req, optional)?;
    if errors.unknown.iter().any(|name| PARTNER_NAMES.contains(&name.as_str())) {
        return Err(naming_a_partner());
    }
    Ok((body, errors))
}

/// `limit` and `cursor` of the invoice list.
pub fn page(req: &Request) -> Result<PageRequest, AppError> {
    page_request(&query(req, &["limit", "cursor"])?)
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct UpgradeBody {
    tier: Field<Text>,
}

/// `{tier: "gold" | "platinum"}`
pub fn upgrade(req: &Request) -> Result<Tier, AppError> {
    let (body, mut f) = body::<UpgradeBody>(req, false)?;
    let tier = f.parsed("tier", body.tier, true, |text| match text.parse::<Tier>() {
        Ok(tier) if tier.is_paid() => Ok(tier),
        Ok(tier) => Err(format!(
            "{tier} is not a paid tier: choose gold or platinum (to leave a paid tier, cancel it)"
        )),
        Err(_) => Err(format!("must be gold or platinum, got {text:?}")),
    });
    f.finish(|| tier)
}

/// `confirm` must be `true`: `what` is confirmed explicitly.
fn confirmed(f: &mut FieldErrors, confirm: Field<bool>, what: &str) {
    if !matches!(confirm, Field::Given(true)) {
        f.fail("confirm", format!("must be true: {what} is confirmed explicitly"));
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct CancelBody {
    reason: Field<Text>,
    confirm: Field<bool>,
}

/// `{reason, confirm: true}`: the reason must not be blank (`shared::http::body::is_blank`, the
/// description's pattern).
pub fn cancellation(req: &Request) -> Result<Note, AppError> {
    let (body, mut f) = body::<CancelBody>(req, false)?;
    confirmed(&mut f, body.confirm, "a cancellation");
    let missing = matches!(body.reason, Field::Absent | Field::Null);
    let reason = f.parsed("reason", body.reason, false, |text| match is_blank(text) {
        true => Ok(None),
        false => Note::parse(text).map(Some),
    });
    if missing || matches!(reason, Some(None)) {
        f.fail(
            "reason",
            "is required: say why you are cancelling (it helps us improve)",
        );
    }
    f.finish(|| reason.flatten())
}

/// `{confirm: true}` (no reason)
pub fn erasure(req: &Request) -> Result<Confirmed, AppError> {
    let (body, mut f) = body::<ConfirmBody>(req, false)?;
    confirmed(&mut f, body.confirm, "an erasure");
    f.finish(|| Some(Confirmed))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct EmptyBody {}

/// What the route is about (`value`), for a route without parameters whose body is none or `{}`.
pub fn no_body<T>(req: &Request, value: T) -> Result<T, AppError> {
    let (EmptyBody {}, f) = body::<EmptyBody>(req, true)?;
    f.finish(|| Some(value))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SignInBody {
    email: Field<Text>,
}

/// `{email}` of a sign-in request: an address (3 to 254 characters, one `@`, no spaces).
pub fn sign_in(req: &Request) -> Result<String, AppError> {
    let (body, mut f) = body::<SignInBody>(req, false)?;
    let email = f.parsed("email", body.email, true, |email| {
        let shaped = email.split('@').count() == 2
            && email.split('@').all(|part| !part.is_empty())
            && !email.chars().any(ecma_space);
        match (3..=254).contains(&email.chars().count()) && shaped {
            true => Ok(email.to_owned()),
            false => Err("must be an email address"),
        }
    });
    f.finish(|| email)
}

/// `\s` of the description's patterns (ECMA-262): Unicode white space but U+0085, and the byte-order mark.
fn ecma_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SessionBody {
    code: Field<Text>,
}

/// `{code}` of a sign-in link: 43 base64url characters.
pub fn session(req: &Request) -> Result<String, AppError> {
    let (body, mut f) = body::<SessionBody>(req, false)?;
    let code = f.parsed("code", body.code, true, |code| {
        match shared::domain::sign_in::is_code(code) {
            true => Ok(code.to_owned()),
            false => Err("must be the 43-character code of a sign-in link"),
        }
    });
    f.finish(|| code)
}

#[cfg(test)]
mod tests {
    use super::{cancellation, ecma_space};
    use proptest::prelude::*;
    use shared::error::AppError;
    use shared::http::body::{is_blank, NOT_BLANK_PATTERN};
    use shared::testing::texts::white_space_texts;

    #[test]
    fn white_space_is_the_descriptions_not_rusts() {
        for c in [' ', '\t', '\n', '\u{a0}', '\u{2028}', '\u{3000}', '\u{feff}'] {
            assert!(ecma_space(c), "{c:?}");
        }
        for c in ['\u{85}', '\u{1b}', 'a', '@'] {
            assert!(!ecma_space(c), "{c:?}");
        }
    }

    /// The `pattern` of the cancellation's `reason` in the portal's description, as written there.
    fn described_reason_pattern() -> String {
        let path = shared::testing::repo_file("infra/api/partner-portal.openapi.yaml");
        let yaml = std::fs::read_to_string(path).expect("the portal's description");
        let line = yaml
            .lines()
            .find(|line| line.trim_start().starts_with("reason: {") && line.contains("why the partner cancels"))
            .expect("the cancellation's reason");
        let (_, rest) = line.split_once("pattern: '").expect("a quoted pattern");
        rest.split_once('\'').expect("its closing quote").0.to_owned()
    }

    fn cancel(reason: &str) -> Result<(), AppError> {
        let body = serde_json::json!({"confirm": true, "reason": reason}).to_string();
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://portal.example.test/portal/cancel")
            .header("content-type", "application/json")
            .body(lambda_http::Body::from(body))
            .unwrap();
        cancellation(&req).map(drop)
    }

    #[test]
    fn the_description_writes_the_one_not_blank_pattern() {
        assert_eq!(described_reason_pattern(), NOT_BLANK_PATTERN);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// `POST /portal/cancel {"confirm": true, "reason": "\u0085"}` and the like: the decoder
        /// refuses a reason exactly when the description's pattern does.
        #[test]
        fn a_reason_is_refused_as_blank_exactly_when_the_descriptions_pattern_refuses_it(reason in white_space_texts()) {
            // The description writes `NOT_BLANK_PATTERN` (above), whose class is exactly `is_blank`'s
            // white space (`shared::http::body`'s own test).
            let admitted = !is_blank(&reason);
            let refused = match cancel(&reason) {
                Ok(()) => false,
                Err(AppError::Invalid(errors)) => errors.iter().any(|e| e.field == "reason"),
                Err(other) => panic!("{other}"),
            };
            prop_assert_eq!(refused, !admitted, "{:?}", reason);
        }
    }
}
