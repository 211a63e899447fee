//! Admin use-cases on tiers: preview the PCR impact, apply a change.

use super::partners::not_found;
use super::views::PartnerView;
use super::{conflict_backoff, MAX_WRITE_ATTEMPTS};
use crate::domain::dates::BusinessCalendar;
use crate::domain::partner::PartnerId;
use crate::domain::pcr::{PcrDelta, PcrScore};
use crate::domain::records::{changed_fields, Actor, AuditAction, AuditEntry, HistoryEntry};
use crate::domain::tier::Tier;
use crate::domain::tier_change::{
    plan_tier_change, preview_tier_change, PlannedTierChange, TierChangeRequest, TierPreview,
};
use crate::error::AppError;
use crate::events::{DomainEvent, EventBody, TierChanged};
use crate::ids::next_id;
use crate::store::{PartnerWrite, Store, StoreError};
use jiff::Timestamp;
use serde::Serialize;

/// What an admin asked for, with who asked.
#[derive(Debug, Clone)]
pub struct ChangeTierCommand {
    pub partner_id: PartnerId,
    pub request: TierChangeRequest,
    /// When given, the change applies only to this version (409 otherwise, no retry).
    pub expected_version: Option<u64>,
    pub actor: Actor,
}

#[derive(Debug, Clone, Serialize)]
pub struct PcrChange {
    pub before: PcrScore,
    pub after: PcrScore,
    pub delta: PcrDelta,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierChangeOutcome {
    pub partner: PartnerView,
    /// False when the partner already had this tier and term: nothing was written.
    pub changed: bool,
    pub pcr_change: PcrChange,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_entry: Option<HistoryEntry>,
}

/// The PCR impact of moving a partner to `tier`; changes nothing.
pub async fn preview_tier(store: &Store, id: &PartnerId, tier: Tier) -> Result<TierPreview, AppError> {
    let partner = store.get_partner(id).await?.ok_or_else(|| not_found(id))?;
    Ok(preview_tier_change(&partner, tier))
}

/// The write for a planned change: profile, history, audit and `TierChanged`, all or nothing.
fn tier_change_write(
    plan: PlannedTierChange,
    actor: &Actor,
    reason: Option<crate::domain::partner::Note>,
    now: Timestamp,
) -> (PartnerWrite, HistoryEntry) {
    let PlannedTierChange {
        before,
        mut after,
        event_type,
    } = plan;
    after.version = before.version + 1;
    let (history_id, audit_id, event_id) = (next_id(), next_id(), next_id());
    let history = HistoryEntry {
        id: history_id.to_string(),
        partner_id: after.id.clone(),
        event_type,
        from_tier: Some(before.engagement_tier),
        to_tier: Some(after.engagement_tier),
        subscription_start: after.subscription_start_date,
        subscription_end: after.subscription_end_date,
        amount_paid: None,
        payment_method: None,
        notes: reason.clone(),
        pcr_before: Some(before.final_pcr_score),
        pcr_after: Some(after.final_pcr_score),
        version: after.version,
        created_at: now,
        created_by: actor.clone(),
    };
    let audit = AuditEntry {
        id: audit_id.to_string(),
        partner_id: after.id.clone(),
        action: AuditAction::TierChanged,
        actor: actor.clone(),
        reason: reason.clone(),
        changes: changed_fields(Some(&before), &after),
        version: after.version,
        at: now,
    };
    let body = TierChanged::between(
        &before,
        &after,
        event_type,
        actor.clone(),
        reason.map(|r| r.to_string()),
    );
    let event = DomainEvent::about(event_id, &after, now, EventBody::TierChanged(body));
    let write = PartnerWrite {
        expected_version: Some(before.version),
        history: Some((history_id, history.clone())),
        audit: (audit_id, audit),
        events: vec![(event_id, event)],
        partner: after,
    };
    (write, history)
}

/// Applies a tier change atomically. Without `expected_version`, a concurrent change is retried on
/// fresh data a few times before answering 409.
#[tracing::instrument(skip(store, calendar, command), fields(partner_id = %command.partner_id, tier = %command.request.tier), err(Display))]
pub async fn change_tier(
    store: &Store,
    calendar: &BusinessCalendar,
    command: ChangeTierCommand,
    now: Timestamp,
) -> Result<TierChangeOutcome, AppError> {
    let today = calendar.today(now);
    let id = &command.partner_id;
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let current = store.get_partner(id).await?.ok_or_else(|| not_found(id))?;
        if let Some(expected) = command.expected_version {
            if expected != current.version {
                return Err(AppError::Conflict {
                    detail: format!(
                        "partner {id} is at version {}, not the expected version {expected}; reload it and try again",
                        current.version
                    ),
                    current_version: Some(current.version),
                });
            }
        }
        let plan = plan_tier_change(&current, &command.request, today, now)
            .map_err(|e| AppError::invalid("subscription_end_date", e))?;
        let Some(plan) = plan else {
            let score = current.final_pcr_score;
            return Ok(TierChangeOutcome {
                partner: PartnerView::new(current, today),
                changed: false,
                pcr_change: PcrChange {
                    before: score,
                    after: score,
                    delta: score.delta_to(score),
                },
                history_entry: None,
            });
        };
        let read_version = plan.before.version;
        let pcr_change = PcrChange {
            before: plan.before.final_pcr_score,
            after: plan.after.final_pcr_score,
            delta: plan.pcr_delta(),
        };
        let (write, history) = tier_change_write(plan, &command.actor, command.request.reason.clone(), now);
        let partner = write.partner.clone();
        match store.commit(write).await {
            Ok(()) => {
                tracing::info!(event_type = ?history.event_type, version = partner.version, "tier changed");
                return Ok(TierChangeOutcome {
                    partner: PartnerView::new(partner, today),
                    changed: true,
                    pcr_change,
                    history_entry: Some(history),
                });
            }
            Err(StoreError::VersionConflict) if command.expected_version.is_none() && attempt + 1 < MAX_WRITE_ATTEMPTS => {
                conflict_backoff(attempt).await
            }
            Err(StoreError::VersionConflict) => {
                return Err(AppError::Conflict {
                    detail: format!(
                        "partner {id} was changed by another request after version {read_version} was read; reload it and try again"
                    ),
                    current_version: None,
                })
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(StoreError::VersionConflict.into())
}
