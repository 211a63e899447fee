//! Lambda entry point for expiry-sweep: configuration and SDK clients are built once per cold start.
// rustc's default of 128 is too shallow to compute the layout of `main`'s future: the AWS SDK's
// nested async state machines inside lambda_runtime's service push the query depth past it.
#![recursion_limit = "256"]

use expiry_sweep::{Sweep, SweepEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let sweep = Arc::new(Sweep::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SweepEvent>| {
        let sweep = Arc::clone(&sweep);
        async move {
            sweep
                .handle_event(event.payload, jiff::Timestamp::now())
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
