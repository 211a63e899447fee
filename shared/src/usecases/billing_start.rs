//! Starting Stripe billing for a partner: create (or reuse) the Stripe customer, create the
//! subscription at the tier's price, then store the Stripe ids, the customer link, the tier and its
//! term, history, audit and `TierChanged` in one transaction.
//!
//! # How the 12-month commitment maps to Stripe
//!
//! Stripe bills monthly (the tier's price is a monthly price); the 12-month commitment is our term,
//! `subscription_start_date`..`subscription_end_date`, as everywhere else in this system.
//! - `auto_renewal = true`: the subscription keeps billing month after month; each paid invoice whose
//!   period runs past the term rolls the term forward by 12 months (see `domain::billing`).
//! - `auto_renewal = false`: the subscription is created with `cancel_at` = the term's end, so Stripe
//!   stops billing when the commitment ends and the sweep expires the term that day.
//!
//! Retries are safe: the customer is created with the key `customer-<partner>`, the subscription
//! with `subscription-<partner>-<version>-<tier>` (the partner version the start was planned on), so
//! a Lambda retried after Stripe answered gets the same objects back instead of new ones.

use super::apply_change::{conflict_backoff, partner_write, MAX_WRITE_ATTEMPTS};
use super::error::UseCaseError;
use super::partners::not_found;
use super::views::PartnerView;
use crate::domain::billing::PriceCatalog;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::{Actor, AuditAction};
use crate::domain::partner::{Partner, PartnerId, PaymentStatus};
use crate::domain::partner_change::PartnerChange;
use crate::domain::tier::Tier;
use crate::domain::tier_change::{plan_tier_change, PlannedTierChange, TierChangeRequest};
use crate::events::{EventBody, TierChanged};
use crate::ids::next_id;
use crate::store::billing::{BillingCommit, BillingWrite};
use crate::store::Store;
use crate::stripe::client::{Collection, NewSubscription, StripeApi, StripeCallError};
use jiff::Timestamp;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct StartBillingCommand {
    pub partner_id: PartnerId,
    pub tier: Tier,
    pub collection: Collection,
    pub actor: Actor,
}

/// The Stripe objects a billing start created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSubscription {
    pub customer_id: String,
    pub subscription_id: String,
    pub status: String,
}

fn stripe_error(err: StripeCallError) -> UseCaseError {
    match err {
        StripeCallError::Unavailable(why) => UseCaseError::Unavailable(why),
        refused @ StripeCallError::Refused { .. } => UseCaseError::StripeRefused(refused.to_string()),
        other => UseCaseError::Internal(other.to_string()),
    }
}

/// Starts billing `command.partner_id` at `command.tier` through Stripe.
#[tracing::instrument(skip_all, fields(partner_id = %command.partner_id, tier = %command.tier), err(Display))]
pub async fn start_billing(
    store: &Store,
    stripe: &StripeApi,
    prices: &PriceCatalog,
    calendar: &BusinessCalendar,
    command: StartBillingCommand,
    now: Timestamp,
) -> Result<PartnerView, UseCaseError> {
    let price_id = prices
        .price_of(command.tier)
        .ok_or_else(|| UseCaseError::invalid("tier", "billing needs a paid tier (gold or platinum)"))?;
    let partner = store
        .get_partner(&command.partner_id)
        .await?
        .ok_or_else(|| not_found(&command.partner_id))?;
    if partner.has_live_stripe_subscription() {
        return Err(UseCaseError::Conflict {
            detail: format!(
                "partner {} is already billed through Stripe subscription {}; cancel it before starting another",
                partner.id,
                partner.stripe_subscription_id.as_deref().unwrap_or_default()
            ),
            current_version: Some(partner.version),
        });
    }
    let customer_id = match &partner.stripe_customer_id {
        Some(id) => id.clone(),
        None => stripe.create_customer(&partner).await.map_err(stripe_error)?,
    };
    if store.link_customer(&customer_id, &partner.id, now).await? == BillingCommit::CustomerTaken {
        return Err(UseCaseError::Conflict {
            detail: format!("Stripe customer {customer_id} belongs to another partner"),
            current_version: Some(partner.version),
        });
    }
    let today = calendar.today(now);
    let term_end = planned_term_end(&partner, command.tier, today)?;
    let cancel_at = (!partner.auto_renewal)
        .then(|| calendar.start_of(term_end).ok())
        .flatten();
    let new = NewSubscription {
        customer_id: &customer_id,
        price_id,
        collection: command.collection,
        cancel_at,
        metadata: HashMap::from([
            ("partner_id".to_owned(), partner.id.to_string()),
            ("tier".to_owned(), command.tier.to_string()),
        ]),
        idempotency_key: format!("subscription-{}-{}-{}", partner.id, partner.version, command.tier),
    };
    let (subscription_id, status) = stripe.create_subscription(&new).await.map_err(stripe_error)?;
    let created = StripeSubscription {
        customer_id,
        subscription_id,
        status,
    };
    record_billing_start(store, calendar, &command, &created, now).await
}

/// The tier at its default term (the current term when the partner already has this tier), as a tier
/// change plans it; `None` when nothing changes.
fn plan_billed_tier(
    partner: &Partner,
    tier: Tier,
    today: jiff::civil::Date,
    now: Timestamp,
) -> Result<Option<PlannedTierChange>, UseCaseError> {
    let request = TierChangeRequest {
        tier,
        start: None,
        end: None,
        reason: None,
    };
    plan_tier_change(partner, &request, today, now).map_err(|e| UseCaseError::invalid("tier", e))
}

fn planned_term_end(
    partner: &Partner,
    tier: Tier,
    today: jiff::civil::Date,
) -> Result<jiff::civil::Date, UseCaseError> {
    let plan = plan_billed_tier(partner, tier, today, Timestamp::UNIX_EPOCH)?;
    let after = plan.map(|p| p.after).unwrap_or_else(|| partner.clone());
    after
        .subscription_end_date
        .ok_or_else(|| UseCaseError::Internal("a paid tier without a term end".into()))
}

/// Stores a started billing: Stripe ids and the customer link, the tier with its term (unchanged when
/// the partner already has that tier and a term), `payment_status = current`, history when the
/// tier or term changed, audit, and `TierChanged`. Used by [`start_billing`] once Stripe answered.
pub async fn record_billing_start(
    store: &Store,
    calendar: &BusinessCalendar,
    command: &StartBillingCommand,
    stripe: &StripeSubscription,
    now: Timestamp,
) -> Result<PartnerView, UseCaseError> {
    let today = calendar.today(now);
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let current = store
            .get_partner(&command.partner_id)
            .await?
            .ok_or_else(|| not_found(&command.partner_id))?;
        let plan = plan_billed_tier(&current, command.tier, today, now)?;
        let mut after = plan
            .as_ref()
            .map(|p| p.after.clone())
            .unwrap_or_else(|| current.clone());
        after.stripe_customer_id = Some(stripe.customer_id.clone());
        after.stripe_subscription_id = Some(stripe.subscription_id.clone());
        after.stripe_subscription_status = Some(stripe.status.clone());
        after.stripe_subscription_synced_at = None;
        after.payment_status = Some(PaymentStatus::Current);
        let mut events = Vec::new();
        if let Some(plan) = &plan {
            let reason = Some(format!("Stripe billing started ({})", command.collection.as_str()));
            events.push(EventBody::TierChanged(TierChanged::between(
                &current,
                &plan.after,
                plan.event_type,
                command.actor.clone(),
                reason,
            )));
        }
        let change = PartnerChange {
            stripe_action: None,
            after,
            history: plan.as_ref().map(|p| p.event_type),
            note: crate::domain::partner::Note::parse("Stripe billing started").ok(),
            audit_action: AuditAction::BillingStarted,
            events,
        };
        let (write, _) = partner_write(&current, change, &command.actor, now);
        let view_after = write.partner.clone();
        let billing = BillingWrite {
            customer_link: Some((stripe.customer_id.clone(), current.id.clone())),
            partner: Some(write),
            ..BillingWrite::default()
        };
        match store.commit_billing(billing, next_id(), now).await? {
            BillingCommit::Committed => return Ok(PartnerView::new(view_after, today)),
            BillingCommit::CustomerTaken => {
                return Err(UseCaseError::Conflict {
                    detail: format!("Stripe customer {} belongs to another partner", stripe.customer_id),
                    current_version: None,
                })
            }
            _ => conflict_backoff(attempt).await,
        }
    }
    Err(UseCaseError::Conflict {
        detail: format!(
            "partner {} kept changing while billing was recorded; Stripe subscription {} exists, try again",
            command.partner_id, stripe.subscription_id
        ),
        current_version: None,
    })
}
