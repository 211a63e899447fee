//! Everything the Power100 partner-payments functions share: the use-cases, the DynamoDB store,
//! Stripe in and out, email, auth, configuration and the HTTP edge. The business rules are their own
//! crate, `domain` (re-exported here as [`domain`]): pure, with no SDK and no async runtime.
//!
//! # Glossary: one name per concept, the same in every layer
//!
//! | name | what it is | where |
//! |---|---|---|
//! | partner | a strategic partner: profile, tier, term, PCR | `domain::partner`, `store::keys::partner_pk` |
//! | tier | free, Power Gold, Power Platinum | `domain::tier` |
//! | term | a paid tier's 12-month commitment (`subscription_start_date`..`subscription_end_date`) | `domain::subscription` |
//! | partner change | a decision as a value: the new partner, its history, note, audit action, events, Stripe action | `domain::partner_change::PartnerChange`, committed by `usecases::apply_change` |
//! | tier change | an admin setting a tier (and term) by hand, with the PCR impact first | `domain::tier_change`, `usecases::tier_change` |
//! | tier switch | a Stripe-billed partner moving between paid tiers through Stripe (prorated) | `domain::tier_switch`, `usecases::tier_switch` |
//! | billing start | starting Stripe billing for a partner: claim, customer, subscription, the tier for money | `domain::billing_start`, `usecases::billing_start` |
//! | billing event | one of Stripe's invoice or subscription events as the billing rules read it, and what it does | `domain::billing::BillingEvent`, `domain::billing_events` (its plan), `usecases::billing_events` (applied) |
//! | Stripe event | a verified webhook or listed event, classified once | `stripe::webhook::classify` -> `Incoming`, `usecases::stripe_events` |
//! | Stripe sync | a local change's request to Stripe, committed with it and retried until confirmed | `domain::stripe_sync`, `usecases::stripe_sync` |
//! | sweep | the daily pass over terms: notices, expiry, renewal billing | `domain::lifecycle`, `usecases::sweep` |
//! | dunning | failed or overdue payments' ladder: reminder, urgent notice, downgrade | `domain::billing::dunning_step`, `usecases::overdue_invoices` |
//! | history, audit | the subscription history entry and the audit entry beside every change | `domain::history_and_audit` |
//! | domain event | what the system announces (outbox -> EventBridge) | `domain::events` |
//! | settings | what configuration yields; each adapter builds itself from its own | `config`, e.g. `config::StripeSettings` |

pub mod auth;
pub mod bus;
pub mod config;
pub mod dead_letters;
/// The business rules (their own crate: no I/O, no SDK, no async runtime).
pub use domain;
pub mod email;
pub mod emf;
pub mod error;
pub mod http;
pub mod ids;
pub mod mailer;
pub mod runtime;
pub mod schedule;
pub mod secrets;
pub mod sign_in_codes;
pub mod store;
pub mod stripe;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod usecases;
