//! Stripe: webhooks in (signature, the fields billing reads) and the API client out.

pub mod client;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod webhook;
