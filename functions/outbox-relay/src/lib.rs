//! outbox-relay: DynamoDB stream of the table -> the app's EventBridge bus.
//!
//! Only the stream fields it needs are read: each record's event name, sequence number and the new
//! image's string attributes. Outbox inserts are published in order, ten per PutEvents; the
//! sequence numbers of entries that failed are reported as batch item failures, so Lambda retries
//! from the first of them and nothing is dropped (the receivers dedupe by `event_id`).

use serde::{Deserialize, Serialize};
use shared::bus::{BusEntry, EventBus};
use shared::config::{self, ConfigError};
use shared::store::keys;
use shared::usecases::relay::relay_outbox;
use std::collections::HashMap;

#[derive(Debug, Default, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    #[serde(default)]
    pub dynamodb: StreamData,
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamData {
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: String,
    #[serde(rename = "NewImage", default)]
    pub new_image: HashMap<String, serde_json::Value>,
}

/// What Lambda reads back for a stream batch.
#[derive(Debug, Default, Serialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

impl StreamRecord {
    fn string(&self, name: &str) -> Option<&str> {
        self.dynamodb.new_image.get(name)?.get("S")?.as_str()
    }

    /// The bus entry of an outbox insert; `None` for every other record.
    pub fn outbox_entry(&self) -> Option<BusEntry> {
        if self.event_name != "INSERT" || !self.string(keys::PK)?.starts_with(keys::OUTBOX_PREFIX) {
            return None;
        }
        let entry = BusEntry {
            key: self.dynamodb.sequence_number.clone(),
            source: self.string("source")?.to_owned(),
            detail_type: self.string("detail_type")?.to_owned(),
            detail: self.string("detail")?.to_owned(),
        };
        Some(entry)
    }
}

/// The relay, built once per cold start.
pub struct Relay {
    pub bus: EventBus,
}

impl Relay {
    pub async fn from_env() -> Result<Relay, ConfigError> {
        let sdk = config::aws_sdk_config().await;
        Ok(Relay {
            bus: EventBus::from_sdk_config(&sdk, config::event_bus_name()?),
        })
    }

    pub async fn handle(&self, event: StreamEvent) -> BatchResponse {
        let mut entries = Vec::with_capacity(event.records.len());
        for record in &event.records {
            match record.outbox_entry() {
                Some(entry) => entries.push(entry),
                None if record.event_name == "INSERT" && record.string("entity") == Some("outbox") => {
                    // An outbox item without its fields cannot be published by retrying; say so loudly.
                    tracing::error!(sequence_number = %record.dynamodb.sequence_number, "outbox item without source, detail_type or detail: skipped");
                }
                None => {}
            }
        }
        let outcome = relay_outbox(&self.bus, &entries).await;
        tracing::info!(published = outcome.published, failed = outcome.failed.len(), "relayed");
        BatchResponse {
            batch_item_failures: outcome
                .failed
                .into_iter()
                .map(|item_identifier| ItemFailure { item_identifier })
                .collect(),
        }
    }
}
