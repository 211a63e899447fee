//! The billing starts nobody else will carry out (a renewal's the sweep requested, a start whose
//! request died after its lease): `stripe-reconcile` carries them out within the hour.

use super::{start_billing, StartBillingCommand};
use crate::domain::billing::PriceCatalog;
use crate::domain::billing_start::{FirstPayment, PendingBilling};
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::Actor;
use crate::store::Store;
use crate::stripe::client::StripeApi;
use crate::usecases::error::UseCaseError;
use jiff::Timestamp;

/// How many pending billing starts one reconciliation run carries out at most.
pub const MAX_STARTS_PER_RUN: u16 = 100;

/// What one run of [`carry_out_pending_billing_starts`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StartsSummary {
    /// Claims listed (the pending index may lag: each is read again).
    pub pending: u32,
    /// Started at Stripe (or found started) and recorded.
    pub started: u32,
    /// Stripe refused: the claim was released (its audit says so; a renewal's is requested again by
    /// the next sweep, within the grace period).
    pub refused: u32,
    /// Not started (Stripe unreachable, a conflict): the claim stays and the run fails, so its
    /// alarm fires while any stays.
    pub still_pending: u32,
}

/// Carries out the billing starts nobody else will: a renewal's that the sweep requested, or one
/// whose request died after its lease, each with the request its claim keeps (same key, same
/// parameters: a start Stripe made already is found, not made twice).
#[tracing::instrument(skip_all)]
pub async fn carry_out_pending_billing_starts(
    store: &Store,
    stripe: &StripeApi,
    prices: &PriceCatalog,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Result<StartsSummary, UseCaseError> {
    let listed = store.pending_billing_starts(MAX_STARTS_PER_RUN).await?;
    let mut summary = StartsSummary {
        pending: u32::try_from(listed.len()).unwrap_or(u32::MAX),
        ..StartsSummary::default()
    };
    for partner in listed {
        let Some(claim) = partner.pending_billing.clone() else {
            continue;
        };
        let command = StartBillingCommand {
            partner_id: partner.id.clone(),
            tier: claim.tier,
            collection: claim.collection,
            first_payment: claim.request.map_or(FirstPayment::SavedMethod, |r| r.first_payment),
            actor: Actor::System,
        };
        match Box::pin(start_billing(store, stripe, prices, calendar, command, now)).await {
            Ok(_) => summary.started += 1,
            Err(UseCaseError::StripeRefused(why)) => {
                tracing::warn!(partner_id = %partner.id, error = %why, "Stripe refused a pending billing start; its claim was released");
                summary.refused += 1;
            }
            // Its lease has not run out (a request is still on it), or it changed meanwhile.
            Err(UseCaseError::Conflict { detail, .. }) if claim_is_live(&claim, now) => {
                tracing::info!(partner_id = %partner.id, %detail, "a billing start is still under way");
            }
            Err(err) => {
                tracing::warn!(partner_id = %partner.id, error = %err, "a pending billing start is still pending");
                summary.still_pending += 1;
            }
        }
    }
    Ok(summary)
}

/// Whether a request may still be working on `claim` (its lease has not run out).
fn claim_is_live(claim: &PendingBilling, now: Timestamp) -> bool {
    now.duration_since(claim.requested_at) <= crate::domain::billing_start::CLAIM_LEASE
}
