//! Lambda entry point for stripe-reconcile: configuration and clients are built once per cold start.
// rustc's default of 128 is too shallow to compute the layout of `main`'s future: the AWS SDK's
// nested async state machines inside lambda_runtime's service push the query depth past it.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;
use stripe_reconcile::{Reconciler, ScheduledTrigger};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let reconciler = Arc::new(Reconciler::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ScheduledTrigger>| {
        let reconciler = Arc::clone(&reconciler);
        async move {
            reconciler
                .handle(event.payload, jiff::Timestamp::now())
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
