//! Lambda entry point for email-sender: configuration and SDK clients are built once per cold start.

use email_sender::Sender;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let sender = Arc::new(Sender::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let sender = Arc::clone(&sender);
        async move {
            let delivery = sender.handle(event.payload, jiff::Timestamp::now()).await?;
            Ok::<_, Error>(delivery)
        }
    }))
    .await
}
