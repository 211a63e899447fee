//! Applying a verified Stripe event: find the partner by its Stripe customer, let the billing rules
//! decide, and write the event's id record, the invoice, the partner change with its history, audit
//! and outbox events in one transaction.
//!
//! - Exactly once: the event id record is part of that transaction, so a redelivery (or the
//!   reconciliation finding it again) fails it and changes nothing.
//! - Out of order: an invoice is written only by an event newer than the one it reflects (a
//!   condition on the invoice item); a subscription event only when newer than the partner's
//!   `stripe_subscription_synced_at`; an older invoice never moves the partner's payment status.
//!   An older event is recorded as `stale` and otherwise ignored.
//! - Calls per event: the customer link (GetItem), the partner (GetItem), the transaction: 3.

use super::apply_change::{conflict_backoff, partner_write, MAX_WRITE_ATTEMPTS};
use super::cards::{apply_card_event, note_card_changed};
use super::error::UseCaseError;
use super::portal::payment_method::adopt_confirmed_card;
use super::refund_events::apply_refund_event;
use crate::domain::billing::BillingEvent;
use crate::domain::billing_plan::plan_billing_event;
pub use crate::domain::billing_plan::BillingRules;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::PartnerId;
use crate::ids::next_id;
use crate::store::billing::{BillingCommit, BillingWrite, RecordedOutcome, StripeEventRecord};
use crate::store::{Store, StoreError};
use crate::stripe::client::StripeApi;
use crate::stripe::webhook::{StripeEvent, CARD_CHANGE_EVENT_TYPES, CARD_EVENT_TYPES, REFUND_EVENT_TYPES};
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

fn unavailable(err: StoreError) -> UseCaseError {
    match err {
        StoreError::Dynamo(why) => UseCaseError::Unavailable(why),
        other => other.into(),
    }
}

fn record(event: &StripeEvent, outcome: RecordedOutcome, partner_id: Option<&PartnerId>) -> StripeEventRecord {
    StripeEventRecord {
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        created: event.created,
        outcome,
        partner_id: partner_id.cloned(),
    }
}

/// Records an event that changes nothing; a duplicate if it was recorded before.
pub(crate) async fn record_only(
    store: &Store,
    event: &StripeEvent,
    outcome: RecordedOutcome,
    partner_id: Option<&PartnerId>,
    now: Timestamp,
) -> Result<bool, UseCaseError> {
    let write = BillingWrite {
        stripe_event: Some(record(event, outcome, partner_id)),
        ..BillingWrite::default()
    };
    let commit = store.commit_billing(write, next_id(), now).await.map_err(unavailable)?;
    Ok(commit == BillingCommit::Committed)
}

/// Records an event older than what the partner reflects.
async fn record_stale(
    store: &Store,
    event: &StripeEvent,
    partner_id: PartnerId,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    let fresh = record_only(store, event, RecordedOutcome::Stale, Some(&partner_id), now).await?;
    Ok(if fresh {
        EventOutcome::Stale { partner_id }
    } else {
        EventOutcome::Duplicate
    })
}

/// Handles a verified event, whatever it is about: a card confirmed in the portal
/// (`setup_intent.succeeded`) becomes the default through Stripe (`stripe`; without it the event is
/// acknowledged and ignored); refunds update their invoice (`usecases::refund_events`); everything
/// else goes through the billing rules.
pub async fn handle_stripe_event(
    store: &Store,
    rules: &BillingRules<'_>,
    stripe: Option<&StripeApi>,
    event: &StripeEvent,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    let kind = event.event_type.as_str();
    let outcome = match (kind, stripe) {
        ("setup_intent.succeeded", Some(stripe)) => adopt_confirmed_card(store, stripe, event, now).await?,
        (kind, _) if REFUND_EVENT_TYPES.contains(&kind) => apply_refund_event(store, stripe, event, now).await?,
        (kind, _) if CARD_EVENT_TYPES.contains(&kind) => return apply_card_event(store, event, now).await,
        _ => apply_stripe_event(store, rules, event, now).await?,
    };
    // The card on file may have changed: the partner's page reads it from Stripe once more (once
    // per event: a duplicate changes nothing).
    if let (true, EventOutcome::Applied { partner_id }) = (CARD_CHANGE_EVENT_TYPES.contains(&kind), &outcome) {
        note_card_changed(store, partner_id).await?;
    }
    Ok(outcome)
}

/// Applies `event` (already verified) once.
#[tracing::instrument(skip_all, fields(stripe_event_id = %event.id, event_type = %event.event_type))]
pub async fn apply_stripe_event(
    store: &Store,
    rules: &BillingRules<'_>,
    event: &StripeEvent,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    let billing = match event.billing_event() {
        Ok(BillingEvent::Ignored) => return Ok(EventOutcome::Ignored),
        Ok(billing) => billing,
        Err(reason) => {
            tracing::warn!(reason, "Stripe event without a field billing needs");
            let fresh = record_only(store, event, RecordedOutcome::Unusable, None, now).await?;
            return Ok(if fresh {
                EventOutcome::Unusable { reason }
            } else {
                EventOutcome::Duplicate
            });
        }
    };
    let Some(customer_id) = billing.customer_id() else {
        return Ok(EventOutcome::Ignored);
    };
    let partner_id = store.partner_for_customer(customer_id).await.map_err(unavailable)?;
    // Not recorded: should the customer become ours later (a billing start racing its first events),
    // a redelivery or the reconciliation applies the event then.
    let Some(partner_id) = partner_id else {
        return Ok(EventOutcome::NotOurs);
    };
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let Some(partner) = store.get_partner(&partner_id).await.map_err(unavailable)? else {
            return Ok(EventOutcome::NotOurs);
        };
        let plan = plan_billing_event(&partner, &billing, event.created, rules, now);
        let stale = plan.invoice.is_none() && plan.change.is_none();
        if stale {
            return record_stale(store, event, partner_id, now).await;
        }
        let write = BillingWrite {
            stripe_event: Some(record(event, RecordedOutcome::Applied, Some(&partner_id))),
            invoice: plan.invoice,
            customer_link: None,
            partner: plan.change.map(|change| {
                let (mut write, _) = partner_write(&partner, change, &Actor::Stripe, now);
                if let (Some((_, entry)), Some(amount)) = (write.history.as_mut(), plan.amount_paid) {
                    entry.amount_paid = Some(amount);
                }
                write
            }),
        };
        match store.commit_billing(write, next_id(), now).await.map_err(unavailable)? {
            BillingCommit::Committed => return Ok(EventOutcome::Applied { partner_id }),
            BillingCommit::DuplicateEvent => return Ok(EventOutcome::Duplicate),
            BillingCommit::StaleInvoice => {
                return record_stale(store, event, partner_id, now).await;
            }
            BillingCommit::VersionConflict | BillingCommit::CustomerTaken => conflict_backoff(attempt).await,
        }
    }
    Err(UseCaseError::Conflict {
        detail: format!(
            "partner {partner_id} kept changing while Stripe event {} was applied; send it again",
            event.id
        ),
        current_version: None,
    })
}
