//! A billing event applied: find the partner by its Stripe customer, let the billing rules decide,
//! and write the event's id record, the invoice, the partner change with its history, audit and
//! outbox events in one transaction.
//!
//! - Exactly once: the event id record is part of that transaction, so a redelivery (or the
//!   reconciliation finding it again) fails it and changes nothing.
//! - Out of order: an invoice is written only by an event newer than the one it reflects (a
//!   condition on the invoice item); a subscription event only when newer than the partner's
//!   `stripe_subscription_synced_at`; an older invoice never moves the partner's payment status.
//!   An older event is recorded as `stale` and otherwise ignored.
//! - Calls per event: the customer link (GetItem), the partner (GetItem), the transaction: 3.

use super::apply_change::{conflict_backoff, partner_write, MAX_WRITE_ATTEMPTS};
use super::error::UseCaseError;
use super::event_records::{record, record_stale, unavailable, EventOutcome};
use crate::domain::billing::BillingEvent;
use crate::domain::billing_events::{plan_billing_event, BillingRules};
use crate::domain::history_and_audit::Actor;
use crate::ids::next_id;
use crate::store::billing::{BillingCommit, BillingWrite, RecordedOutcome};
use crate::store::Store;
use crate::stripe::webhook::EventSource;
use jiff::Timestamp;

/// Applies a billing event once: Stripe's (verified), or an admin marking an invoice paid.
#[tracing::instrument(skip_all, fields(stripe_event_id = %source.id, event_type = %source.event_type))]
pub async fn apply_billing_event(
    store: &Store,
    rules: &BillingRules<'_>,
    source: &EventSource,
    billing: &BillingEvent,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
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
        let plan = plan_billing_event(&partner, billing, source.created, rules, now);
        let stale = plan.invoice.is_none() && plan.change.is_none();
        if stale {
            return record_stale(store, source, partner_id, now).await;
        }
        let write = BillingWrite {
            stripe_event: Some(record(source, RecordedOutcome::Applied, Some(&partner_id))),
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
                return record_stale(store, source, partner_id, now).await;
            }
            BillingCommit::VersionConflict | BillingCommit::CustomerTaken => conflict_backoff(attempt).await,
        }
    }
    Err(UseCaseError::Conflict {
        detail: format!(
            "partner {partner_id} kept changing while Stripe event {} was applied; send it again",
            source.id
        ),
        current_version: None,
    })
}
