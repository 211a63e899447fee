//! stripe-webhook: `POST /webhooks/stripe`, no JWT: the Stripe signature is the authentication.
//!
//! Decodes the request (the exact raw body, the `Stripe-Signature` header), verifies it, applies the
//! event through [`shared::usecases::stripe_events`], and answers 200 with what became of it. A bad
//! or missing signature answers 400 and stores nothing; a correctly signed event never answers 500
//! (a dependency outage answers 503 so that Stripe sends it again).

#[cfg(feature = "test-support")]
pub mod testing;

use jiff::Timestamp;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::config::{self, ConfigError, SdkConfig, Secret};
use shared::domain::billing::PriceCatalog;
use shared::domain::dates::BusinessCalendar;
use shared::error::AppError;
use shared::http::{self as edge, header_str};
use shared::runtime::HttpFunction;
use shared::secrets::SecretReader;
use shared::store::Store;
use shared::stripe::client::StripeApi;
use shared::stripe::webhook::{verify, Rejection};
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules};

/// The receiver, built once per cold start.
pub struct Receiver {
    pub store: Store,
    pub calendar: BusinessCalendar,
    pub prices: PriceCatalog,
    pub signing_secret: Secret,
    /// Stripe's API, for the events that act there (a confirmed card becomes the default); `None`:
    /// those events are acknowledged and ignored.
    pub stripe: Option<StripeApi>,
}

impl Receiver {
    /// Reads configuration and secrets (the signing secret and the key are fields of one secret,
    /// read once).
    pub async fn from_env(sdk: &SdkConfig, secrets: &SecretReader) -> Result<Receiver, ConfigError> {
        let mut secrets = secrets.prefetched_session().await;
        Ok(Receiver {
            store: Store::from_sdk_config(sdk, config::table_name()?),
            calendar: config::business_calendar()?,
            prices: config::stripe_prices()?,
            signing_secret: config::stripe_webhook_secret(&mut secrets).await?,
            stripe: config::optional_stripe_settings(&mut secrets)
                .await?
                .map(|settings| StripeApi::new(&settings))
                .transpose()?,
        })
    }

    /// Answers one delivery; never panics and never fails.
    pub async fn handle(&self, req: Request, now: Timestamp) -> Response<Body> {
        self.answer(&req, now).await
    }

    async fn answer(&self, req: &Request, now: Timestamp) -> Response<Body> {
        match self.receive(req, now).await {
            Ok(response) => response,
            Err(err) => {
                tracing::warn!(status = err.status(), error = %err, "Stripe delivery refused");
                edge::problem(&err)
            }
        }
    }

    async fn receive(&self, req: &Request, now: Timestamp) -> Result<Response<Body>, AppError> {
        if req.uri().path().trim_end_matches('/') != "/webhooks/stripe" {
            return Err(AppError::NotFound(format!("no route {}", req.uri().path())));
        }
        if req.method() != Method::POST {
            return Err(AppError::MethodNotAllowed {
                method: req.method().to_string(),
                allow: "POST",
            });
        }
        edge::body_within_limit(req)?;
        // lambda_http has already decoded a base64 body (isBase64Encoded): these are the bytes Stripe signed.
        let body: &[u8] = match req.body() {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        let event = verify(
            body,
            header_str(req, "stripe-signature"),
            self.signing_secret.expose(),
            now,
        )
        .map_err(|rejection| match rejection {
            Rejection::BadSignature => AppError::SignatureRefused(rejection.to_string()),
            other => AppError::BadRequest(other.to_string()),
        })?;
        let rules = BillingRules {
            calendar: &self.calendar,
            prices: &self.prices,
        };
        let outcome = handle_stripe_event(&self.store, &rules, self.stripe.as_ref(), &event, now).await?;
        tracing::info!(
            stripe_event_id = %event.id,
            event_type = %event.event_type,
            api_version = event.api_version.as_deref().unwrap_or(""),
            outcome = ?outcome,
            "Stripe event handled"
        );
        Ok(edge::json(200, &json!({ "received": true, "result": outcome })))
    }
}

impl HttpFunction for Receiver {
    async fn respond(&self, req: &Request) -> Response<Body> {
        self.answer(req, Timestamp::now()).await
    }
}
