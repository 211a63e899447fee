//! What one Stripe billing event does to a partner: the invoice record it writes and the partner
//! change (state, history, audit action, domain events) it decides. Pure: the webhook use-case reads
//! the partner, asks [`plan_billing_event`], and commits the plan with the event's id record.

use super::billing::{
    event_order, is_older_period, payment_failed, payment_succeeded, subscription_event, BillingEvent, DunningStep,
    EventStage, InvoiceFacts, PriceCatalog, SubscriptionChange, SubscriptionFacts,
};
use super::dates::BusinessCalendar;
use super::history_and_audit::{Actor, AuditAction, HistoryEventType};
use super::invoice::{InvoiceRecord, InvoiceStatus};
use super::money::Cents;
use super::partner::{Note, Partner};
use super::partner_change::PartnerChange;
use crate::events::{
    EventBody, PaymentFailed, PaymentFailureDowngrade, PaymentSucceeded, SubscriptionCancelled, SubscriptionRenewed,
    TierChanged,
};
use jiff::Timestamp;

/// What the billing rules need besides the event.
pub struct BillingRules<'a> {
    pub calendar: &'a BusinessCalendar,
    pub prices: &'a PriceCatalog,
}

/// What one event writes: the invoice (if it is about one) and the partner change (if any).
#[derive(Debug, Clone)]
pub struct BillingPlan {
    pub invoice: Option<InvoiceRecord>,
    pub change: Option<PartnerChange>,
    /// The amount a paid invoice brought in (written on the history entry).
    pub amount_paid: Option<Cents>,
}

/// What `billing` (a Stripe event created at `created`) does to `partner`: nothing at all (both `None`)
/// when the event is older than what the partner and its invoice reflect.
pub fn plan_billing_event(
    partner: &Partner,
    billing: &BillingEvent,
    created: Timestamp,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> BillingPlan {
    let invoice_record = |facts: &InvoiceFacts, status, stage| {
        let tier = facts.price_id.as_deref().and_then(|p| rules.prices.tier_of(p));
        InvoiceRecord::from_facts(
            &partner.id,
            facts,
            status,
            tier,
            rules.calendar,
            event_order(created, stage),
        )
    };
    match billing {
        BillingEvent::InvoiceIssued(facts) => BillingPlan {
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
            BillingPlan {
                invoice: Some(invoice),
                change: Some(PartnerChange {
                    stripe_action: None,
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
                return BillingPlan {
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
            BillingPlan {
                invoice: Some(invoice),
                change: Some(PartnerChange {
                    stripe_action: None,
                    after: failure.after,
                    history,
                    note,
                    audit_action,
                    events,
                }),
                amount_paid: None,
            }
        }
        BillingEvent::SubscriptionUpdated(facts) => BillingPlan {
            invoice: None,
            change: subscription_change(partner, facts, false, created, rules, now),
            amount_paid: None,
        },
        BillingEvent::SubscriptionDeleted(facts) => BillingPlan {
            invoice: None,
            change: subscription_change(partner, facts, true, created, rules, now),
            amount_paid: None,
        },
        BillingEvent::Ignored => BillingPlan {
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
    created: Timestamp,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> Option<PartnerChange> {
    if partner
        .stripe_subscription_id
        .as_deref()
        .is_some_and(|current| current != facts.subscription_id)
    {
        return None;
    }
    let newer = match partner.stripe_subscription_synced_at {
        None => true,
        Some(synced) => created > synced || (deleted && created == synced),
    };
    if !newer {
        return None;
    }
    let today = rules.calendar.today(now);
    let (mut after, change) = subscription_event(partner, facts, deleted, today, now)
        .unwrap_or_else(|| (partner.clone(), SubscriptionChange::StatusSynced));
    after.stripe_subscription_synced_at = Some(created);
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
    Some(PartnerChange {
        stripe_action: None,
        after,
        history,
        note,
        audit_action: AuditAction::StripeSubscriptionSynced,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::billing::tests::{gold, invoice, now, subscription, ts};
    use crate::domain::partner::{PaymentStatus, SubscriptionStatus};
    use crate::domain::tier::Tier;
    use jiff::civil::date;

    fn prices() -> PriceCatalog {
        PriceCatalog {
            gold: "price_gold".into(),
            platinum: "price_platinum".into(),
        }
    }

    fn plan(partner: &Partner, billing: &BillingEvent, created: &str) -> BillingPlan {
        let calendar = BusinessCalendar::utc();
        let prices = prices();
        let rules = BillingRules {
            calendar: &calendar,
            prices: &prices,
        };
        plan_billing_event(partner, billing, ts(created), &rules, now())
    }

    fn event_types(change: &PartnerChange) -> Vec<&'static str> {
        change.events.iter().map(EventBody::detail_type).collect()
    }

    #[test]
    fn a_paid_invoice_records_the_payment_and_announces_it() {
        let partner = gold(date(2027, 6, 1), true);
        let facts = invoice("2026-11-24T00:00:00Z", "2026-12-24T00:00:00Z", 1);
        let plan = plan(&partner, &BillingEvent::InvoicePaid(facts), "2026-11-24T00:00:05Z");
        let invoice = plan.invoice.unwrap();
        assert_eq!((invoice.status, invoice.tier), (InvoiceStatus::Paid, Some(Tier::Gold)));
        assert_eq!(plan.amount_paid, Some(Cents(360_000)));
        let change = plan.change.unwrap();
        assert_eq!(change.audit_action, AuditAction::PaymentSucceeded);
        assert_eq!(change.after.payment_status, Some(PaymentStatus::Current));
        assert_eq!(event_types(&change), ["PaymentSucceeded"]);
    }

    #[test]
    fn the_third_failure_downgrades_with_history_and_both_events() {
        let partner = gold(date(2027, 6, 1), true);
        let facts = invoice("2026-11-24T00:00:00Z", "2026-12-24T00:00:00Z", 3);
        let plan = plan(
            &partner,
            &BillingEvent::InvoicePaymentFailed(facts),
            "2026-11-27T00:00:00Z",
        );
        assert_eq!(plan.invoice.unwrap().status, InvoiceStatus::Failed);
        let change = plan.change.unwrap();
        assert_eq!(change.after.engagement_tier, Tier::Free);
        assert_eq!(change.history, Some(HistoryEventType::PaymentFailureDowngrade));
        assert_eq!(change.note.as_ref().unwrap().as_str(), "Failed after 3 attempts");
        assert_eq!(event_types(&change), ["PaymentFailureDowngrade", "TierChanged"]);
    }

    #[test]
    fn a_first_failure_reminds_without_touching_the_tier() {
        let partner = gold(date(2027, 6, 1), true);
        let facts = invoice("2026-11-24T00:00:00Z", "2026-12-24T00:00:00Z", 1);
        let change = plan(
            &partner,
            &BillingEvent::InvoicePaymentFailed(facts),
            "2026-11-24T00:00:00Z",
        )
        .change
        .unwrap();
        assert_eq!(change.after.engagement_tier, Tier::Gold);
        assert_eq!(change.history, None);
        assert_eq!(event_types(&change), ["PaymentFailed"]);
    }

    #[test]
    fn subscription_events_apply_only_when_newer_and_about_the_partners_subscription() {
        let mut partner = gold(date(2027, 6, 1), true);
        partner.stripe_subscription_id = Some("sub_1".into());
        partner.stripe_subscription_synced_at = Some(ts("2026-11-24T10:00:00Z"));
        let deleted = BillingEvent::SubscriptionDeleted(subscription("canceled", false));
        assert!(
            plan(&partner, &deleted, "2026-11-24T09:59:59Z").change.is_none(),
            "older"
        );
        let ended = plan(&partner, &deleted, "2026-11-24T10:00:01Z").change.unwrap();
        assert_eq!(
            (ended.after.engagement_tier, ended.after.subscription_status),
            (Tier::Free, SubscriptionStatus::Cancelled)
        );
        assert_eq!(
            ended.after.stripe_subscription_synced_at,
            Some(ts("2026-11-24T10:00:01Z"))
        );
        assert_eq!(event_types(&ended), ["SubscriptionCancelled", "TierChanged"]);

        partner.stripe_subscription_id = Some("sub_other".into());
        assert!(
            plan(&partner, &deleted, "2026-11-24T11:00:00Z").change.is_none(),
            "another subscription"
        );
    }

    #[test]
    fn an_issued_invoice_is_recorded_as_pending_and_changes_nobody() {
        let partner = gold(date(2027, 6, 1), true);
        let facts = invoice("2026-11-24T00:00:00Z", "2026-12-24T00:00:00Z", 0);
        let plan = plan(&partner, &BillingEvent::InvoiceIssued(facts), "2026-11-24T00:00:00Z");
        assert_eq!(plan.invoice.unwrap().status, InvoiceStatus::Pending);
        assert!(plan.change.is_none());
    }
}
