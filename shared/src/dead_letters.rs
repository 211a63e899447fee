//! A dead-letter queue (SQS) for events a function gives up on for good, each with the reason, so
//! that on-call sees what failed and why, and can send it again once the cause is fixed.

use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client;

#[derive(Clone, Debug)]
pub struct DeadLetters {
    client: Client,
    queue_url: String,
}

impl DeadLetters {
    pub fn new(client: Client, queue_url: impl Into<String>) -> DeadLetters {
        DeadLetters {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, queue_url: impl Into<String>) -> DeadLetters {
        DeadLetters::new(Client::new(sdk), queue_url)
    }

    /// Parks `body` (the event as it arrived) with `reason` and the attributes that find it again.
    pub async fn park(&self, body: &str, reason: &str, attributes: &[(&str, &str)]) -> Result<(), String> {
        let text = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| e.to_string())
        };
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes("reason", text(truncate(reason, 1_000))?);
        for (name, value) in attributes.iter().filter(|(_, value)| !value.is_empty()) {
            request = request.message_attributes(*name, text(value)?);
        }
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}
