//! The app's EventBridge bus: publishes domain events in batches of up to 10 (PutEvents' limit) and
//! says which entries did not make it, so that a caller can retry exactly those.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

/// PutEvents takes at most this many entries.
pub const MAX_BATCH: usize = 10;

/// One event to publish; `key` identifies it to the caller (a stream sequence number, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEntry {
    pub key: String,
    pub source: String,
    pub detail_type: String,
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct EventBus {
    client: Client,
    bus_name: String,
}

impl EventBus {
    pub fn new(client: Client, bus_name: impl Into<String>) -> EventBus {
        EventBus {
            client,
            bus_name: bus_name.into(),
        }
    }

    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, bus_name: impl Into<String>) -> EventBus {
        EventBus::new(Client::new(sdk), bus_name)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn name(&self) -> &str {
        &self.bus_name
    }

    /// Publishes `entries` in order, ten at a time; returns the keys of the entries that failed
    /// (entry errors, or a whole batch whose call failed after the SDK's own retries).
    #[tracing::instrument(skip_all, fields(bus = %self.bus_name, entries = entries.len()))]
    pub async fn publish(&self, entries: &[BusEntry]) -> Vec<String> {
        let mut failed = Vec::new();
        for batch in entries.chunks(MAX_BATCH) {
            let request: Vec<PutEventsRequestEntry> = batch
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(&e.source)
                        .detail_type(&e.detail_type)
                        .detail(&e.detail)
                        .build()
                })
                .collect();
            match self.client.put_events().set_entries(Some(request)).send().await {
                Ok(output) if output.failed_entry_count() == 0 => {}
                Ok(output) => {
                    for (entry, result) in batch.iter().zip(output.entries()) {
                        if let Some(code) = result.error_code() {
                            tracing::warn!(key = %entry.key, detail_type = %entry.detail_type, code, message = result.error_message().unwrap_or(""), "event not accepted");
                            failed.push(entry.key.clone());
                        }
                    }
                }
                Err(err) => {
                    let why = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
                    tracing::error!(error = %why, "PutEvents failed for a whole batch");
                    failed.extend(batch.iter().map(|e| e.key.clone()));
                }
            }
        }
        failed
    }
}
