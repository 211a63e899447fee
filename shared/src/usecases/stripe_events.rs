//! A verified Stripe event handled: classified once (`stripe::webhook::classify`), then applied by the
//! use-case for its kind: the billing rules (`billing_events`), refunds (`refund_events`), a card
//! confirmed in the portal (`card_adoption`), a card changed in Stripe (`cards`).

use super::billing_events::apply_billing_event;
use super::card_adoption::adopt_confirmed_card;
use super::cards::{apply_card_event, note_card_changed};
use super::error::UseCaseError;
use super::event_records::record_unusable;
pub use super::event_records::EventOutcome;
use super::refund_events::apply_refund_event;
pub use crate::domain::billing_events::BillingRules;
use crate::store::Store;
use crate::stripe::client::StripeApi;
use crate::stripe::webhook::{classify, Incoming, StripeEvent};
use jiff::Timestamp;

/// Handles a verified event, whatever it is about (each kind's use-case boxed: one future of
/// modest size, whatever the kind). A card confirmed in the portal becomes the
/// default through Stripe (`stripe`; without it the event is acknowledged and ignored).
pub async fn handle_stripe_event(
    store: &Store,
    rules: &BillingRules<'_>,
    stripe: Option<&StripeApi>,
    event: &StripeEvent,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    let source = event.source();
    let (outcome, card_may_change) = match (classify(event), stripe) {
        (Incoming::Billing { event, card_may_change }, _) => (
            Box::pin(apply_billing_event(store, rules, &source, &event, now)).await?,
            card_may_change,
        ),
        (Incoming::Refunds(refunds), _) => (
            Box::pin(apply_refund_event(store, stripe, &source, &refunds, now)).await?,
            false,
        ),
        (Incoming::CardConfirmed(card), Some(stripe)) => (
            Box::pin(adopt_confirmed_card(store, stripe, &source, &card, now)).await?,
            true,
        ),
        (Incoming::CardChanged { customer_id }, _) => (
            Box::pin(apply_card_event(store, &source, &customer_id, now)).await?,
            false,
        ),
        (Incoming::CardConfirmed(_) | Incoming::Ignored { .. }, _) => (EventOutcome::Ignored, false),
        (Incoming::Unusable { reason }, _) => (Box::pin(record_unusable(store, &source, reason, now)).await?, false),
    };
    // The card on file may have changed: the partner's page reads it from Stripe once more (once
    // per event: a duplicate changes nothing).
    if let (true, EventOutcome::Applied { partner_id }) = (card_may_change, &outcome) {
        note_card_changed(store, partner_id).await?;
    }
    Ok(outcome)
}
