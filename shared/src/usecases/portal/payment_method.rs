//! A partner replacing its card: the portal hands out a SetupIntent's `client_secret` for Stripe
//! Elements (and, where configured, a Stripe customer-portal link); when Stripe reports the setup
//! succeeded (`setup_intent.succeeded`, through the webhook), the card becomes the customer's
//! default and the live subscription's.

use super::super::error::UseCaseError;
use super::super::partners::not_found;
use super::super::stripe_events::{record_only, EventOutcome};
use crate::auth::PartnerUser;
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry};
use crate::domain::partner::Partner;
use crate::ids::next_id;
use crate::store::billing::{BillingCommit, RecordedOutcome};
use crate::store::Store;
use crate::stripe::client::CustomerPortal;
use crate::stripe::client::{StripeApi, StripeCallError};
use crate::stripe::webhook::StripeEvent;
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

fn id_at(object: &serde_json::Value, field: &str) -> Option<String> {
    match object.get(field)? {
        serde_json::Value::String(id) if !id.is_empty() => Some(id.clone()),
        serde_json::Value::Object(expanded) => expanded.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// Applies a verified `setup_intent.succeeded` once: the card becomes the customer's default and the
/// live subscription's (idempotency keys per SetupIntent, so a redelivery changes nothing twice).
#[tracing::instrument(skip_all, fields(stripe_event_id = %event.id), err(Display))]
pub async fn adopt_confirmed_card(
    store: &Store,
    stripe: &StripeApi,
    event: &StripeEvent,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    if store.stripe_event_outcome(&event.id).await?.is_some() {
        return Ok(EventOutcome::Duplicate);
    }
    let object = &event.object;
    let (Some(setup_id), Some(customer_id), Some(method_id)) = (
        id_at(object, "id"),
        id_at(object, "customer"),
        id_at(object, "payment_method"),
    ) else {
        let reason = "a setup_intent.succeeded without its id, customer or payment_method".to_owned();
        let fresh = record_only(store, event, RecordedOutcome::Unusable, None, now).await?;
        return Ok(if fresh {
            EventOutcome::Unusable { reason }
        } else {
            EventOutcome::Duplicate
        });
    };
    let Some(partner_id) = store.partner_for_customer(&customer_id).await? else {
        return Ok(EventOutcome::NotOurs);
    };
    let partner = store
        .get_partner(&partner_id)
        .await?
        .ok_or(UseCaseError::NotFound(format!(
            "partner {partner_id} of Stripe customer {customer_id}"
        )))?;
    stripe
        .set_customer_default_payment_method(&customer_id, &method_id, &format!("default-card-{setup_id}"))
        .await?;
    if let (true, Some(subscription_id)) = (
        partner.has_live_stripe_subscription(),
        partner.stripe_subscription_id.as_deref(),
    ) {
        match stripe
            .set_subscription_default_payment_method(
                subscription_id,
                &method_id,
                &format!("default-card-{setup_id}-{subscription_id}"),
            )
            .await
        {
            // A subscription that ended meanwhile needs no card.
            Err(StripeCallError::Refused { message, .. }) => {
                tracing::warn!(subscription_id, message, "the subscription did not take the new card")
            }
            other => drop(other?),
        }
    }
    store
        .record_audit_entry(&AuditEntry::standalone(
            crate::ids::next_id().to_string(),
            &partner,
            &Actor::Stripe,
            AuditAction::PaymentMethodUpdated,
            None,
            now,
        ))
        .await?;
    let fresh = record_only(store, event, RecordedOutcome::Applied, Some(&partner_id), now).await?;
    Ok(if fresh {
        EventOutcome::Applied { partner_id }
    } else {
        EventOutcome::Duplicate
    })
}
