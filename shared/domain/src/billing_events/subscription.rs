//! A subscription's update or deletion in Stripe: a billing start that never got paid, a pause
//! Stripe ended, a price lowered there, a cancellation set, withdrawn or carried out there.

use super::{tier_event, BillingRules};
use crate::billing::{subscription_event, SubscriptionChange, SubscriptionFacts};
use crate::dates::CalendarDate;
use crate::events::{EventBody, SubscriptionCancelled, TierChanged};
use crate::history_and_audit::{Actor, AuditAction, HistoryEventType};
use crate::partner::{Note, Partner};
use crate::partner_change::PartnerChange;
use crate::stripe_subscription::StripeSubscriptionStatus;
use jiff::Timestamp;

/// A subscription event's change; `None` when it is older than what the partner reflects or about a
/// subscription the partner no longer has.
pub(super) fn change(
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
    if let Some(repriced) = repriced_down(partner, after.clone(), facts, deleted, rules, now) {
        return Some(repriced);
    }
    let (history, note, events) = stripe_cancellation(partner, &after, change);
    Some(PartnerChange {
        stripe_action: None,
        after,
        history,
        note,
        audit_action: AuditAction::StripeSubscriptionSynced,
        events,
    })
}

/// A price lowered in Stripe's dashboard (or its customer portal) moves the paid tier down to match
/// at once (the term stays). A higher price grants nothing yet: like our own upgrades, the higher
/// tier comes with the paid invoice at that price (`invoice_paid`). (A change we scheduled ourselves
/// is Stripe's echo of it: it applies when its period is paid.)
fn repriced_down(
    partner: &Partner,
    mut after: Partner,
    facts: &SubscriptionFacts,
    deleted: bool,
    rules: &BillingRules<'_>,
    now: Timestamp,
) -> Option<PartnerChange> {
    let tier = (!deleted && after.engagement_tier.is_paid())
        .then(|| facts.price_id.as_deref().and_then(|price| rules.prices.tier_of(price)))
        .flatten()
        .filter(|tier| *tier < after.engagement_tier)
        .filter(|tier| after.scheduled_tier_change.map(|s| s.tier) != Some(*tier))?;
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
    Some(PartnerChange {
        after,
        history: Some(event_type),
        note,
        audit_action: AuditAction::StripeSubscriptionSynced,
        events,
        stripe_action: None,
    })
}

/// The history, note and events of what a subscription event changed about a cancellation.
fn stripe_cancellation(
    partner: &Partner,
    after: &Partner,
    change: SubscriptionChange,
) -> (Option<HistoryEventType>, Option<Note>, Vec<EventBody>) {
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
    match change {
        SubscriptionChange::Ended => {
            let note = Note::parse("Stripe subscription ended").ok();
            let events = vec![
                cancelled(true),
                EventBody::TierChanged(TierChanged::between(
                    partner,
                    after,
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
    }
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
        .is_some_and(|sync| matches!(sync.action, crate::stripe_sync::StripeAction::PauseCollection { .. }));
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
