//! stripe-reconcile: on a schedule, lists Stripe's events of the last three days and applies those
//! that were never applied (a lost delivery, an endpoint outage), through the same code path and
//! dedupe as the webhook. A run with errors fails its invocation so that the alarm fires and the
//! schedule's retry runs it again (handled events are duplicates then).

use jiff::Timestamp;
use shared::config::{self, ConfigError};
use shared::domain::billing::PriceCatalog;
use shared::domain::dates::BusinessCalendar;
pub use shared::schedule::ScheduledTrigger;
use shared::store::Store;
use shared::stripe::client::StripeApi;
use shared::usecases::error::UseCaseError;
use shared::usecases::reconcile::{reconcile_stripe_events, ReconcileSummary};
use shared::usecases::stripe_events::BillingRules;

pub struct Reconciler {
    pub store: Store,
    pub stripe: StripeApi,
    pub calendar: BusinessCalendar,
    pub prices: PriceCatalog,
}

/// A run that must fail its invocation, so that the alarm fires and the schedule's retry runs it again.
#[derive(Debug, thiserror::Error)]
pub enum RunFailed {
    #[error("the reconciliation stopped: {0}")]
    Stopped(#[from] UseCaseError),
    #[error("{} of {} events could not be applied; the run is retried", .0.errors, .0.listed)]
    Partial(ReconcileSummary),
}

impl Reconciler {
    pub async fn from_env() -> Result<Reconciler, ConfigError> {
        let sdk = config::aws_sdk_config().await;
        Ok(Reconciler {
            store: Store::from_sdk_config(&sdk, config::table_name()?),
            stripe: config::stripe_api()?,
            calendar: config::business_calendar()?,
            prices: config::stripe_prices()?,
        })
    }

    /// One run as of `now` (the schedule's event carries nothing else it needs).
    pub async fn handle(&self, trigger: ScheduledTrigger, now: Timestamp) -> Result<ReconcileSummary, RunFailed> {
        trigger.log_start("stripe-reconcile", now);
        let rules = BillingRules {
            calendar: &self.calendar,
            prices: &self.prices,
        };
        let summary = reconcile_stripe_events(&self.store, &self.stripe, &rules, now).await?;
        tracing::info!(
            listed = summary.listed,
            applied = summary.applied,
            duplicates = summary.duplicates,
            stale = summary.stale,
            not_ours = summary.not_ours,
            ignored = summary.ignored,
            unusable = summary.unusable,
            errors = summary.errors,
            "reconciliation run"
        );
        if summary.errors > 0 {
            return Err(RunFailed::Partial(summary));
        }
        Ok(summary)
    }
}
