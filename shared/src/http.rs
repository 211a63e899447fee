//! The HTTP edge shared by the API functions: JSON and `application/problem+json` responses, body
//! and query parsing that turn bad input into 4xx answers; a JSON body is read one way, [`object_body`]:
//! serde [`Field`]s, unknown fields refused, each field parsed by its domain type, errors collected.

use crate::error::AppError;
use crate::store::PageRequest;
use crate::usecases::error::FieldError;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
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
pub trait Answer: Serialize + Sized {
    fn status(&self) -> u16 {
        200
    }
    fn into_response(self) -> Response<Body> {
        json(self.status(), &self)
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

/// Blank text: every character Unicode `White_Space` (`char::is_whitespace`, what `str::trim` takes off).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// [`is_blank`] as the descriptions' `pattern` for text that must not be blank: a character not Unicode
/// `White_Space`, spelled out (ECMA-262, Python and Rust each read `\s` their own way: U+0085, U+FEFF...).
pub const NOT_BLANK_PATTERN: &str =
    r"[^\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// JSON does not tell `27.0` from `27`: a whole number written with a fraction is read as the integer
/// (`{"months": 27.0}` is 27 months) up to 2^53 - 1 (what every JSON reader holds exactly), else unchanged.
pub fn whole_number_as_integer(value: Value) -> Value {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    match value.as_f64() {
        Some(n) if value.is_f64() && n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER => Value::from(n as i64),
        _ => value,
    }
}

/// What a JSON value is, for messages ("must be a string, got a number").
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One field of a JSON body as sent. It takes any JSON, so that a value of the wrong type is one
/// more field error, not the end of decoding; numbers are read through [`whole_number_as_integer`].
#[derive(Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Given(T),
    /// Not a `T`: the message.
    Wrong(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => Field::Null,
            value => serde_json::from_value(whole_number_as_integer(value))
                .map_or_else(|e| Field::Wrong(e.to_string()), Field::Given),
        })
    }
}

/// A string field's text: any other JSON is "must be a string, got a number" (and the like).
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(text) => Ok(Text(text)),
            other => Err(de::Error::custom(format!("must be a string, got {}", kind(&other)))),
        }
    }
}

/// Every field error of one request body, answered together as one 422.
#[derive(Default)]
pub struct FieldErrors {
    errors: Vec<FieldError>,
    /// The body's fields its struct does not have, reported last (the portal tells a partner's name apart).
    pub unknown: Vec<String>,
}

impl FieldErrors {
    pub fn fail(&mut self, field: &str, message: impl ToString) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A field's value; `None` when absent, null or not of its type (an error, as absence is when `required`).
    pub fn value<T>(&mut self, name: &str, field: Field<T>, required: bool) -> Option<T> {
        match field {
            Field::Given(value) => return Some(value),
            Field::Wrong(why) => self.fail(name, why),
            Field::Absent | Field::Null if required => self.fail(name, "is required"),
            Field::Absent | Field::Null => {}
        }
        None
    }

    /// A text field parsed by a domain type (`Tier`, `Note`, a date...): its error is the field's.
    pub fn parsed<T, E: ToString>(
        &mut self,
        name: &str,
        field: Field<Text>,
        required: bool,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let Text(text) = self.value(name, field, required)?;
        parse(&text).map_err(|e| self.fail(name, e)).ok()
    }

    /// The decoded value when nothing was wrong, else every error as one 422.
    pub fn finish<T>(mut self, value: impl FnOnce() -> Option<T>) -> Result<T, AppError> {
        for field in std::mem::take(&mut self.unknown) {
            self.fail(&field, "is not a field of this request");
        }
        match (self.errors.is_empty(), value()) {
            (true, Some(value)) => Ok(value),
            _ => Err(AppError::Invalid(self.errors)),
        }
    }
}

/// A JSON object body as `T`, a serde struct of [`Field`]s with `deny_unknown_fields`: the fields `T`
/// does not have are set aside, each an error of the [`FieldErrors`] returned with it. No body at all
/// reads as `{}` when `empty_is_object` (a body of only whitespace is not JSON: 400).
pub fn object_body<T: DeserializeOwned>(req: &Request, empty_is_object: bool) -> Result<(T, FieldErrors), AppError> {
    let mut map = match empty_is_object && req.body().as_ref().is_empty() {
        true => Map::new(),
        false => match parse_json::<Value>(req)? {
            Value::Object(map) => map,
            _ => return Err(AppError::invalid("body", "must be a JSON object")),
        },
    };
    let (known, mut errors) = (struct_fields::<T>(), FieldErrors::default());
    errors.unknown = map.keys().filter(|k| !known.contains(&k.as_str())).cloned().collect();
    map.retain(|k, _| known.contains(&k.as_str()));
    let body = serde_json::from_value(Value::Object(map)).map_err(|e| AppError::invalid("body", e))?;
    Ok((body, errors))
}

/// The field names of the serde struct `T`, the ones its `deny_unknown_fields` admits.
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    type FieldNames = &'static [&'static str];
    struct Names<'a>(&'a mut FieldNames);
    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &str, f: FieldNames, _: V) -> Result<V::Value, Self::Error> {
            *self.0 = f;
            Err(de::Error::custom("only its field names were read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut names: FieldNames = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

#[cfg(test)]
mod tests {
    use super::{is_blank, whole_number_as_integer, NOT_BLANK_PATTERN};
    use serde_json::json;

    #[test]
    fn whole_numbers_with_a_fraction_read_as_integers_and_nothing_else_changes() {
        assert_eq!(whole_number_as_integer(json!(27.0)), json!(27));
        assert_eq!(whole_number_as_integer(json!(-3.0)), json!(-3));
        assert_eq!(
            whole_number_as_integer(json!(9_007_199_254_740_991.0)),
            json!(9_007_199_254_740_991_i64)
        );
        assert_eq!(whole_number_as_integer(json!(27.5)), json!(27.5));
        assert_eq!(
            whole_number_as_integer(json!(2.0e26)),
            json!(2.0e26),
            "beyond exact integers"
        );
        assert_eq!(whole_number_as_integer(json!("27")), json!("27"));
        assert_eq!(whole_number_as_integer(json!(27)), json!(27));
    }

    /// The pattern's class, written out from every character `is_blank` counts as white space: the
    /// two say the same of every character, so of every text.
    #[test]
    fn the_not_blank_pattern_excludes_exactly_the_characters_blank_text_is_made_of() {
        let mut ranges: Vec<(char, char)> = Vec::new();
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if !is_blank(&c.to_string()) {
                continue;
            }
            match ranges.last_mut() {
                Some((_, end)) if u32::from(*end) + 1 == u32::from(c) => *end = c,
                _ => ranges.push((c, c)),
            }
        }
        let class: String = ranges
            .iter()
            .map(|&(start, end)| match end > start {
                true => format!(r"\u{:04X}-\u{:04X}", u32::from(start), u32::from(end)),
                false => format!(r"\u{:04X}", u32::from(start)),
            })
            .collect();
        assert_eq!(NOT_BLANK_PATTERN, format!("[^{class}]"));
        assert!(is_blank("") && is_blank(" \u{85}\u{3000}") && !is_blank("\u{feff}") && !is_blank(" a "));
    }
}
