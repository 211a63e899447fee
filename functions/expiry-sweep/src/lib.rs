//! expiry-sweep: invoked daily by an EventBridge schedule; runs the sweep use-case for the current
//! business day (a late retry or a replayed event sweeps the day it runs on).

use shared::config::{self, ConfigError};
use shared::domain::counters::Month;
use shared::domain::dates::BusinessCalendar;
use shared::domain::metrics::SuccessFigures;
pub use shared::schedule::ScheduledTrigger;
use shared::store::Store;
use shared::usecases::metrics::{report_mrr, success_figures};
use shared::usecases::recount::{recount, RecountReport, RecountRequest};
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

/// What the function is invoked with: the daily schedule, or once by hand with
/// `{"recount": {"check_only": true}}` (the counters' backfill or check, `usecases::recount`).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct SweepEvent {
    #[serde(default)]
    pub recount: Option<RecountRequest>,
    #[serde(flatten)]
    pub trigger: ScheduledTrigger,
}

impl Sweep {
    /// Runs what `event` asks for: a recount, or the sweep.
    pub async fn handle_event(&self, event: SweepEvent, now: jiff::Timestamp) -> Result<serde_json::Value, RunFailed> {
        match event.recount {
            Some(request) => {
                let report = Box::pin(recount(&self.store, &request))
                    .await
                    .map_err(|e| RunFailed::Stopped(e.to_string()))?;
                Ok(serde_json::to_value(report).unwrap_or_default())
            }
            None => Ok(serde_json::to_value(Box::pin(self.handle(event.trigger, now)).await?).unwrap_or_default()),
        }
    }

    /// The spec's success metrics as EMF (their alarms fire below or above each target); a failed
    /// read costs the figures, not the run.
    pub async fn report_success(&self, reminders_missed: u64, now: jiff::Timestamp) -> Option<SuccessFigures> {
        match Box::pin(success_figures(&self.store, &self.calendar, now, reminders_missed)).await {
            Ok(figures) => {
                shared::emf::emit(&shared::emf::success_line(&figures, now));
                Some(figures)
            }
            Err(err) => {
                tracing::warn!(error = %err, "the success metrics were not reported");
                None
            }
        }
    }

    /// The current month's counters against a recount of the month, as a `CounterDrift` metric
    /// (its alarm fires on any drift); a failed check costs the figure, not the run.
    pub async fn check_counters(&self, now: jiff::Timestamp) -> Option<RecountReport> {
        let month = Month::of_date(self.calendar.today(now));
        let request = RecountRequest {
            check_only: true,
            month: Some(month),
        };
        match Box::pin(recount(&self.store, &request)).await {
            Ok(report) => {
                shared::emf::emit(&shared::emf::counter_drift_line(report.drifted.len(), now));
                Some(report)
            }
            Err(err) => {
                tracing::warn!(error = %err, "the counters were not checked");
                None
            }
        }
    }

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
        self.check_counters(now).await;
        self.report_success(summary.reminders_missed, now).await;
        // MRR for the dashboard; a failed read costs the figure, not the run.
        if let Err(err) = report_mrr(&self.store, now).await {
            tracing::warn!(error = %err, "MRR was not reported");
        }
        let SweepSummary {
            examined,
            notices_30,
            notices_7,
            expired,
            renewal_billing_requested,
            awaiting_stripe,
            billed_overdue,
            reminders_missed,
            errors,
            duration_ms,
            ..
        } = summary;
        tracing::info!(
            examined,
            notices_30,
            notices_7,
            expired,
            renewal_billing_requested,
            awaiting_stripe,
            billed_overdue,
            reminders_missed,
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
