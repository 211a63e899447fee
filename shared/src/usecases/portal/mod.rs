//! The partner portal's use-cases: a partner sees and manages only its own subscription. Every
//! function takes the partner id from the caller's token (`auth::PartnerUser`), never from input.
//!
//! - `account`: the partner's own view and the tier cards.
//! - `upgrade`: an upgrade the partner pays in the browser (the paid invoice's webhook grants it).
//! - `payment_method`: saving a new card (SetupIntent), and adopting it once Stripe confirms it.
//! - `invoices`: the partner's invoices and their PDFs.
//! - `cancellation`: cancel at the term's end, or withdraw that before the end.
//! - `rate_limit`: the per-partner limit on payment requests.

pub mod account;
pub mod cancellation;
pub mod invoices;
pub mod payment_method;
pub mod rate_limit;
pub mod sign_in;
pub mod upgrade;
