//! The outbox relay: outbox items written by committed transactions reach the app bus.

use crate::bus::{BusEntry, EventBus};
use crate::domain::events::DomainEvent;
use crate::emf::emit_event_metrics;
use serde::Serialize;

/// What one relay run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelayOutcome {
    pub published: usize,
    /// Keys (stream sequence numbers) of the entries to retry.
    pub failed: Vec<String>,
}

/// Publishes the outbox events of one stream batch, in order.
#[tracing::instrument(skip_all, fields(events = events.len()))]
pub async fn relay_outbox(bus: &EventBus, events: &[BusEntry]) -> RelayOutcome {
    let failed = bus.publish(events).await;
    // The business figures of what went out (EMF log lines; see `crate::emf`).
    let published: Vec<DomainEvent> = events
        .iter()
        .filter(|entry| !failed.contains(&entry.key))
        .filter_map(|entry| serde_json::from_str(&entry.detail).ok())
        .collect();
    emit_event_metrics(&published, jiff::Timestamp::now());
    RelayOutcome {
        published: events.len() - failed.len(),
        failed,
    }
}
