//! Renewal notices: recorded with their audit entry and `RenewalReminderDue` event in one
//! transaction, the sweep's once per partner, term end and stage.

use super::apply_change::{conflict_backoff, MAX_WRITE_ATTEMPTS};
use super::error::not_found;
use super::error::UseCaseError;
use crate::domain::dates::{days_until, CalendarDate};
use crate::domain::events::{DomainEvent, EventBody, RenewalReminderDue};
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry};
use crate::domain::lifecycle::{notice_stage, NoticeStage};
use crate::domain::metrics::{earlier_reminder_expected, reminder_late};
use crate::domain::partner::{Partner, PartnerId, SubscriptionStatus};
use crate::ids::next_id;
use crate::store::{NoticeOutcome, NoticeWrite, Store, StoreError};
use jiff::Timestamp;
use serde::Serialize;

fn notice_write(
    partner: &Partner,
    end: CalendarDate,
    stage: Option<NoticeStage>,
    days_left: i32,
    manual: bool,
    actor: &Actor,
    now: Timestamp,
) -> NoticeWrite {
    let (audit_id, event_id) = (next_id(), next_id());
    let body = EventBody::RenewalReminderDue(RenewalReminderDue::of(partner, end, stage, days_left, manual));
    let audit = AuditEntry {
        id: audit_id.to_string(),
        partner_id: partner.id.clone(),
        action: AuditAction::RenewalNoticeSent,
        actor: actor.clone(),
        reason: None,
        changes: vec![crate::domain::history_and_audit::FieldChange {
            field: "renewal_notice".into(),
            from: serde_json::Value::Null,
            to: serde_json::json!({"stage": stage, "days_left": days_left, "term_end": end, "manual": manual}),
        }],
        version: partner.version,
        at: now,
    };
    NoticeWrite {
        partner_id: partner.id.clone(),
        partner_version: partner.version,
        term_end: end,
        marker_stage: if manual { None } else { stage },
        earlier_stage_sent: None,
        audit: (audit_id, audit),
        event: (event_id, DomainEvent::about(event_id, partner, now, body)),
    }
}

/// Records the sweep's `stage` notice for `partner`'s current term, unless it was sent before; and
/// whether a reminder was missed on the way (this stage's mark passed on an earlier day, or a 7-day
/// notice finds no 30-day one for a term that was running at its 30-day mark). The check of the
/// earlier marker rides in the notice's transaction: a second request only when one was missed.
pub async fn record_sweep_notice(
    store: &Store,
    partner: &Partner,
    stage: NoticeStage,
    days_left: i32,
    now: Timestamp,
) -> Result<(NoticeOutcome, bool), StoreError> {
    let Some(end) = partner.subscription_end_date else {
        return Ok((NoticeOutcome::AlreadySent, false));
    };
    let start = partner.subscription_start_date;
    let late = reminder_late(stage, days_left, end, start);
    let mut write = notice_write(partner, end, Some(stage), days_left, false, &Actor::System, now);
    write.earlier_stage_sent = earlier_reminder_expected(stage, end, start);
    match store.record_notice(write.clone()).await? {
        NoticeOutcome::EarlierStageMissing => {
            write.earlier_stage_sent = None;
            Ok((store.record_notice(write).await?, true))
        }
        outcome => Ok((outcome, late && outcome == NoticeOutcome::Recorded)),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ManualNotice {
    pub partner_id: PartnerId,
    pub days_left: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<NoticeStage>,
    pub subscription_end_date: CalendarDate,
}

/// An admin's "send reminder now": a `RenewalReminderDue` marked manual, for an active paid term.
pub async fn send_manual_notice(
    store: &Store,
    id: &PartnerId,
    actor: &Actor,
    today: CalendarDate,
    now: Timestamp,
) -> Result<ManualNotice, UseCaseError> {
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let partner = store.get_partner(id).await?.ok_or_else(|| not_found(id))?;
        let end = match (
            partner.engagement_tier.is_paid(),
            partner.subscription_status,
            partner.subscription_end_date,
        ) {
            (true, SubscriptionStatus::Active, Some(end)) => end,
            _ => {
                return Err(UseCaseError::Conflict {
                    detail: format!("partner {id} has no active paid subscription to send a renewal reminder for"),
                    current_version: Some(partner.version),
                })
            }
        };
        let days_left = days_until(today, end);
        let stage = notice_stage(days_left);
        match store
            .record_notice(notice_write(&partner, end, stage, days_left, true, actor, now))
            .await
        {
            Ok(_) => {
                return Ok(ManualNotice {
                    partner_id: id.clone(),
                    days_left,
                    stage,
                    subscription_end_date: end,
                })
            }
            Err(StoreError::VersionConflict) if attempt + 1 < MAX_WRITE_ATTEMPTS => conflict_backoff(attempt).await,
            Err(err) => return Err(err.into()),
        }
    }
    Err(StoreError::VersionConflict.into())
}
