//! A subscription's settings: `auto_renewal` and `subscription_notes`.

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use crate::domain::history_and_audit::{Actor, AuditAction};
use crate::domain::partner::Partner;
use crate::domain::partner::PartnerId;
use crate::domain::partner_change::PartnerChange;
use crate::domain::subscription::{self, SettingsChange};
use crate::store::Store;
use jiff::Timestamp;

/// Changes `auto_renewal` and `subscription_notes`.
pub async fn change_subscription_settings(
    store: &Store,
    id: &PartnerId,
    change: SettingsChange,
    expected_version: Option<u64>,
    actor: &Actor,
    now: Timestamp,
) -> Result<(Partner, bool), UseCaseError> {
    let outcome = apply_change(store, id, actor, expected_version, now, |current| {
        Ok(
            subscription::change_settings(current, &change, now).map(|after| PartnerChange {
                after,
                history: None,
                note: None,
                audit_action: AuditAction::SubscriptionSettingsChanged,
                events: vec![],
            }),
        )
    })
    .await?;
    Ok(match outcome {
        Outcome::Applied(applied) => (applied.after, true),
        Outcome::Unchanged(current) => (current, false),
    })
}
