//! Business rules over plain data: no I/O, no AWS, testable on their own.

pub mod billing;
pub mod billing_plan;
pub mod billing_start;
pub mod card;
pub mod counters;
pub mod dates;
pub mod events;
pub mod history_and_audit;
pub mod invoice;
pub mod lifecycle;
pub mod metrics;
pub mod money;
pub mod partner;
pub mod partner_change;
pub mod pcr;
pub mod personal_data;
pub mod portal_upgrade;
pub mod rate_limit;
pub mod refund;
pub mod sign_in;
pub mod spreadsheet;
pub mod stripe_sync;
pub mod subscription;
pub mod tier;
pub mod tier_change;
pub mod tier_switch;
