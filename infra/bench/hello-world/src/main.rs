//! The smallest Lambda function in Rust: it answers with the event it got. `make bench` measures
//! every function's cold start against this one, built the same way and in the same run.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
