//! What one Stripe billing event does to a partner: the invoice record it writes and the partner
//! change (state, history, audit action, domain events) it decides, one plan per kind of event
//! (`invoice_paid`, `payment_failed`, `subscription`). Pure: the billing-event use-case reads the
//! partner, asks [`plan_billing_event`], and commits the plan with the event's id record.

use super::billing::{event_order, BillingEvent, EventStage, InvoiceFacts, PriceCatalog};
use super::dates::BusinessCalendar;
use super::history_and_audit::HistoryEventType;
use super::invoice::{InvoiceRecord, InvoiceStatus};
use super::money::Cents;
use super::partner::Partner;
use super::partner_change::PartnerChange;
use jiff::Timestamp;

mod invoice_paid;
mod payment_failed;
mod subscription;

/// What the billing rules need besides the event.
pub struct BillingRules<'a> {
    pub calendar: &'a BusinessCalendar,
    pub prices: &'a PriceCatalog,
}

/// What one event writes: the invoice (if it is about one) and the partner change (if any).
#[derive(Debug, Clone, Default)]
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
    let record = |facts: &InvoiceFacts, status, stage| invoice_record(partner, facts, status, stage, created, rules);
    match billing {
        BillingEvent::InvoiceIssued(facts) => BillingPlan {
            invoice: Some(record(facts, InvoiceStatus::Pending, EventStage::Issued)),
            ..BillingPlan::default()
        },
        BillingEvent::InvoicePaid(facts) => {
            let invoice = record(facts, InvoiceStatus::Paid, EventStage::Paid);
            invoice_paid::plan(partner, facts, invoice, rules, now)
        }
        BillingEvent::InvoicePaymentFailed(facts) => {
            let invoice = record(facts, InvoiceStatus::Failed, EventStage::PaymentFailed);
            payment_failed::plan(partner, facts, invoice, now)
        }
        BillingEvent::SubscriptionUpdated(facts) => BillingPlan {
            change: subscription::change(partner, facts, false, created, rules, now),
            ..BillingPlan::default()
        },
        BillingEvent::SubscriptionDeleted(facts) => BillingPlan {
            change: subscription::change(partner, facts, true, created, rules, now),
            ..BillingPlan::default()
        },
        BillingEvent::Ignored => BillingPlan::default(),
    }
}

/// The invoice record an event about `facts` writes, ordered by the event.
fn invoice_record(
    partner: &Partner,
    facts: &InvoiceFacts,
    status: InvoiceStatus,
    stage: EventStage,
    created: Timestamp,
    rules: &BillingRules<'_>,
) -> InvoiceRecord {
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
}

/// How a tier granted or moved by Stripe is recorded in the history.
fn tier_event(before: &Partner, after: &Partner) -> HistoryEventType {
    if after.engagement_tier < before.engagement_tier {
        HistoryEventType::Downgrade
    } else {
        HistoryEventType::Upgrade
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::tests::{gold, invoice, now, subscription, ts};
    use crate::events::EventBody;
    use crate::history_and_audit::AuditAction;
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
