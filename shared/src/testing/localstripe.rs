//! Driving localstripe (a fake Stripe on the 2017 API) from tests, with plain form requests: plans,
//! customers' payment methods, subscriptions with plan items, and its webhook configuration.

use crate::config::Secret;
use crate::domain::billing_start::BilledSubscription;
use crate::domain::dates::BusinessCalendar;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::Partner;
use crate::domain::tier::Tier;
use crate::store::Store;
use crate::stripe::client::{Collection, StripeApi};
use crate::usecases::billing_start::{record_paid_billing, StartBillingCommand};
use jiff::Timestamp;
use serde_json::Value;

/// The API key the tests use against localstripe (it accepts any `sk_` key).
pub const LOCAL_KEY: &str = "sk_test_localstripe";

pub struct LocalStripe {
    pub base: String,
}

impl LocalStripe {
    /// The localstripe that `make test` / `make dev` started (`STRIPE_API_BASE`).
    pub fn from_env() -> LocalStripe {
        let base = std::env::var("STRIPE_API_BASE")
            .unwrap_or_else(|_| panic!("STRIPE_API_BASE is not set: run the tests through `make test`"));
        LocalStripe { base }
    }

    /// One form request: (status, the answer as JSON).
    async fn send(&self, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let body = serde_urlencoded::to_string(form).unwrap_or_default();
        let auth = format!("Bearer {LOCAL_KEY}");
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let (status, answer) = super::http_server::request(&self.base, method, path, &headers, &body).await;
        (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
    }

    /// A request that must succeed.
    async fn call(&self, method: &str, path: &str, form: &[(&str, &str)]) -> Value {
        let (status, answer) = self.send(method, path, form).await;
        assert!(
            (200..300).contains(&status),
            "localstripe {method} {path}: {status} {answer}"
        );
        answer
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        self.call("POST", path, form).await
    }

    pub async fn delete(&self, path: &str) -> Value {
        self.call("DELETE", path, &[]).await
    }

    /// `GET path`: localstripe's answer.
    pub async fn get(&self, path: &str) -> Value {
        self.send("GET", path, &[]).await.1
    }

    /// Has localstripe deliver its events to `url`, signed with `secret`.
    pub async fn register_webhook(&self, id: &str, url: &str, secret: &str) {
        self.post(&format!("/_config/webhooks/{id}"), &[("url", url), ("secret", secret)])
            .await;
    }

    /// A monthly plan with the id of a tier's price (localstripe has no prices).
    pub async fn plan(&self, id: &str, amount_cents: i64) {
        let amount = amount_cents.to_string();
        let form = [
            ("id", id),
            ("amount", amount.as_str()),
            ("currency", "usd"),
            ("interval", "month"),
            ("product[name]", id),
        ];
        // A plan that exists already (another test made it) answers 400, which is fine.
        self.send("POST", "/v1/plans", &form).await;
    }

    /// Gives `customer` a default payment method: a card that pays, or a SEPA account that fails.
    pub async fn default_payment_method(&self, customer: &str, failing: bool) -> String {
        let pm = if failing {
            self.post(
                "/v1/payment_methods",
                &[("type", "sepa_debit"), ("sepa_debit[iban]", "DE62370400440532013001")],
            )
            .await
        } else {
            self.post(
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", "4242424242424242"),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2030"),
                    ("card[cvc]", "123"),
                ],
            )
            .await
        };
        let id = pm["id"].as_str().unwrap_or_default().to_owned();
        self.post(&format!("/v1/payment_methods/{id}/attach"), &[("customer", customer)])
            .await;
        self.post(
            &format!("/v1/customers/{customer}"),
            &[("invoice_settings[default_payment_method]", id.as_str())],
        )
        .await;
        id
    }

    /// A subscription of `customer` to `plan`; its id.
    pub async fn subscribe(&self, customer: &str, plan: &str) -> String {
        let sub = self
            .post("/v1/subscriptions", &[("customer", customer), ("items[0][plan]", plan)])
            .await;
        sub["id"].as_str().unwrap_or_default().to_owned()
    }
}

/// A free partner with a Stripe customer at localstripe (made through our client), linked; then
/// subscribed there to `tier`'s plan, paying with a card or a failing SEPA account, and recorded as
/// a billing start does.
pub async fn subscribed_partner(store: &Store, id: &str, tier: Tier, failing: bool) -> (Partner, String) {
    let now = Timestamp::now();
    let partner = super::seed_term(store, id, Tier::Free, jiff::civil::date(2027, 1, 1), true, now).await;
    let localstripe = LocalStripe::from_env();
    let stripe = StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&localstripe.base)).unwrap();
    let customer = stripe
        .create_customer(&partner)
        .await
        .expect("localstripe creates the customer");
    store.link_customer(&customer, &partner.id, now).await.unwrap();
    localstripe.default_payment_method(&customer, failing).await;
    let plan = if tier == Tier::Gold {
        "price_gold"
    } else {
        "price_platinum"
    };
    localstripe.plan(plan, tier.info().monthly_price_cents.get()).await;
    let subscription = localstripe.subscribe(&customer, plan).await;
    let command = StartBillingCommand {
        partner_id: partner.id.clone(),
        tier,
        collection: Collection::ChargeAutomatically,
        first_payment: crate::stripe::client::FirstPayment::SavedMethod,
        actor: Actor::Admin("admin-1".into()),
    };
    let stripe_ids = BilledSubscription {
        customer_id: customer,
        subscription_id: subscription.clone(),
        status: "active".into(),
        collection: Collection::ChargeAutomatically,
    };
    record_paid_billing(store, &BusinessCalendar::utc(), &command, &stripe_ids, now)
        .await
        .unwrap();
    let partner = store.get_partner(&command.partner_id).await.unwrap().unwrap();
    (partner, subscription)
}
