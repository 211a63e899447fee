//! Stripe: webhooks in (signature, the fields billing reads) and the API client out.

#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod client;
pub mod webhook;
