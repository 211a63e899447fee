//! Cancelling a subscription from the dashboard: now (back to free) or at the term's end.

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::{Actor, AuditAction, HistoryEventType};
use crate::domain::partner::{Note, Partner, PartnerId};
use crate::domain::partner_change::PartnerChange;
use crate::domain::subscription::{self, CancelEffective};
use crate::events::{EventBody, SubscriptionCancelled, TierChanged};
use crate::store::Store;
use jiff::Timestamp;

/// Cancels a partner's subscription now (downgrade to free) or at term end.
pub async fn cancel_subscription(
    store: &Store,
    calendar: &BusinessCalendar,
    id: &PartnerId,
    effective: CancelEffective,
    reason: Option<Note>,
    actor: &Actor,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let today = calendar.today(now);
    let outcome = apply_change(store, id, actor, None, now, |current| {
        let after = subscription::cancel(current, effective, reason.clone(), today, now)?;
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
        Ok(Some(PartnerChange {
            history: Some(HistoryEventType::Cancellation),
            note: reason.clone(),
            audit_action: AuditAction::SubscriptionCancelled,
            events,
            after,
        }))
    })
    .await?;
    match outcome {
        Outcome::Applied(applied) => Ok(applied.after),
        Outcome::Unchanged(current) => Ok(current),
    }
}
