//! Starting Stripe billing, as decisions over plain data: who may start it (one start at a time), and
//! what a partner looks like once money granted the paid tier.
//!
//! A paid tier is granted for money. `charge_automatically`: the partner keeps its tier with
//! `payment_status = pending` until the first invoice's `invoice.paid` (`domain::billing_events`);
//! a subscription whose first invoice is never paid (`incomplete_expired`) grants nothing.
//! `send_invoice` (B2B invoicing): the tier is granted at once, `payment_status = awaiting_payment`
//! with the invoice's due date.

use super::dates::CalendarDate;
use super::events::{EventBody, TierChanged};
use super::history_and_audit::{Actor, AuditAction, HistoryEventType};
use super::partner::Note;
use super::partner::{Partner, PaymentStatus};
use super::partner_change::PartnerChange;
use super::stripe_subscription::StripeSubscriptionStatus;
use super::tier::Tier;
use super::tier_change::{plan_tier_change, TierChangeRequest};
pub use crate::partner::billing_state::{
    Collection, FirstPayment, PendingBilling, StartRequest, INVOICE_DAYS_UNTIL_DUE,
};
use jiff::{SignedDuration, Span, Timestamp};

/// How long a claimed billing start belongs to the request that claimed it; after that (its Lambda
/// timed out or died) the same start may be resumed, with the same idempotency key.
pub const CLAIM_LEASE: SignedDuration = SignedDuration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartRefusal {
    #[error("partner {partner} is already billed through Stripe subscription {subscription}; cancel it before starting another")]
    AlreadyBilled { partner: String, subscription: String },
    #[error("partner {partner} already has a billing start for {tier} under way since {since}; wait for it, or for its first payment")]
    InProgress {
        partner: String,
        tier: Tier,
        since: Timestamp,
    },
}

/// What a billing start request may do.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one value per request, matched at once: boxing would buy nothing
pub enum Claim {
    /// A new start: the partner with its claim (to commit, guarded by the version read).
    New(Partner),
    /// The same start, left unfinished by a request that died: carry on with its key.
    Resume(PendingBilling),
}

/// Decides whether a billing start of `tier` may go ahead for `partner` at `now`.
pub fn claim_billing_start(
    partner: &Partner,
    tier: Tier,
    collection: Collection,
    request: StartRequest,
    now: Timestamp,
) -> Result<Claim, StartRefusal> {
    if partner.has_live_stripe_subscription() {
        return Err(StartRefusal::AlreadyBilled {
            partner: partner.id.to_string(),
            subscription: partner.stripe_subscription_id.clone().unwrap_or_default(),
        });
    }
    if let Some(pending) = &partner.pending_billing {
        let same = pending.tier == tier && pending.collection == collection;
        let abandoned = now.duration_since(pending.requested_at) > CLAIM_LEASE;
        if same && abandoned && pending.subscription_id.is_none() {
            return Ok(Claim::Resume(pending.clone()));
        }
        return Err(StartRefusal::InProgress {
            partner: partner.id.to_string(),
            tier: pending.tier,
            since: pending.requested_at,
        });
    }
    let mut after = partner.clone();
    after.pending_billing = Some(PendingBilling {
        tier,
        collection,
        requested_version: partner.version + 1,
        requested_at: now,
        subscription_id: None,
        request: Some(request),
    });
    after.updated_at = now;
    Ok(Claim::New(after))
}

/// Where a billing start's subscription stands in Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledSubscription {
    pub customer_id: String,
    pub subscription_id: String,
    /// How it collects.
    pub collection: Collection,
    /// Stripe's status.
    pub status: StripeSubscriptionStatus,
}

/// The tier's term a billing start plans: its default term from `today` (the current term when the
/// partner already has that tier); `None` when it cannot be planned.
fn billed_term(partner: &Partner, tier: Tier, today: CalendarDate, now: Timestamp) -> Option<Partner> {
    let request = TierChangeRequest {
        tier,
        start: None,
        end: None,
        reason: None,
    };
    match plan_tier_change(partner, &request, today, now).ok()? {
        Some(plan) => Some(plan.after),
        None => Some(partner.clone()),
    }
}

/// The day the term a billing start of `tier` plans ends (Stripe's `cancel_at` without auto-renewal).
pub fn billed_term_end(partner: &Partner, tier: Tier, today: CalendarDate) -> Option<CalendarDate> {
    billed_term(partner, tier, today, Timestamp::UNIX_EPOCH)?.subscription_end_date
}

/// `partner` once money granted `tier` through `subscription`: the tier at its default term (the
/// current term when it already has that tier), the Stripe ids, `payment`, the claim cleared.
/// `None` when the tier's term cannot be planned (a term that cannot be computed).
pub fn grant_billed_tier(
    partner: &Partner,
    tier: Tier,
    subscription: &BilledSubscription,
    payment: PaymentStatus,
    today: CalendarDate,
    now: Timestamp,
) -> Option<Partner> {
    let mut after = billed_term(partner, tier, today, now)?;
    after.stripe_customer_id = Some(subscription.customer_id.clone());
    after.stripe_subscription_id = Some(subscription.subscription_id.clone());
    after.stripe_subscription_status = Some(subscription.status.clone());
    after.collection = Some(subscription.collection);
    after.stripe_subscription_synced_at = None;
    after.pending_billing = None;
    after.payment_status = Some(payment);
    after.payment_due_date = (payment == PaymentStatus::AwaitingPayment)
        .then(|| {
            today
                .checked_add(Span::new().days(i64::from(INVOICE_DAYS_UNTIL_DUE)))
                .ok()
        })
        .flatten();
    after.updated_at = now;
    Some(after)
}

/// The history event and `TierChanged` of a tier granted for money.
pub fn granted_change(before: &Partner, after: Partner, actor: &Actor, note: &str) -> PartnerChange {
    let event_type = match after.engagement_tier.cmp(&before.engagement_tier) {
        std::cmp::Ordering::Greater => Some(HistoryEventType::Upgrade),
        std::cmp::Ordering::Less => Some(HistoryEventType::Downgrade),
        std::cmp::Ordering::Equal => {
            (after.subscription_end_date != before.subscription_end_date).then_some(HistoryEventType::DatesChanged)
        }
    };
    let events = event_type
        .map(|t| {
            EventBody::TierChanged(TierChanged::between(
                before,
                &after,
                t,
                actor.clone(),
                Some(note.to_owned()),
            ))
        })
        .into_iter()
        .collect();
    PartnerChange {
        after,
        history: event_type,
        note: Note::parse(note).ok(),
        audit_action: AuditAction::BillingStarted,
        events,
        stripe_action: None,
    }
}

/// The restore's term could not be planned (a partner in a state no rule grants a term from).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the restored tier's term could not be planned")]
pub struct UnplannedRestore;

/// `tier` given back after the invoice dunning took it for was marked paid (history
/// `reactivation`): as a paid first invoice grants it where Stripe still bills (the term from today,
/// the same ids), else as an admin's change; `None` when the partner is paid again already.
pub fn restored_tier_change(
    partner: &Partner,
    tier: Tier,
    note: &str,
    actor: &Actor,
    today: CalendarDate,
    now: Timestamp,
) -> Result<Option<PartnerChange>, UnplannedRestore> {
    let request = TierChangeRequest {
        tier,
        start: None,
        end: None,
        reason: Note::parse(note).ok(),
    };
    if partner.engagement_tier.is_paid() {
        return Ok(None);
    }
    let after = match (&partner.stripe_customer_id, &partner.stripe_subscription_id) {
        (Some(customer_id), Some(subscription_id)) => {
            let subscription = BilledSubscription {
                customer_id: customer_id.clone(),
                subscription_id: subscription_id.clone(),
                status: partner
                    .stripe_subscription_status
                    .clone()
                    .unwrap_or(StripeSubscriptionStatus::Active),
                collection: partner.collection.unwrap_or(Collection::ChargeAutomatically),
            };
            // Granted as a paid first invoice grants it: the term from today, the same ids.
            let mut unbilled = partner.clone();
            unbilled.stripe_subscription_id = None;
            grant_billed_tier(&unbilled, tier, &subscription, PaymentStatus::Current, today, now)
        }
        _ => plan_tier_change(partner, &request, today, now)
            .ok()
            .flatten()
            .map(|plan| plan.after),
    }
    .ok_or(UnplannedRestore)?;
    let body = TierChanged::between(
        partner,
        &after,
        HistoryEventType::Reactivation,
        actor.clone(),
        Some(note.to_owned()),
    );
    Ok(Some(PartnerChange {
        stripe_action: None,
        after,
        history: Some(HistoryEventType::Reactivation),
        note: request.reason.clone(),
        audit_action: AuditAction::TierChanged,
        events: vec![EventBody::TierChanged(body)],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved_method() -> StartRequest {
        StartRequest {
            first_payment: FirstPayment::SavedMethod,
            cancel_at: None,
        }
    }
    use crate::partner::{sample_partner, SubscriptionStatus};
    use jiff::civil::date;
    use jiff::ToSpan;

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn subscription() -> BilledSubscription {
        BilledSubscription {
            customer_id: "cus_1".into(),
            subscription_id: "sub_1".into(),
            status: "active".into(),
            collection: Collection::ChargeAutomatically,
        }
    }

    #[test]
    fn one_start_at_a_time_whatever_the_tier() {
        let free = sample_partner(8_000, now());
        let Ok(Claim::New(claimed)) = claim_billing_start(
            &free,
            Tier::Gold,
            Collection::ChargeAutomatically,
            saved_method(),
            now(),
        ) else {
            panic!("a free partner may start billing");
        };
        let pending = claimed.pending_billing.clone().unwrap();
        assert_eq!(pending.requested_version, free.version + 1);
        assert_eq!(
            pending.subscription_key(&claimed.id),
            format!("subscription-p1-v{}", free.version + 1)
        );

        let soon = now() + 5.seconds();
        for tier in [Tier::Gold, Tier::Platinum] {
            assert!(matches!(
                claim_billing_start(&claimed, tier, Collection::ChargeAutomatically, saved_method(), soon),
                Err(StartRefusal::InProgress { .. })
            ));
        }
        // A claim left by a request that died may be resumed, with its own key, by the same start only.
        let later = now() + 61.seconds();
        assert_eq!(
            claim_billing_start(
                &claimed,
                Tier::Gold,
                Collection::ChargeAutomatically,
                saved_method(),
                later
            ),
            Ok(Claim::Resume(pending))
        );
        assert!(claim_billing_start(
            &claimed,
            Tier::Platinum,
            Collection::ChargeAutomatically,
            saved_method(),
            later
        )
        .is_err());

        let billed = grant_billed_tier(
            &free,
            Tier::Gold,
            &subscription(),
            PaymentStatus::Current,
            date(2026, 11, 24),
            now(),
        )
        .unwrap();
        assert!(matches!(
            claim_billing_start(&billed, Tier::Platinum, Collection::SendInvoice, saved_method(), later),
            Err(StartRefusal::AlreadyBilled { .. })
        ));
    }

    #[test]
    fn money_grants_the_tier_with_its_term() {
        let mut free = sample_partner(8_000, now());
        free.pending_billing = Some(PendingBilling {
            request: None,
            tier: Tier::Gold,
            collection: Collection::SendInvoice,
            requested_version: 2,
            requested_at: now(),
            subscription_id: None,
        });
        let today = date(2026, 11, 24);
        let granted = grant_billed_tier(
            &free,
            Tier::Gold,
            &subscription(),
            PaymentStatus::AwaitingPayment,
            today,
            now(),
        )
        .unwrap();
        assert_eq!(granted.engagement_tier, Tier::Gold);
        assert_eq!(granted.subscription_status, SubscriptionStatus::Active);
        assert_eq!(granted.subscription_start_date, Some(today));
        assert_eq!(granted.subscription_end_date, Some(date(2027, 11, 24)));
        assert_eq!(granted.payment_due_date, Some(date(2026, 12, 24)));
        assert_eq!(granted.pending_billing, None);
        assert_eq!(granted.stripe_subscription_id.as_deref(), Some("sub_1"));
        assert!(granted.has_live_stripe_subscription());
    }
}
