//! Test helpers for the event pipeline against moto: the outbox as the table's stream delivers it, a
//! bus whose events land in an SQS queue, SES with a verified sender, and moto's store of sent email.

use crate::bus::EventBus;
use crate::dead_letters::DeadLetters;
use crate::mailer::Mailer;
use crate::store::Store;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The sender the tests mail from; [`verified_mailer`] verifies its domain first.
pub const TEST_SENDER: &str = "Power100 Partner Success <partners@mail.power100.example>";
pub const TEST_SENDER_DOMAIN: &str = "mail.power100.example";

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", crate::ids::next_id().to_string().to_lowercase())
}

/// A fresh SQS queue: (client, url, arn).
pub async fn fresh_queue(prefix: &str) -> (aws_sdk_sqs::Client, String, String) {
    let sdk = super::local_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .create_queue()
        .queue_name(unique(prefix))
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating a queue: {e}"))
        .queue_url
        .unwrap_or_default();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("reading the queue's arn: {e}"));
    let arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default();
    (sqs, url, arn)
}

/// A fresh bus with a rule that copies this system's events into a fresh SQS queue.
pub struct BusWithQueue {
    pub bus: EventBus,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
}

pub async fn bus_with_queue() -> BusWithQueue {
    let sdk = super::local_sdk_config().await;
    let name = unique("app");
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    events
        .create_event_bus()
        .name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating bus {name}: {e}"));
    let (sqs, queue_url, queue_arn) = fresh_queue("bus").await;
    events
        .put_rule()
        .name("all-partner-payments")
        .event_bus_name(&name)
        .event_pattern(json!({"source": [crate::domain::events::SOURCE]}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating the rule: {e}"));
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("queue")
        .arn(queue_arn)
        .build()
        .unwrap_or_else(|e| panic!("target: {e}"));
    events
        .put_targets()
        .rule("all-partner-payments")
        .event_bus_name(&name)
        .targets(target)
        .send()
        .await
        .unwrap_or_else(|e| panic!("adding the queue target: {e}"));
    BusWithQueue {
        bus: EventBus::new(events, name),
        sqs,
        queue_url,
    }
}

/// Every message waiting in the queue (as JSON bodies), which are then gone from it.
pub async fn drain_queue(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap_or_else(|e| panic!("receiving from {queue_url}: {e}"));
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return all;
        }
        for message in &messages {
            if let Some(handle) = message.receipt_handle() {
                let _ = sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await;
            }
        }
        all.extend(messages);
    }
}

/// The JSON bodies of every message waiting in the queue.
pub async fn drain_queue_json(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<Value> {
    drain_queue(sqs, queue_url)
        .await
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or_default()).unwrap_or_else(|e| panic!("queue body: {e}")))
        .collect()
}

fn stream_json(item: &HashMap<String, AttributeValue>) -> Value {
    let mut image = serde_json::Map::new();
    for (name, value) in item {
        let v = match value {
            AttributeValue::S(s) => json!({"S": s}),
            AttributeValue::N(n) => json!({"N": n}),
            AttributeValue::Bool(b) => json!({"BOOL": b}),
            _ => continue,
        };
        image.insert(name.clone(), v);
    }
    Value::Object(image)
}

/// The stream batch DynamoDB would deliver for the table's outbox inserts, oldest first.
pub async fn outbox_stream_batch(store: &Store) -> Value {
    let items = super::outbox_items(store).await;
    let records: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            json!({
                "eventID": format!("e{i}"), "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "EVENT"}},
                              "NewImage": stream_json(item), "SequenceNumber": format!("{:021}", 100 + i), "StreamViewType": "NEW_IMAGE"}
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Makes `domain` a verified SES identity (moto refuses to send from anything else).
pub async fn verify_sender_domain(domain: &str) {
    let sdk = super::local_sdk_config().await;
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    match ses.create_email_identity().email_identity(domain).send().await {
        Ok(_) => {}
        Err(e) if format!("{e:?}").contains("AlreadyExists") => {}
        Err(e) => panic!("verifying {domain}: {}", aws_sdk_sesv2::error::DisplayErrorContext(&e)),
    }
}

/// A mailer sending from [`TEST_SENDER`], whose domain is verified.
pub async fn verified_mailer() -> Mailer {
    verify_sender_domain(TEST_SENDER_DOMAIN).await;
    Mailer::from_sdk_config(&super::local_sdk_config().await, TEST_SENDER, None)
}

/// A dead-letter queue of its own, with the client and url to read it back.
pub async fn fresh_dead_letters() -> (DeadLetters, aws_sdk_sqs::Client, String) {
    let (sqs, url, _) = fresh_queue("dlq").await;
    (DeadLetters::new(sqs.clone(), url.clone()), sqs, url)
}

/// Every message moto's SES accepted for `to`: `{id, source, destinations, subject, body}` (moto
/// keeps only the HTML part when both are sent).
pub async fn ses_messages_to(to: &str) -> Vec<Value> {
    let data = moto_data().await;
    data["ses"]["Message"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter(|m| {
                    m["destinations"]["ToAddresses"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|r| r == to))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// moto's `/moto-api/data.json`: everything its backends hold.
async fn moto_data() -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let (_, body) = super::http_server::request(&endpoint, "GET", "/moto-api/data.json", &[], "").await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("moto's data.json: {e}"))
}
