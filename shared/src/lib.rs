//! Everything the Power100 partner-payments functions share: the domain rules, the DynamoDB store,
//! domain events, admin authentication, configuration and the HTTP edge.

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
pub mod store;
pub mod stripe;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod usecases;
