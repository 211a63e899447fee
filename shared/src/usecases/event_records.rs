//! What became of a Stripe event, recorded once by its id: the record every path writes (the billing
//! rules', refunds', cards'), so a redelivery or the reconciliation's second look changes nothing.

use super::error::UseCaseError;
use crate::domain::partner::PartnerId;
use crate::ids::next_id;
use crate::store::billing::{BillingCommit, BillingWrite, RecordedOutcome, StripeEventRecord};
use crate::store::{Store, StoreError};
use crate::stripe::webhook::EventSource;
use jiff::Timestamp;
use serde::Serialize;

/// What became of one Stripe event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EventOutcome {
    Applied {
        partner_id: PartnerId,
    },
    /// Handled before: nothing changed.
    Duplicate,
    /// Older than what the partner already reflects: recorded, otherwise ignored.
    Stale {
        partner_id: PartnerId,
    },
    /// About a Stripe customer that is not one of our partners.
    NotOurs,
    /// A type billing does not act on.
    Ignored,
    /// A type billing acts on, but without a field it needs.
    Unusable {
        reason: String,
    },
}

pub(crate) fn unavailable(err: StoreError) -> UseCaseError {
    match err {
        StoreError::Dynamo(why) => UseCaseError::Unavailable(why),
        other => other.into(),
    }
}

pub(crate) fn record(
    source: &EventSource,
    outcome: RecordedOutcome,
    partner_id: Option<&PartnerId>,
) -> StripeEventRecord {
    StripeEventRecord {
        event_id: source.id.clone(),
        event_type: source.event_type.clone(),
        created: source.created,
        outcome,
        partner_id: partner_id.cloned(),
    }
}

/// Records an event that changes nothing; a duplicate if it was recorded before.
async fn record_only(
    store: &Store,
    source: &EventSource,
    outcome: RecordedOutcome,
    partner_id: Option<&PartnerId>,
    now: Timestamp,
) -> Result<bool, UseCaseError> {
    let write = BillingWrite {
        stripe_event: Some(record(source, outcome, partner_id)),
        ..BillingWrite::default()
    };
    let commit = store.commit_billing(write, next_id(), now).await.map_err(unavailable)?;
    Ok(commit == BillingCommit::Committed)
}

/// Records an event older than what the partner reflects.
pub(crate) async fn record_stale(
    store: &Store,
    source: &EventSource,
    partner_id: PartnerId,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    record_outcome(store, source, EventOutcome::Stale { partner_id }, now).await
}

/// Records an event we act on that lacks a field we need.
pub(crate) async fn record_unusable(
    store: &Store,
    source: &EventSource,
    reason: String,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    tracing::warn!(reason, "Stripe event without a field we need");
    record_outcome(store, source, EventOutcome::Unusable { reason }, now).await
}

/// Records an event applied to `partner_id` (the partner's own writes were separate, idempotent).
pub(crate) async fn record_applied(
    store: &Store,
    source: &EventSource,
    partner_id: PartnerId,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    record_outcome(store, source, EventOutcome::Applied { partner_id }, now).await
}

/// Records `outcome` once: the outcome, or `Duplicate` when the event was recorded before. Outcomes
/// that leave no record (not ours, ignored) are answered as they are.
async fn record_outcome(
    store: &Store,
    source: &EventSource,
    outcome: EventOutcome,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    let (recorded, partner_id) = match &outcome {
        EventOutcome::Applied { partner_id } => (RecordedOutcome::Applied, Some(partner_id)),
        EventOutcome::Stale { partner_id } => (RecordedOutcome::Stale, Some(partner_id)),
        EventOutcome::Unusable { .. } => (RecordedOutcome::Unusable, None),
        EventOutcome::Duplicate | EventOutcome::NotOurs | EventOutcome::Ignored => return Ok(outcome),
    };
    let fresh = record_only(store, source, recorded, partner_id, now).await?;
    Ok(if fresh { outcome } else { EventOutcome::Duplicate })
}

/// Whether the event was recorded before (handled, whatever became of it).
pub(crate) async fn seen_before(store: &Store, source: &EventSource) -> Result<bool, UseCaseError> {
    Ok(store.stripe_event_outcome(&source.id).await?.is_some())
}
