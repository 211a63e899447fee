//! The one way a partner's state changes: read it, let a pure rule decide, commit the new state with
//! its history entry, audit entry and events in one transaction, and re-decide on fresh data when
//! another writer got there first.

use super::error::not_found;
use super::error::UseCaseError;
use crate::domain::events::DomainEvent;
use crate::domain::history_and_audit::{changed_fields, Actor, AuditEntry, HistoryEntry};
use crate::domain::partner::{Partner, PartnerId};
use crate::domain::partner_change::PartnerChange;
use crate::domain::stripe_sync::{stripe_action_for, StripeSync};
use crate::ids::next_id;
use crate::store::{PartnerWrite, Store, StoreError};
use jiff::Timestamp;
use std::time::Duration;

/// How often a write planned on stale data is re-planned on fresh data before answering 409.
pub const MAX_WRITE_ATTEMPTS: u32 = 4;

/// Waits before retrying after a version conflict: 10, 20, 40 ms plus up to as much again of jitter,
/// so that concurrent writers spread out.
pub async fn conflict_backoff(attempt: u32) {
    let base = 10u64 << attempt.min(6);
    let jitter = (next_id().random() as u64) % (base + 1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// A change as it was committed.
#[derive(Debug, Clone)]
pub struct Applied {
    pub before: Partner,
    pub after: Partner,
    pub history: Option<HistoryEntry>,
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one value per change, returned once: boxing would buy nothing
pub enum Outcome {
    Applied(Applied),
    /// The rule found nothing to change.
    Unchanged(Partner),
}

pub(crate) fn partner_write(
    before: &Partner,
    change: PartnerChange,
    actor: &Actor,
    now: Timestamp,
) -> (PartnerWrite, Option<HistoryEntry>) {
    let PartnerChange {
        mut after,
        history,
        note,
        audit_action,
        events,
        stripe_action,
    } = change;
    after.version = before.version + 1;
    after.updated_at = now;
    // A local change that affects what a billed partner pays carries its request to Stripe, committed
    // with it; what Stripe itself did (its webhooks) is not sent back.
    if *actor != Actor::Stripe {
        let action = stripe_action_for(before, &after).map(|derived| stripe_action.unwrap_or(derived));
        if let (Some(action), Some(subscription_id)) = (action, &before.stripe_subscription_id) {
            after.stripe_sync = Some(StripeSync {
                subscription_id: subscription_id.clone(),
                action,
                requested_version: after.version,
                requested_at: now,
                attempts: 0,
                last_error: None,
            });
        }
    }
    let history = history.map(|event_type| {
        let id = next_id();
        let entry = HistoryEntry::between(id.to_string(), before, &after, event_type, note.clone(), actor, now);
        (id, entry)
    });
    let audit_id = next_id();
    let audit = AuditEntry {
        id: audit_id.to_string(),
        partner_id: after.id.clone(),
        action: audit_action,
        actor: actor.clone(),
        reason: note,
        changes: changed_fields(Some(before), &after),
        version: after.version,
        at: now,
    };
    let events = events
        .into_iter()
        .map(|body| {
            let id = next_id();
            (id, DomainEvent::about(id, &after, now, body))
        })
        .collect();
    let entry = history.as_ref().map(|(_, entry)| entry.clone());
    let write = PartnerWrite {
        before: Some(before.clone()),
        expected_version: Some(before.version),
        history,
        audit: (audit_id, audit),
        events,
        partner: after,
    };
    (write, entry)
}

/// Applies `decide` to partner `id` atomically. With `expected_version`, a partner at another
/// version answers 409 at once; without, conflicts are re-decided on fresh data a few times.
pub async fn apply_change(
    store: &Store,
    id: &PartnerId,
    actor: &Actor,
    expected_version: Option<u64>,
    now: Timestamp,
    decide: impl Fn(&Partner) -> Result<Option<PartnerChange>, UseCaseError>,
) -> Result<Outcome, UseCaseError> {
    apply_change_after_read(store, id, None, actor, expected_version, now, decide).await
}

/// [`apply_change`] on a partner the caller has just read (`read`), saving the first read; a
/// conflict re-decides on fresh data as usual.
pub async fn apply_change_after_read(
    store: &Store,
    id: &PartnerId,
    mut read: Option<Partner>,
    actor: &Actor,
    expected_version: Option<u64>,
    now: Timestamp,
    decide: impl Fn(&Partner) -> Result<Option<PartnerChange>, UseCaseError>,
) -> Result<Outcome, UseCaseError> {
    let mut read_version = 0;
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let current = match read.take() {
            Some(partner) => partner,
            None => store.get_partner(id).await?.ok_or_else(|| not_found(id))?,
        };
        if let Some(expected) = expected_version {
            if expected != current.version {
                return Err(UseCaseError::StaleVersion {
                    partner: id.clone(),
                    current: current.version,
                    expected,
                });
            }
        }
        let Some(change) = decide(&current)? else {
            return Ok(Outcome::Unchanged(current));
        };
        read_version = current.version;
        let (write, history) = partner_write(&current, change, actor, now);
        let after = write.partner.clone();
        match store.commit(write).await {
            Ok(()) => {
                return Ok(Outcome::Applied(Applied {
                    before: current,
                    after,
                    history,
                }))
            }
            Err(StoreError::VersionConflict) if expected_version.is_none() && attempt + 1 < MAX_WRITE_ATTEMPTS => {
                conflict_backoff(attempt).await
            }
            Err(StoreError::VersionConflict) => break,
            Err(err) => return Err(err.into()),
        }
    }
    Err(UseCaseError::Conflict {
        detail: format!("partner {id} was changed by another request after version {read_version} was read; reload it and try again"),
        current_version: None,
    })
}
