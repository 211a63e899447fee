//! A card the partner confirmed in the portal (Stripe's `setup_intent.succeeded`) becomes the
//! customer's default and the live subscription's, once (idempotency keys per SetupIntent).

use super::error::UseCaseError;
use super::event_records::{record_applied, seen_before, EventOutcome};
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry};
use crate::store::Store;
use crate::stripe::client::{StripeApi, StripeCallError};
use crate::stripe::webhook::{ConfirmedCard, EventSource};
use jiff::Timestamp;

/// Applies a verified `setup_intent.succeeded` once: the card becomes the customer's default and the
/// live subscription's (idempotency keys per SetupIntent, so a redelivery changes nothing twice).
#[tracing::instrument(skip_all, fields(stripe_event_id = %source.id), err(Display))]
pub async fn adopt_confirmed_card(
    store: &Store,
    stripe: &StripeApi,
    source: &EventSource,
    card: &ConfirmedCard,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    if seen_before(store, source).await? {
        return Ok(EventOutcome::Duplicate);
    }
    let (setup_id, customer_id, method_id) = (&card.setup_intent_id, &card.customer_id, &card.payment_method_id);
    let Some(partner_id) = store.partner_for_customer(customer_id).await? else {
        return Ok(EventOutcome::NotOurs);
    };
    let partner = store
        .get_partner(&partner_id)
        .await?
        .ok_or(UseCaseError::NotFound(format!(
            "partner {partner_id} of Stripe customer {customer_id}"
        )))?;
    stripe
        .set_customer_default_payment_method(customer_id, method_id, &format!("default-card-{setup_id}"))
        .await?;
    if let (true, Some(subscription_id)) = (
        partner.has_live_stripe_subscription(),
        partner.stripe_subscription_id.as_deref(),
    ) {
        match stripe
            .set_subscription_default_payment_method(
                subscription_id,
                method_id,
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
    record_applied(store, source, partner_id, now).await
}
