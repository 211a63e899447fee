//! expiry-sweep: invoked daily by an EventBridge schedule; runs the sweep use-case for the current
//! business day (a late retry or a replayed event sweeps the day it runs on).

use shared::config::{self, ConfigError};
use shared::domain::dates::BusinessCalendar;
pub use shared::schedule::ScheduledTrigger;
use shared::store::Store;
use shared::usecases::metrics::report_mrr;
use shared::usecases::sweep::{run_expiry_sweep, SweepSettings, SweepSummary};

/// What the sweep needs, built once per cold start.
pub struct Sweep {
    pub store: Store,
    pub calendar: BusinessCalendar,
    pub settings: SweepSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum RunFailed {
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
        Ok(Sweep {
            store: Store::from_sdk_config(&sdk, config::table_name()?),
            calendar: config::business_calendar()?,
            settings: SweepSettings {
                grace_days: config::grace_period_days()?,
                billed_overdue_days: config::billed_overdue_days()?,
                ..SweepSettings::default()
            },
        })
    }

    /// Runs one sweep as of `now` and logs its summary as one JSON line.
    pub async fn handle(&self, trigger: ScheduledTrigger, now: jiff::Timestamp) -> Result<SweepSummary, RunFailed> {
        trigger.log_start("expiry-sweep", now);
        let summary = run_expiry_sweep(&self.store, &self.calendar, &self.settings, now)
            .await
            .map_err(|e| RunFailed::Stopped(e.to_string()))?;
        shared::emf::emit(&shared::emf::billed_terms_overdue_line(summary.billed_overdue, now));
        // MRR for the dashboard; a failed read costs the figure, not the run.
        if let Err(err) = report_mrr(&self.store, now).await {
            tracing::warn!(error = %err, "MRR was not reported");
        }
        let SweepSummary {
            examined,
            notices_30,
            notices_7,
            expired,
            grace,
            awaiting_stripe,
            billed_overdue,
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
            awaiting_stripe,
            billed_overdue,
            errors,
            duration_ms,
            "sweep finished"
        );
        if errors > 0 {
            return Err(RunFailed::Partial(summary));
        }
        Ok(summary)
    }
}
