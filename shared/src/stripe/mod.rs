//! Stripe: webhooks in (signature, the fields billing reads) and the API client out (async-stripe's
//! request builders on our transport).

pub mod client;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod transport;
pub mod webhook;
