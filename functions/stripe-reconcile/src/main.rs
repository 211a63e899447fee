//! Lambda entry point for stripe-reconcile: configuration and clients are built once per cold start.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;
use stripe_reconcile::Reconciler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let reconciler = Arc::new(Reconciler::from_env().await?);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let reconciler = Arc::clone(&reconciler);
        async move { Ok::<_, Error>(reconciler.run(jiff::Timestamp::now()).await?) }
    }))
    .await
}
