//! Subscriptions: starting one, changing its price, its end or its collection, and reading how it
//! stands.

use super::invoices::PaymentToConfirm;
use super::{
    as_json, unreadable, Collection, FirstPayment, NewSubscription, StripeApi, StripeCallError, INVOICE_DAYS_UNTIL_DUE,
};
use crate::domain::stripe_subscription::StripeSubscriptionStatus;
use jiff::Timestamp;
use std::collections::BTreeMap;
use stripe_client_core::{RequestBuilder, StripeMethod};

/// What billing reads of a subscription Stripe answers with (raw fields, whatever the API version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub id: String,
    /// Stripe's status.
    pub status: StripeSubscriptionStatus,
    pub cancel_at: Option<Timestamp>,
    /// Its (first and only) item, and that item's price.
    pub item_id: Option<String>,
    pub price_id: Option<String>,
    /// When the period being billed ends (the item's, in today's API; the subscription's before).
    pub current_period_end: Option<Timestamp>,
    /// A change Stripe holds back until its invoice is paid (`payment_behavior=pending_if_incomplete`).
    pub has_pending_update: bool,
    /// Its newest invoice (an id, or the object when expanded).
    pub latest_invoice_id: Option<String>,
    /// The newest invoice's payment as Stripe Elements confirms it, when that invoice was expanded
    /// and is still to be paid.
    pub payment: Option<PaymentToConfirm>,
}

impl SubscriptionState {
    fn read(subscription: &serde_json::Value) -> Result<SubscriptionState, StripeCallError> {
        let text = |pointer: &str| {
            subscription
                .pointer(pointer)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let instant = |pointer: &str| {
            subscription
                .pointer(pointer)
                .and_then(serde_json::Value::as_i64)
                .and_then(|at| Timestamp::from_second(at).ok())
        };
        Ok(SubscriptionState {
            id: text("/id").ok_or_else(|| unreadable("a subscription without an id"))?,
            status: text("/status")
                .ok_or_else(|| unreadable("a subscription without a status"))?
                .into(),
            cancel_at: instant("/cancel_at"),
            item_id: text("/items/data/0/id"),
            price_id: text("/items/data/0/price/id").or_else(|| text("/items/data/0/plan/id")),
            current_period_end: instant("/items/data/0/current_period_end").or_else(|| instant("/current_period_end")),
            has_pending_update: subscription.get("pending_update").is_some_and(|u| !u.is_null()),
            latest_invoice_id: text("/latest_invoice").or_else(|| text("/latest_invoice/id")),
            payment: subscription
                .get("latest_invoice")
                .and_then(PaymentToConfirm::of_invoice),
        })
    }
}

/// How a price change is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceChange {
    /// At once: the prorated difference is invoiced and collected now, and the change holds only
    /// once that invoice is paid.
    ProratedNow,
    /// From the next period: nothing is invoiced now, the next invoice bills the new price.
    NextPeriod,
}

/// The expansion that renders a subscription's newest invoice with its payment's client secret.
const LATEST_PAYMENT: &str = "latest_invoice.confirmation_secret";

impl StripeApi {
    /// Creates a subscription of one item at `price_id`. Charged automatically, it stays `incomplete`
    /// when the first payment does not go through (`allow_incomplete`) instead of being refused.
    #[tracing::instrument(skip_all, fields(customer_id = new.customer_id), err(Display))]
    pub async fn create_subscription(&self, new: &NewSubscription<'_>) -> Result<SubscriptionState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Item<'a> {
            price: &'a str,
        }
        #[derive(serde::Serialize)]
        struct PaymentSettings {
            save_default_payment_method: &'static str,
        }
        #[derive(serde::Serialize)]
        struct Form<'a> {
            customer: &'a str,
            items: [Item<'a>; 1],
            metadata: &'a BTreeMap<String, String>,
            collection_method: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            payment_behavior: Option<&'static str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            payment_settings: Option<PaymentSettings>,
            #[serde(skip_serializing_if = "Option::is_none")]
            days_until_due: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            cancel_at: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            expand: Option<[&'static str; 1]>,
        }
        let mut form = Form {
            customer: new.customer_id,
            items: [Item { price: new.price_id }],
            metadata: &new.metadata,
            collection_method: "charge_automatically",
            payment_behavior: None,
            payment_settings: None,
            days_until_due: None,
            cancel_at: new.cancel_at.map(|at| at.as_second()),
            expand: None,
        };
        match (new.collection, new.first_payment) {
            (Collection::ChargeAutomatically, FirstPayment::SavedMethod) => {
                form.payment_behavior = Some("allow_incomplete");
            }
            (Collection::ChargeAutomatically, FirstPayment::ByPartner) => {
                form.payment_behavior = Some("default_incomplete");
                form.payment_settings = Some(PaymentSettings {
                    save_default_payment_method: "on_subscription",
                });
                form.expand = Some([LATEST_PAYMENT]);
            }
            (Collection::SendInvoice, _) => {
                form.collection_method = "send_invoice";
                form.days_until_due = Some(INVOICE_DAYS_UNTIL_DUE);
            }
        }
        let request = RequestBuilder::new(StripeMethod::Post, "/subscriptions").form(&form);
        self.send_reading_state(request, &new.idempotency_key).await
    }

    /// Ends `subscription_id` now (`prorate` credits the unused part of the period). A subscription
    /// Stripe already ended counts as done.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn cancel_subscription(
        &self,
        subscription_id: &str,
        prorate: bool,
        idempotency_key: &str,
    ) -> Result<SubscriptionState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form {
            prorate: bool,
            invoice_now: bool,
        }
        let request =
            RequestBuilder::new(StripeMethod::Delete, format!("/subscriptions/{subscription_id}")).form(&Form {
                prorate,
                invoice_now: prorate,
            });
        match self.send_reading_state(request, idempotency_key).await {
            Err(StripeCallError::Refused { .. }) => {
                // Stripe refuses to end what has ended: ask it how the subscription stands.
                let state = self.subscription(subscription_id).await?;
                if state.status == StripeSubscriptionStatus::Canceled {
                    Ok(state)
                } else {
                    Err(StripeCallError::Refused {
                        status: 400,
                        message: format!("Stripe refused to cancel {subscription_id} (status {})", state.status),
                    })
                }
            }
            other => other,
        }
    }

    /// Sets when `subscription_id` stops billing (`None`: it keeps billing).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn set_cancel_at(
        &self,
        subscription_id: &str,
        cancel_at: Option<Timestamp>,
        idempotency_key: &str,
    ) -> Result<SubscriptionState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form {
            /// Empty clears it, as Stripe's API defines.
            cancel_at: String,
        }
        let form = Form {
            cancel_at: cancel_at.map(|at| at.as_second().to_string()).unwrap_or_default(),
        };
        let request = RequestBuilder::new(StripeMethod::Post, format!("/subscriptions/{subscription_id}")).form(&form);
        self.send_reading_state(request, idempotency_key).await
    }

    /// Moves item `item_id` of `subscription_id` to `price_id`, billed as `change` says.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn change_price(
        &self,
        subscription_id: &str,
        item_id: &str,
        price_id: &str,
        change: PriceChange,
        idempotency_key: &str,
    ) -> Result<SubscriptionState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Item<'a> {
            id: &'a str,
            price: &'a str,
        }
        #[derive(serde::Serialize)]
        struct Form<'a> {
            items: [Item<'a>; 1],
            proration_behavior: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            payment_behavior: Option<&'static str>,
        }
        let form = Form {
            items: [Item {
                id: item_id,
                price: price_id,
            }],
            proration_behavior: match change {
                PriceChange::ProratedNow => "always_invoice",
                PriceChange::NextPeriod => "none",
            },
            payment_behavior: (change == PriceChange::ProratedNow).then_some("pending_if_incomplete"),
        };
        let request = RequestBuilder::new(StripeMethod::Post, format!("/subscriptions/{subscription_id}")).form(&form);
        self.send_reading_state(request, idempotency_key).await
    }

    /// Pauses collection on `subscription_id` until `resumes_at` (invoices of the span are voided);
    /// `None` collects again.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn pause_collection(
        &self,
        subscription_id: &str,
        resumes_at: Option<Timestamp>,
        idempotency_key: &str,
    ) -> Result<SubscriptionState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Pause {
            behavior: &'static str,
            resumes_at: i64,
        }
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum PauseCollection {
            Until(Pause),
            /// Empty clears it, as Stripe's API defines.
            Cleared(&'static str),
        }
        #[derive(serde::Serialize)]
        struct Form {
            pause_collection: PauseCollection,
        }
        let form = Form {
            pause_collection: match resumes_at {
                Some(at) => PauseCollection::Until(Pause {
                    behavior: "void",
                    resumes_at: at.as_second(),
                }),
                None => PauseCollection::Cleared(""),
            },
        };
        let request = RequestBuilder::new(StripeMethod::Post, format!("/subscriptions/{subscription_id}")).form(&form);
        self.send_reading_state(request, idempotency_key).await
    }

    /// How `subscription_id` stands now.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn subscription(&self, subscription_id: &str) -> Result<SubscriptionState, StripeCallError> {
        let answer: miniserde::json::Value =
            RequestBuilder::new(StripeMethod::Get, format!("/subscriptions/{subscription_id}"))
                .customize()
                .send(&self.client)
                .await?;
        SubscriptionState::read(&as_json(&answer)?)
    }

    /// The subscription of `customer_id` whose `metadata[billing_start]` is `start_key`, if Stripe has
    /// one (a billing start whose answer was lost), with its newest invoice's payment.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn started_subscription(
        &self,
        customer_id: &str,
        start_key: &str,
    ) -> Result<Option<SubscriptionState>, StripeCallError> {
        let listing = self
            .get_json(
                "/subscriptions",
                &[("customer", customer_id), ("status", "all"), ("limit", "100")],
            )
            .await?;
        let found = listing
            .get("data")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| s.pointer("/metadata/billing_start").and_then(serde_json::Value::as_str) == Some(start_key))
            .and_then(|s| s.get("id").and_then(serde_json::Value::as_str).map(str::to_owned));
        match found {
            Some(id) => Ok(Some(self.subscription_with_payment(&id).await?)),
            None => Ok(None),
        }
    }

    /// How `subscription_id` stands, with its newest invoice's payment when that is still to be paid.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn subscription_with_payment(&self, subscription_id: &str) -> Result<SubscriptionState, StripeCallError> {
        let answer = self
            .get_json(
                &format!("/subscriptions/{subscription_id}"),
                &[("expand[0]", LATEST_PAYMENT)],
            )
            .await?;
        SubscriptionState::read(&answer)
    }

    /// Sends a change with its idempotency key and reads the subscription Stripe answers with.
    pub(super) async fn send_reading_state(
        &self,
        request: RequestBuilder,
        idempotency_key: &str,
    ) -> Result<SubscriptionState, StripeCallError> {
        SubscriptionState::read(&self.send_json(request, idempotency_key).await?)
    }
}
