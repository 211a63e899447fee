//! Lambda entry point for the console: the pages are in the binary; nothing is read at cold start.

use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    lambda_http::run(service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(console::respond(&req))
    }))
    .await
}
