//! Helpers for integration tests against the local emulators (feature `test-support`).
//!
//! Tests reach moto through the same SDK code as production; `make test` starts it on a free port
//! and exports `AWS_ENDPOINT_URL`. Each test gets a table of its own, so tests run in parallel.

use crate::auth::mint_token;
use crate::config::Secret;
use crate::store::{schema, Store};
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::sync::{Arc, Mutex};

/// The key the tests sign admin tokens with.
pub const TEST_JWT_SECRET: &str = "integration-tests-only-signing-key-0123456789";

pub fn test_secret() -> Secret {
    Secret::new(TEST_JWT_SECRET)
}

/// An admin token valid for an hour.
pub fn admin_token(sub: &str) -> String {
    token_with_role(sub, "admin")
}

pub fn token_with_role(sub: &str, role: &str) -> String {
    let exp = jiff::Timestamp::now().as_second() as u64 + 3_600;
    mint_token(&test_secret(), sub, role, exp).unwrap_or_else(|e| panic!("minting a test token: {e}"))
}

/// The SDK configuration for the local emulators; fails loudly when they are not running.
pub async fn local_sdk_config() -> aws_config::SdkConfig {
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        panic!(
            "AWS_ENDPOINT_URL is not set: run the integration tests through `make test`, which starts the emulators"
        );
    }
    crate::config::aws_sdk_config().await
}

/// Records the name of every DynamoDB request sent (retries included).
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    pub fn calls(&self) -> Vec<String> {
        self.0.lock().map(|calls| calls.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut calls) = self.0.lock() {
            calls.clear();
        }
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        if let Ok(mut calls) = self.0.lock() {
            calls.push(name);
        }
        Ok(())
    }
}

/// A store on a new, empty table of its own, and the log of the DynamoDB calls it makes.
pub async fn fresh_store() -> (Store, CallLog) {
    let sdk = local_sdk_config().await;
    let log = CallLog::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(log.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = format!("test-{}", crate::ids::next_id().to_string().to_lowercase());
    schema::create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("creating table {table}: {e}"));
    log.clear();
    (Store::new(client, table), log)
}
