//! The business figures against moto: a fixture of known partners, changes and invoices gives
//! exact cents and counts, and the running paid-seat count equals a recount from scratch.

mod support;

use serde_json::json;
use shared::domain::dates::BusinessCalendar;
use shared::domain::tier::Tier;
use shared::stripe::fixtures;
use shared::stripe::webhook::StripeEvent;
use shared::testing::billing::{billed_partner, test_prices};
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules};
use support::TestApi;

async fn stripe_event(api: &TestApi, id: &str, kind: &str, object: serde_json::Value, created: i64) {
    let event = StripeEvent::from_api(fixtures::event(id, kind, created, object)).unwrap();
    let calendar = BusinessCalendar::utc();
    let prices = test_prices();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    handle_stripe_event(&api.app.store, &rules, None, &event, jiff::Timestamp::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn metrics_of_a_known_fixture_to_the_cent() {
    let api = TestApi::new().await;
    for (id, tier) in [("m1", "gold"), ("m2", "platinum"), ("m3", "gold"), ("m4", "gold")] {
        api.partner(id, &format!("Metrics {id}"), 80.0).await;
        assert_eq!(api.tier(id, json!({"engagement_tier": tier})).await.status, 200);
    }
    assert_eq!(api.tier("m3", json!({"engagement_tier": "platinum"})).await.status, 200);
    assert_eq!(api.tier("m4", json!({"engagement_tier": "free"})).await.status, 200);
    let renewed = api
        .post(
            "/admin/subscriptions/renew",
            json!({"partner_ids": ["m1"], "months": 12}),
        )
        .await;
    assert_eq!(renewed.body["renewed"], 1, "{}", renewed.body);

    // A billed partner with three invoices this month: paid at once, paid on the third attempt,
    // failed twice so far; $100.00 of the first refunded in Stripe.
    let now = jiff::Timestamp::now();
    billed_partner(
        &api.app.store,
        "m5",
        Tier::Gold,
        jiff::civil::date(2027, 11, 1),
        "cus_m5",
        "sub_m5",
        now,
    )
    .await;
    let t = now.as_second() - 600;
    let invoice =
        |id, status, attempt| fixtures::invoice(id, "cus_m5", "sub_m5", "price_gold", 360_000, status, attempt, t);
    stripe_event(&api, "evt_m1", "invoice.paid", invoice("in_m1", "paid", 1), t).await;
    stripe_event(&api, "evt_m2", "invoice.paid", invoice("in_m2", "paid", 3), t + 1).await;
    stripe_event(
        &api,
        "evt_m3",
        "invoice.payment_failed",
        invoice("in_m3", "open", 2),
        t + 2,
    )
    .await;
    let refund = json!({"id": "re_m1", "amount": 10_000, "status": "succeeded", "metadata": {"invoice_id": "in_m1"}});
    stripe_event(&api, "evt_m4", "refund.created", refund, t + 3).await;

    let answer = api.get("/admin/metrics").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let m = &answer.body;
    assert_eq!(m["active_paid_partners"], json!({"gold": 2, "platinum": 2}));
    assert_eq!(
        m["mrr"],
        json!({"gold_cents": 720_000, "platinum_cents": 1_200_000, "total_cents": 1_920_000})
    );
    assert_eq!(m["arr"]["total_cents"], 23_040_000);
    assert_eq!(
        m["movements"],
        json!({"new": 5, "upgraded": 1, "downgraded": 0, "churned": 1, "renewed": 1, "came_due": 1})
    );
    assert_eq!(m["renewal_rate"]["percent"], "100.00%");
    assert_eq!(
        m["churn_rate"]["denominator"], 0,
        "every paid partner is new this month"
    );
    let c = &m["collections"];
    assert_eq!(c["payment_success"]["percent"], "66.67%");
    assert_eq!(c["payment_success"]["basis_points"], 6_667);
    assert_eq!(c["dunning_recovery"]["percent"], "50.00%");
    assert_eq!(c["collected_cents"], 720_000);
    assert_eq!(c["refunded_cents"], 10_000);
    assert_eq!(c["revenue_cents"], 710_000);

    // The running count, written with each change, is what a recount of every partner finds.
    let running = api.app.store.paid_seats().await.unwrap();
    assert_eq!(api.app.store.recount_paid_seats().await.unwrap(), running);

    // Before any of it: nothing moved, nothing collected.
    let past = api.get("/admin/metrics?from=2026-01-01&to=2026-01-31").await;
    assert_eq!(past.body["movements"]["new"], 0, "{}", past.body);
    assert_eq!(past.body["collections"]["collected_cents"], 0);
    assert!(past.body["collections"]["payment_success"]["basis_points"].is_null());

    for bad in [
        "from=2026-02-01&to=2026-01-01",
        "from=2024-01-01&to=2026-01-01",
        "from=yesterday",
        "tier=gold",
    ] {
        assert_eq!(api.get(&format!("/admin/metrics?{bad}")).await.status, 422, "{bad}");
    }
}

#[tokio::test]
async fn the_metrics_read_is_cheap() {
    let api = TestApi::new().await;
    api.partner("c1", "Cheap One", 70.0).await;
    api.calls.clear();
    let answer = api.get("/admin/metrics?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        api.calls.calls(),
        ["GetItem", "Query", "Query"],
        "the seat count, one month of history, the window's invoices"
    );
}
