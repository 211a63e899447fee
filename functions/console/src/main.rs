//! Lambda entry point for the pages (console and partner portal): they are in the binary; nothing is
//! read at cold start but the optional local Stripe.js address of a local run.

use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    console::check_environment()?;
    lambda_http::run(service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(console::respond(&req))
    }))
    .await
}
