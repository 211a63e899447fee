//! A subscription's settings: `auto_renewal` and `subscription_notes`.

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use super::stripe_sync::push_after_change;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::Partner;
use crate::domain::partner::PartnerId;
use crate::domain::subscription::SettingsChange;
use crate::domain::subscription_changes::settings_change;
use crate::store::Store;
use crate::stripe::client::StripeApi;
use jiff::Timestamp;

/// What an admin asked for.
#[derive(Debug, Clone)]
pub struct SettingsCommand {
    pub partner_id: PartnerId,
    pub change: SettingsChange,
    /// When given, the change applies only to this version.
    pub expected_version: Option<u64>,
    pub actor: Actor,
}

/// Changes `auto_renewal` and `subscription_notes`; for a Stripe-billed partner, turning
/// auto-renewal off or on sets or clears the subscription's `cancel_at` in Stripe too.
#[tracing::instrument(skip_all, fields(partner_id = %command.partner_id), err(Display))]
pub async fn change_subscription_settings(
    store: &Store,
    stripe: Option<&StripeApi>,
    calendar: &BusinessCalendar,
    command: SettingsCommand,
    now: Timestamp,
) -> Result<(Partner, bool), UseCaseError> {
    let SettingsCommand {
        partner_id,
        change,
        expected_version,
        actor,
    } = command;
    let outcome = apply_change(store, &partner_id, &actor, expected_version, now, |current| {
        Ok(settings_change(current, &change, now))
    })
    .await?;
    let (partner, changed) = match outcome {
        Outcome::Applied(applied) => (applied.after, true),
        Outcome::Unchanged(current) => (current, false),
    };
    Ok((push_after_change(store, stripe, calendar, partner, now).await?, changed))
}
