//! Lambda entry point for stripe-webhook: configuration and SDK clients are built once per cold start.

use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let receiver = Arc::new(stripe_webhook::Receiver::from_env().await?);
    lambda_http::run(service_fn(move |req: Request| {
        let receiver = Arc::clone(&receiver);
        async move { Ok::<_, Infallible>(receiver.handle(req, jiff::Timestamp::now()).await) }
    }))
    .await
}
