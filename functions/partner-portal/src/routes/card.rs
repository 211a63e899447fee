//! `POST /portal/payment-method`: a card to save with Stripe Elements.

use super::Answered;
use crate::Portal;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::PartnerUser;
use shared::http::Created;
use shared::usecases::portal::payment_method::start_card_setup;

/// What the page does with the setup.
const NEXT: &str = "confirm the card with Stripe Elements; once Stripe confirms it, it becomes the card your subscription is charged to";

/// What Stripe Elements needs to confirm a card.
#[derive(Serialize)]
pub(super) struct CardSetupAnswer {
    client_secret: String,
    publishable_key: String,
    customer_portal_url: Option<String>,
    next: &'static str,
}

/// `POST /portal/payment-method`
pub(super) async fn setup(portal: &Portal, user: &PartnerUser, now: Timestamp) -> Answered<Created<CardSetupAnswer>> {
    portal.count(user, now).await?;
    let stripe = &portal.billing.stripe;
    let setup = Box::pin(start_card_setup(
        &portal.store,
        stripe,
        user,
        portal.customer_portal.as_ref(),
        now,
    ))
    .await?;
    Ok(Created(CardSetupAnswer {
        client_secret: setup.client_secret,
        publishable_key: portal.publishable_key.clone(),
        customer_portal_url: setup.customer_portal_url,
        next: NEXT,
    }))
}
