//! Reconciliation: Stripe's own list of recent events, applied through the same path and dedupe as
//! webhooks, so that an event whose delivery never arrived (or arrived before its customer was ours)
//! still takes effect. Events handled before are duplicates and change nothing.

use super::error::UseCaseError;
use super::stripe_events::{handle_stripe_event, BillingRules, EventOutcome};
use crate::store::Store;
use crate::stripe::client::StripeApi;
use crate::stripe::webhook::StripeEvent;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// How far back each run looks (Stripe retries a webhook for three days).
pub const LOOKBACK: SignedDuration = SignedDuration::from_hours(72);

/// The most pages of 100 events one run reads: Stripe keeps 30 days of events, and 10,000 is far
/// beyond three days of ours.
pub const MAX_EVENT_PAGES: usize = 100;

/// What one run did, event by event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileSummary {
    pub listed: usize,
    pub applied: usize,
    pub duplicates: usize,
    pub stale: usize,
    pub not_ours: usize,
    pub ignored: usize,
    pub unusable: usize,
    pub errors: usize,
    /// The run stopped paging at [`MAX_EVENT_PAGES`] before the start of its window: older events
    /// were not checked (logged as an error, counted as `ReconcileStoppedEarly`).
    pub stopped_early: bool,
}

/// Lists Stripe's events of the last [`LOOKBACK`] and applies each one that was never applied.
#[tracing::instrument(skip_all)]
pub async fn reconcile_stripe_events(
    store: &Store,
    stripe: &StripeApi,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> Result<ReconcileSummary, UseCaseError> {
    let since = now.checked_sub(LOOKBACK).unwrap_or(Timestamp::UNIX_EPOCH);
    let listing = stripe.events_since(since, MAX_EVENT_PAGES).await?;
    let mut summary = ReconcileSummary {
        listed: listing.events.len(),
        stopped_early: !listing.reached_window_start,
        ..ReconcileSummary::default()
    };
    if summary.stopped_early {
        tracing::error!(
            listed = summary.listed,
            max_pages = MAX_EVENT_PAGES,
            window_start = %since,
            "stopped paging Stripe's events before the start of the window; older events were not checked"
        );
        crate::emf::emit(&crate::emf::reconcile_stopped_early_line(now));
    }
    for raw in listing.events {
        let event = match StripeEvent::from_api(raw) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(error = %err, "listed Stripe event could not be read");
                summary.unusable += 1;
                continue;
            }
        };
        match handle_stripe_event(store, rules, Some(stripe), &event, now).await {
            Ok(EventOutcome::Applied { partner_id }) => {
                tracing::info!(stripe_event_id = %event.id, %partner_id, "reconciled an event that was never applied");
                summary.applied += 1;
            }
            Ok(EventOutcome::Duplicate) => summary.duplicates += 1,
            Ok(EventOutcome::Stale { .. }) => summary.stale += 1,
            Ok(EventOutcome::NotOurs) => summary.not_ours += 1,
            Ok(EventOutcome::Ignored) => summary.ignored += 1,
            Ok(EventOutcome::Unusable { .. }) => summary.unusable += 1,
            Err(err) => {
                tracing::error!(stripe_event_id = %event.id, error = %err, "reconciling an event failed");
                summary.errors += 1;
            }
        }
    }
    Ok(summary)
}
