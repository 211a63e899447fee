//! `POST /admin/partners/{id}/billing` against a local Stripe stub that records each request (method,
//! path, form fields, idempotency key) and answers in today's API shape; DynamoDB is moto.

mod support;

use serde_json::json;
use shared::domain::partner::PartnerId;
use shared::testing::stripe_stub::StripeStub;
use support::TestApi;

async fn partner(api: &TestApi, id: &str) {
    let answer = api
        .put(
            &format!("/admin/partners/{id}"),
            json!({"company_name": "BuildPro CRM", "primary_email": "billing@buildpro.example", "base_pcr_score": "80", "momentum_modifier": 0}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn starting_billing_creates_the_customer_and_subscription_once_and_records_them() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "buildpro").await;

    let answer = api
        .post(
            "/admin/partners/buildpro/billing",
            json!({"tier": "gold", "collection": "send_invoice"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let p = &answer.body["partner"];
    assert_eq!(p["engagement_tier"], "gold");
    assert_eq!(p["stripe_customer_id"], "cus_Stub0001");
    assert_eq!(p["stripe_subscription_id"], "sub_Stub0001");
    assert_eq!(p["payment_status"], "current");
    assert_eq!(p["final_pcr_score"], 74.0);

    let requests = stub.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let customer = &requests[0];
    assert_eq!(
        (customer.method.as_str(), customer.path.as_str()),
        ("POST", "/v1/customers")
    );
    assert_eq!(
        customer.headers.get("idempotency-key").map(String::as_str),
        Some("customer-buildpro")
    );
    assert_eq!(
        customer.headers.get("authorization").map(String::as_str),
        Some("Bearer sk_test_stub_key")
    );
    assert_eq!(customer.field("name"), Some("BuildPro CRM"));
    assert_eq!(customer.field("email"), Some("billing@buildpro.example"));
    assert_eq!(customer.field("metadata[partner_id]"), Some("buildpro"));
    let subscription = &requests[1];
    assert_eq!(
        (subscription.method.as_str(), subscription.path.as_str()),
        ("POST", "/v1/subscriptions")
    );
    assert_eq!(
        subscription.headers.get("idempotency-key").map(String::as_str),
        Some("subscription-buildpro-1-gold"),
        "derived from the partner version the start was planned on"
    );
    assert_eq!(subscription.field("customer"), Some("cus_Stub0001"));
    assert_eq!(subscription.field("items[0][price]"), Some("price_gold"));
    assert_eq!(subscription.field("collection_method"), Some("send_invoice"));
    assert_eq!(subscription.field("days_until_due"), Some("30"));
    assert_eq!(subscription.field("metadata[partner_id]"), Some("buildpro"));
    assert_eq!(subscription.field("cancel_at"), None, "auto-renewal keeps billing");

    // The customer now leads webhooks to the partner.
    let linked = api.app.store.partner_for_customer("cus_Stub0001").await.unwrap();
    assert_eq!(linked, Some(PartnerId::parse("buildpro").unwrap()));
    let history = api.get("/admin/partners/buildpro/history").await;
    assert_eq!(history.body["history"][0]["event_type"], "upgrade", "{}", history.body);

    // A second start is refused before anything reaches Stripe.
    let again = api
        .post("/admin/partners/buildpro/billing", json!({"tier": "platinum"}))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn without_auto_renewal_billing_stops_at_the_term_end() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "ironclad").await;
    let gold = api.tier("ironclad", json!({"engagement_tier": "gold"})).await;
    assert_eq!(gold.status, 200, "{}", gold.body);
    let off = api
        .patch("/admin/partners/ironclad/subscription", json!({"auto_renewal": false}))
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    let answer = api
        .post("/admin/partners/ironclad/billing", json!({"tier": "platinum"}))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let end = answer.body["partner"]["subscription_end_date"]
        .as_str()
        .unwrap()
        .to_owned();
    let requests = stub.requests();
    let subscription = requests.iter().find(|r| r.path == "/v1/subscriptions").unwrap();
    assert_eq!(subscription.field("items[0][price]"), Some("price_platinum"));
    assert_eq!(subscription.field("collection_method"), Some("charge_automatically"));
    let cancel_at: i64 = subscription.field("cancel_at").unwrap().parse().unwrap();
    let expected = jiff::civil::Date::strptime("%Y-%m-%d", &end)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second();
    assert_eq!(cancel_at, expected, "cancel_at is the term's end");
}

#[tokio::test]
async fn bad_billing_requests_say_what_is_wrong() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "summit").await;
    for (body, field) in [
        (json!({"tier": "free"}), "tier"),
        (json!({"tier": "diamond"}), "tier"),
        (json!({}), "tier"),
        (json!({"tier": "gold", "collection": "cash"}), "collection"),
    ] {
        let answer = api.post("/admin/partners/summit/billing", body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert_eq!(answer.content_type, "application/problem+json");
        assert_eq!(answer.body["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(
        api.post("/admin/partners/nobody/billing", json!({"tier": "gold"}))
            .await
            .status,
        404
    );
    assert!(stub.requests().is_empty(), "nothing reached Stripe");
    let unconfigured = TestApi::new().await;
    partner(&unconfigured, "summit").await;
    assert_eq!(
        unconfigured
            .post("/admin/partners/summit/billing", json!({"tier": "gold"}))
            .await
            .status,
        503
    );
}

#[tokio::test]
async fn a_request_stripe_refuses_answers_502_with_stripes_reason() {
    let stub = StripeStub::start().await;
    let mut api = TestApi::new().await.with_stripe(&stub.base_url);
    if let Some(billing) = api.app.billing.as_mut() {
        billing.prices.gold = "plan_misconfigured".into();
    }
    partner(&api, "vertex").await;
    let answer = api
        .post("/admin/partners/vertex/billing", json!({"tier": "gold"}))
        .await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert_eq!(answer.content_type, "application/problem+json");
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("No such price: 'plan_misconfigured'"),
        "{}",
        answer.body
    );
    let partner = api.get("/admin/partners/vertex").await;
    assert_eq!(
        partner.body["engagement_tier"], "free",
        "nothing recorded: {}",
        partner.body
    );
}
