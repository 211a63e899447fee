//! The HTTP transport under async-stripe's request builders: async-stripe's `StripeClient` trait,
//! implemented on the hyper and rustls stack the AWS SDK already links.
//!
//! Why not async-stripe's own hyper client: it reads every error answer into async-stripe's typed
//! `ApiErrors`, which carries whole PaymentIntent, SetupIntent, PaymentMethod and Source objects, so
//! each function that calls Stripe linked the deserializers of those objects and everything under
//! them. An answer here is bytes, read by `StripeApi` from the few raw fields it needs, and an error
//! answer is read for Stripe's message only. Measured on the x86_64 release build (`make bench`):
//! a hello-world with async-stripe's client and one raw request is 8.1 MB against 1.2 MB without.
//!
//! Requests go out once (a retry is the caller's, with the same idempotency key), with the API
//! version async-stripe 1.0.0-rc.10 was generated for, and time out after [`TIMEOUT`] so that an API
//! function answers 503 before Lambda's own 10 s limit ends it.

use super::StripeCallError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use stripe_client_core::{CustomizedStripeRequest, StripeClient, StripeClientErr, StripeMethod};

/// The API version the answers are read in: the one async-stripe's builders were generated for.
pub fn stripe_version() -> &'static str {
    stripe_client_core::VERSION.as_str()
}

/// How long one request may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(8);

const DEFAULT_API_BASE: &str = "https://api.stripe.com/";

/// Stripe's API over HTTPS with compiled-in web PKI roots (no file is read at a cold start).
#[derive(Clone)]
pub struct StripeTransport {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    authorization: HeaderValue,
    api_base: String,
}

impl std::fmt::Debug for StripeTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeTransport")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl StripeTransport {
    /// A transport with `secret_key` to `api_base` (Stripe's own when `None`).
    pub fn new(secret_key: &str, api_base: Option<&str>) -> Result<StripeTransport, String> {
        let mut authorization = HeaderValue::try_from(format!("Bearer {secret_key}"))
            .map_err(|_| "the Stripe key is not usable in a header".to_owned())?;
        authorization.set_sensitive(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        let mut api_base = api_base.unwrap_or(DEFAULT_API_BASE).to_owned();
        if !api_base.ends_with('/') {
            api_base.push('/');
        }
        Ok(StripeTransport {
            client: Client::builder(TokioExecutor::new()).build(connector),
            authorization,
            api_base,
        })
    }

    async fn send(&self, request: hyper::Request<Full<Bytes>>) -> Result<Bytes, StripeCallError> {
        let exchange = async {
            let answer = self
                .client
                .request(request)
                .await
                .map_err(|e| StripeCallError::Unavailable(e.to_string()))?;
            let status = answer.status();
            let body = answer
                .into_body()
                .collect()
                .await
                .map_err(|e| StripeCallError::Unavailable(e.to_string()))?
                .to_bytes();
            Ok::<_, StripeCallError>((status, body))
        };
        let (status, body) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| StripeCallError::Unavailable(format!("no answer within {} s", TIMEOUT.as_secs())))??;
        if status.is_success() {
            Ok(body)
        } else if status.is_client_error() && error_type(&body).as_deref() == Some("idempotency_error") {
            Err(StripeCallError::IdempotencyConflict(
                error_message(&body).unwrap_or_else(|| format!("HTTP {status}")),
            ))
        } else if status.is_client_error() {
            Err(StripeCallError::Refused {
                status: status.as_u16(),
                message: error_message(&body).unwrap_or_else(|| format!("HTTP {status}")),
            })
        } else {
            Err(StripeCallError::Unavailable(format!(
                "Stripe answered {status}: {}",
                error_message(&body).unwrap_or_default()
            )))
        }
    }
}

/// Stripe's `error.type` of an error answer.
fn error_type(body: &[u8]) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    answer.pointer("/error/type")?.as_str().map(str::to_owned)
}

/// Stripe's `error.message` (else its `error.type`) of an error answer.
fn error_message(body: &[u8]) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = answer.get("error")?;
    error
        .get("message")
        .or_else(|| error.get("type"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

impl StripeClientErr for StripeCallError {
    fn deserialize_err(msg: impl std::fmt::Display) -> Self {
        StripeCallError::Unavailable(format!("Stripe answered something unreadable: {msg}"))
    }
}

impl StripeClient for StripeTransport {
    type Err = StripeCallError;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, StripeCallError> {
        let (request, config) = request.into_pieces();
        let mut uri = format!("{}v1{}", self.api_base, request.path);
        if let Some(query) = request.query.filter(|q| !q.is_empty()) {
            uri.push('?');
            uri.push_str(&query);
        }
        let method = match request.method {
            StripeMethod::Get => hyper::Method::GET,
            StripeMethod::Post => hyper::Method::POST,
            StripeMethod::Delete => hyper::Method::DELETE,
        };
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(USER_AGENT, "power100-partner-payments")
            .header("stripe-version", stripe_version());
        if let Some(key) = config.request_strategy.as_ref().and_then(|s| s.get_key()) {
            builder = builder.header("idempotency-key", key.as_str());
        }
        let body = match request.body {
            Some(form) => {
                builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(form)
            }
            None => Bytes::new(),
        };
        let request = builder
            .body(Full::new(body))
            .map_err(|e| StripeCallError::Unavailable(format!("the request could not be built: {e}")))?;
        self.send(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_is_read_for_its_message_only() {
        let body = br#"{"error": {"type": "invalid_request_error", "message": "No such price: 'x'",
                        "payment_intent": {"id": "pi_1", "object": "payment_intent"}}}"#;
        assert_eq!(error_message(body).as_deref(), Some("No such price: 'x'"));
        assert_eq!(
            error_message(br#"{"error": {"type": "api_error"}}"#).as_deref(),
            Some("api_error")
        );
        assert_eq!(error_message(b"<html>"), None);
    }

    #[test]
    fn the_key_must_be_usable_in_a_header() {
        assert!(StripeTransport::new("sk_test_\n", None).is_err());
        let transport = StripeTransport::new("sk_test_x", Some("http://127.0.0.1:1")).unwrap();
        assert_eq!(transport.api_base, "http://127.0.0.1:1/");
        assert!(!format!("{transport:?}").contains("sk_test_x"));
    }
}
