//! A partner upgrading itself in the portal and paying in the browser (`domain::portal_upgrade`
//! decides what the request may do).
//!
//! - From free: Stripe billing starts with the first invoice left for the partner to pay
//!   (`default_incomplete`); the answer carries that payment's `client_secret` for Stripe Elements.
//!   The tier is granted by the paid invoice's webhook, never by this call; a payment never made
//!   grants nothing (`incomplete_expired`).
//! - Asked again while that payment is open: the same subscription's same payment (no second
//!   subscription: the start is claimed on the partner, and its idempotency key is the claim's).
//! - Gold to platinum: the proration rule of two-way billing (`usecases::tier_switch`): the
//!   difference is invoiced and charged at once; when the card needs the partner (3-D Secure or a
//!   decline), Stripe holds the switch until that invoice is paid, and the answer carries its payment.

use super::super::billing_start::{start_billing_after_read, BillingStartOutcome, StartBillingCommand};
use super::super::error::not_found;
use super::super::error::UseCaseError;
use super::super::tier_switch::{switch_billed_tier, SwitchOutcome};
use crate::auth::PartnerUser;
use crate::domain::billing_start::Collection;
use crate::domain::dates::BusinessCalendar;
use crate::domain::partner::Partner;
use crate::domain::portal_upgrade::{plan_portal_upgrade, PortalUpgrade, UpgradeRefusal};
use crate::domain::tier::Tier;
use crate::store::Store;
use crate::stripe::client::{FirstPayment, PaymentToConfirm, StripeBilling};
use jiff::Timestamp;

/// What an upgrade request came to.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one value per request, matched at once
pub enum UpgradeOutcome {
    /// The partner pays `payment` with Stripe Elements; the tier follows the paid invoice.
    PaymentRequired {
        tier: Tier,
        payment: PaymentToConfirm,
        partner: Partner,
    },
    /// Paid (or being charged): the tier follows as soon as Stripe confirms the payment.
    Processing { tier: Tier, partner: Partner },
    /// Upgraded now (the prorated difference was collected with the card on file).
    Upgraded { partner: Partner },
}

fn refused(refusal: UpgradeRefusal, partner: &Partner) -> UseCaseError {
    match refusal {
        UpgradeRefusal::NotPaid(_) => UseCaseError::invalid("tier", refusal),
        other => UseCaseError::Conflict {
            detail: other.to_string(),
            current_version: Some(partner.version),
        },
    }
}

/// Upgrades `user`'s partner to `tier`, as far as money allows now.
#[tracing::instrument(skip_all, fields(partner_id = %user.partner_id, tier = %tier), err(Display))]
pub async fn upgrade(
    store: &Store,
    billing: &StripeBilling,
    calendar: &BusinessCalendar,
    user: &PartnerUser,
    tier: Tier,
    now: Timestamp,
) -> Result<UpgradeOutcome, UseCaseError> {
    let partner = store
        .get_partner(&user.partner_id)
        .await?
        .ok_or_else(|| not_found(&user.partner_id))?;
    let plan = plan_portal_upgrade(&partner, tier, now).map_err(|refusal| refused(refusal, &partner))?;
    match plan {
        PortalUpgrade::StartBilling(tier) => {
            let command = StartBillingCommand {
                partner_id: user.partner_id.clone(),
                tier,
                collection: Collection::ChargeAutomatically,
                first_payment: FirstPayment::ByPartner,
                actor: user.actor(),
            };
            let read = Some(partner);
            let started =
                start_billing_after_read(store, &billing.stripe, &billing.prices, calendar, command, read, now).await?;
            Ok(match started {
                BillingStartOutcome::AwaitingFirstPayment {
                    partner,
                    payment: Some(payment),
                } => UpgradeOutcome::PaymentRequired { tier, payment, partner },
                BillingStartOutcome::AwaitingFirstPayment { partner, payment: None } => {
                    UpgradeOutcome::Processing { tier, partner }
                }
                BillingStartOutcome::Granted(partner) => UpgradeOutcome::Upgraded { partner },
            })
        }
        PortalUpgrade::ContinuePayment { tier, subscription_id } => {
            let state = billing.stripe.subscription_with_payment(&subscription_id).await?;
            Ok(match state.payment {
                Some(payment) => UpgradeOutcome::PaymentRequired { tier, payment, partner },
                None => UpgradeOutcome::Processing { tier, partner },
            })
        }
        PortalUpgrade::SwitchBilled(tier) => {
            let actor = user.actor();
            match switch_billed_tier(store, billing, calendar, &partner, tier, &actor, now).await? {
                SwitchOutcome::Switched { after, .. } => Ok(UpgradeOutcome::Upgraded { partner: after }),
                SwitchOutcome::Unchanged => Ok(UpgradeOutcome::Upgraded { partner }),
                SwitchOutcome::AwaitingPayment { tier, invoice_id } => {
                    let payment = match invoice_id {
                        Some(invoice_id) => billing.stripe.invoice_payment(&invoice_id).await?,
                        None => None,
                    };
                    Ok(match payment {
                        Some(payment) => UpgradeOutcome::PaymentRequired { tier, payment, partner },
                        None => UpgradeOutcome::Processing { tier, partner },
                    })
                }
            }
        }
    }
}
