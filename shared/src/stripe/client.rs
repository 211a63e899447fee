//! Stripe API calls out, built with async-stripe's request builders and sent by our transport
//! (`super::transport`). Every POST carries an idempotency key derived from what it does, so a
//! retried Lambda never creates a second customer or subscription.
//!
//! Requests are forms we write and answers are read from the few raw fields billing needs (like
//! webhooks), not async-stripe's typed objects: whatever API version renders them, the same fields are
//! read, and the functions link no deserializer of Stripe's objects.

use super::transport::StripeTransport;
use crate::config::{ConfigError, Secret, StripeSettings};
use crate::domain::partner::Partner;
use jiff::Timestamp;
use std::collections::BTreeMap;
use stripe_client_core::{IdempotencyKey, RequestBuilder, RequestStrategy, StripeMethod};

pub use crate::domain::billing_start::{Collection, INVOICE_DAYS_UNTIL_DUE};

pub use super::StripeCallError;

/// Stripe's events since a time, oldest first, as far as the pages read reached.
#[derive(Debug, Clone)]
pub struct EventListing {
    pub events: Vec<serde_json::Value>,
    /// `false`: the page limit was reached first, so older events of the window were not listed.
    pub reached_window_start: bool,
}

pub use crate::config::CustomerPortal;

/// What a new subscription needs.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub customer_id: &'a str,
    pub price_id: &'a str,
    pub collection: Collection,
    /// When billing stops: the term's end for a partner without auto-renewal, `None` to keep billing
    /// month after month (renewals roll the term forward as invoices are paid).
    pub cancel_at: Option<Timestamp>,
    pub metadata: BTreeMap<String, String>,
    pub idempotency_key: String,
    /// Who completes the first payment (charged automatically only).
    pub first_payment: FirstPayment,
}

pub use crate::domain::billing_start::FirstPayment;

/// What billing reads of a subscription Stripe answers with (raw fields, whatever the API version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub id: String,
    /// Stripe's status: `active`, `incomplete`, `past_due`, `canceled`, ...
    pub status: String,
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

/// A payment the partner completes in the browser: what Stripe Elements needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentToConfirm {
    pub invoice_id: String,
    /// Handed to Stripe Elements only, never logged.
    pub client_secret: String,
    pub amount_due_cents: i64,
    pub currency: String,
}

impl PaymentToConfirm {
    /// The payment of an (expanded) invoice that is still open; `None` for one that is paid or void.
    fn of_invoice(invoice: &serde_json::Value) -> Option<PaymentToConfirm> {
        if invoice.get("status").and_then(|s| s.as_str()) != Some("open") {
            return None;
        }
        let secret = invoice
            .pointer("/confirmation_secret/client_secret")
            .or_else(|| invoice.pointer("/payment_intent/client_secret"))
            .and_then(|s| s.as_str())?;
        Some(PaymentToConfirm {
            invoice_id: invoice.get("id")?.as_str()?.to_owned(),
            client_secret: secret.to_owned(),
            amount_due_cents: invoice
                .get("amount_due")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0),
            currency: invoice
                .get("currency")
                .and_then(|c| c.as_str())
                .unwrap_or("usd")
                .to_owned(),
        })
    }
}

/// A refund as Stripe answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundState {
    pub id: String,
    /// `succeeded`, `pending`, `requires_action`, `failed`, `canceled`.
    pub status: String,
    pub amount: crate::domain::money::Cents,
}

pub use crate::domain::card::CardSummary;

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
            status: text("/status").ok_or_else(|| unreadable("a subscription without a status"))?,
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

fn unreadable(what: &str) -> StripeCallError {
    StripeCallError::Unavailable(format!("Stripe answered {what}"))
}

/// An answer read by async-stripe's request builder as untyped JSON, as serde JSON.
fn as_json(answer: &miniserde::json::Value) -> Result<serde_json::Value, StripeCallError> {
    serde_json::from_str(&miniserde::json::to_string(answer))
        .map_err(|e| StripeCallError::Unavailable(format!("an answer that is not JSON: {e}")))
}

/// `metadata[partner_id]`: which partner a Stripe object belongs to.
#[derive(serde::Serialize)]
struct PartnerMetadata<'a> {
    partner_id: &'a str,
}

/// Stripe as billing uses it: the API client and the tiers' prices.
#[derive(Debug, Clone)]
pub struct StripeBilling {
    pub stripe: StripeApi,
    pub prices: crate::domain::billing::PriceCatalog,
}

#[derive(Clone)]
pub struct StripeApi {
    client: StripeTransport,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeApi")
    }
}

fn idempotent(key: &str) -> Result<RequestStrategy, StripeCallError> {
    let key = IdempotencyKey::new(key).map_err(|e| StripeCallError::Key(e.to_string()))?;
    Ok(RequestStrategy::Idempotent(key))
}

impl StripeApi {
    /// A client for `secret_key`, talking to `api_base` (Stripe's own when `None`).
    /// The client of `settings`; an unusable API base is refused.
    pub fn new(settings: &StripeSettings) -> Result<StripeApi, ConfigError> {
        StripeApi::with_key(&settings.secret_key, settings.api_base.as_deref())
    }

    /// The client of `secret_key` at `api_base` (Stripe's own where `None`).
    pub fn with_key(secret_key: &Secret, api_base: Option<&str>) -> Result<StripeApi, ConfigError> {
        let client = StripeTransport::new(secret_key.expose(), api_base).map_err(|why| ConfigError::Invalid {
            name: "STRIPE_API_BASE",
            why,
        })?;
        Ok(StripeApi { client })
    }

    /// Creates the partner's Stripe customer (name, email, `partner_id` in metadata).
    #[tracing::instrument(skip_all, fields(partner_id = %partner.id), err(Display))]
    pub async fn create_customer(&self, partner: &Partner) -> Result<String, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            name: &'a str,
            email: &'a str,
            metadata: PartnerMetadata<'a>,
        }
        let form = Form {
            name: partner.company_name.as_str(),
            email: partner.primary_email.as_str(),
            metadata: PartnerMetadata {
                partner_id: partner.id.as_str(),
            },
        };
        let request = RequestBuilder::new(StripeMethod::Post, "/customers").form(&form);
        let key = crate::domain::billing::customer_idempotency_key(partner);
        let customer = self.send_json(request, &key).await?;
        customer
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| unreadable("a customer without an id"))
    }

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
                if state.status == "canceled" {
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

    /// The payment of invoice `invoice_id`, while it is open.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_payment(&self, invoice_id: &str) -> Result<Option<PaymentToConfirm>, StripeCallError> {
        let answer = self
            .get_json(
                &format!("/invoices/{invoice_id}"),
                &[("expand[0]", "confirmation_secret")],
            )
            .await?;
        Ok(PaymentToConfirm::of_invoice(&answer))
    }

    /// Marks invoice `invoice_id` paid outside Stripe (a bank transfer, a cheque); Stripe's invoice.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn pay_invoice_out_of_band(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<serde_json::Value, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form {
            paid_out_of_band: bool,
        }
        let request = RequestBuilder::new(StripeMethod::Post, format!("/invoices/{invoice_id}/pay"))
            .form(&Form { paid_out_of_band: true });
        match self.send_json(request, idempotency_key).await {
            // Stripe refuses to pay an invoice that is paid: its payment arrived first (the webhook
            // may still be on its way). The invoice is paid all the same: answer it as it stands.
            Err(StripeCallError::Refused { status: 400, message }) => {
                let invoice = self.get_json(&format!("/invoices/{invoice_id}"), &[]).await?;
                if invoice.get("status").and_then(serde_json::Value::as_str) == Some("paid") {
                    Ok(invoice)
                } else {
                    Err(StripeCallError::Refused { status: 400, message })
                }
            }
            answer => answer,
        }
    }

    /// The PaymentIntent that paid invoice `invoice_id` (today's API lists it among the invoice's
    /// payments; older ones put it on the invoice).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_payment_intent(&self, invoice_id: &str) -> Result<Option<String>, StripeCallError> {
        let invoice = self.get_json(&format!("/invoices/{invoice_id}"), &[]).await?;
        if let Some(intent) = invoice.get("payment_intent").and_then(|p| p.as_str()) {
            return Ok(Some(intent.to_owned()));
        }
        let payments = self
            .get_json("/invoice_payments", &[("invoice", invoice_id), ("status", "paid")])
            .await?;
        // None: paid outside Stripe (out of band), with no card payment to refund.
        Ok(payments["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|p| p.pointer("/payment/payment_intent").and_then(|i| i.as_str()))
            .map(str::to_owned))
    }

    /// The invoice a PaymentIntent paid, if it paid one (refunds made in Stripe's dashboard name only
    /// the PaymentIntent).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_of_payment_intent(&self, payment_intent: &str) -> Result<Option<String>, StripeCallError> {
        let payments = self
            .get_json(
                "/invoice_payments",
                &[
                    ("payment[type]", "payment_intent"),
                    ("payment[payment_intent]", payment_intent),
                ],
            )
            .await?;
        Ok(payments["data"].as_array().into_iter().flatten().find_map(|p| {
            p.get("invoice").and_then(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .or_else(|| i.get("id")?.as_str().map(str::to_owned))
            })
        }))
    }

    /// Refunds `amount` of `payment_intent` (for `invoice_id` of `partner_id`, in its metadata).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount: crate::domain::money::Cents,
        invoice_id: &str,
        partner_id: &str,
        idempotency_key: &str,
    ) -> Result<RefundState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            payment_intent: &'a str,
            amount: i64,
            #[serde(rename = "metadata[invoice_id]")]
            invoice_id: &'a str,
            #[serde(rename = "metadata[partner_id]")]
            partner_id: &'a str,
        }
        let request = RequestBuilder::new(StripeMethod::Post, "/refunds").form(&Form {
            payment_intent,
            amount: amount.get(),
            invoice_id,
            partner_id,
        });
        let answer = self.send_json(request, idempotency_key).await?;
        let text = |name: &str| answer.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(RefundState {
            id: text("id").ok_or_else(|| unreadable("a refund without an id"))?,
            status: text("status").unwrap_or_else(|| "pending".into()),
            amount: crate::domain::money::Cents(answer.get("amount").and_then(|a| a.as_i64()).unwrap_or(amount.get())),
        })
    }

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

    /// A Stripe customer-portal session for `customer_id` under `portal`'s configuration (never the
    /// account's default, which may allow plan switches or cancelling the commitment); its URL.
    #[tracing::instrument(skip(self, portal), err(Display))]
    pub async fn create_billing_portal_session(
        &self,
        customer_id: &str,
        portal: &CustomerPortal,
        idempotency_key: &str,
    ) -> Result<String, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            customer: &'a str,
            configuration: &'a str,
            return_url: &'a str,
        }
        let request = RequestBuilder::new(StripeMethod::Post, "/billing_portal/sessions").form(&Form {
            customer: customer_id,
            configuration: &portal.configuration,
            return_url: &portal.return_url,
        });
        let answer = self.send_json(request, idempotency_key).await?;
        answer
            .get("url")
            .and_then(|s| s.as_str())
            .map(str::to_owned)
            .ok_or_else(|| unreadable("a customer-portal session without a url"))
    }

    /// A GET with query parameters, answered as JSON.
    async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Result<serde_json::Value, StripeCallError> {
        let mut request = RequestBuilder::new(StripeMethod::Get, path);
        if !query.is_empty() {
            // Only with parameters: serde_qs writes an empty map as `=`, a parameter without a name
            // (`GET /v1/invoices/in_1?=`), which Stripe's API does not define.
            let query: BTreeMap<&str, &str> = query.iter().copied().collect();
            request = request.query(&query);
        }
        let answer: miniserde::json::Value = request.customize().send(&self.client).await?;
        as_json(&answer)
    }

    /// Sends a change with its idempotency key; Stripe's answer as JSON.
    async fn send_json(
        &self,
        request: RequestBuilder,
        idempotency_key: &str,
    ) -> Result<serde_json::Value, StripeCallError> {
        let answer: miniserde::json::Value = request
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await?;
        as_json(&answer)
    }

    /// Sends a change with its idempotency key and reads the subscription Stripe answers with.
    async fn send_reading_state(
        &self,
        request: RequestBuilder,
        idempotency_key: &str,
    ) -> Result<SubscriptionState, StripeCallError> {
        SubscriptionState::read(&self.send_json(request, idempotency_key).await?)
    }

    /// Every event Stripe created since `since`, oldest first, as raw JSON (read from the few fields
    /// billing needs, like webhooks, whatever API version rendered them), reading at most
    /// `max_pages` pages of 100; the listing says whether they reached back to `since`.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn events_since(&self, since: Timestamp, max_pages: usize) -> Result<EventListing, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Query<'a> {
            #[serde(rename = "created[gte]")]
            created_gte: i64,
            limit: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            starting_after: Option<&'a str>,
        }
        let mut events = Vec::new();
        let mut after: Option<String> = None;
        let mut reached_window_start = false;
        for _ in 0..max_pages {
            let query = Query {
                created_gte: since.as_second(),
                limit: 100,
                starting_after: after.as_deref(),
            };
            let page: miniserde::json::Value = RequestBuilder::new(StripeMethod::Get, "/events")
                .query(&query)
                .customize()
                .send(&self.client)
                .await?;
            let page = as_json(&page)?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data.last().and_then(|e| e["id"].as_str()).map(str::to_owned);
            let more = page["has_more"].as_bool().unwrap_or(false);
            events.extend(data);
            if !more || after.is_none() {
                reached_window_start = true;
                break;
            }
        }
        // Stripe lists newest first; apply oldest first.
        events.sort_by_key(|e| e["created"].as_i64().unwrap_or(0));
        Ok(EventListing {
            events,
            reached_window_start,
        })
    }
}
