//! Stripe API calls out, built with async-stripe's request builders and sent by our transport
//! (`super::transport`). Every POST carries an idempotency key derived from what it does, so a
//! retried Lambda never creates a second customer or subscription.
//!
//! Requests are forms we write and answers are read from the few raw fields billing needs (like
//! webhooks), not async-stripe's typed objects: whatever API version renders them, the same fields are
//! read, and the functions link no deserializer of Stripe's objects.
//!
//! One file per Stripe resource, each an `impl StripeApi` block with its calls and the types they
//! answer with; this module holds the client, the request helpers they share, and the re-exports.

mod billing_portal;
mod customers;
mod events;
mod invoices;
mod payment_methods;
mod refunds;
mod subscriptions;

use super::transport::StripeTransport;
use crate::config::{ConfigError, Secret, StripeSettings};
use jiff::Timestamp;
use std::collections::BTreeMap;
use stripe_client_core::{IdempotencyKey, RequestBuilder, RequestStrategy, StripeMethod};

pub use super::StripeCallError;
pub use crate::config::CustomerPortal;
pub use crate::domain::billing_start::{Collection, FirstPayment, INVOICE_DAYS_UNTIL_DUE};
pub use crate::domain::card::CardSummary;
pub use invoices::PaymentToConfirm;
pub use refunds::RefundState;
pub use subscriptions::{PriceChange, SubscriptionState};

/// Stripe's events since a time, oldest first, as far as the pages read reached.
#[derive(Debug, Clone)]
pub struct EventListing {
    pub events: Vec<serde_json::Value>,
    /// `false`: the page limit was reached first, so older events of the window were not listed.
    pub reached_window_start: bool,
}

/// What a new subscription needs.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub customer_id: &'a str,
    pub price_id: &'a str,
    pub collection: Collection,
    /// When billing stops: the term's end for a partner without auto-renewal, `None` to keep billing
    /// month after month (renewals roll the term forward as invoices are paid).
    pub cancel_at: Option<Timestamp>,
    pub metadata: BTreeMap<String, String>,
    pub idempotency_key: String,
    /// Who completes the first payment (charged automatically only).
    pub first_payment: FirstPayment,
}

/// An error for an answer that lacks what billing reads (`what`: "a customer without an id").
fn unreadable(what: &str) -> StripeCallError {
    StripeCallError::Unavailable(format!("Stripe answered {what}"))
}

/// An answer read by async-stripe's request builder as untyped JSON, as serde JSON.
fn as_json(answer: &miniserde::json::Value) -> Result<serde_json::Value, StripeCallError> {
    serde_json::from_str(&miniserde::json::to_string(answer))
        .map_err(|e| StripeCallError::Unavailable(format!("an answer that is not JSON: {e}")))
}

/// Stripe as billing uses it: the API client and the tiers' prices.
#[derive(Debug, Clone)]
pub struct StripeBilling {
    pub stripe: StripeApi,
    pub prices: crate::domain::billing::PriceCatalog,
}

#[derive(Clone)]
pub struct StripeApi {
    client: StripeTransport,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeApi")
    }
}

fn idempotent(key: &str) -> Result<RequestStrategy, StripeCallError> {
    let key = IdempotencyKey::new(key).map_err(|e| StripeCallError::Key(e.to_string()))?;
    Ok(RequestStrategy::Idempotent(key))
}

impl StripeApi {
    /// The client of `settings`; an unusable API base is refused.
    pub fn new(settings: &StripeSettings) -> Result<StripeApi, ConfigError> {
        StripeApi::with_key(&settings.secret_key, settings.api_base.as_deref())
    }

    /// The client of `secret_key` at `api_base` (Stripe's own where `None`).
    pub fn with_key(secret_key: &Secret, api_base: Option<&str>) -> Result<StripeApi, ConfigError> {
        let client = StripeTransport::new(secret_key.expose(), api_base).map_err(|why| ConfigError::Invalid {
            name: "STRIPE_API_BASE",
            why,
        })?;
        Ok(StripeApi { client })
    }

    /// A GET with query parameters, answered as JSON.
    async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Result<serde_json::Value, StripeCallError> {
        let mut request = RequestBuilder::new(StripeMethod::Get, path);
        if !query.is_empty() {
            // Only with parameters: serde_qs writes an empty map as `=`, a parameter without a name
            // (`GET /v1/invoices/in_1?=`), which Stripe's API does not define.
            let query: BTreeMap<&str, &str> = query.iter().copied().collect();
            request = request.query(&query);
        }
        let answer: miniserde::json::Value = request.customize().send(&self.client).await?;
        as_json(&answer)
    }

    /// Sends a change with its idempotency key; Stripe's answer as JSON.
    async fn send_json(
        &self,
        request: RequestBuilder,
        idempotency_key: &str,
    ) -> Result<serde_json::Value, StripeCallError> {
        let answer: miniserde::json::Value = request
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await?;
        as_json(&answer)
    }
}
