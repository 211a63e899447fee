//! Admin use-cases on tiers: preview the PCR impact, apply a change.

use super::apply_change::{apply_change_after_read, Outcome};
use super::error::not_found;
use super::error::UseCaseError;
use super::stripe_sync::push_after_change;
use super::tier_switch::{switch_billed_tier, SwitchOutcome};
use super::views::PartnerView;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::{Actor, HistoryEntry};
use crate::domain::partner::{Partner, PartnerId};
use crate::domain::pcr::{PcrDelta, PcrScore};
use crate::domain::tier::Tier;
use crate::domain::tier_change::{
    plan_tier_change, preview_tier_change, TierChangeError, TierChangeRequest, TierPreview,
};
use crate::store::Store;
use crate::stripe::client::StripeBilling;
use jiff::Timestamp;
use serde::Serialize;

/// What an admin asked for, with who asked.
#[derive(Debug, Clone)]
pub struct ChangeTierCommand {
    pub partner_id: PartnerId,
    pub request: TierChangeRequest,
    /// When given, the change applies only to this version (409 otherwise, no retry).
    pub expected_version: Option<u64>,
    pub actor: Actor,
}

#[derive(Debug, Clone, Serialize)]
pub struct PcrChange {
    pub before: PcrScore,
    pub after: PcrScore,
    pub delta: PcrDelta,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierChangeOutcome {
    pub partner: PartnerView,
    /// False when the partner already had this tier and term: nothing was written.
    pub changed: bool,
    pub pcr_change: PcrChange,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_entry: Option<HistoryEntry>,
}

/// The PCR impact of moving a partner to `tier`; changes nothing.
pub async fn preview_tier(store: &Store, id: &PartnerId, tier: Tier) -> Result<TierPreview, UseCaseError> {
    let partner = store.get_partner(id).await?.ok_or_else(|| not_found(id))?;
    Ok(preview_tier_change(&partner, tier))
}

/// A billed partner moved between paid tiers: through Stripe (`tier_switch`), the tier here only
/// once Stripe collected the prorated difference.
async fn switch_through_stripe(
    store: &Store,
    billing: Option<&StripeBilling>,
    calendar: &BusinessCalendar,
    command: &ChangeTierCommand,
    current: Partner,
    now: Timestamp,
) -> Result<TierChangeOutcome, UseCaseError> {
    let today = calendar.today(now);
    if let Some(expected) = command.expected_version.filter(|v| *v != current.version) {
        return Err(UseCaseError::StaleVersion {
            partner: current.id,
            current: current.version,
            expected,
        });
    }
    let billing = billing.ok_or_else(|| UseCaseError::Unavailable("Stripe billing is not configured".into()))?;
    let switched = switch_billed_tier(
        store,
        billing,
        calendar,
        &current,
        command.request.tier,
        &command.actor,
        now,
    )
    .await?;
    let (before, after, changed) = match switched {
        SwitchOutcome::Switched { before, after } => (before, after, true),
        SwitchOutcome::Unchanged => (current.clone(), current, false),
        SwitchOutcome::AwaitingPayment { tier, .. } => {
            return Err(UseCaseError::Conflict {
                detail: format!(
                    "Stripe could not collect the prorated amount for {}: the tier is unchanged, and Stripe applies the switch only once that invoice is paid",
                    tier.label()
                ),
                current_version: Some(current.version),
            })
        }
    };
    let (from, to) = (before.final_pcr_score, after.final_pcr_score);
    Ok(TierChangeOutcome {
        partner: PartnerView::new(after, today),
        changed,
        pcr_change: PcrChange {
            before: from,
            after: to,
            delta: from.delta_to(to),
        },
        history_entry: None,
    })
}

/// Applies a tier change atomically (profile, history, audit, `TierChanged`). Without
/// `expected_version`, a concurrent change is retried on fresh data a few times before answering 409.
/// Moving a Stripe-billed partner to free cancels its subscription in Stripe (pushed at once when
/// `stripe` answers, else pending and retried); its paid tier and term follow Stripe.
#[tracing::instrument(skip(store, billing, calendar, command), fields(partner_id = %command.partner_id, tier = %command.request.tier), err(Display))]
pub async fn change_tier(
    store: &Store,
    billing: Option<&StripeBilling>,
    calendar: &BusinessCalendar,
    command: ChangeTierCommand,
    now: Timestamp,
) -> Result<TierChangeOutcome, UseCaseError> {
    let today = calendar.today(now);
    let stripe = billing.map(|b| &b.stripe);
    // A billed partner switches paid tiers through Stripe (dates stay Stripe's: refused below).
    let current = store
        .get_partner(&command.partner_id)
        .await?
        .ok_or_else(|| not_found(&command.partner_id))?;
    let switch = command.request.tier.is_paid() && command.request.start.is_none() && command.request.end.is_none();
    if switch && current.has_live_stripe_subscription() {
        return switch_through_stripe(store, billing, calendar, &command, current, now).await;
    }
    let ChangeTierCommand {
        partner_id,
        request,
        expected_version,
        actor,
    } = command;
    let outcome = apply_change_after_read(
        store,
        &partner_id,
        Some(current),
        &actor,
        expected_version,
        now,
        |current| {
            let plan = plan_tier_change(current, &request, today, now).map_err(|e| match e {
                TierChangeError::BilledByStripe { .. } => UseCaseError::Conflict {
                    detail: e.to_string(),
                    current_version: Some(current.version),
                },
                other => UseCaseError::invalid("subscription_end_date", other),
            })?;
            Ok(plan.map(|plan| plan.into_change(&actor, request.reason.as_ref())))
        },
    )
    .await?;
    Ok(match outcome {
        Outcome::Applied(applied) => {
            tracing::info!(version = applied.after.version, "tier changed");
            let (before, after) = (applied.before.final_pcr_score, applied.after.final_pcr_score);
            let partner = push_after_change(store, stripe, calendar, applied.after, now).await?;
            TierChangeOutcome {
                partner: PartnerView::new(partner, today),
                changed: true,
                pcr_change: PcrChange {
                    before,
                    after,
                    delta: before.delta_to(after),
                },
                history_entry: applied.history,
            }
        }
        Outcome::Unchanged(current) => {
            let score = current.final_pcr_score;
            TierChangeOutcome {
                partner: PartnerView::new(current, today),
                changed: false,
                pcr_change: PcrChange {
                    before: score,
                    after: score,
                    delta: score.delta_to(score),
                },
                history_entry: None,
            }
        }
    })
}
