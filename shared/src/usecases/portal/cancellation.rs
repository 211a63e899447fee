//! A partner cancelling its own subscription: always at the term's end, respecting the 12-month
//! commitment (no refund, access until the end date), mirrored to Stripe as `cancel_at`; and
//! withdrawing that before the end.

use super::super::apply_change::{apply_change, Outcome};
use super::super::cancellation::{cancel_subscription, CancelCommand};
use super::super::error::UseCaseError;
use super::super::stripe_sync::push_after_change;
use crate::auth::PartnerUser;
use crate::domain::dates::BusinessCalendar;
use crate::domain::partner::{Note, Partner};
use crate::domain::subscription::CancelEffective;
use crate::domain::subscription_changes::withdrawal_change;
use crate::store::Store;
use crate::stripe::client::StripeApi;
use jiff::Timestamp;

/// Cancels `user`'s subscription at the term's end (history, audit, the cancellation email).
#[tracing::instrument(skip_all, fields(partner_id = %user.partner_id), err(Display))]
pub async fn cancel_at_term_end(
    store: &Store,
    stripe: Option<&StripeApi>,
    calendar: &BusinessCalendar,
    user: &PartnerUser,
    reason: Note,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let command = CancelCommand {
        partner_id: user.partner_id.clone(),
        effective: CancelEffective::TermEnd,
        reason: Some(reason),
        refund_unused: false,
        actor: user.actor(),
    };
    cancel_subscription(store, stripe, calendar, command, now).await
}

/// Withdraws `user`'s cancellation before the term ends: active and renewing again (in Stripe too).
#[tracing::instrument(skip_all, fields(partner_id = %user.partner_id), err(Display))]
pub async fn withdraw(
    store: &Store,
    stripe: Option<&StripeApi>,
    calendar: &BusinessCalendar,
    user: &PartnerUser,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let outcome = apply_change(store, &user.partner_id, &user.actor(), None, now, |current| {
        Ok(Some(withdrawal_change(current, now)?))
    })
    .await?;
    let partner = match outcome {
        Outcome::Applied(applied) => applied.after,
        Outcome::Unchanged(current) => current,
    };
    push_after_change(store, stripe, calendar, partner, now).await
}
