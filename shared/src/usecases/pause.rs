//! Pausing a subscription (the spec's "easy to upgrade, pause, or cancel"): an admin pauses a paid
//! partner for 1 to 6 months; the tier stays, the term's end moves by the paused span, and a
//! Stripe-billed partner's collection is paused in Stripe until the resume date (voiding the span's
//! invoices). Resuming early gives back the unused span. Pausing lowers what a partner pays, so the
//! change is local first and reaches Stripe through `stripe_sync` (at once, or retried).

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use super::stripe_sync::push_after_change;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::{Note, Partner, PartnerId};
use crate::domain::subscription_changes::pause_change;
use crate::store::Store;
use crate::stripe::client::StripeApi;
use jiff::Timestamp;

/// What an admin asked for: a pause of `months` months, or (`None`) to resume now.
#[derive(Debug, Clone)]
pub struct PauseCommand {
    pub partner_id: PartnerId,
    pub months: Option<u8>,
    pub reason: Option<Note>,
    pub actor: Actor,
}

/// Pauses or resumes partner `command.partner_id`; the partner as it then stands.
#[tracing::instrument(skip_all, fields(partner_id = %command.partner_id, months = ?command.months), err(Display))]
pub async fn pause_or_resume(
    store: &Store,
    stripe: Option<&StripeApi>,
    calendar: &BusinessCalendar,
    command: PauseCommand,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let today = calendar.today(now);
    let outcome = apply_change(store, &command.partner_id, &command.actor, None, now, |current| {
        Ok(Some(pause_change(
            current,
            command.months,
            command.reason.clone(),
            today,
            now,
        )?))
    })
    .await?;
    let partner = match outcome {
        Outcome::Applied(applied) => applied.after,
        Outcome::Unchanged(current) => current,
    };
    push_after_change(store, stripe, calendar, partner, now).await
}
