//! Starting Stripe billing for a partner: claim the start, create (or reuse) the Stripe customer and
//! link it, create the subscription at the tier's price, then record what Stripe created.
//!
//! # A paid tier is granted for money
//! - `charge_automatically`: the subscription is created with `payment_behavior=allow_incomplete`;
//!   the partner keeps its tier with `payment_status = pending` (the route answers 202) until the first
//!   invoice's `invoice.paid` grants it (`domain::billing_events`); `incomplete_expired` grants nothing.
//! - `send_invoice` (B2B invoicing): the tier is granted at once with `payment_status =
//!   awaiting_payment` and the invoice's due date (201).
//!
//! # One start, one subscription
//! The start is first claimed on the partner (`pending_billing`, guarded by its version): of two
//! concurrent starts, whatever their tiers, one claims it and the other answers 409 before Stripe is
//! called. The subscription's idempotency key is `subscription-<partner>-v<claim version>`, so a
//! Lambda retried after Stripe answered, or a start resumed after its request died (the claim's lease,
//! `domain::billing_start::CLAIM_LEASE`), gets the same subscription back instead of a second one.
//! Stripe refusing the subscription releases the claim; Stripe unreachable keeps it (resumable).
//!
//! # How the 12-month commitment maps to Stripe
//! Stripe bills monthly (the tier's price is a monthly price); the 12-month commitment is our term,
//! `subscription_start_date`..`subscription_end_date`, as everywhere else in this system.
//! - `auto_renewal = true`: the subscription keeps billing month after month; each paid invoice whose
//!   period runs past the term rolls the term forward by 12 months (see `domain::billing`).
//! - `auto_renewal = false`: the subscription is created with `cancel_at` = the term's end, so Stripe
//!   stops billing when the commitment ends and the sweep expires the term that day.

mod pending;

use super::apply_change::{
    apply_change, apply_change_after_read, conflict_backoff, partner_write, Outcome, MAX_WRITE_ATTEMPTS,
};
use super::error::not_found;
use super::error::UseCaseError;
use crate::domain::billing::PriceCatalog;
use crate::domain::billing_start::{
    billed_term_end, claim_billing_start, grant_billed_tier, granted_change, BilledSubscription, Claim, Collection,
    PendingBilling, StartRequest,
};
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::history_and_audit::{Actor, AuditAction};
use crate::domain::partner::{Partner, PartnerId, PaymentStatus};
use crate::domain::partner_change::PartnerChange;
use crate::domain::tier::Tier;
use crate::ids::next_id;
use crate::store::billing::{BillingCommit, BillingWrite};
use crate::store::Store;
use crate::stripe::client::{
    FirstPayment, NewSubscription, PaymentToConfirm, StripeApi, StripeCallError, SubscriptionState,
};
use jiff::Timestamp;
pub use pending::{carry_out_pending_billing_starts, StartsSummary, MAX_STARTS_PER_RUN};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct StartBillingCommand {
    pub partner_id: PartnerId,
    pub tier: Tier,
    pub collection: Collection,
    /// Who pays the first invoice of a subscription charged automatically.
    pub first_payment: FirstPayment,
    pub actor: Actor,
}

/// What a billing start did.
#[derive(Debug, Clone)]
pub enum BillingStartOutcome {
    /// Charged automatically: the subscription exists; the tier waits for its first payment, which
    /// the partner completes with `payment` when Stripe left it to them.
    AwaitingFirstPayment {
        partner: Partner,
        payment: Option<PaymentToConfirm>,
    },
    /// Invoiced, or paid already: the tier is granted.
    Granted(Partner),
}

/// What `command` asks of Stripe for `partner` today: a term that does not renew stops billing at
/// its end. Fixed with the claim, so a resumed start asks the same.
fn start_request(
    partner: &Partner,
    command: &StartBillingCommand,
    calendar: &BusinessCalendar,
    today: CalendarDate,
) -> StartRequest {
    StartRequest {
        first_payment: command.first_payment,
        cancel_at: (!partner.auto_renewal)
            .then(|| billed_term_end(partner, command.tier, today))
            .flatten()
            .and_then(|end| calendar.start_of(end).ok()),
    }
}

/// Claims the start (or takes over one whose request died); the partner as claimed, the claim it
/// goes ahead with, and whether it took over an earlier one.
async fn claim(
    store: &Store,
    calendar: &BusinessCalendar,
    command: &StartBillingCommand,
    read: Option<Partner>,
    now: Timestamp,
) -> Result<(Partner, PendingBilling, bool), UseCaseError> {
    let today = calendar.today(now);
    let outcome = apply_change_after_read(store, &command.partner_id, read, &command.actor, None, now, |current| {
        let request = start_request(current, command, calendar, today);
        match claim_billing_start(current, command.tier, command.collection, request, now) {
            Ok(Claim::New(after)) => Ok(Some(PartnerChange::audited(after, AuditAction::BillingStartRequested))),
            // Nothing to write: the earlier claim goes on.
            Ok(Claim::Resume(_)) => Ok(None),
            Err(refusal) => Err(UseCaseError::Conflict {
                detail: refusal.to_string(),
                current_version: Some(current.version),
            }),
        }
    })
    .await?;
    let (partner, resumed) = match outcome {
        Outcome::Applied(applied) => (applied.after, false),
        Outcome::Unchanged(current) => (current, true),
    };
    let claim = partner
        .pending_billing
        .clone()
        .ok_or_else(|| UseCaseError::Internal("a claimed billing start without its claim".into()))?;
    Ok((partner, claim, resumed))
}

/// Lets go of a claim Stripe refused (nothing was created there), so that a corrected start may follow.
async fn release_claim(
    store: &Store,
    command: &StartBillingCommand,
    claim: &PendingBilling,
    now: Timestamp,
) -> Result<(), UseCaseError> {
    apply_change(store, &command.partner_id, &command.actor, None, now, |current| {
        let ours = current.pending_billing.as_ref().map(|p| p.requested_version) == Some(claim.requested_version);
        Ok(ours.then(|| {
            let mut after = current.clone();
            after.pending_billing = None;
            PartnerChange::audited(after, AuditAction::BillingStartFailed)
        }))
    })
    .await?;
    Ok(())
}

/// Starts billing `command.partner_id` at `command.tier` through Stripe.
pub async fn start_billing(
    store: &Store,
    stripe: &StripeApi,
    prices: &PriceCatalog,
    calendar: &BusinessCalendar,
    command: StartBillingCommand,
    now: Timestamp,
) -> Result<BillingStartOutcome, UseCaseError> {
    start_billing_after_read(store, stripe, prices, calendar, command, None, now).await
}

/// [`start_billing`] on a partner the caller has just read (`read`), saving the claim's read; a
/// conflict re-reads as usual.
#[tracing::instrument(skip_all, fields(partner_id = %command.partner_id, tier = %command.tier), err(Display))]
pub async fn start_billing_after_read(
    store: &Store,
    stripe: &StripeApi,
    prices: &PriceCatalog,
    calendar: &BusinessCalendar,
    command: StartBillingCommand,
    read: Option<Partner>,
    now: Timestamp,
) -> Result<BillingStartOutcome, UseCaseError> {
    let price_id = prices
        .price_of(command.tier)
        .ok_or_else(|| UseCaseError::invalid("tier", "billing needs a paid tier (gold or platinum)"))?;
    let (partner, claim, resumed) = claim(store, calendar, &command, read, now).await?;
    let today = calendar.today(now);
    // The request as claimed, whichever route resumes it (a claim from before it was kept: as asked).
    let request = claim
        .request
        .unwrap_or_else(|| start_request(&partner, &command, calendar, today));
    let ended = request.cancel_at.map(|at| calendar.today(at));
    if let Some(end) = ended.filter(|end| *end <= today) {
        // Stripe would be asked to stop billing in the past (it refuses `cancel_at` then).
        release_claim(store, &command, &claim, now).await?;
        return Err(UseCaseError::Conflict {
            detail: format!(
                "the partner's {} term ended on {end} and does not renew; set a new term (or turn auto-renewal on) before billing starts",
                command.tier.label()
            ),
            current_version: Some(partner.version),
        });
    }
    let start = ClaimedStart {
        command: &command,
        claim: &claim,
        resumed,
        now,
    };
    let customer_id = customer_for_start(store, stripe, &start, &partner).await?;
    let key = claim.subscription_key(&partner.id);
    let new = NewSubscription {
        customer_id: &customer_id,
        price_id,
        collection: command.collection,
        cancel_at: request.cancel_at,
        metadata: BTreeMap::from([
            ("partner_id".to_owned(), partner.id.to_string()),
            ("tier".to_owned(), command.tier.to_string()),
            ("billing_start".to_owned(), key.clone()),
        ]),
        idempotency_key: key.clone(),
        first_payment: request.first_payment,
    };
    let state = subscription_for_start(store, stripe, &start, &new).await?;
    let subscription = BilledSubscription {
        customer_id,
        subscription_id: state.id,
        status: state.status,
        collection: command.collection,
    };
    let partner = record_started(
        store,
        calendar,
        &command,
        partner,
        &subscription,
        state.latest_invoice_id,
        now,
    )
    .await?;
    Ok(if partner.pending_billing.is_some() {
        BillingStartOutcome::AwaitingFirstPayment {
            partner,
            payment: state.payment,
        }
    } else {
        BillingStartOutcome::Granted(partner)
    })
}

/// A start as claimed at `now`: the request, its claim, and whether it takes over one whose request
/// died (`resumed`).
struct ClaimedStart<'a> {
    command: &'a StartBillingCommand,
    claim: &'a PendingBilling,
    resumed: bool,
    now: Timestamp,
}

/// The partner's Stripe customer for a start: the one on the partner, else a new one, linked to
/// the partner before anything is billed (so that its first webhooks find the partner; links are
/// never removed, so a customer on the partner was linked before it was recorded there). A refusal
/// releases the claim.
async fn customer_for_start(
    store: &Store,
    stripe: &StripeApi,
    start: &ClaimedStart<'_>,
    partner: &Partner,
) -> Result<String, UseCaseError> {
    let (command, claim, now) = (start.command, start.claim, start.now);
    if let Some(id) = &partner.stripe_customer_id {
        return Ok(id.clone());
    }
    let customer_id = match stripe.create_customer(partner).await {
        Ok(id) => id,
        Err(err) => {
            if matches!(err, StripeCallError::Refused { .. }) {
                release_claim(store, command, claim, now).await?;
            }
            return Err(err.into());
        }
    };
    if store.link_customer(&customer_id, &partner.id, now).await? == BillingCommit::CustomerTaken {
        release_claim(store, command, claim, now).await?;
        return Err(UseCaseError::Conflict {
            detail: format!("Stripe customer {customer_id} belongs to another partner"),
            current_version: Some(partner.version),
        });
    }
    Ok(customer_id)
}

/// The start's subscription: the one a start taken over from a request that died created already
/// (`resumed`: looked for first, then the same request, byte for byte, under the same key), else
/// created now under the claim's key (a key used with other
/// parameters: found, nothing released; a refusal releases the claim).
async fn subscription_for_start(
    store: &Store,
    stripe: &StripeApi,
    start: &ClaimedStart<'_>,
    new: &NewSubscription<'_>,
) -> Result<SubscriptionState, UseCaseError> {
    let (command, claim, now) = (start.command, start.claim, start.now);
    let key = &new.idempotency_key;
    if start.resumed {
        if let Some(state) = stripe.started_subscription(new.customer_id, key).await? {
            return Ok(state);
        }
    }
    match stripe.create_subscription(new).await {
        Ok(state) => Ok(state),
        Err(StripeCallError::IdempotencyConflict(why)) => stripe
            .started_subscription(new.customer_id, key)
            .await?
            .ok_or_else(|| StripeCallError::IdempotencyConflict(why).into()),
        Err(err) => {
            if matches!(err, StripeCallError::Refused { .. }) {
                release_claim(store, command, claim, now).await?;
            }
            Err(err.into())
        }
    }
}

/// Records what Stripe created for the claim: the subscription waiting for its first payment, or,
/// invoiced, the tier granted. A first payment that already granted it (its webhook was faster)
/// leaves nothing to do. `claimed` is the partner as the claim wrote it, with its claim (a webhook
/// that changed it since makes the write re-read). The partner as it then stands.
async fn record_started(
    store: &Store,
    calendar: &BusinessCalendar,
    command: &StartBillingCommand,
    claimed: Partner,
    subscription: &BilledSubscription,
    first_invoice_id: Option<String>,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let today = calendar.today(now);
    let claim = claimed
        .pending_billing
        .clone()
        .ok_or_else(|| UseCaseError::Internal("a claimed billing start without its claim".into()))?;
    let read = Some(claimed);
    let outcome = apply_change_after_read(store, &command.partner_id, read, &command.actor, None, now, |current| {
        let ours = current
            .pending_billing
            .as_ref()
            .filter(|p| p.requested_version == claim.requested_version);
        match (ours, command.collection) {
            (Some(pending), Collection::ChargeAutomatically) => {
                let mut after = current.clone();
                after.pending_billing = Some(PendingBilling {
                    subscription_id: Some(subscription.subscription_id.clone()),
                    ..pending.clone()
                });
                after.stripe_customer_id = Some(subscription.customer_id.clone());
                after.payment_status = Some(PaymentStatus::Pending);
                Ok(Some(PartnerChange::audited(after, AuditAction::BillingStarted)))
            }
            (Some(_), Collection::SendInvoice) => {
                let mut after = grant_billed_tier(
                    current,
                    command.tier,
                    subscription,
                    PaymentStatus::AwaitingPayment,
                    today,
                    now,
                )
                .ok_or_else(|| UseCaseError::Internal("the billed tier's term could not be planned".into()))?;
                after.open_invoice_id = first_invoice_id.clone();
                let note = "Stripe billing started (send_invoice): granted while the invoice is open";
                Ok(Some(granted_change(current, after, &command.actor, note)))
            }
            (None, _) if current.stripe_subscription_id.as_deref() == Some(subscription.subscription_id.as_str()) => {
                Ok(None)
            }
            (None, _) => Err(UseCaseError::Conflict {
                detail: format!(
                    "the billing start of partner {} was withdrawn while Stripe created subscription {}",
                    current.id, subscription.subscription_id
                ),
                current_version: Some(current.version),
            }),
        }
    })
    .await?;
    Ok(match outcome {
        Outcome::Applied(applied) => applied.after,
        Outcome::Unchanged(current) => current,
    })
}

/// Records a subscription that is already paid for: the customer link, the tier with its term, the
/// Stripe ids, `payment_status = current`, history, audit and `TierChanged`, in one transaction
/// (what a first paid invoice grants; also how tests and imports set up billed partners).
pub async fn record_paid_billing(
    store: &Store,
    calendar: &BusinessCalendar,
    command: &StartBillingCommand,
    subscription: &BilledSubscription,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let today = calendar.today(now);
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let current = store
            .get_partner(&command.partner_id)
            .await?
            .ok_or_else(|| not_found(&command.partner_id))?;
        let after = grant_billed_tier(&current, command.tier, subscription, PaymentStatus::Current, today, now)
            .ok_or_else(|| UseCaseError::Internal("the billed tier's term could not be planned".into()))?;
        let change = granted_change(&current, after, &command.actor, "Stripe billing started");
        let (write, _) = partner_write(&current, change, &command.actor, now);
        let after = write.partner.clone();
        let billing = BillingWrite {
            customer_link: Some((subscription.customer_id.clone(), current.id.clone())),
            partner: Some(write),
            ..BillingWrite::default()
        };
        match store.commit_billing(billing, next_id(), now).await? {
            BillingCommit::Committed => return Ok(after),
            BillingCommit::CustomerTaken => {
                return Err(UseCaseError::Conflict {
                    detail: format!(
                        "Stripe customer {} belongs to another partner",
                        subscription.customer_id
                    ),
                    current_version: None,
                })
            }
            _ => conflict_backoff(attempt).await,
        }
    }
    Err(UseCaseError::Conflict {
        detail: format!(
            "partner {} kept changing while billing was recorded; Stripe subscription {} exists, try again",
            command.partner_id, subscription.subscription_id
        ),
        current_version: None,
    })
}
