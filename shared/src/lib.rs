//! Everything the Power100 partner-payments functions share: the domain rules, the DynamoDB store,
//! domain events, admin authentication, configuration and the HTTP edge.

pub mod domain;
pub mod events;
pub mod ids;
pub mod store;
pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod telemetry;
pub mod usecases;
#[cfg(feature = "test-support")]
pub mod testing;
