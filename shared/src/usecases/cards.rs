//! The card on file the partner's page shows, kept as a copy (`domain::card`, `store::cards`): a
//! page view reads the copy and asks Stripe nothing; Stripe's events that may change the card mark
//! the copy changed, and the next view reads the card from Stripe once and keeps it.

use super::error::UseCaseError;
use super::event_records::{record_applied, seen_before, EventOutcome};
use crate::domain::card::{known_card, CardRecord, CardSummary, KnownCard};
use crate::domain::partner::{Partner, PartnerId};
use crate::store::Store;
use crate::stripe::client::StripeApi;
use crate::stripe::webhook::EventSource;
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

/// Marks `partner_id`'s card copy changed (its event already said whose it is): one `PutItem`.
pub async fn note_card_changed(store: &Store, partner_id: &PartnerId) -> Result<(), UseCaseError> {
    store
        .keep_card_record(partner_id, &CardRecord::changed(Timestamp::now()))
        .await?;
    Ok(())
}

/// Handles an event that only changes the card of Stripe customer `customer_id` (a payment method
/// attached or updated, the customer's default changed), once: it is recorded like every event, so
/// a redelivery or the reconciliation's second look changes nothing. Idempotent in effect too: a
/// second mark costs the next view one Stripe read.
pub async fn apply_card_event(
    store: &Store,
    source: &EventSource,
    customer_id: &str,
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    if seen_before(store, source).await? {
        return Ok(EventOutcome::Duplicate);
    }
    let Some(partner_id) = store.partner_for_customer(customer_id).await? else {
        return Ok(EventOutcome::NotOurs);
    };
    note_card_changed(store, &partner_id).await?;
    record_applied(store, source, partner_id, now).await
}
