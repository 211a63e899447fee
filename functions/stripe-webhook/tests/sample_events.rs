//! Every Stripe sample in events/ (signed with the local secret by infra/local/sign-stripe-events.py)
//! runs through the handler, as `cargo lambda invoke` hands it over, against the demo partners.

use jiff::Timestamp;
use serde_json::Value;
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::PartnerId;
use shared::domain::tier::Tier;
use shared::testing::billing::test_prices;
use shared::testing::fresh_store;
use shared::usecases::seed::{link_demo_customers, load_demo_partners, DemoPartner};
use std::path::Path;
use stripe_webhook::Receiver;

fn repo_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

const EXPECTED: [(&str, &str); 5] = [
    ("stripe-invoice-paid.json", "applied"),
    ("stripe-refund-created.json", "applied"),
    ("stripe-invoice-payment-failed.json", "applied"),
    ("stripe-subscription-updated.json", "applied"),
    ("stripe-subscription-deleted.json", "applied"),
];

fn local_setting(name: &str) -> String {
    let env = std::fs::read_to_string(repo_file("infra/local/local.env")).unwrap();
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in local.env"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn every_stripe_sample_event_is_applied() {
    let mut files: Vec<String> = std::fs::read_dir(repo_file("events"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("stripe-"))
        .collect();
    files.sort();
    let mut expected: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
    expected.sort_unstable();
    assert_eq!(files, expected, "every Stripe sample needs an expected outcome here");

    let demo: Vec<DemoPartner> =
        serde_json::from_str(&std::fs::read_to_string(repo_file("infra/seed/demo-partners.json")).unwrap()).unwrap();
    let (store, _) = fresh_store().await;
    let now = Timestamp::now();
    load_demo_partners(&store, &BusinessCalendar::utc(), &demo, now)
        .await
        .unwrap();
    link_demo_customers(&store, &demo, now).await.unwrap();
    let receiver = Receiver {
        store,
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
        signing_secret: Secret::new(local_setting("STRIPE_WEBHOOK_SECRET")),
        stripe: None,
    };
    for (file, outcome) in EXPECTED {
        let text = std::fs::read_to_string(repo_file(&format!("events/{file}"))).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap();
        // Verified at the moment it was signed (the script re-signs them for manual invokes).
        let signed_at: i64 = raw["headers"]["stripe-signature"]
            .as_str()
            .and_then(|h| h.strip_prefix("t="))
            .and_then(|h| h.split(',').next())
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{file}: no t= in its signature"));
        let request = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let response = receiver
            .handle(request, Timestamp::from_second(signed_at + 1).unwrap())
            .await;
        let body: Value = match response.body() {
            lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap(),
            lambda_http::Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap(),
            lambda_http::Body::Empty => Value::Null,
            _ => Value::Null,
        };
        assert_eq!(response.status().as_u16(), 200, "{file}: {body}");
        assert_eq!(body["result"]["outcome"], outcome, "{file}: {body}");
    }
    let partner = |id: &str| {
        let store = receiver.store.clone();
        let id = PartnerId::parse(id).unwrap();
        async move { store.get_partner(&id).await.unwrap().unwrap() }
    };
    assert_eq!(partner("cornerstone-finance").await.engagement_tier, Tier::Free);
    assert_eq!(
        partner("buildpro-crm").await.last_payment_amount.map(|c| c.get()),
        Some(360_000)
    );
}
