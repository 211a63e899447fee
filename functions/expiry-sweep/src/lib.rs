//! expiry-sweep: invoked daily by an EventBridge schedule; runs the sweep use-case for the current
//! business day. The sweep reconciles current state, so a late retry or a replayed event simply sweeps
//! the day it runs on; the event's `time` is only logged.

use serde::Deserialize;
use shared::config::{self, ConfigError};
use shared::domain::dates::BusinessCalendar;
use shared::store::Store;
use shared::usecases::sweep::{run_expiry_sweep, SweepSettings, SweepSummary};

/// The one field of the EventBridge scheduled event worth reading (for the log). Any JSON object
/// works, so `{}` invokes a sweep by hand.
#[derive(Debug, Default, Deserialize)]
pub struct ScheduledTrigger {
    #[serde(default)]
    pub time: Option<jiff::Timestamp>,
}

/// What the sweep needs, built once per cold start.
pub struct Sweep {
    pub store: Store,
    pub calendar: BusinessCalendar,
    pub settings: SweepSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepFailed {
    /// Some partners failed; the invocation fails so that the alarm fires and the schedule retries
    /// (a re-run repeats nothing that succeeded).
    #[error("the sweep finished with {} failed partner(s): {}", .0.errors, serde_json::to_string(.0).unwrap_or_default())]
    Partial(SweepSummary),
    #[error("the sweep stopped: {0}")]
    Stopped(String),
}

impl Sweep {
    pub async fn from_env() -> Result<Sweep, ConfigError> {
        let sdk = config::aws_sdk_config().await;
        let grace_days = match std::env::var("GRACE_PERIOD_DAYS") {
            Ok(text) => {
                text.trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|d| (0..=90).contains(d))
                    .ok_or(ConfigError::Invalid {
                        name: "GRACE_PERIOD_DAYS",
                        why: "must be a whole number of days from 0 to 90".into(),
                    })?
            }
            Err(_) => shared::domain::lifecycle::DEFAULT_GRACE_DAYS,
        };
        Ok(Sweep {
            store: Store::from_sdk_config(&sdk, config::table_name()?),
            calendar: config::business_calendar()?,
            settings: SweepSettings {
                grace_days,
                ..SweepSettings::default()
            },
        })
    }

    /// Runs one sweep as of `now` and logs its summary as one JSON line.
    pub async fn handle(&self, trigger: ScheduledTrigger, now: jiff::Timestamp) -> Result<SweepSummary, SweepFailed> {
        if let Some(scheduled) = trigger.time {
            tracing::info!(%scheduled, %now, "sweep triggered");
        }
        let summary = run_expiry_sweep(&self.store, &self.calendar, &self.settings, now)
            .await
            .map_err(|e| SweepFailed::Stopped(e.to_string()))?;
        let SweepSummary {
            examined,
            notices_30,
            notices_7,
            expired,
            grace,
            errors,
            duration_ms,
            ..
        } = summary;
        tracing::info!(
            examined,
            notices_30,
            notices_7,
            expired,
            grace,
            errors,
            duration_ms,
            "sweep finished"
        );
        if errors > 0 {
            return Err(SweepFailed::Partial(summary));
        }
        Ok(summary)
    }
}
