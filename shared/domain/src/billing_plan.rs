//! What one Stripe billing event does to a partner: the invoice record it writes and the partner
//! change (state, history, audit action, domain events) it decides. Pure: the webhook use-case reads
//! the partner, asks [`plan_billing_event`], and commits the plan with the event's id record.

use super::billing::{
    event_order, is_older_period, payment_failed, payment_succeeded, subscription_event, BillingEvent, DunningStep,
    EventStage, InvoiceFacts, PriceCatalog, SubscriptionChange, SubscriptionFacts,
};
use super::billing_start::{grant_billed_tier, BilledSubscription};
use super::dates::{BusinessCalendar, CalendarDate};
use super::history_and_audit::{Actor, AuditAction, HistoryEventType};
use super::invoice::{InvoiceRecord, InvoiceStatus};
use super::money::Cents;
use super::partner::{Note, Partner, PaymentStatus};
use super::partner_change::PartnerChange;
use super::stripe_subscription::StripeSubscriptionStatus;
use super::tier_switch::apply_scheduled_change;
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
/// A higher price set in Stripe (its dashboard, its customer portal), now paid: the higher tier is
/// granted by the money, from this period (the term stays).
fn paid_price_upgrade(
    partner: &Partner,
    invoice_tier: Option<crate::tier::Tier>,
    facts: &InvoiceFacts,
    now: Timestamp,
) -> Option<Partner> {
    let tier = invoice_tier.filter(|tier| *tier > partner.engagement_tier && partner.engagement_tier.is_paid())?;
    if !partner.has_live_stripe_subscription() || facts.amount_paid.get() <= 0 {
        return None;
    }
    let mut after = partner.clone();
    after.apply_tier(tier, now);
    after.last_paid_tier = Some(tier);
    after.updated_at = now;
    Some(after)
}

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
            partner.company_name.as_str(),
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
            // The first payment of a billing start is what grants its tier.
            let invoice_tier = facts.price_id.as_deref().and_then(|p| rules.prices.tier_of(p));
            let granted = first_payment_grant(partner, facts, rules.calendar.today(now), now)
                .or_else(|| apply_scheduled_change(partner, invoice_tier, now))
                .or_else(|| paid_price_upgrade(partner, invoice_tier, facts, now));
            let (after, renewal) = payment_succeeded(granted.as_ref().unwrap_or(partner), facts, rules.calendar, now);
            let tier = invoice.tier.unwrap_or(after.engagement_tier);
            let grant_note = granted.as_ref().map(|_| {
                let what = if partner.pending_billing.is_some() {
                    "First invoice"
                } else {
                    "Invoice"
                };
                format!(
                    "{what} {} paid: {} from this period",
                    invoice.invoice_number.as_deref().unwrap_or(&invoice.stripe_invoice_id),
                    after.engagement_tier.label()
                )
            });
            let grant_event = granted.as_ref().map(|_| tier_event(partner, &after));
            let mut events: Vec<EventBody> = grant_event
                .map(|event_type| {
                    EventBody::TierChanged(TierChanged::between(
                        partner,
                        &after,
                        event_type,
                        Actor::Stripe,
                        grant_note.clone(),
                    ))
                })
                .into_iter()
                .collect();
            events.push(EventBody::PaymentSucceeded(PaymentSucceeded {
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
            }));
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
            let renewal_note = renewal.map(|term| {
                format!(
                    "Renewed by payment of invoice {}: term {} to {}",
                    invoice.invoice_number.as_deref().unwrap_or(&invoice.stripe_invoice_id),
                    term.start,
                    term.end
                )
            });
            let note = grant_note.or(renewal_note).and_then(|text| Note::parse(&text).ok());
            BillingPlan {
                invoice: Some(invoice),
                change: Some(PartnerChange {
                    stripe_action: None,
                    after,
                    history: grant_event.or(renewal.map(|_| HistoryEventType::Renewal)),
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

/// How a tier granted or moved by Stripe is recorded in the history.
fn tier_event(before: &Partner, after: &Partner) -> HistoryEventType {
    if after.engagement_tier < before.engagement_tier {
        HistoryEventType::Downgrade
    } else {
        HistoryEventType::Upgrade
    }
}

/// The partner once the first invoice of its billing start is paid: the claimed tier, granted. `None`
/// when no billing start waits for this invoice's subscription.
fn first_payment_grant(
    partner: &Partner,
    facts: &InvoiceFacts,
    today: CalendarDate,
    now: Timestamp,
) -> Option<Partner> {
    let pending = partner.pending_billing.as_ref()?;
    let subscription_id = facts.subscription_id.clone()?;
    if pending
        .subscription_id
        .as_ref()
        .is_some_and(|id| *id != subscription_id)
    {
        return None;
    }
    let subscription = BilledSubscription {
        customer_id: facts.customer_id.clone(),
        subscription_id,
        status: StripeSubscriptionStatus::Active,
        collection: pending.collection,
    };
    grant_billed_tier(partner, pending.tier, &subscription, PaymentStatus::Current, today, now)
}

/// A billing start's subscription whose first invoice was never paid (Stripe expired or deleted
/// it): the claim is dropped, nothing is granted, and the history says so.
fn unpaid_start_ended(
    partner: &Partner,
    facts: &SubscriptionFacts,
    deleted: bool,
    created: Timestamp,
) -> Option<PartnerChange> {
    let pending = partner.pending_billing.as_ref()?;
    if pending.subscription_id.as_deref() != Some(facts.subscription_id.as_str()) {
        return None;
    }
    if !(deleted || facts.status == StripeSubscriptionStatus::IncompleteExpired) {
        return None; // it waits for its first invoice's payment
    }
    let mut after = partner.clone();
    after.pending_billing = None;
    after.payment_status = None;
    after.stripe_subscription_synced_at = Some(created);
    Some(PartnerChange {
        after,
        history: Some(HistoryEventType::Cancellation),
        note: Note::parse(&format!(
            "First invoice never paid: Stripe subscription {} ended ({}); {} was not granted",
            facts.subscription_id,
            facts.status,
            pending.tier.label()
        ))
        .ok(),
        audit_action: AuditAction::StripeSubscriptionSynced,
        events: vec![],
        stripe_action: None,
    })
}

/// A subscription event's change; `None` when it is older than what the partner reflects or about a
/// subscription the partner no longer has.
/// A pause Stripe ended by itself (collection running again before the pause's end: cleared in its
/// dashboard, or its own resume): the partner resumes here too, giving back the unused span. Only an
/// event newer than Stripe's confirmation of the pause counts (an older one shows the state before
/// it), and not while a pause or resume of ours is still on its way to Stripe.
fn pause_ended_by_stripe(
    partner: &Partner,
    facts: &SubscriptionFacts,
    deleted: bool,
    created: Timestamp,
    today: CalendarDate,
    now: Timestamp,
) -> Option<PartnerChange> {
    let confirmed = partner.pause_confirmed_at?;
    let ours_pending = partner
        .stripe_sync
        .as_ref()
        .is_some_and(|sync| matches!(sync.action, super::stripe_sync::StripeAction::PauseCollection { .. }));
    let paused_ahead = partner.paused_until.is_some_and(|until| until > today);
    if deleted || facts.collection_paused || created <= confirmed || ours_pending || !paused_ahead {
        return None;
    }
    let mut after = crate::subscription::resume(partner, today, now).ok()?;
    after.stripe_subscription_synced_at = Some(created);
    Some(PartnerChange {
        after,
        history: Some(HistoryEventType::Resume),
        note: Note::parse("Collection resumed in Stripe before the pause's end; the unused span is given back").ok(),
        audit_action: AuditAction::SubscriptionResumed,
        events: vec![],
        stripe_action: None,
    })
}

fn subscription_change(
    partner: &Partner,
    facts: &SubscriptionFacts,
    deleted: bool,
    created: Timestamp,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> Option<PartnerChange> {
    if partner
        .pending_billing
        .as_ref()
        .and_then(|p| p.subscription_id.as_deref())
        == Some(facts.subscription_id.as_str())
    {
        return unpaid_start_ended(partner, facts, deleted, created);
    }
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
    if let Some(resumed) = pause_ended_by_stripe(partner, facts, deleted, created, today, now) {
        return Some(resumed);
    }
    let (mut after, change) = subscription_event(partner, facts, deleted, today, now)
        .unwrap_or_else(|| (partner.clone(), SubscriptionChange::StatusSynced));
    after.stripe_subscription_synced_at = Some(created);
    // A subscription made in Stripe's dashboard rather than through a billing start becomes the
    // partner's subscription with its first event that shows it billing.
    if after.stripe_subscription_id.is_none() && facts.status.bills() {
        after.stripe_subscription_id = Some(facts.subscription_id.clone());
    }
    // A price lowered in Stripe's dashboard (or its customer portal) moves the paid tier down to
    // match at once (the term stays). A higher price grants nothing yet: like our own upgrades, the
    // higher tier comes with the paid invoice at that price (`paid_price_upgrade`). (A change we
    // scheduled ourselves is Stripe's echo of it: it applies when its period is paid.)
    let repriced = (!deleted && after.engagement_tier.is_paid())
        .then(|| facts.price_id.as_deref().and_then(|price| rules.prices.tier_of(price)))
        .flatten()
        .filter(|tier| *tier < after.engagement_tier)
        .filter(|tier| after.scheduled_tier_change.map(|s| s.tier) != Some(*tier));
    if let Some(tier) = repriced {
        after.apply_tier(tier, now);
        after.last_paid_tier = Some(tier);
        let event_type = tier_event(partner, &after);
        let note = Note::parse(&format!("Price changed in Stripe to {}", tier.label())).ok();
        let events = vec![EventBody::TierChanged(TierChanged::between(
            partner,
            &after,
            event_type,
            Actor::Stripe,
            note.as_ref().map(ToString::to_string),
        ))];
        return Some(PartnerChange {
            after,
            history: Some(event_type),
            note,
            audit_action: AuditAction::StripeSubscriptionSynced,
            events,
            stripe_action: None,
        });
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
    use crate::billing::tests::{gold, invoice, now, subscription, ts};
    use crate::partner::{PaymentStatus, SubscriptionStatus};
    use crate::tier::Tier;
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

    /// A gold partner billed as `sub_1`, paused for two months from `now()`, the pause confirmed by
    /// Stripe at `confirmed`.
    fn paused_gold(confirmed: &str) -> Partner {
        let mut p = gold(date(2027, 6, 1), true);
        p.stripe_customer_id = Some("cus_1".into());
        p.stripe_subscription_id = Some("sub_1".into());
        p.stripe_subscription_status = Some("active".into());
        let mut paused = crate::subscription::pause(&p, 2, date(2026, 11, 24), now()).unwrap();
        paused.pause_confirmed_at = Some(ts(confirmed));
        paused
    }

    #[test]
    fn a_pause_stripe_ended_resumes_the_partner_here() {
        let paused = paused_gold("2026-11-24T12:00:00Z");
        let until = paused.paused_until.unwrap();
        let running = BillingEvent::SubscriptionUpdated(subscription("active", false));
        let resumed = plan(&paused, &running, "2026-11-24T12:05:00Z")
            .change
            .expect("collection running again ends the pause");
        assert_eq!(resumed.history, Some(HistoryEventType::Resume));
        assert_eq!(resumed.after.paused_until, None);
        assert_eq!(resumed.after.pause_confirmed_at, None);
        // The unused span is given back: the term's end moves back by it.
        let unused = until - date(2026, 11, 24);
        assert_eq!(
            resumed.after.subscription_end_date,
            paused.subscription_end_date.map(|end| end.checked_sub(unused).unwrap())
        );

        // An event from before Stripe confirmed the pause shows the state before it: no resume.
        let older = plan(&paused, &running, "2026-11-24T11:59:00Z");
        assert!(older
            .change
            .as_ref()
            .is_none_or(|c| c.after.paused_until == Some(until)));
        // Still paused in Stripe: nothing.
        let mut still = subscription("active", false);
        still.collection_paused = true;
        let still = plan(
            &paused,
            &BillingEvent::SubscriptionUpdated(still),
            "2026-11-24T12:05:00Z",
        );
        assert!(still
            .change
            .as_ref()
            .is_none_or(|c| c.after.paused_until == Some(until)));
        // A pause or resume of ours still on its way to Stripe decides, not Stripe's older state.
        let mut ours = paused.clone();
        ours.stripe_sync = Some(crate::stripe_sync::StripeSync {
            subscription_id: "sub_1".into(),
            action: crate::stripe_sync::StripeAction::PauseCollection { until: None },
            requested_version: ours.version,
            requested_at: now(),
            attempts: 0,
            last_error: None,
        });
        let pending = plan(&ours, &running, "2026-11-24T12:05:00Z");
        assert!(pending
            .change
            .as_ref()
            .is_none_or(|c| c.after.paused_until == Some(until)));
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
