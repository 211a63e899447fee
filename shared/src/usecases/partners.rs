//! Admin use-cases on partner profiles: sync from the TPE backend, read, list.

use super::error::{not_found, UseCaseError};
use super::views::PartnerView;
use super::{conflict_backoff, MAX_WRITE_ATTEMPTS};
use crate::domain::dates::BusinessCalendar;
use crate::domain::events::{DomainEvent, EventBody, PartnerProfileSynced};
use crate::domain::history_and_audit::{changed_fields, Actor, AuditAction, AuditEntry};
use crate::domain::partner::{Partner, PartnerId, ProfileFields};
use crate::ids::next_id;
use crate::store::{Page, PageRequest, PartnerFilter, PartnerWrite, Store, StoreError};
use jiff::Timestamp;

#[derive(Debug, Clone)]
pub struct UpsertOutcome {
    pub partner: Partner,
    pub created: bool,
    pub changed: bool,
}

/// Creates or updates the synced profile fields. Sending the same fields again changes nothing.
#[tracing::instrument(skip(store, fields), fields(partner_id = %id), err(Display))]
pub async fn upsert_partner(
    store: &Store,
    id: &PartnerId,
    fields: ProfileFields,
    actor: Actor,
    now: Timestamp,
) -> Result<UpsertOutcome, UseCaseError> {
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let current = store.get_partner(id).await?;
        let (next, action) = match &current {
            None => (
                Partner::new_free(id.clone(), fields.clone(), now),
                AuditAction::PartnerCreated,
            ),
            Some(current) => match current.with_profile_fields(fields.clone(), now) {
                Some(next) => (next, AuditAction::ProfileSynced),
                None => {
                    return Ok(UpsertOutcome {
                        partner: current.clone(),
                        created: false,
                        changed: false,
                    })
                }
            },
        };
        let mut next = next;
        next.version = current.as_ref().map_or(1, |c| c.version + 1);
        let (audit_id, event_id) = (next_id(), next_id());
        let write = PartnerWrite {
            before: current.clone(),
            expected_version: current.as_ref().map(|c| c.version),
            history: None,
            audit: (
                audit_id,
                AuditEntry {
                    id: audit_id.to_string(),
                    partner_id: id.clone(),
                    action,
                    actor: actor.clone(),
                    reason: None,
                    changes: changed_fields(current.as_ref(), &next),
                    version: next.version,
                    at: now,
                },
            ),
            events: vec![(
                event_id,
                DomainEvent::about(
                    event_id,
                    &next,
                    now,
                    EventBody::PartnerProfileSynced(PartnerProfileSynced {
                        created: current.is_none(),
                        tier: next.engagement_tier,
                        pcr_before: current.as_ref().map(|c| c.final_pcr_score),
                        pcr_after: next.final_pcr_score,
                    }),
                ),
            )],
            partner: next.clone(),
        };
        match store.commit(write).await {
            Ok(()) => {
                return Ok(UpsertOutcome {
                    partner: next,
                    created: current.is_none(),
                    changed: true,
                })
            }
            Err(StoreError::VersionConflict) if attempt + 1 < MAX_WRITE_ATTEMPTS => conflict_backoff(attempt).await,
            Err(err) => return Err(err.into()),
        }
    }
    Err(StoreError::VersionConflict.into())
}

/// One partner as the admin detail view shows it.
pub async fn get_partner(
    store: &Store,
    calendar: &BusinessCalendar,
    id: &PartnerId,
    now: Timestamp,
) -> Result<PartnerView, UseCaseError> {
    let partner = store.get_partner(id).await?.ok_or_else(|| not_found(id))?;
    Ok(PartnerView::new(partner, calendar.today(now)))
}

/// The partner directory, by company name.
pub async fn list_partners(
    store: &Store,
    calendar: &BusinessCalendar,
    filter: &PartnerFilter,
    page: &PageRequest,
    now: Timestamp,
) -> Result<Page<PartnerView>, UseCaseError> {
    let today = calendar.today(now);
    let page = store.list_partners(filter, page).await?;
    Ok(Page {
        items: page.items.into_iter().map(|p| PartnerView::new(p, today)).collect(),
        next_cursor: page.next_cursor,
    })
}

/// A partner's subscription history, newest first; 404 for an unknown partner.
pub async fn partner_history(
    store: &Store,
    id: &PartnerId,
    page: &PageRequest,
) -> Result<Page<crate::domain::history_and_audit::HistoryEntry>, UseCaseError> {
    let result = store.partner_history(id, None, page).await?;
    ensure_exists_if_empty(store, id, page, result.items.is_empty()).await?;
    Ok(result)
}

/// A partner's audit trail, newest first; 404 for an unknown partner.
pub async fn partner_audit(
    store: &Store,
    id: &PartnerId,
    page: &PageRequest,
) -> Result<Page<AuditEntry>, UseCaseError> {
    let result = store.partner_audit(id, page).await?;
    ensure_exists_if_empty(store, id, page, result.items.is_empty()).await?;
    Ok(result)
}

/// An empty first page may mean an unknown partner; only then is the profile read.
async fn ensure_exists_if_empty(
    store: &Store,
    id: &PartnerId,
    page: &PageRequest,
    empty: bool,
) -> Result<(), UseCaseError> {
    if empty && page.cursor.is_none() && store.get_partner(id).await?.is_none() {
        return Err(not_found(id));
    }
    Ok(())
}
