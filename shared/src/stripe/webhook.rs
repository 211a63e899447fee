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

use jiff::Timestamp;
use serde::Deserialize;

mod classify;
mod objects;

pub use classify::{classify, ConfirmedCard, EventSource, Incoming, HANDLED_EVENT_TYPES, REFUND_EVENT_TYPES};
pub use objects::invoice_facts;
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
    /// What our records keep of where an event came from.
    pub fn source(&self) -> EventSource {
        EventSource {
            id: self.id.clone(),
            event_type: self.event_type.clone(),
            created: self.created,
        }
    }
}

#[cfg(test)]
mod tests;
