//! The card on file the partner's page shows, kept as a copy (`domain::card`, `store::cards`): a
//! page view reads the copy and asks Stripe nothing; Stripe's events that may change the card mark
//! the copy changed, and the next view reads the card from Stripe once and keeps it.

use super::error::UseCaseError;
use super::stripe_events::{record_only, EventOutcome};
use crate::domain::card::{known_card, CardRecord, CardSummary, KnownCard};
use crate::domain::partner::{Partner, PartnerId};
use crate::store::billing::RecordedOutcome;
use crate::store::Store;
use crate::stripe::client::StripeApi;
use crate::stripe::webhook::StripeEvent;
use jiff::Timestamp;

/// What the page says of the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardLookup {
    OnFile(CardSummary),
    NoCard,
    /// Not known here, and Stripe did not answer: unknown right now, not absent.
    Unknown,
}

/// The partner's card on file: the copy when it is current (no Stripe request), else one read of
/// Stripe, kept as the copy unless a change was reported meanwhile.
pub async fn card_on_file(
    store: &Store,
    stripe: Option<&StripeApi>,
    partner: &Partner,
) -> Result<CardLookup, UseCaseError> {
    let Some(customer) = partner.stripe_customer_id.as_deref() else {
        return Ok(CardLookup::NoCard);
    };
    let record = store.card_record(&partner.id).await?;
    match (known_card(record.as_ref()), stripe) {
        (KnownCard::Known(Some(card)), _) => Ok(CardLookup::OnFile(card)),
        (KnownCard::Known(None), _) => Ok(CardLookup::NoCard),
        (KnownCard::AskStripe, None) => Ok(CardLookup::Unknown),
        (KnownCard::AskStripe, Some(stripe)) => {
            // The real clock, not the business one: copies are ordered against Stripe's changes.
            let began = Timestamp::now();
            match stripe
                .card_on_file(customer, partner.stripe_subscription_id.as_deref())
                .await
            {
                Ok(card) => {
                    let copy = CardRecord::read(card.clone(), began);
                    if copy.replaces(record.as_ref()) {
                        store.keep_card_record(&partner.id, &copy).await?;
                    }
                    Ok(card.map_or(CardLookup::NoCard, CardLookup::OnFile))
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the card on file could not be read from Stripe");
                    Ok(CardLookup::Unknown)
                }
            }
        }
    }
}

/// The kind of object each card-changing event carries.
fn expected_object(event_type: &str) -> Option<&'static str> {
    match event_type {
        t if t.starts_with("payment_method.") => Some("payment_method"),
        t if t.starts_with("customer.subscription.") => Some("subscription"),
        "customer.updated" => Some("customer"),
        t if t.starts_with("setup_intent.") => Some("setup_intent"),
        t if t.starts_with("invoice.") => Some("invoice"),
        _ => None,
    }
}

/// The Stripe customer an event's object belongs to: the object itself for a customer, else its
/// `customer` (an id, or expanded); `None` when the object is not of the event's kind.
fn customer_of(event: &StripeEvent) -> Option<String> {
    let object = &event.object;
    let kind = object.get("object").and_then(|o| o.as_str())?;
    if expected_object(&event.event_type) != Some(kind) {
        return None;
    }
    if kind == "customer" {
        return object.get("id")?.as_str().map(str::to_owned);
    }
    match object.get("customer")? {
        serde_json::Value::String(id) if !id.is_empty() => Some(id.clone()),
        serde_json::Value::Object(expanded) => expanded.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// Marks the card copy of the event's partner changed (Stripe's events that may change which card
/// is on file: `crate::stripe::webhook::CARD_CHANGE_EVENT_TYPES`); the partner, if the customer is
/// ours. Idempotent: a redelivery marks it again, costing the next view one Stripe read.
pub async fn note_card_change(store: &Store, event: &StripeEvent) -> Result<Option<PartnerId>, UseCaseError> {
    let Some(customer) = customer_of(event) else {
        return Ok(None);
    };
    let Some(partner_id) = store.partner_for_customer(&customer).await? else {
        return Ok(None);
    };
    note_card_changed(store, &partner_id).await?;
    Ok(Some(partner_id))
}

/// Marks `partner_id`'s card copy changed (its event already said whose it is): one `PutItem`.
pub async fn note_card_changed(store: &Store, partner_id: &PartnerId) -> Result<(), UseCaseError> {
    store
        .keep_card_record(partner_id, &CardRecord::changed(Timestamp::now()))
        .await?;
    Ok(())
}

/// Handles an event that only changes the card (a payment method attached or updated, the
/// customer's default changed), once: it is recorded like every event, so a redelivery or the
/// reconciliation's second look changes nothing.
pub async fn apply_card_event(
    store: &Store,
    event: &StripeEvent,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    if store.stripe_event_outcome(&event.id).await?.is_some() {
        return Ok(EventOutcome::Duplicate);
    }
    let Some(partner_id) = note_card_change(store, event).await? else {
        return Ok(if customer_of(event).is_some() {
            EventOutcome::NotOurs
        } else {
            // Not the event's kind of object, or without a customer: nothing to act on.
            EventOutcome::Ignored
        });
    };
    let fresh = record_only(store, event, RecordedOutcome::Applied, Some(&partner_id), now).await?;
    Ok(if fresh {
        EventOutcome::Applied { partner_id }
    } else {
        EventOutcome::Duplicate
    })
}
