//! The outbox relay: outbox items written by committed transactions reach the app bus.

use crate::bus::{BusEntry, EventBus};
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
    RelayOutcome {
        published: events.len() - failed.len(),
        failed,
    }
}
