//! Calls partner-portal's handler the way API Gateway does, on a fresh table of its own.

#![allow(dead_code)]

use lambda_http::{Body, Request};
use partner_portal::Portal;
use serde_json::Value;
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::{Partner, PartnerId};
use shared::domain::tier::Tier;
use shared::store::Store;
use shared::stripe::client::{StripeApi, StripeBilling};
use shared::stripe::fixtures;
use shared::stripe::webhook::StripeEvent;
use shared::testing::billing::{billed_partner, test_prices};
use shared::testing::{fresh_store, partner_token, seed_term, CallLog};
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules};

pub const PUBLISHABLE_KEY: &str = "pk_test_portal_tests";

pub struct TestPortal {
    pub portal: Portal,
    pub calls: CallLog,
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

impl TestPortal {
    /// A portal on a fresh table, billing through the Stripe at `stripe_base`.
    pub async fn new(stripe_base: &str, stripe_key: &str) -> TestPortal {
        let (store, calls) = fresh_store().await;
        TestPortal::on(store, calls, stripe_base, stripe_key)
    }

    /// A portal on `store` (a second instance shares the first one's table).
    pub fn on(store: Store, calls: CallLog, stripe_base: &str, stripe_key: &str) -> TestPortal {
        let stripe = StripeApi::with_key(&Secret::new(stripe_key), Some(stripe_base)).expect("a Stripe client");
        TestPortal {
            portal: Portal {
                store,
                calendar: BusinessCalendar::utc(),
                auth: shared::testing::test_token_auth(shared::auth::Role::Partner),
                billing: StripeBilling {
                    stripe,
                    prices: test_prices(),
                },
                publishable_key: PUBLISHABLE_KEY.into(),
                rate_limit_per_minute: 100,
                customer_portal: None,
            },
            calls,
        }
    }

    pub fn store(&self) -> &Store {
        &self.portal.store
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<&str>, token: Option<&str>) -> Answer {
        let mut builder = lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://portal.example.test{path}"));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let req: Request = builder
            .body(body.map(|b| Body::Text(b.to_owned())).unwrap_or(Body::Empty))
            .expect("a request");
        let response = Box::pin(self.portal.handle(req)).await;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes: &[u8] = response.body().as_ref();
        Answer {
            status: response.status().as_u16(),
            content_type,
            headers: response.headers().clone(),
            body: serde_json::from_slice(bytes).unwrap_or(Value::Null),
        }
    }
}

/// A partner user's token for `partner`.
pub fn token_for(partner: &Partner) -> String {
    partner_token(&format!("user-of-{}", partner.id), &partner.id)
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", shared::ids::next_id().to_string().to_lowercase())
}

/// A free partner.
pub async fn free_partner(store: &Store, id: &str) -> Partner {
    seed_term(
        store,
        id,
        Tier::Free,
        jiff::civil::date(2027, 1, 1),
        true,
        jiff::Timestamp::now(),
    )
    .await
}

/// A gold partner billed through Stripe (`cus_<id>`, `sub_<id>`) with one paid invoice `in_<id>`,
/// stored as its webhook stores it.
pub async fn billed_gold_with_invoice(store: &Store, id: &str) -> Partner {
    let now = jiff::Timestamp::now();
    let end = jiff::civil::date(2027, 6, 1);
    let (customer, subscription) = (format!("cus_{id}"), format!("sub_{id}"));
    billed_partner(store, id, Tier::Gold, end, &customer, &subscription, now).await;
    let invoice_id = invoice_id_of(id);
    let created = now.as_second() - 60;
    let event = fixtures::event(
        &format!("evt_{id}"),
        "invoice.paid",
        created,
        fixtures::invoice(
            &invoice_id,
            &customer,
            &subscription,
            "price_gold",
            360_000,
            "paid",
            1,
            created,
        ),
    );
    let event = StripeEvent::from_api(event).expect("a Stripe event");
    let calendar = BusinessCalendar::utc();
    let prices = test_prices();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    handle_stripe_event(store, &rules, None, &event, now)
        .await
        .expect("the invoice is stored");
    store
        .get_partner(&PartnerId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
}

pub fn invoice_id_of(partner: &str) -> String {
    format!("in_{}", partner.replace('-', "_"))
}
