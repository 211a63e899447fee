//! GDPR access and erasure for one partner, for the partner itself (portal) or an admin: everything
//! the table holds about it as one JSON document, and the erasure of personal data from its payment
//! history (`domain::personal_data` says what goes and what stays). Both are audited.

use super::apply_change::apply_change;
use super::error::not_found;
use super::error::UseCaseError;
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry};
use crate::domain::partner::PartnerId;
use crate::domain::partner_change::PartnerChange;
use crate::domain::personal_data::{erased_actor, held_elsewhere, kept_records, Kept};
use crate::store::personal_data::{ErasureCounts, RecordKind};
use crate::store::Store;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything held about a partner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataExport {
    pub partner_id: PartnerId,
    pub exported_at: Timestamp,
    /// What each part is.
    pub contents: &'static str,
    /// The records, by kind: `profile`, `history`, `audit`, `invoices`, `emails_sent`,
    /// `renewal_notices` (every kind present, empty when there is none).
    pub records: BTreeMap<RecordKind, Vec<serde_json::Value>>,
}

/// What an erasure did and kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Erasure {
    pub partner_id: PartnerId,
    pub erased_at: Timestamp,
    /// Records from which personal data was removed.
    pub erased: ErasureCounts,
    pub erased_fields: &'static str,
    pub kept: Vec<Kept>,
    /// Copies outside this system, and how long they stay.
    pub held_elsewhere: Vec<Kept>,
}

const CONTENTS: &str = "profile: the partner's account and subscription as stored; history: every subscription event; \
audit: every change and who made it; invoices: as Stripe reported them; emails_sent: each email, its recipient and delivery; \
renewal_notices: which renewal reminders were sent for which term";

const ERASED_FIELDS: &str =
    "the profile's cancellation reason and subscription notes; history notes and payment method; audit reasons (but an admin's reason for marking an \
invoice paid or refunding it) and the old and new values of the contact email, cancellation reason and subscription notes; partner users' ids as \
authors of history and audit entries; email recipients, subjects and rejection reasons; the bodies of the outbox's copies of the partner's events \
(kept 7 days); the copy of the card on file";

/// Everything held about `partner_id`, audited as an export by `actor`.
#[tracing::instrument(skip(store), err(Display))]
pub async fn export_partner_data(
    store: &Store,
    partner_id: &PartnerId,
    actor: &Actor,
    now: Timestamp,
) -> Result<DataExport, UseCaseError> {
    let partner = store
        .get_partner(partner_id)
        .await?
        .ok_or_else(|| not_found(partner_id))?;
    store
        .record_audit_entry(&AuditEntry::standalone(
            crate::ids::next_id().to_string(),
            &partner,
            actor,
            AuditAction::PersonalDataExported,
            None,
            now,
        ))
        .await?;
    let mut records = store.partner_records(partner_id).await?;
    for kind in [
        RecordKind::Profile,
        RecordKind::History,
        RecordKind::Audit,
        RecordKind::Invoices,
        RecordKind::EmailsSent,
        RecordKind::RenewalNotices,
    ] {
        records.entry(kind).or_default();
    }
    Ok(DataExport {
        partner_id: partner_id.clone(),
        exported_at: now,
        contents: CONTENTS,
        records,
    })
}

/// Erases personal data from `partner_id`'s payment history, audited as an erasure by `actor`
/// (written first: the record that it was asked survives an interrupted run, which the same
/// request completes).
#[tracing::instrument(skip(store), err(Display))]
pub async fn erase_payment_history(
    store: &Store,
    partner_id: &PartnerId,
    actor: &Actor,
    now: Timestamp,
) -> Result<Erasure, UseCaseError> {
    // The profile's free text goes, and the erasure's time is marked, in a versioned change (its
    // audit diff is masked below with the rest): an event written before it and delivered after
    // writes nothing personal.
    apply_change(store, partner_id, actor, None, now, |current| {
        let mut after = current.clone();
        after.cancellation_reason = None;
        after.subscription_notes = None;
        after.personal_data_erased_at = Some(now);
        // Who cancelled stays known (a partner may withdraw only its own cancellation), not which user.
        after.cancelled_by = current.cancelled_by.as_ref().map(erased_actor);
        after.updated_at = now;
        Ok(Some(PartnerChange::audited(after, AuditAction::PaymentHistoryErased)))
    })
    .await?;
    let erased = store.erase_personal_data(partner_id, now).await?;
    Ok(Erasure {
        partner_id: partner_id.clone(),
        erased_at: now,
        erased,
        erased_fields: ERASED_FIELDS,
        kept: kept_records(),
        held_elsewhere: held_elsewhere(),
    })
}
