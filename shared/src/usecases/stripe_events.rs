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

use super::apply_change::{conflict_backoff, partner_write, Change, MAX_WRITE_ATTEMPTS};
use super::error::UseCaseError;
use crate::domain::billing::{
    event_order, is_older_period, payment_failed, payment_succeeded, subscription_event, DunningStep, EventStage,
    InvoiceFacts, PriceCatalog, SubscriptionChange, SubscriptionFacts,
};
use crate::domain::dates::BusinessCalendar;
use crate::domain::invoice::{InvoiceRecord, InvoiceStatus};
use crate::domain::partner::{Note, Partner, PartnerId};
use crate::domain::records::{Actor, AuditAction, HistoryEventType};
use crate::events::{
    EventBody, PaymentFailed, PaymentFailureDowngrade, PaymentSucceeded, SubscriptionCancelled, SubscriptionRenewed,
    TierChanged,
};
use crate::ids::next_id;
use crate::store::billing::{BillingCommit, BillingWrite, RecordedOutcome, StripeEventRecord};
use crate::store::{Store, StoreError};
use crate::stripe::webhook::{BillingEvent, StripeEvent};
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

/// What the billing rules need besides the event.
pub struct BillingRules<'a> {
    pub calendar: &'a BusinessCalendar,
    pub prices: &'a PriceCatalog,
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
async fn record_only(
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
        let plan = plan(&partner, &billing, event, rules, now);
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

/// What one event writes: the invoice (if it is about one) and the partner change (if any).
struct Plan {
    invoice: Option<InvoiceRecord>,
    change: Option<Change>,
    amount_paid: Option<crate::domain::money::Cents>,
}

fn plan(
    partner: &Partner,
    billing: &BillingEvent,
    event: &StripeEvent,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> Plan {
    let invoice_record = |facts: &InvoiceFacts, status, stage| {
        let tier = facts.price_id.as_deref().and_then(|p| rules.prices.tier_of(p));
        InvoiceRecord::from_facts(
            &partner.id,
            facts,
            status,
            tier,
            rules.calendar,
            event_order(event.created, stage),
        )
    };
    match billing {
        BillingEvent::InvoiceIssued(facts) => Plan {
            invoice: Some(invoice_record(facts, InvoiceStatus::Pending, EventStage::Issued)),
            change: None,
            amount_paid: None,
        },
        BillingEvent::InvoicePaid(facts) => {
            let invoice = invoice_record(facts, InvoiceStatus::Paid, EventStage::Paid);
            let (after, renewal) = payment_succeeded(partner, facts, rules.calendar, now);
            let tier = invoice.tier.unwrap_or(after.engagement_tier);
            let mut events = vec![EventBody::PaymentSucceeded(PaymentSucceeded {
                invoice_id: facts.invoice_id.clone(),
                invoice_number: facts.number.clone(),
                amount_paid_cents: facts.amount_paid,
                tier,
                tier_label: tier.label().to_owned(),
                period_start: invoice.period_start,
                period_end: invoice.period_end,
                paid_at: facts.paid_at.unwrap_or(facts.created),
                paid_through: after.paid_through.unwrap_or(invoice.period_end),
                hosted_invoice_url: facts.hosted_invoice_url.clone(),
                invoice_pdf_url: facts.invoice_pdf.clone(),
            })];
            if let Some(term) = renewal {
                events.push(EventBody::SubscriptionRenewed(SubscriptionRenewed {
                    tier: after.engagement_tier,
                    tier_label: after.engagement_tier.label().to_owned(),
                    monthly_price_cents: after.engagement_tier.info().monthly_price_cents,
                    subscription_start_date: term.start,
                    subscription_end_date: term.end,
                    renewed_by: Actor::Stripe,
                }));
            }
            let note = renewal.and_then(|term| {
                Note::parse(&format!(
                    "Renewed by payment of invoice {}: term {} to {}",
                    invoice.invoice_number.as_deref().unwrap_or(&invoice.stripe_invoice_id),
                    term.start,
                    term.end
                ))
                .ok()
            });
            Plan {
                invoice: Some(invoice),
                change: Some(Change {
                    after,
                    history: renewal.map(|_| HistoryEventType::Renewal),
                    note,
                    audit_action: AuditAction::PaymentSucceeded,
                    events,
                }),
                amount_paid: Some(facts.amount_paid),
            }
        }
        BillingEvent::InvoicePaymentFailed(facts) => {
            let invoice = invoice_record(facts, InvoiceStatus::Failed, EventStage::PaymentFailed);
            if is_older_period(partner, facts) {
                return Plan {
                    invoice: Some(invoice),
                    change: None,
                    amount_paid: None,
                };
            }
            let failure = payment_failed(partner, facts, now);
            let tier = invoice.tier.unwrap_or(partner.engagement_tier);
            let (history, note, audit_action, events) = match failure.step {
                DunningStep::Downgrade if failure.downgraded => {
                    let note = Note::parse(&format!("Failed after {} attempts", facts.attempt_count)).ok();
                    let events = vec![
                        EventBody::PaymentFailureDowngrade(PaymentFailureDowngrade {
                            invoice_id: facts.invoice_id.clone(),
                            attempts: facts.attempt_count,
                            amount_due_cents: facts.amount_due,
                            downgraded_tier: partner.engagement_tier,
                            downgraded_tier_label: partner.engagement_tier.label().to_owned(),
                            pcr_before: partner.final_pcr_score,
                            pcr_after: failure.after.final_pcr_score,
                            hosted_invoice_url: facts.hosted_invoice_url.clone(),
                        }),
                        EventBody::TierChanged(TierChanged::between(
                            partner,
                            &failure.after,
                            HistoryEventType::PaymentFailureDowngrade,
                            Actor::Stripe,
                            note.as_ref().map(ToString::to_string),
                        )),
                    ];
                    (
                        Some(HistoryEventType::PaymentFailureDowngrade),
                        note,
                        AuditAction::PaymentFailureDowngrade,
                        events,
                    )
                }
                DunningStep::Downgrade => (None, None, AuditAction::PaymentFailed, vec![]),
                DunningStep::FriendlyReminder | DunningStep::UrgentNotice => (
                    None,
                    None,
                    AuditAction::PaymentFailed,
                    vec![EventBody::PaymentFailed(PaymentFailed {
                        invoice_id: facts.invoice_id.clone(),
                        attempt: facts.attempt_count.max(1),
                        amount_due_cents: facts.amount_due,
                        tier,
                        tier_label: tier.label().to_owned(),
                        next_attempt_at: facts.next_payment_attempt,
                        hosted_invoice_url: facts.hosted_invoice_url.clone(),
                    })],
                ),
            };
            Plan {
                invoice: Some(invoice),
                change: Some(Change {
                    after: failure.after,
                    history,
                    note,
                    audit_action,
                    events,
                }),
                amount_paid: None,
            }
        }
        BillingEvent::SubscriptionUpdated(facts) => Plan {
            invoice: None,
            change: subscription_change(partner, facts, false, event, rules, now),
            amount_paid: None,
        },
        BillingEvent::SubscriptionDeleted(facts) => Plan {
            invoice: None,
            change: subscription_change(partner, facts, true, event, rules, now),
            amount_paid: None,
        },
        BillingEvent::Ignored => Plan {
            invoice: None,
            change: None,
            amount_paid: None,
        },
    }
}

/// A subscription event's change; `None` when it is older than what the partner reflects or about a
/// subscription the partner no longer has.
fn subscription_change(
    partner: &Partner,
    facts: &SubscriptionFacts,
    deleted: bool,
    event: &StripeEvent,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> Option<Change> {
    if partner
        .stripe_subscription_id
        .as_deref()
        .is_some_and(|current| current != facts.subscription_id)
    {
        return None;
    }
    let newer = match partner.stripe_subscription_synced_at {
        None => true,
        Some(synced) => event.created > synced || (deleted && event.created == synced),
    };
    if !newer {
        return None;
    }
    let today = rules.calendar.today(now);
    let (mut after, change) = subscription_event(partner, facts, deleted, today, now)
        .unwrap_or_else(|| (partner.clone(), SubscriptionChange::StatusSynced));
    after.stripe_subscription_synced_at = Some(event.created);
    // A subscription made in Stripe's dashboard rather than through a billing start becomes the
    // partner's subscription with its first event.
    if after.stripe_subscription_id.is_none() {
        after.stripe_subscription_id = Some(facts.subscription_id.clone());
    }
    let cancelled = |immediately: bool| {
        EventBody::SubscriptionCancelled(SubscriptionCancelled {
            cancelled_tier: partner.engagement_tier,
            cancelled_tier_label: partner.engagement_tier.label().to_owned(),
            immediately,
            access_until: if immediately {
                None
            } else {
                partner.subscription_end_date
            },
            reason: Some("cancelled in Stripe".to_owned()),
            cancelled_by: Actor::Stripe,
        })
    };
    let (history, note, events) = match change {
        SubscriptionChange::Ended => {
            let note = Note::parse("Stripe subscription ended").ok();
            let events = vec![
                cancelled(true),
                EventBody::TierChanged(TierChanged::between(
                    partner,
                    &after,
                    HistoryEventType::Cancellation,
                    Actor::Stripe,
                    note.as_ref().map(ToString::to_string),
                )),
            ];
            (Some(HistoryEventType::Cancellation), note, events)
        }
        SubscriptionChange::CancelsAtTermEnd => (
            Some(HistoryEventType::Cancellation),
            Note::parse("Set in Stripe to cancel at the end of the term").ok(),
            vec![cancelled(false)],
        ),
        SubscriptionChange::CancellationWithdrawn => (
            Some(HistoryEventType::Reactivation),
            Note::parse("Scheduled cancellation withdrawn in Stripe").ok(),
            vec![],
        ),
        SubscriptionChange::StatusSynced => (None, None, vec![]),
    };
    Some(Change {
        after,
        history,
        note,
        audit_action: AuditAction::StripeSubscriptionSynced,
        events,
    })
}
