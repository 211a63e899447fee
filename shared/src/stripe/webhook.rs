//! Stripe webhooks in: the signature checked over the exact raw body as Stripe defines it (HMAC-SHA256
//! of `{t}.{body}` with the endpoint's secret, any `v1` of the `Stripe-Signature` header, compared in
//! constant time, the timestamp within 300 s), then the few fields billing needs read from the raw
//! JSON.
//!
//! Why not async-stripe's typed event: Stripe renders an event in the API version of the account or
//! endpoint, and typed structs follow today's version. A correctly signed event whose shape they do not
//! know (an older or newer API version, localstripe's 2017 shapes) must still be handled, so every
//! event takes the same path through the raw fields below, whatever version rendered it. The typed
//! parser also linked every Stripe object's deserializer into the bootstrap (about 5 MB of the
//! stripe-webhook function) for a flag that only went to the logs.

use crate::domain::billing::{BillingEvent, InvoiceFacts, SubscriptionFacts};
use crate::domain::money::Cents;
use crate::domain::refund::RefundFacts;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// How far a signature's timestamp may be from now, in seconds (Stripe's own default).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a webhook request is refused (answered 400, nothing stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the Stripe-Signature header is missing")]
    MissingSignature,
    #[error("the Stripe-Signature header is malformed")]
    MalformedSignature,
    #[error("no signature in the Stripe-Signature header matches this body")]
    BadSignature,
    #[error("the signature's timestamp is more than {TOLERANCE_SECONDS} s away from now")]
    StaleTimestamp,
    #[error("the body is not valid UTF-8")]
    NotUtf8,
    #[error("the signed body is not a Stripe event: {0}")]
    NotAnEvent(String),
}

/// A verified Stripe event: the envelope's fields and its object, as raw JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeEvent {
    pub id: String,
    pub event_type: String,
    pub created: Timestamp,
    pub api_version: Option<String>,
    pub object: Value,
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    #[serde(default)]
    api_version: Option<String>,
    data: EnvelopeData,
}

#[derive(Deserialize)]
struct EnvelopeData {
    object: Value,
}

/// Checks `signature` over the exact `body` with `secret` at `now`, then reads the event.
pub fn verify(body: &[u8], signature: Option<&str>, secret: &str, now: Timestamp) -> Result<StripeEvent, Rejection> {
    let signature = signature.ok_or(Rejection::MissingSignature)?;
    let payload = std::str::from_utf8(body).map_err(|_| Rejection::NotUtf8)?;
    let header = SignatureHeader::parse(signature)?;
    if !header.signs(payload, secret) {
        return Err(Rejection::BadSignature);
    }
    if now.as_second().abs_diff(header.timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(Rejection::StaleTimestamp);
    }
    let envelope: Envelope = serde_json::from_str(payload).map_err(|e| Rejection::NotAnEvent(e.to_string()))?;
    StripeEvent::from_envelope(envelope)
}

/// A `Stripe-Signature` header: `t=<unix seconds>` and one `v1=<hex HMAC>` per secret in use (during a
/// secret's rotation Stripe signs with both); other schemes (`v0`) are ignored, as Stripe says.
#[derive(Debug)]
struct SignatureHeader {
    timestamp: i64,
    signatures: Vec<[u8; 32]>,
}

impl SignatureHeader {
    fn parse(header: &str) -> Result<SignatureHeader, Rejection> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let (scheme, value) = part.trim().split_once('=').ok_or(Rejection::MalformedSignature)?;
            match scheme {
                "t" => timestamp = Some(value.parse::<i64>().map_err(|_| Rejection::MalformedSignature)?),
                "v1" => {
                    let mut signature = [0u8; 32];
                    // A v1 that is not 32 bytes of hex can match nothing: left out, like a v0.
                    if hex::decode_to_slice(value, &mut signature).is_ok() {
                        signatures.push(signature);
                    }
                }
                _ => {}
            }
        }
        match timestamp {
            Some(timestamp) if !signatures.is_empty() => Ok(SignatureHeader { timestamp, signatures }),
            _ => Err(Rejection::MalformedSignature),
        }
    }

    /// Whether one of the `v1` signatures is `secret`'s over `{t}.{payload}` (constant-time compare).
    fn signs(&self, payload: &str, secret: &str) -> bool {
        let Some(mac) = signature_mac(secret, self.timestamp, payload) else {
            return false;
        };
        self.signatures
            .iter()
            .any(|signature| mac.clone().verify_slice(signature).is_ok())
    }
}

/// Stripe's signature of `payload` sent at `timestamp`: HMAC-SHA256 of `{timestamp}.{payload}`
/// (`None` only if the HMAC refused the key, which it does for no length).
pub(crate) fn signature_mac(secret: &str, timestamp: i64, payload: &str) -> Option<HmacSha256> {
    let mut mac = <HmacSha256 as hmac::KeyInit>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    Some(mac)
}

pub(crate) type HmacSha256 = hmac::Hmac<sha2::Sha256>;
use hmac::Mac;

impl StripeEvent {
    /// An event read from Stripe's API (`GET /v1/events`), which our key authenticated.
    pub fn from_api(event: serde_json::Value) -> Result<StripeEvent, Rejection> {
        let envelope: Envelope = serde_json::from_value(event).map_err(|e| Rejection::NotAnEvent(e.to_string()))?;
        StripeEvent::from_envelope(envelope)
    }

    fn from_envelope(envelope: Envelope) -> Result<StripeEvent, Rejection> {
        let created = Timestamp::from_second(envelope.created)
            .map_err(|_| Rejection::NotAnEvent(format!("created {} is out of range", envelope.created)))?;
        Ok(StripeEvent {
            id: envelope.id,
            event_type: envelope.event_type,
            created,
            api_version: envelope.api_version,
            object: envelope.data.object,
        })
    }
}

impl StripeEvent {
    /// What billing does with this event; `Err` when a type it acts on lacks a field it needs.
    pub fn billing_event(&self) -> Result<BillingEvent, String> {
        Ok(match self.event_type.as_str() {
            "invoice.paid" | "invoice.payment_succeeded" => BillingEvent::InvoicePaid(invoice_facts(&self.object)?),
            "invoice.payment_failed" => BillingEvent::InvoicePaymentFailed(invoice_facts(&self.object)?),
            "invoice.created" | "invoice.finalized" => BillingEvent::InvoiceIssued(invoice_facts(&self.object)?),
            "customer.subscription.created" | "customer.subscription.updated" => {
                BillingEvent::SubscriptionUpdated(subscription_facts(&self.object)?)
            }
            "customer.subscription.deleted" => BillingEvent::SubscriptionDeleted(subscription_facts(&self.object)?),
            _ => BillingEvent::Ignored,
        })
    }
}

/// The Stripe event types that report refunds.
/// Every event type the webhook acts on: what its endpoint is registered for in Stripe (the
/// template's `StripeWebhookEvents` output, the README, `make dev`'s registration; a test keeps them
/// and the dispatch equal).
pub const HANDLED_EVENT_TYPES: [&str; 17] = [
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.created",
    "invoice.finalized",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refunded",
    "setup_intent.succeeded",
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.automatically_updated",
    "customer.updated",
];

/// Events that only change which card is on file (`usecases::cards`).
pub const CARD_EVENT_TYPES: [&str; 4] = [
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.automatically_updated",
    "customer.updated",
];

/// Events after which the card copy is marked changed: the card-only ones, a card confirmed in the
/// portal, a paid invoice (the first one saves the card paid with) and a subscription update (its
/// default card).
pub const CARD_CHANGE_EVENT_TYPES: [&str; 7] = [
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.automatically_updated",
    "customer.updated",
    "setup_intent.succeeded",
    "invoice.paid",
    "customer.subscription.updated",
];

pub const REFUND_EVENT_TYPES: [&str; 4] = ["refund.created", "refund.updated", "refund.failed", "charge.refunded"];

impl StripeEvent {
    /// The refunds a refund event reports: the refund itself (`refund.*`), or the refunds listed on a
    /// refunded charge (`charge.refunded`, where its API version lists them); `Err` when a refund
    /// lacks its id or amount.
    pub fn refund_facts(&self) -> Result<Vec<RefundFacts>, String> {
        let one = |refund: &Value, charge: Option<&Value>| -> Result<RefundFacts, String> {
            of_kind(refund, "refund")?;
            Ok(RefundFacts {
                refund_id: required(text(refund, "/id"), "refund id")?,
                amount: Cents(required(refund.get("amount").and_then(Value::as_i64), "refund amount")?),
                status: text(refund, "/status").unwrap_or_else(|| "succeeded".into()),
                invoice_id: text(refund, "/metadata/invoice_id")
                    .or_else(|| charge.and_then(|c| c.get("invoice")).and_then(id_of)),
                payment_intent: refund
                    .get("payment_intent")
                    .and_then(id_of)
                    .or_else(|| charge.and_then(|c| c.get("payment_intent")).and_then(id_of)),
            })
        };
        match self.event_type.as_str() {
            "charge.refunded" => of_kind(&self.object, "charge").and_then(|()| {
                self.object
                    .pointer("/refunds/data")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|refund| one(refund, Some(&self.object)))
                    .collect()
            }),
            _ => Ok(vec![one(&self.object, None)?]),
        }
    }
}

/// Refuses an object that says it is another kind than the event's type is about (a signed event
/// that carries, say, a subscription in `invoice.paid` is not read as an invoice); an object that does
/// not say what it is is read as it is.
fn of_kind(object: &Value, kind: &str) -> Result<(), String> {
    match object.get("object").and_then(Value::as_str) {
        Some(other) if other != kind => Err(format!("the event's object is a {other}, not a {kind}")),
        _ => Ok(()),
    }
}

/// An id given as a string or as an expanded object.
fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Object(object) => object.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn text(object: &Value, pointer: &str) -> Option<String> {
    object.pointer(pointer).and_then(Value::as_str).map(str::to_owned)
}

fn seconds(object: &Value, pointer: &str) -> Option<Timestamp> {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .and_then(|s| Timestamp::from_second(s).ok())
}

fn required<T>(value: Option<T>, what: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("the event's object has no usable {what}"))
}

/// The first line's price: `price.id` today, `plan.id` in older versions, `pricing.price_details.price`
/// in the newest.
fn first_line_price(lines: Option<&Value>) -> Option<String> {
    let line = lines?.pointer("/data/0")?;
    text(line, "/price/id")
        .or_else(|| text(line, "/plan/id"))
        .or_else(|| text(line, "/pricing/price_details/price"))
        .or_else(|| text(line, "/price"))
}

fn invoice_facts(invoice: &Value) -> Result<InvoiceFacts, String> {
    of_kind(invoice, "invoice")?;
    let line_period = |edge: &str| seconds(invoice, &format!("/lines/data/0/period/{edge}"));
    let created = required(
        seconds(invoice, "/created").or_else(|| seconds(invoice, "/date")),
        "created",
    )?;
    let period_start = line_period("start")
        .or_else(|| seconds(invoice, "/period_start"))
        .unwrap_or(created);
    let period_end = line_period("end")
        .or_else(|| seconds(invoice, "/period_end"))
        .unwrap_or(created);
    // Stripe's amounts due and paid are never negative; a negative one is not an invoice we can record.
    let cents = |field: &'static str| match invoice.get(field).and_then(Value::as_i64) {
        Some(amount) if amount < 0 => Err(format!("{field} is negative")),
        amount => Ok(Cents(amount.unwrap_or(0))),
    };
    Ok(InvoiceFacts {
        invoice_id: required(text(invoice, "/id"), "id")?,
        number: text(invoice, "/number"),
        customer_id: required(invoice.get("customer").and_then(id_of), "customer")?,
        subscription_id: invoice
            .get("subscription")
            .and_then(id_of)
            .or_else(|| text(invoice, "/parent/subscription_details/subscription")),
        status: text(invoice, "/status").unwrap_or_default(),
        amount_due: cents("amount_due")?,
        amount_paid: cents("amount_paid")?,
        attempt_count: invoice
            .get("attempt_count")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        period_start,
        period_end: period_end.max(period_start),
        price_id: first_line_price(invoice.get("lines")),
        paid_at: seconds(invoice, "/status_transitions/paid_at"),
        next_payment_attempt: seconds(invoice, "/next_payment_attempt"),
        hosted_invoice_url: text(invoice, "/hosted_invoice_url"),
        invoice_pdf: text(invoice, "/invoice_pdf"),
        created,
    })
}

fn subscription_facts(subscription: &Value) -> Result<SubscriptionFacts, String> {
    of_kind(subscription, "subscription")?;
    Ok(SubscriptionFacts {
        subscription_id: required(text(subscription, "/id"), "id")?,
        customer_id: required(subscription.get("customer").and_then(id_of), "customer")?,
        status: text(subscription, "/status").unwrap_or_default(),
        cancel_at_period_end: subscription
            .get("cancel_at_period_end")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        current_period_end: seconds(subscription, "/current_period_end")
            .or_else(|| seconds(subscription, "/items/data/0/current_period_end")),
        price_id: first_line_price(subscription.get("items")),
        collection_paused: subscription.get("pause_collection").is_some_and(|p| !p.is_null()),
    })
}

#[cfg(test)]
mod tests;
