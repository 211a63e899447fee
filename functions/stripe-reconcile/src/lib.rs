//! stripe-reconcile: on a schedule, Stripe and the table are brought back to one truth both ways.
//! Outbound: every local change Stripe has not confirmed yet (the pending index) is pushed again with
//! its idempotency key. Inbound: Stripe's events of the last three days that were never applied (a
//! lost delivery, an endpoint outage) are applied through the webhook's code path and dedupe. A run
//! that leaves anything unconfirmed or unapplied fails its invocation, so that the alarm fires and the
//! schedule's retry runs it again (what succeeded is a no-op then).

use jiff::Timestamp;
use shared::config::{self, ConfigError, SdkConfig};
use shared::domain::billing::PriceCatalog;
use shared::domain::dates::BusinessCalendar;
pub use shared::schedule::ScheduledTrigger;
use shared::secrets::{SecretReader, SecretRefused};
use shared::store::Store;
use shared::stripe::client::StripeApi;
use shared::usecases::billing_start::{carry_out_pending_billing_starts, StartsSummary};
use shared::usecases::error::UseCaseError;
use shared::usecases::reconcile::{reconcile_stripe_events, ReconcileSummary};
use shared::usecases::refund_reservations::release_stale_refund_reservations;
use shared::usecases::stripe_events::BillingRules;
use shared::usecases::stripe_sync::{push_pending_stripe_syncs, PushSummary};

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
    #[error("{} Stripe change(s) still unconfirmed, {} billing start(s) not carried out and {} of {} events not applied{}; the run is retried",
        .0.stripe_changes.still_pending + .0.stripe_changes.errors, .0.billing_starts.still_pending, .0.events.errors, .0.events.listed,
        if .0.events.stopped_early { ", and the listing stopped before the window's start" } else { "" })]
    Partial(RunSummary),
}

impl RunFailed {
    /// The secret a failed run says was refused (Stripe answering 401 to our key).
    pub fn refused_secret(&self) -> Option<SecretRefused> {
        matches!(self, RunFailed::Stopped(UseCaseError::StripeKeyRefused(_))).then_some(SecretRefused::StripeKey)
    }
}

/// What one run did, both ways.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    /// Local changes pushed to Stripe again.
    pub stripe_changes: PushSummary,
    /// Billing starts claimed here and carried out at Stripe (a renewal's, one whose request died).
    pub billing_starts: StartsSummary,
    /// Refund reservations left by refunds whose request died halfway, released
    /// (`usecases::refund_reservations`).
    pub released_refund_reservations: u32,
    /// Stripe's events applied here.
    pub events: ReconcileSummary,
}

impl Reconciler {
    /// Reads configuration and secrets (see `shared::secrets`).
    pub async fn from_env(sdk: &SdkConfig, secrets: &SecretReader) -> Result<Reconciler, ConfigError> {
        let mut secrets = secrets.prefetched_session().await;
        Ok(Reconciler {
            store: Store::from_sdk_config(sdk, config::table_name()?),
            stripe: StripeApi::new(&config::stripe_settings(&mut secrets).await?)?,
            calendar: config::business_calendar()?,
            prices: config::stripe_prices()?,
        })
    }

    /// One run as of `now` (the schedule's event carries nothing else it needs).
    pub async fn handle(&self, trigger: ScheduledTrigger, now: Timestamp) -> Result<RunSummary, RunFailed> {
        trigger.log_start("stripe-reconcile", now);
        let pushed = push_pending_stripe_syncs(&self.store, &self.stripe, &self.calendar, now).await?;
        tracing::info!(
            pending = pushed.pending,
            confirmed = pushed.confirmed,
            still_pending = pushed.still_pending,
            errors = pushed.errors,
            "pending Stripe changes pushed"
        );
        let starts = Box::pin(carry_out_pending_billing_starts(
            &self.store,
            &self.stripe,
            &self.prices,
            &self.calendar,
            now,
        ))
        .await?;
        tracing::info!(
            pending = starts.pending,
            started = starts.started,
            refused = starts.refused,
            still_pending = starts.still_pending,
            "pending billing starts carried out"
        );
        let released_refund_reservations = release_stale_refund_reservations(&self.store, now).await?;
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
            stopped_early = summary.stopped_early,
            "reconciliation run"
        );
        let run = RunSummary {
            stripe_changes: pushed,
            billing_starts: starts,
            released_refund_reservations,
            events: summary,
        };
        if run.events.errors > 0
            || run.events.stopped_early
            || run.billing_starts.still_pending > 0
            || run.stripe_changes.still_pending > 0
            || run.stripe_changes.errors > 0
        {
            return Err(RunFailed::Partial(run));
        }
        Ok(run)
    }
}
