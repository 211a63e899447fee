//! Lambda entry point for stripe-reconcile: the SDK clients are built once per cold start;
//! configuration and secrets are read then and again when they are due or Stripe refused the key
//! (`shared::secrets`).
// rustc's default of 128 is too shallow to compute the layout of `main`'s future: the AWS SDK's
// nested async state machines inside lambda_runtime's service push the query depth past it.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::runtime::Reloading;
use std::sync::Arc;
use stripe_reconcile::{Reconciler, ScheduledTrigger};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let reconciler =
        Arc::new(Reloading::from_env(|sdk, secrets| async move { Reconciler::from_env(&sdk, &secrets).await }).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ScheduledTrigger>| {
        let reconciler = Arc::clone(&reconciler);
        async move {
            let run = reconciler
                .current()
                .await
                .handle(event.payload, jiff::Timestamp::now())
                .await;
            if let Some(refused) = run.as_ref().err().and_then(|failed| failed.refused_secret()) {
                reconciler.reload_after_refusal(refused).await;
            }
            run.map_err(Error::from)
        }
    }))
    .await
}
