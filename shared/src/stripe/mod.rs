//! Stripe: webhooks in (signature, the fields billing reads) and the API client out (async-stripe's
//! request builders on our transport).

pub mod client;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod transport;
pub mod webhook;

/// What a call to Stripe can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StripeCallError {
    /// Stripe answered with an error (a 4xx: the request, the key or the price is wrong).
    #[error("Stripe refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    /// Stripe could not be reached, timed out, or answered 5xx.
    #[error("Stripe is unavailable: {0}")]
    Unavailable(String),
    #[error("the idempotency key is invalid: {0}")]
    Key(String),
    /// Stripe refused a key already used with other parameters: what the first request did is
    /// unknown here (it may have created something); look before letting anything go.
    #[error("Stripe refused a reused idempotency key: {0}")]
    IdempotencyConflict(String),
}
