//! Use-cases: one function per thing a caller can ask for. Handlers decode their trigger, call one
//! of these, and encode the result.

pub mod apply_change;
pub mod billing_events;
pub mod billing_start;
pub mod cancellation;
pub mod card_adoption;
pub mod cards;
pub mod csv_export;
pub mod dashboard;
pub mod emails;
pub mod error;
pub mod event_records;
pub mod invoice_actions;
pub mod invoice_refunds;
pub mod invoices;
pub mod metrics;
pub mod notices;
pub mod overdue_invoices;
pub mod partners;
pub mod pause;
pub mod personal_data;
pub mod portal;
pub mod reconcile;
pub mod recount;
pub mod refund_events;
pub mod refund_reservations;
pub mod relay;
pub mod renewals;
pub mod seed;
pub mod stripe_events;
pub mod stripe_sync;
pub mod subscription_settings;
pub mod sweep;
pub mod tier_change;
pub mod tier_switch;
pub mod views;

pub use apply_change::{conflict_backoff, MAX_WRITE_ATTEMPTS};
