//! The partner changes of an admin's or a partner's subscription actions (pause, resume, renewal by
//! hand, settings, a withdrawn cancellation) and the sweep's expiry: the rule's new state (`subscription`) with the history,
//! note, audit and events it is recorded with. Use-cases commit what these return.

use crate::dates::CalendarDate;
use crate::events::{EventBody, SubscriptionCancelled, SubscriptionExpired, SubscriptionRenewed, TierChanged};
use crate::history_and_audit::{Actor, AuditAction, HistoryEventType};
use crate::lifecycle::{sweep_decision, SweepDecision};
use crate::partner::{Note, Partner, SubscriptionStatus};
use crate::partner_change::PartnerChange;
use crate::stripe_sync::StripeAction;
use crate::subscription::{self, expire, CancelEffective, SettingsChange, SubscriptionError};
use jiff::Timestamp;

/// A pause of `months` months, or (`None`) a resume now; `reason` is the admin's, else a default
/// note saying what happened.
pub fn pause_change(
    current: &Partner,
    months: Option<u8>,
    reason: Option<Note>,
    today: CalendarDate,
    now: Timestamp,
) -> Result<PartnerChange, SubscriptionError> {
    let (after, history, audit_action, default_note) = match months {
        Some(months) => (
            subscription::pause(current, months, today, now)?,
            HistoryEventType::Pause,
            AuditAction::SubscriptionPaused,
            format!("Paused for {months} month(s); the term's end moves by the same span"),
        ),
        None => (
            subscription::resume(current, today, now)?,
            HistoryEventType::Resume,
            AuditAction::SubscriptionResumed,
            "Resumed".to_owned(),
        ),
    };
    Ok(PartnerChange {
        after,
        history: Some(history),
        note: reason.or_else(|| Note::parse(&default_note).ok()),
        audit_action,
        events: vec![],
        stripe_action: None,
    })
}

/// The term renewed by hand for `months` months (history `renewal`, `SubscriptionRenewed`); `None`
/// when the renewed partner has no term to announce.
pub fn renewal_change(
    current: &Partner,
    months: u8,
    actor: &Actor,
    now: Timestamp,
) -> Result<Option<PartnerChange>, SubscriptionError> {
    let after = subscription::renew_by_hand(current, months, now)?;
    let (Some(start), Some(end)) = (after.subscription_start_date, after.subscription_end_date) else {
        return Ok(None);
    };
    let tier = after.engagement_tier;
    Ok(Some(PartnerChange {
        stripe_action: None,
        history: Some(HistoryEventType::Renewal),
        note: Note::parse_optional(Some(&format!("Renewed for {months} months")))
            .ok()
            .flatten(),
        audit_action: AuditAction::SubscriptionRenewed,
        events: vec![EventBody::SubscriptionRenewed(SubscriptionRenewed {
            tier,
            tier_label: tier.label().to_owned(),
            monthly_price_cents: tier.info().monthly_price_cents,
            subscription_start_date: start,
            subscription_end_date: end,
            renewed_by: actor.clone(),
        })],
        after,
    }))
}

/// The subscription's settings changed; `None` when nothing changes. Turning auto-renewal back on
/// for a cancelled partner withdraws the cancellation (history `reactivation`).
pub fn settings_change(current: &Partner, change: &SettingsChange, now: Timestamp) -> Option<PartnerChange> {
    subscription::change_settings(current, change, now).map(|after| {
        let reactivated = current.subscription_status == SubscriptionStatus::Cancelled
            && after.subscription_status == SubscriptionStatus::Active;
        PartnerChange {
            stripe_action: None,
            history: reactivated.then_some(HistoryEventType::Reactivation),
            note: reactivated
                .then(|| Note::parse("Cancellation withdrawn: auto-renewal turned back on").ok())
                .flatten(),
            audit_action: AuditAction::SubscriptionSettingsChanged,
            events: vec![],
            after,
        }
    })
}

/// The partner withdrawing its own cancellation before the term ends.
pub fn withdrawal_change(current: &Partner, now: Timestamp) -> Result<PartnerChange, SubscriptionError> {
    Ok(PartnerChange {
        after: subscription::withdraw_own_cancellation(current, now)?,
        history: Some(HistoryEventType::Reactivation),
        note: Note::parse("Cancellation withdrawn by the partner").ok(),
        audit_action: AuditAction::CancellationWithdrawn,
        events: vec![],
        stripe_action: None,
    })
}

/// The partner's subscription cancelled now (a downgrade to free; `refund_unused` credits a
/// Stripe-billed partner the unused part of its period) or at the term's end.
pub fn cancellation_change(
    current: &Partner,
    effective: CancelEffective,
    reason: Option<Note>,
    refund_unused: bool,
    actor: &Actor,
    today: CalendarDate,
    now: Timestamp,
) -> Result<PartnerChange, SubscriptionError> {
    let after = subscription::cancel(current, effective, reason.clone(), actor, today, now)?;
    let immediately = effective == CancelEffective::Immediately;
    let mut events = vec![EventBody::SubscriptionCancelled(SubscriptionCancelled {
        cancelled_tier: current.engagement_tier,
        cancelled_tier_label: current.engagement_tier.label().to_owned(),
        immediately,
        access_until: if immediately {
            Some(today)
        } else {
            current.subscription_end_date
        },
        reason: reason.as_ref().map(ToString::to_string),
        cancelled_by: actor.clone(),
    })];
    if immediately {
        let body = TierChanged::between(
            current,
            &after,
            HistoryEventType::Cancellation,
            actor.clone(),
            reason.as_ref().map(ToString::to_string),
        );
        events.push(EventBody::TierChanged(body));
    }
    Ok(PartnerChange {
        stripe_action: (immediately && refund_unused).then_some(StripeAction::CancelSubscription { prorate: true }),
        history: Some(HistoryEventType::Cancellation),
        note: reason.clone(),
        audit_action: AuditAction::SubscriptionCancelled,
        events,
        after,
    })
}

/// The sweep's expiry of a term that ended (with `SubscriptionExpired` and `TierChanged`), decided
/// again on the partner as it stands; `None` when it is not (or no longer) due.
pub fn expiry_change(current: &Partner, today: CalendarDate, grace_days: i32, now: Timestamp) -> Option<PartnerChange> {
    let SweepDecision::Expire(reason) = sweep_decision(current, today, grace_days) else {
        return None;
    };
    let end = current.subscription_end_date?;
    let after = expire(current, reason, now);
    let note = Note::parse_optional(Some(&reason.note(end, grace_days))).ok().flatten();
    let expired = SubscriptionExpired {
        expired_tier: current.engagement_tier,
        expired_tier_label: current.engagement_tier.label().to_owned(),
        subscription_end_date: end,
        reason,
        pcr_before: current.final_pcr_score,
        pcr_after: after.final_pcr_score,
    };
    let tier_changed = TierChanged::between(
        current,
        &after,
        HistoryEventType::Expiration,
        Actor::System,
        note.as_ref().map(ToString::to_string),
    );
    Some(PartnerChange {
        stripe_action: None,
        history: Some(HistoryEventType::Expiration),
        note,
        audit_action: AuditAction::SubscriptionExpired,
        events: vec![
            EventBody::SubscriptionExpired(expired),
            EventBody::TierChanged(tier_changed),
        ],
        after,
    })
}
