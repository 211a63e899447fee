//! Cancelling a subscription from the dashboard: now (back to free) or at the term's end.

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use super::stripe_sync::push_after_change;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::{Note, Partner, PartnerId};
use crate::domain::subscription::CancelEffective;
use crate::domain::subscription_changes::cancellation_change;
use crate::store::Store;
use crate::stripe::client::StripeApi;
use jiff::Timestamp;

/// What an admin asked for.
#[derive(Debug, Clone)]
pub struct CancelCommand {
    pub partner_id: PartnerId,
    pub effective: CancelEffective,
    pub reason: Option<Note>,
    /// A Stripe-billed partner cancelled now gets the unused part of the period credited.
    pub refund_unused: bool,
    pub actor: Actor,
}

/// Cancels a partner's subscription now (downgrade to free) or at term end; a Stripe-billed
/// partner's subscription is cancelled (or set to end) in Stripe too, at once when `stripe` answers,
/// else it stays pending on the partner and is retried.
#[tracing::instrument(skip_all, fields(partner_id = %command.partner_id), err(Display))]
pub async fn cancel_subscription(
    store: &Store,
    stripe: Option<&StripeApi>,
    calendar: &BusinessCalendar,
    command: CancelCommand,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let today = calendar.today(now);
    let CancelCommand {
        partner_id: id,
        effective,
        reason,
        refund_unused,
        actor,
    } = command;
    let actor = &actor;
    let id = &id;
    let outcome = apply_change(store, id, actor, None, now, |current| {
        Ok(Some(cancellation_change(
            current,
            effective,
            reason.clone(),
            refund_unused,
            actor,
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
