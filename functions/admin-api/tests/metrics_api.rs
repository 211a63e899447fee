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
    handle_stripe_event(&api.app.store, &rules, None, &event, api.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn metrics_of_a_known_fixture_to_the_cent() {
    // The fixture's invoices are ten minutes old: at five past midnight on the 1st they belong to
    // the month before. Run it there and a second before midnight, over the window they span.
    for now in support::CLOCK_EDGES {
        Box::pin(metrics_of_the_fixture_at(now.parse().unwrap())).await;
    }
}

async fn metrics_of_the_fixture_at(now: jiff::Timestamp) {
    let api = TestApi::new().await.at(now);
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

    let day = |second: i64| {
        jiff::Timestamp::from_second(second)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    };
    let window = format!("from={}&to={}", day(t), day(now.as_second()));
    let answer = api.get(&format!("/admin/metrics?{window}")).await;
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
        ["Query", "Query", "Query"],
        "the window's day counters, the paid seats, the window's failed invoices (a count)"
    );
}

/// The stored paid-seat count, moved by every function that changes a tier, against a count made
/// by hand after each step (the demo seed, the sweep, an admin's cancel and upgrade, a dunning
/// downgrade through the webhook receiver, a bulk load with its recount).
#[tokio::test]
async fn the_stored_seat_count_follows_every_path_that_moves_a_tier() {
    use shared::domain::partner::{PartnerId, SubscriptionStatus};
    use shared::usecases::seed::{load_demo_partners, DemoPartner};
    let now: jiff::Timestamp = "2026-11-24T15:00:00Z".parse().unwrap();
    let api = TestApi::new().await.at(now);
    let store = &api.app.store;
    let seats = |gold: i64, platinum: i64| shared::domain::metrics::PaidSeats { gold, platinum };

    // The demo partners: 8 gold and 4 platinum terms (two of them already ended).
    let demo: Vec<DemoPartner> = serde_json::from_str(
        &std::fs::read_to_string(shared::testing::repo_file("infra/seed/demo-partners.json")).unwrap(),
    )
    .unwrap();
    load_demo_partners(store, &BusinessCalendar::utc(), &demo, now)
        .await
        .unwrap();
    assert_eq!(store.paid_seats().await.unwrap(), seats(8, 4), "seeded");

    // The sweep expires ironclad-insurance (gold, ended 3 days ago, not renewing) and
    // greenleaf-solar (platinum, 10 days past its end: beyond the 7 days of grace).
    let sweep = expiry_sweep::Sweep {
        store: store.clone(),
        calendar: BusinessCalendar::utc(),
        settings: shared::usecases::sweep::SweepSettings::default(),
    };
    let summary = sweep
        .handle(expiry_sweep::ScheduledTrigger::default(), now)
        .await
        .unwrap();
    assert_eq!(summary.expired, 2, "{summary:?}");
    assert_eq!(store.paid_seats().await.unwrap(), seats(7, 3), "after the sweep");

    // An admin cancels buildpro-crm (gold) now, and moves summit-roofing from free to platinum.
    let cancelled = api
        .post(
            "/admin/partners/buildpro-crm/cancel",
            json!({"effective": "immediately", "reason": "closing"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let upgraded = api.tier("summit-roofing", json!({"engagement_tier": "platinum"})).await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.body);
    assert_eq!(
        store.paid_seats().await.unwrap(),
        seats(6, 4),
        "after the admin's changes"
    );

    // A Stripe-billed gold partner fails its third attempt: the webhook downgrades it.
    billed_partner(
        store,
        "dunning-co",
        Tier::Gold,
        jiff::civil::date(2027, 11, 1),
        "cus_dun",
        "sub_dun",
        now,
    )
    .await;
    assert_eq!(store.paid_seats().await.unwrap(), seats(7, 4), "billed");
    let receiver = stripe_webhook::Receiver {
        store: store.clone(),
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
        signing_secret: shared::config::Secret::new(fixtures::TEST_WEBHOOK_SECRET),
        stripe: None,
    };
    let t = now.as_second();
    let failed = fixtures::event(
        "evt_dun_3",
        "invoice.payment_failed",
        t,
        fixtures::invoice("in_dun", "cus_dun", "sub_dun", "price_gold", 360_000, "open", 3, t),
    );
    let body = serde_json::to_string_pretty(&failed).unwrap();
    let delivery = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://api.example.test/webhooks/stripe")
        .header("content-type", "application/json")
        .header(
            "stripe-signature",
            fixtures::sign(&body, fixtures::TEST_WEBHOOK_SECRET, t),
        )
        .body(lambda_http::Body::Text(body))
        .unwrap();
    assert_eq!(receiver.handle(delivery, now).await.status(), 200);
    let downgraded = store
        .get_partner(&PartnerId::parse("dunning-co").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(downgraded.engagement_tier, Tier::Free);
    assert_eq!(
        store.paid_seats().await.unwrap(),
        seats(6, 4),
        "after the dunning downgrade"
    );

    // A bulk load writes profiles without the count (one gold, one platinum, one free); its recount
    // brings the count to what is stored.
    let loaded: Vec<_> = [
        ("bulk-g", Some(Tier::Gold)),
        ("bulk-p", Some(Tier::Platinum)),
        ("bulk-f", None),
    ]
    .into_iter()
    .map(|(id, tier)| {
        let fields = shared::domain::partner::ProfileFields {
            company_name: shared::domain::partner::CompanyName::parse(id).unwrap(),
            primary_email: shared::domain::partner::Email::parse(&format!("{id}@example.com")).unwrap(),
            base_pcr_score: shared::domain::pcr::BasePcr::from_hundredths(7_000).unwrap(),
            momentum_modifier: shared::domain::pcr::Momentum::Steady,
        };
        let mut p = shared::domain::partner::Partner::new_free(PartnerId::parse(id).unwrap(), fields, now);
        p.version = 1;
        if let Some(tier) = tier {
            p.apply_tier(tier, now);
            p.subscription_status = SubscriptionStatus::Active;
            p.subscription_start_date = Some(jiff::civil::date(2026, 11, 1));
            p.subscription_end_date = Some(jiff::civil::date(2027, 11, 1));
        }
        p
    })
    .collect();
    store.load_profiles(&loaded).await.unwrap();
    assert_eq!(
        store.recount_paid_seats().await.unwrap(),
        seats(7, 5),
        "the recount after the load"
    );
    assert_eq!(store.paid_seats().await.unwrap(), seats(7, 5), "stored");
}
