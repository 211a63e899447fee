//! `POST /admin/partners/{id}/billing` against a local Stripe stub that records each request (method,
//! path, form fields, idempotency key) and answers in today's API shape; DynamoDB is moto.

mod support;

use serde_json::json;
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::PartnerId;
use shared::stripe::fixtures;
use shared::stripe::webhook::StripeEvent;
use shared::testing::billing::test_prices;
use shared::testing::outbox_events;
use shared::testing::stripe_stub::{StripeStub, SubscriptionFailure};
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules, EventOutcome};
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
    // The due date is 30 days from the business day: run it where the day turns.
    for now in support::CLOCK_EDGES {
        Box::pin(start_billing_at(now.parse().unwrap())).await;
    }
}

async fn start_billing_at(now: jiff::Timestamp) {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url).at(now);
    partner(&api, "buildpro").await;

    let answer = api
        .post(
            "/admin/partners/buildpro/billing",
            json!({"tier": "gold", "collection": "send_invoice"}),
        )
        .await;
    assert_eq!(answer.status, 201, "invoiced: granted at once: {}", answer.body);
    let p = &answer.body["partner"];
    assert_eq!(p["engagement_tier"], "gold");
    assert_eq!(p["stripe_customer_id"], "cus_Stub0001");
    assert_eq!(p["stripe_subscription_id"], "sub_Stub0001");
    assert_eq!(p["payment_status"], "awaiting_payment");
    let due = now
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(30))
        .unwrap();
    assert_eq!(p["payment_due_date"], due.to_string());
    assert_eq!(p["billing"], "stripe");
    assert!(p.get("pending_billing").is_none(), "{p}");
    assert_eq!(p["final_pcr_score"], 74.0);

    let requests = stub.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let customer = &requests[0];
    assert_eq!(
        (customer.method.as_str(), customer.path.as_str()),
        ("POST", "/v1/customers")
    );
    let key = customer.headers.get("idempotency-key").cloned().unwrap_or_default();
    assert!(key.starts_with("customer-buildpro-"), "{key}");
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
        Some("subscription-buildpro-v2"),
        "derived from the partner version its claim wrote"
    );
    assert_eq!(subscription.field("customer"), Some("cus_Stub0001"));
    assert_eq!(subscription.field("items[0][price]"), Some("price_gold"));
    assert_eq!(subscription.field("collection_method"), Some("send_invoice"));
    assert_eq!(subscription.field("days_until_due"), Some("30"));
    assert_eq!(subscription.field("metadata[partner_id]"), Some("buildpro"));
    assert_eq!(subscription.field("cancel_at"), None, "auto-renewal keeps billing");
    assert_eq!(
        subscription.field("payment_behavior"),
        None,
        "only for charge_automatically"
    );

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
    assert_eq!(answer.status, 202, "{}", answer.body);
    let end = answer.body["partner"]["subscription_end_date"]
        .as_str()
        .unwrap()
        .to_owned();
    let requests = stub.requests();
    let subscription = requests.iter().find(|r| r.path == "/v1/subscriptions").unwrap();
    assert_eq!(subscription.field("items[0][price]"), Some("price_platinum"));
    assert_eq!(subscription.field("collection_method"), Some("charge_automatically"));
    assert_eq!(subscription.field("payment_behavior"), Some("allow_incomplete"));
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
    assert!(
        partner.body.get("pending_billing").is_none(),
        "the claim is released: {}",
        partner.body
    );
    if let Some(billing) = api.app.billing.as_mut() {
        billing.prices.gold = "price_gold".into();
    }
    let corrected = api
        .post("/admin/partners/vertex/billing", json!({"tier": "gold"}))
        .await;
    assert_eq!(
        corrected.status, 202,
        "a corrected start may follow: {}",
        corrected.body
    );
}

fn rules() -> (BusinessCalendar, shared::domain::billing::PriceCatalog) {
    (BusinessCalendar::utc(), test_prices())
}

/// Applies a Stripe event through the webhook's use-case.
async fn apply(api: &TestApi, event: serde_json::Value) -> EventOutcome {
    let (calendar, prices) = rules();
    let event = StripeEvent::from_api(event).unwrap();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    handle_stripe_event(&api.app.store, &rules, None, &event, jiff::Timestamp::now())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_card_subscription_grants_the_tier_only_when_its_first_invoice_is_paid() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "cardpay").await;
    api.calls.clear();
    let answer = api
        .post("/admin/partners/cardpay/billing", json!({"tier": "gold"}))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(
        api.calls.calls(),
        [
            "GetItem",
            "TransactWriteItems",
            "TransactWriteItems",
            "TransactWriteItems"
        ],
        "claim (read, write), customer link, record (on the claimed partner)"
    );
    assert_eq!(stub.requests().len(), 2, "the customer and the subscription");
    let p = &answer.body["partner"];
    assert_eq!(p["engagement_tier"], "free", "nothing granted before money: {p}");
    assert_eq!(p["payment_status"], "pending");
    assert_eq!(p["pending_billing"]["tier"], "gold");
    assert_eq!(p["pending_billing"]["subscription_id"], "sub_Stub0001");
    assert_eq!(p["billing"], "manual", "no live subscription yet");

    let now = jiff::Timestamp::now().as_second();
    let invoice = fixtures::invoice(
        "in_first",
        "cus_Stub0001",
        "sub_Stub0001",
        "price_gold",
        360_000,
        "paid",
        1,
        now,
    );
    let outcome = apply(&api, fixtures::event("evt_first_paid", "invoice.paid", now, invoice)).await;
    assert!(matches!(outcome, EventOutcome::Applied { .. }), "{outcome:?}");

    let p = api.get("/admin/partners/cardpay").await.body;
    assert_eq!(p["engagement_tier"], "gold", "{p}");
    assert_eq!(p["subscription_status"], "active");
    assert_eq!(p["payment_status"], "current");
    assert_eq!(p["stripe_subscription_id"], "sub_Stub0001");
    assert_eq!(p["billing"], "stripe");
    assert!(p.get("pending_billing").is_none(), "{p}");
    let history = api.all("cardpay", "history").await;
    assert_eq!(history[0]["event_type"], "upgrade");
    assert_eq!(history[0]["created_by"], "stripe");
    assert!(
        history[0]["notes"].as_str().unwrap().starts_with("First invoice"),
        "{}",
        history[0]
    );
    let events: Vec<String> = outbox_events(&api.app.store)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert!(events.contains(&"TierChanged".to_owned()) && events.contains(&"PaymentSucceeded".to_owned()));
}

#[tokio::test]
async fn a_first_invoice_never_paid_grants_nothing_and_says_so() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "neverpaid").await;
    assert_eq!(
        api.post("/admin/partners/neverpaid/billing", json!({"tier": "platinum"}))
            .await
            .status,
        202
    );
    let now = jiff::Timestamp::now().as_second();
    let expired = fixtures::subscription(
        "sub_Stub0001",
        "cus_Stub0001",
        "price_platinum",
        "incomplete_expired",
        false,
    );
    let outcome = apply(
        &api,
        fixtures::event("evt_expired", "customer.subscription.updated", now, expired),
    )
    .await;
    assert!(matches!(outcome, EventOutcome::Applied { .. }), "{outcome:?}");
    let p = api.get("/admin/partners/neverpaid").await.body;
    assert_eq!(p["engagement_tier"], "free");
    assert!(
        p.get("pending_billing").is_none() && p.get("payment_status").is_none(),
        "{p}"
    );
    let history = api.all("neverpaid", "history").await;
    assert_eq!(history[0]["event_type"], "cancellation");
    assert!(
        history[0]["notes"]
            .as_str()
            .unwrap()
            .contains("First invoice never paid"),
        "{}",
        history[0]
    );
    // Another start may follow.
    assert_eq!(
        api.post("/admin/partners/neverpaid/billing", json!({"tier": "gold"}))
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn ten_concurrent_starts_of_different_tiers_create_one_subscription() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "racer").await;
    let starts = (0..10).map(|i| {
        let tier = if i % 2 == 0 { "gold" } else { "platinum" };
        api.post("/admin/partners/racer/billing", json!({"tier": tier}))
    });
    let answers = futures::future::join_all(starts).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [202, 409, 409, 409, 409, 409, 409, 409, 409, 409],
        "{statuses:?}"
    );
    let conflict = answers.iter().find(|a| a.status == 409).unwrap();
    assert!(
        conflict.body["detail"].as_str().unwrap().contains("under way"),
        "{}",
        conflict.body
    );
    let created = stub.requests_to("/v1/subscriptions");
    assert_eq!(
        created.len(),
        1,
        "exactly one subscription asked of Stripe: {created:?}"
    );
}

/// An emailed invoice left unpaid walks the dunning ladder a week at a time after its due date, each
/// step once, and ends in the downgrade (whose Stripe cancellation is then pending).
#[tokio::test]
async fn an_unpaid_emailed_invoice_walks_the_dunning_ladder_from_the_sweep() {
    use shared::usecases::sweep::{run_expiry_sweep, SweepSettings};
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "invoiced").await;
    let started = api
        .post(
            "/admin/partners/invoiced/billing",
            json!({"tier": "gold", "collection": "send_invoice"}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let calendar = BusinessCalendar::utc();
    let sweep_on = |days: i64| {
        let store = api.app.store.clone();
        let calendar = calendar.clone();
        async move {
            let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days);
            run_expiry_sweep(&store, &calendar, &SweepSettings::default(), at)
                .await
                .unwrap()
        }
    };
    let failed_events = |api: &TestApi| {
        let store = api.app.store.clone();
        async move {
            outbox_events(&store)
                .await
                .into_iter()
                .filter(|(t, _)| t == "PaymentFailed")
                .count()
        }
    };
    assert_eq!(sweep_on(30).await.invoice_reminders, 0, "due today, not overdue");
    assert_eq!(sweep_on(31).await.invoice_reminders, 1, "a reminder the day after");
    assert_eq!(sweep_on(31).await.invoice_reminders, 0, "once");
    assert_eq!(sweep_on(37).await.invoice_reminders, 0, "the next step waits a week");
    assert_eq!(sweep_on(38).await.invoice_reminders, 1, "the urgent notice");
    assert_eq!(failed_events(&api).await, 2);
    let p = api.get("/admin/partners/invoiced").await.body;
    assert_eq!(
        (p["payment_status"].as_str(), p["engagement_tier"].as_str()),
        (Some("past_due"), Some("gold"))
    );

    let last = sweep_on(45).await;
    assert_eq!(last.invoice_downgrades, 1, "{last:?}");
    let p = api.get("/admin/partners/invoiced").await.body;
    assert_eq!(p["engagement_tier"], "free");
    assert_eq!(p["payment_status"], "failed");
    assert_eq!(
        p["stripe_sync"]["action"], "cancel_subscription",
        "Stripe stops billing too: {p}"
    );
    let history = api.all("invoiced", "history").await;
    assert_eq!(history[0]["event_type"], "payment_failure_downgrade");
    assert_eq!(sweep_on(60).await.examined, 0, "out of the unpaid index");
}

/// A term that ended and does not renew cannot be billed: Stripe would be asked to stop billing in
/// the past. 409 saying what to do; Stripe is not called and the claim is released.
#[tokio::test]
async fn billing_a_term_that_ended_without_renewal_answers_409_and_calls_nothing() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    let now = jiff::Timestamp::now();
    let ended = BusinessCalendar::utc()
        .today(now)
        .checked_sub(jiff::Span::new().days(3))
        .unwrap();
    shared::testing::seed_term(
        &api.app.store,
        "lapsed",
        shared::domain::tier::Tier::Gold,
        ended,
        false,
        now,
    )
    .await;

    let answer = api
        .post("/admin/partners/lapsed/billing", json!({"tier": "gold"}))
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(
        answer.body["detail"].as_str().unwrap().contains("does not renew"),
        "{}",
        answer.body
    );
    assert!(stub.requests().is_empty(), "nothing reached Stripe");
    let p = api.get("/admin/partners/lapsed").await.body;
    assert!(p.get("pending_billing").is_none(), "the claim is released: {p}");
}

/// The admin's billing start (card on file) of `id` at gold, as the route asks it, at `now`.
async fn admin_start_at(
    api: &TestApi,
    id: &PartnerId,
    now: jiff::Timestamp,
) -> Result<shared::usecases::billing_start::BillingStartOutcome, shared::usecases::error::UseCaseError> {
    use shared::domain::billing_start::{Collection, FirstPayment};
    use shared::usecases::billing_start::{start_billing, StartBillingCommand};
    let billing = api.app.billing.as_ref().unwrap();
    let command = StartBillingCommand {
        partner_id: id.clone(),
        tier: shared::domain::tier::Tier::Gold,
        collection: Collection::ChargeAutomatically,
        first_payment: FirstPayment::SavedMethod,
        actor: shared::domain::history_and_audit::Actor::Admin("admin-1".into()),
    };
    start_billing(
        &api.app.store,
        &billing.stripe,
        &billing.prices,
        &BusinessCalendar::utc(),
        command,
        now,
    )
    .await
}

/// The partner's own upgrade of `id` to gold from the portal, at `now`.
async fn portal_upgrade_at(
    api: &TestApi,
    id: &PartnerId,
    now: jiff::Timestamp,
) -> shared::usecases::portal::upgrade::UpgradeOutcome {
    let user = shared::auth::PartnerUser {
        user: "owner".into(),
        partner_id: id.clone(),
    };
    let billing = api.app.billing.as_ref().unwrap();
    shared::usecases::portal::upgrade::upgrade(
        &api.app.store,
        billing,
        &BusinessCalendar::utc(),
        &user,
        shared::domain::tier::Tier::Gold,
        now,
    )
    .await
    .unwrap()
}

/// Stripe creates the subscription but its answer is lost (the caller timed out); the next day the
/// partner asks again from the portal, a different route with different wishes: the start resumes
/// as claimed, finds the subscription at Stripe instead of asking for another, and exactly one
/// `POST /v1/subscriptions` ever reached Stripe.
#[tokio::test]
async fn a_start_whose_answer_was_lost_resumes_from_the_other_route_with_one_subscription() {
    use shared::usecases::portal::upgrade::UpgradeOutcome;
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "lost-answer").await;
    let day0: jiff::Timestamp = "2026-12-01T16:00:00Z".parse().unwrap();
    let id = PartnerId::parse("lost-answer").unwrap();

    stub.fail_next_subscriptions(&[SubscriptionFailure::AnswerLost]);
    let lost = admin_start_at(&api, &id, day0).await;
    assert!(lost.is_err(), "the answer was lost: {lost:?}");
    let claimed = api.app.store.get_partner(&id).await.unwrap().unwrap();
    assert!(claimed.pending_billing.is_some(), "the claim stays, resumable");

    let day1 = day0 + jiff::SignedDuration::from_hours(24);
    let partner = match portal_upgrade_at(&api, &id, day1).await {
        UpgradeOutcome::PaymentRequired { partner, .. } | UpgradeOutcome::Processing { partner, .. } => partner,
        other => panic!("resumed as {other:?}"),
    };
    let created = stub
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/subscriptions")
        .collect::<Vec<_>>();
    assert_eq!(created.len(), 1, "one subscription asked of Stripe: {created:?}");
    assert_eq!(
        created[0].field("payment_behavior"),
        Some("allow_incomplete"),
        "as first claimed"
    );
    let pending = partner.pending_billing.expect("the start waits for its first payment");
    assert_eq!(pending.subscription_id.as_deref(), Some("sub_Stub0001"));
    assert_eq!(
        stub.requests_to("/v1/subscriptions")
            .iter()
            .filter(|r| r.method == "GET")
            .count(),
        2,
        "looked up (the listing, then the subscription with its payment)"
    );
}

/// A start whose request never reached Stripe, resumed the next day from the portal, sends the same
/// request byte for byte under the same key (what the admin's route claimed, not the portal's wishes).
#[tokio::test]
async fn a_resumed_start_sends_the_claimed_request_byte_for_byte() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    partner(&api, "never-sent").await;
    let id = PartnerId::parse("never-sent").unwrap();
    // Not renewing: Stripe's cancel_at is the term's end, fixed when the start was claimed.
    let settings = api
        .patch(
            "/admin/partners/never-sent/subscription",
            json!({"auto_renewal": false}),
        )
        .await;
    assert!(settings.status < 300, "{}", settings.body);
    let day0: jiff::Timestamp = "2026-12-01T16:00:00Z".parse().unwrap();
    // The customer is made; the subscription request dies on the way (Stripe unreachable).
    stub.fail_next_subscriptions(&[SubscriptionFailure::Unreachable]);
    let died = admin_start_at(&api, &id, day0).await;
    assert!(died.is_err(), "{died:?}");
    let day1 = day0 + jiff::SignedDuration::from_hours(24);
    portal_upgrade_at(&api, &id, day1).await;
    let sent: Vec<_> = stub
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/subscriptions")
        .collect();
    assert_eq!(sent.len(), 2, "the request that died, and the resumed one");
    assert_eq!(
        sent[1].form, sent[0].form,
        "the same form, field by field in the same order"
    );
    assert_eq!(
        sent[1].headers.get("idempotency-key"),
        sent[0].headers.get("idempotency-key")
    );
    assert_eq!(
        sent[1].headers.get("content-length"),
        sent[0].headers.get("content-length")
    );
    assert_eq!(
        sent[0].field("payment_behavior"),
        Some("allow_incomplete"),
        "as the admin claimed it"
    );
    assert!(
        sent[0].field("cancel_at").is_some(),
        "a term that does not renew stops: {:?}",
        sent[0].form
    );
}
