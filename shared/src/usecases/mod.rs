//! Use-cases: one function per thing a caller can ask for. Handlers decode their trigger, call one
//! of these, and encode the result.

pub mod billing_start;
pub mod changes;
pub mod emails;
pub mod notices;
pub mod partners;
pub mod reconcile;
pub mod relay;
pub mod seed;
pub mod stripe_events;
pub mod subscriptions;
pub mod sweep;
pub mod tier_changes;
pub mod views;

pub use changes::{conflict_backoff, MAX_WRITE_ATTEMPTS};
