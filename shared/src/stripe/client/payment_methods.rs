//! Payment methods: saving a card (SetupIntents), the default a customer or a subscription charges,
//! and the card on file.

use super::subscriptions::SubscriptionState;
use super::{unreadable, CardSummary, StripeApi, StripeCallError};
use stripe_client_core::{RequestBuilder, StripeMethod};

/// The summary of an expanded PaymentMethod; `None` for an id, null, or a method without a card.
fn card_of_payment_method(method: &serde_json::Value) -> Option<CardSummary> {
    let card = method.get("card")?;
    let last4 = card.get("last4")?.as_str()?;
    if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(CardSummary {
        brand: card.get("brand").and_then(|b| b.as_str()).unwrap_or("card").to_owned(),
        last4: last4.to_owned(),
        exp_month: card
            .get("exp_month")
            .and_then(serde_json::Value::as_u64)
            .and_then(|m| u8::try_from(m).ok()),
        exp_year: card
            .get("exp_year")
            .and_then(serde_json::Value::as_u64)
            .and_then(|y| u16::try_from(y).ok()),
    })
}

impl StripeApi {
    /// A SetupIntent for saving a card of `customer_id` with Stripe Elements; its `client_secret`.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn create_setup_intent(
        &self,
        customer_id: &str,
        partner_id: &str,
        idempotency_key: &str,
    ) -> Result<String, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            customer: &'a str,
            usage: &'static str,
            #[serde(rename = "metadata[partner_id]")]
            partner_id: &'a str,
        }
        let request = RequestBuilder::new(StripeMethod::Post, "/setup_intents").form(&Form {
            customer: customer_id,
            usage: "off_session",
            partner_id,
        });
        let answer = self.send_json(request, idempotency_key).await?;
        answer
            .get("client_secret")
            .and_then(|s| s.as_str())
            .map(str::to_owned)
            .ok_or_else(|| unreadable("a SetupIntent without a client_secret"))
    }

    /// Makes `payment_method_id` the default of `customer_id`'s invoices.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn set_customer_default_payment_method(
        &self,
        customer_id: &str,
        payment_method_id: &str,
        idempotency_key: &str,
    ) -> Result<(), StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            #[serde(rename = "invoice_settings[default_payment_method]")]
            default_payment_method: &'a str,
        }
        let request = RequestBuilder::new(StripeMethod::Post, format!("/customers/{customer_id}")).form(&Form {
            default_payment_method: payment_method_id,
        });
        self.send_json(request, idempotency_key).await.map(drop)
    }

    /// Makes `payment_method_id` the one `subscription_id` charges.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn set_subscription_default_payment_method(
        &self,
        subscription_id: &str,
        payment_method_id: &str,
        idempotency_key: &str,
    ) -> Result<SubscriptionState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            default_payment_method: &'a str,
        }
        let request =
            RequestBuilder::new(StripeMethod::Post, format!("/subscriptions/{subscription_id}")).form(&Form {
                default_payment_method: payment_method_id,
            });
        self.send_reading_state(request, idempotency_key).await
    }

    /// The card a partner pays with: the subscription's default, else the customer's.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn card_on_file(
        &self,
        customer_id: &str,
        subscription_id: Option<&str>,
    ) -> Result<Option<CardSummary>, StripeCallError> {
        if let Some(subscription_id) = subscription_id {
            let subscription = self
                .get_json(
                    &format!("/subscriptions/{subscription_id}"),
                    &[("expand[0]", "default_payment_method")],
                )
                .await?;
            if let Some(card) = subscription
                .get("default_payment_method")
                .and_then(card_of_payment_method)
            {
                return Ok(Some(card));
            }
        }
        let customer = self
            .get_json(
                &format!("/customers/{customer_id}"),
                &[("expand[0]", "invoice_settings.default_payment_method")],
            )
            .await?;
        Ok(customer
            .pointer("/invoice_settings/default_payment_method")
            .and_then(card_of_payment_method))
    }
}
