//! A partner replacing its card: the portal hands out a SetupIntent's `client_secret` for Stripe
//! Elements (and, where configured, a Stripe customer-portal link); when Stripe reports the setup
//! succeeded, `usecases::card_adoption` makes the card the customer's default.

use super::super::error::not_found;
use super::super::error::UseCaseError;
use crate::auth::PartnerUser;
use crate::domain::history_and_audit::{AuditAction, AuditEntry};
use crate::domain::partner::Partner;
use crate::ids::next_id;
use crate::store::billing::BillingCommit;
use crate::store::Store;
use crate::stripe::client::CustomerPortal;
use crate::stripe::client::StripeApi;
use jiff::Timestamp;
use serde::Serialize;

/// What the browser needs to save a new card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardSetup {
    /// The SetupIntent's client secret, for Stripe Elements.
    pub client_secret: String,
    /// Stripe's customer portal, where it is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_portal_url: Option<String>,
}

/// The partner's Stripe customer, created and linked first when it has none.
async fn customer_of(
    store: &Store,
    stripe: &StripeApi,
    partner: &Partner,
    now: Timestamp,
) -> Result<String, UseCaseError> {
    if let Some(id) = &partner.stripe_customer_id {
        return Ok(id.clone());
    }
    let customer_id = stripe.create_customer(partner).await?;
    if store.link_customer(&customer_id, &partner.id, now).await? == BillingCommit::CustomerTaken {
        return Err(UseCaseError::Conflict {
            detail: format!("Stripe customer {customer_id} belongs to another partner"),
            current_version: Some(partner.version),
        });
    }
    Ok(customer_id)
}

/// Starts saving a new card for `user`'s partner.
#[tracing::instrument(skip_all, fields(partner_id = %user.partner_id), err(Display))]
pub async fn start_card_setup(
    store: &Store,
    stripe: &StripeApi,
    user: &PartnerUser,
    customer_portal: Option<&CustomerPortal>,
    now: Timestamp,
) -> Result<CardSetup, UseCaseError> {
    let partner = store
        .get_partner(&user.partner_id)
        .await?
        .ok_or_else(|| not_found(&user.partner_id))?;
    let customer_id = customer_of(store, stripe, &partner, now).await?;
    let request = next_id();
    let client_secret = stripe
        .create_setup_intent(
            &customer_id,
            partner.id.as_str(),
            &format!("setup-{}-{request}", partner.id),
        )
        .await?;
    let customer_portal_url = match customer_portal {
        Some(portal) => Some(
            stripe
                .create_billing_portal_session(&customer_id, portal, &format!("portal-{}-{request}", partner.id))
                .await?,
        ),
        None => None,
    };
    store
        .record_audit_entry(&AuditEntry::standalone(
            crate::ids::next_id().to_string(),
            &partner,
            &user.actor(),
            AuditAction::PaymentMethodSetupStarted,
            None,
            now,
        ))
        .await?;
    Ok(CardSetup {
        client_secret,
        customer_portal_url,
    })
}
