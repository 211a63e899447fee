//! Lambda entry point for partner-portal: configuration and SDK clients are built once per cold start.

use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let portal = Arc::new(partner_portal::Portal::from_env().await?);
    lambda_http::run(service_fn(move |req: Request| {
        let portal = Arc::clone(&portal);
        async move { Ok::<_, Infallible>(portal.handle(req).await) }
    }))
    .await
}
