//! Lambda entry point for outbox-relay: configuration and SDK clients are built once per cold start.
// rustc's default of 128 is too shallow to compute the layout of `main`'s future: the AWS SDK's
// nested async state machines inside lambda_runtime's service push the query depth past it.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use outbox_relay::{Relay, StreamEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let relay = Arc::new(Relay::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let relay = Arc::clone(&relay);
        async move { Ok::<_, Error>(relay.handle(event.payload).await) }
    }))
    .await
}
