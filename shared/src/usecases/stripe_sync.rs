//! Telling Stripe about committed local changes that affect what a partner pays: the partner's
//! pending [`StripeSync`] (written in the same transaction as the change, see `domain::stripe_sync`
//! for the rule table and why the local change comes first) is pushed with its idempotency key;
//! Stripe's confirmation clears it, a failure is recorded on it (attempts, last error) and it stays in
//! the pending index, where [`push_pending_stripe_syncs`] retries it until Stripe confirms.

use super::apply_change::{apply_change_after_read, Outcome};
use super::error::UseCaseError;
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::history_and_audit::{Actor, AuditAction};
use crate::domain::partner::Partner;
use crate::domain::partner_change::PartnerChange;
use crate::domain::stripe_sync::{StripeAction, StripeSync};
use crate::store::Store;
use crate::stripe::client::{StripeApi, StripeCallError, SubscriptionState};
use jiff::Timestamp;
use serde::Serialize;

/// How many pending partners one retry run pushes at most.
pub const MAX_PUSHES_PER_RUN: u16 = 100;

/// What became of a partner's pending Stripe change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Nothing was pending.
    NothingPending,
    /// Stripe confirmed; the partner no longer shows it pending.
    Confirmed,
    /// Stripe did not confirm; recorded on the partner, retried later.
    StillPending { error: String },
}

/// The instant `date` begins, as Stripe's timestamps want it.
fn start_of(calendar: &BusinessCalendar, date: Option<CalendarDate>) -> Result<Option<Timestamp>, StripeCallError> {
    date.map(|date| calendar.start_of(date))
        .transpose()
        .map_err(|e| StripeCallError::Refused {
            status: 400,
            message: format!("the date cannot be placed in time: {e}"),
        })
}

/// Sends one Stripe change and reads the subscription Stripe answers with.
async fn send(
    stripe: &StripeApi,
    calendar: &BusinessCalendar,
    partner: &Partner,
    sync: &StripeSync,
) -> Result<SubscriptionState, StripeCallError> {
    let key = sync.idempotency_key(&partner.id);
    match sync.action {
        StripeAction::CancelSubscription { prorate } => {
            stripe.cancel_subscription(&sync.subscription_id, prorate, &key).await
        }
        StripeAction::SetCancelAt { on } => {
            let at = start_of(calendar, on)?;
            stripe.set_cancel_at(&sync.subscription_id, at, &key).await
        }
        StripeAction::PauseCollection { until } => {
            let resumes_at = start_of(calendar, until)?;
            stripe.pause_collection(&sync.subscription_id, resumes_at, &key).await
        }
    }
}

/// Records Stripe's answer to the change `sent` (only while that change is still the pending one).
async fn record_push(
    store: &Store,
    partner: &Partner,
    sent: &StripeSync,
    answer: &Result<SubscriptionState, StripeCallError>,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let read = Some(partner.clone());
    let outcome = apply_change_after_read(store, &partner.id, read, &Actor::System, None, now, |current| {
        if current.stripe_sync.as_ref().map(|s| s.requested_version) != Some(sent.requested_version) {
            return Ok(None); // a newer change superseded it, or another push recorded it
        }
        let mut after = current.clone();
        let audit_action = match answer {
            Ok(state) => {
                after.stripe_sync = None;
                after.stripe_subscription_status = Some(state.status.clone());
                // From now on, Stripe showing collection running again means it ended the pause.
                after.pause_confirmed_at = match sent.action {
                    StripeAction::PauseCollection { until: Some(_) } => Some(now),
                    StripeAction::PauseCollection { until: None } => None,
                    _ => after.pause_confirmed_at,
                };
                AuditAction::StripeChangeConfirmed
            }
            Err(err) => {
                let mut pending = sent.clone();
                pending.attempts += 1;
                pending.last_error = Some(err.to_string());
                after.stripe_sync = Some(pending);
                AuditAction::StripeChangeFailed
            }
        };
        Ok(Some(PartnerChange::audited(after, audit_action)))
    })
    .await?;
    Ok(match outcome {
        Outcome::Applied(applied) => applied.after,
        Outcome::Unchanged(current) => current,
    })
}

/// Pushes the pending Stripe change of `partner` (as just read or committed, never an index copy:
/// a stale copy could send a superseded change), if any; returns the partner as it then stands.
#[tracing::instrument(skip_all, fields(partner_id = %partner.id), err(Display))]
pub async fn push_stripe_sync(
    store: &Store,
    stripe: &StripeApi,
    calendar: &BusinessCalendar,
    partner: Partner,
    now: Timestamp,
) -> Result<(Partner, PushOutcome), UseCaseError> {
    let id = partner.id.clone();
    let Some(sync) = partner.stripe_sync.clone() else {
        return Ok((partner, PushOutcome::NothingPending));
    };
    let answer = send(stripe, calendar, &partner, &sync).await;
    let after = record_push(store, &partner, &sync, &answer, now).await?;
    let outcome = match answer {
        Ok(_) => PushOutcome::Confirmed,
        Err(err) => {
            tracing::warn!(partner_id = %id, error = %err, attempts = sync.attempts + 1, "Stripe change still pending");
            PushOutcome::StillPending { error: err.to_string() }
        }
    };
    Ok((after, outcome))
}

/// After a local change: pushes what it asked of Stripe at once when Stripe is configured (it
/// stays pending otherwise). Returns the partner as it then stands.
pub async fn push_after_change(
    store: &Store,
    stripe: Option<&StripeApi>,
    calendar: &BusinessCalendar,
    partner: Partner,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    match (stripe, &partner.stripe_sync) {
        (Some(stripe), Some(_)) => Ok(push_stripe_sync(store, stripe, calendar, partner, now).await?.0),
        _ => Ok(partner),
    }
}

/// What one retry run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushSummary {
    pub pending: u32,
    pub confirmed: u32,
    pub still_pending: u32,
    pub errors: u32,
}

/// Retries every pending Stripe change (oldest first, at most [`MAX_PUSHES_PER_RUN`]).
#[tracing::instrument(skip_all)]
pub async fn push_pending_stripe_syncs(
    store: &Store,
    stripe: &StripeApi,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Result<PushSummary, UseCaseError> {
    let pending = store.pending_stripe_syncs(MAX_PUSHES_PER_RUN).await?;
    let mut summary = PushSummary {
        pending: u32::try_from(pending.len()).unwrap_or(u32::MAX),
        ..PushSummary::default()
    };
    for listed in pending {
        // The index copy may be stale: push what a consistent read says is pending.
        let pushed = match store.get_partner(&listed.id).await {
            Ok(Some(partner)) => push_stripe_sync(store, stripe, calendar, partner, now)
                .await
                .map(|(_, outcome)| outcome),
            Ok(None) => Ok(PushOutcome::NothingPending),
            Err(err) => Err(err.into()),
        };
        match pushed {
            Ok(PushOutcome::Confirmed) => summary.confirmed += 1,
            Ok(PushOutcome::StillPending { .. }) => summary.still_pending += 1,
            Ok(PushOutcome::NothingPending) => {}
            Err(err) => {
                tracing::warn!(partner_id = %listed.id, error = %err, "pushing a Stripe change failed");
                summary.errors += 1;
            }
        }
    }
    Ok(summary)
}
