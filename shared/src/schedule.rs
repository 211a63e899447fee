//! The trigger of the scheduled functions (expiry-sweep, stripe-reconcile): an EventBridge scheduled
//! event. Both reconcile current state, so a late retry or a replayed event simply runs as of the
//! moment it arrives; the event's `time` is only logged. Any JSON object parses, so `{}` runs one by
//! hand.

use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ScheduledTrigger {
    /// When EventBridge scheduled the run.
    #[serde(default)]
    pub time: Option<jiff::Timestamp>,
}

impl ScheduledTrigger {
    /// Logs when the run was scheduled beside when it runs.
    pub fn log_start(&self, job: &'static str, now: jiff::Timestamp) {
        if let Some(scheduled) = self.time {
            tracing::info!(job, %scheduled, %now, "scheduled run triggered");
        }
    }
}
