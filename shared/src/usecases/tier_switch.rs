//! Switching a Stripe-billed partner between paid tiers (`domain::tier_switch`): Stripe first, with
//! the key `switch-<partner>-v<version>` (one per partner version, whatever tier two racing requests
//! ask), then the tier as Stripe applied it: an upgrade at once once its prorated invoice is paid, a
//! downgrade scheduled for the end of the period being billed.

use super::apply_change::{apply_change_after_read, Outcome};
use super::error::UseCaseError;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::Partner;
use crate::domain::tier::Tier;
use crate::domain::tier_switch::{plan_tier_switch, switch_change, TierSwitch};
use crate::stripe::client::{PriceChange, StripeBilling};
use jiff::Timestamp;

/// What a switch between paid tiers did.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one value per request, matched at once
pub enum SwitchOutcome {
    /// Stripe applied it, and so did we.
    Switched { before: Partner, after: Partner },
    /// Nothing to do: the tier (or the scheduled change) is already what was asked.
    Unchanged,
    /// An upgrade whose prorated invoice Stripe could not collect: Stripe holds the switch back
    /// (`pending_if_incomplete`) until `invoice_id` is paid; the tier here is unchanged.
    AwaitingPayment { tier: Tier, invoice_id: Option<String> },
}

/// Moves billed `partner` to paid `tier` in Stripe, then here.
#[tracing::instrument(skip_all, fields(partner_id = %partner.id, tier = %tier), err(Display))]
pub async fn switch_billed_tier(
    store: &crate::store::Store,
    billing: &StripeBilling,
    calendar: &BusinessCalendar,
    partner: &Partner,
    tier: Tier,
    actor: &Actor,
    now: Timestamp,
) -> Result<SwitchOutcome, UseCaseError> {
    let Some(switch) = plan_tier_switch(partner, tier) else {
        return Ok(SwitchOutcome::Unchanged);
    };
    let subscription_id = partner
        .stripe_subscription_id
        .as_deref()
        .ok_or_else(|| UseCaseError::Internal("a billed partner without its subscription".into()))?;
    let price_id = billing
        .prices
        .price_of(tier)
        .ok_or_else(|| UseCaseError::invalid("engagement_tier", "a billed partner switches between paid tiers"))?;
    let current = billing.stripe.subscription(subscription_id).await?;
    let item_id = current
        .item_id
        .ok_or_else(|| UseCaseError::StripeRefused(format!("Stripe subscription {subscription_id} has no item")))?;
    let how = match switch {
        TierSwitch::Upgrade(_) => PriceChange::ProratedNow,
        TierSwitch::Downgrade(_) | TierSwitch::KeepCurrent(_) => PriceChange::NextPeriod,
    };
    let key = format!("switch-{}-v{}", partner.id, partner.version);
    let state = billing
        .stripe
        .change_price(subscription_id, &item_id, price_id, how, &key)
        .await?;
    if state.has_pending_update {
        return Ok(SwitchOutcome::AwaitingPayment {
            tier,
            invoice_id: state.latest_invoice_id,
        });
    }
    let effective = state.current_period_end.map(|end| calendar.today(end));
    let read = Some(partner.clone());
    let outcome = apply_change_after_read(store, &partner.id, read, actor, None, now, |current| {
        let effective = effective.unwrap_or_else(|| calendar.today(now));
        Ok(switch_change(current, switch, effective, actor, now))
    })
    .await?;
    Ok(match outcome {
        Outcome::Applied(applied) => SwitchOutcome::Switched {
            before: applied.before,
            after: applied.after,
        },
        Outcome::Unchanged(_) => SwitchOutcome::Unchanged,
    })
}
