//! Every local change that affects what a Stripe-billed partner pays reaches Stripe: each row of the
//! rule table (`shared::domain::stripe_sync`) is checked for its exact request (method, path, form
//! fields, idempotency key) against the recording stub and for the partner's final state; Stripe
//! being down leaves the change visibly pending until a retry gets Stripe's confirmation.

mod support;

use jiff::{Span, Timestamp};
use serde_json::{json, Value};
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::PartnerId;
use shared::domain::tier::Tier;
use shared::stripe::client::StripeApi;
use shared::testing::billing::billed_partner;
use shared::testing::stripe_stub::{Recorded, StripeStub};
use shared::usecases::stripe_sync::push_pending_stripe_syncs;
use shared::usecases::sweep::{run_expiry_sweep, SweepSettings};
use support::TestApi;

const TERM_END: (i16, i8, i8) = (2027, 6, 1);

async fn setup(id: &str) -> (StripeStub, TestApi, u64) {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    let end = jiff::civil::date(TERM_END.0, TERM_END.1, TERM_END.2);
    let partner = billed_partner(&api.app.store, id, Tier::Gold, end, "cus_A", "sub_A", Timestamp::now()).await;
    (stub, api, partner.version)
}

fn key(request: &Recorded) -> &str {
    request.headers.get("idempotency-key").map(String::as_str).unwrap_or("")
}

fn form(request: &Recorded) -> Vec<(&str, &str)> {
    let mut fields: Vec<(&str, &str)> = request.form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.sort_unstable();
    fields
}

/// The instant the term's last day begins (the business zone of the tests is UTC).
fn term_end_second() -> String {
    jiff::civil::date(TERM_END.0, TERM_END.1, TERM_END.2)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
        .to_string()
}

async fn partner(api: &TestApi, id: &str) -> Value {
    let answer = api.get(&format!("/admin/partners/{id}")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn cancel_immediately_cancels_the_subscription_without_proration() {
    let (stub, api, version) = setup("cancel-now").await;
    api.calls.clear();
    let answer = api
        .post(
            "/admin/partners/cancel-now/cancel",
            json!({"effective": "immediately", "reason": "closing the account"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let requests = stub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("DELETE", "/v1/subscriptions/sub_A")
    );
    assert_eq!(key(&requests[0]), format!("sync:cancel:cancel-now:v{}", version + 1));
    assert_eq!(form(&requests[0]), [("invoice_now", "false"), ("prorate", "false")]);
    assert_eq!(
        api.calls.calls(),
        ["GetItem", "TransactWriteItems", "TransactWriteItems"],
        "read, commit the change with its Stripe request, record Stripe's confirmation"
    );

    let p = &answer.body["partner"];
    assert_eq!(p["engagement_tier"], "free");
    assert_eq!(p["stripe_subscription_status"], "canceled");
    assert_eq!(p["billing"], "manual", "{p}");
    assert!(p.get("stripe_sync").is_none(), "confirmed: {p}");
    let audit = api.all("cancel-now", "audit").await;
    assert_eq!(audit[0]["action"], "stripe_change_confirmed");
    assert_eq!(audit[1]["action"], "subscription_cancelled");
}

#[tokio::test]
async fn an_admin_may_ask_for_the_unused_period_to_be_credited() {
    let (stub, api, _) = setup("cancel-prorated").await;
    let answer = api
        .post(
            "/admin/partners/cancel-prorated/cancel",
            json!({"effective": "immediately", "refund_unused": true}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let requests = stub.requests();
    assert_eq!(form(&requests[0]), [("invoice_now", "true"), ("prorate", "true")]);

    let refused = api
        .post(
            "/admin/partners/cancel-prorated/cancel",
            json!({"effective": "term_end", "refund_unused": true}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "refund_unused");
}

#[tokio::test]
async fn moving_a_billed_partner_to_free_cancels_its_subscription() {
    let (stub, api, version) = setup("patch-free").await;
    let answer = api
        .tier("patch-free", json!({"engagement_tier": "free", "reason": "downgrade"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let requests = stub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("DELETE", "/v1/subscriptions/sub_A")
    );
    assert_eq!(key(&requests[0]), format!("sync:cancel:patch-free:v{}", version + 1));
    assert_eq!(answer.body["partner"]["engagement_tier"], "free");
    assert!(answer.body["partner"].get("stripe_sync").is_none());
}

#[tokio::test]
async fn cancelling_at_term_end_and_auto_renewal_set_and_clear_cancel_at() {
    let (stub, api, version) = setup("term-end").await;
    let answer = api
        .post("/admin/partners/term-end/cancel", json!({"effective": "term_end"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let requests = stub.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("POST", "/v1/subscriptions/sub_A")
    );
    assert_eq!(key(&requests[0]), format!("sync:cancel-at:term-end:v{}", version + 1));
    assert_eq!(form(&requests[0]), [("cancel_at", term_end_second().as_str())]);
    assert_eq!(
        answer.body["partner"]["engagement_tier"], "gold",
        "kept until the term's end"
    );

    // Withdrawing it (auto-renewal back on reactivates the term) clears Stripe's stop: an empty cancel_at.
    let version = answer.body["partner"]["version"].as_u64().unwrap();
    let answer = api
        .patch("/admin/partners/term-end/subscription", json!({"auto_renewal": true}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let requests = stub.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(
        key(&requests[1]),
        format!("sync:keep-billing:term-end:v{}", version + 1)
    );
    assert_eq!(form(&requests[1]), [("cancel_at", "")]);
    assert_eq!(answer.body["partner"]["subscription_status"], "active");
    let history = api.all("term-end", "history").await;
    assert_eq!(history[0]["event_type"], "reactivation");
}

#[tokio::test]
async fn turning_auto_renewal_off_stops_billing_at_the_terms_end() {
    let (stub, api, version) = setup("renewal-off").await;
    let answer = api
        .patch(
            "/admin/partners/renewal-off/subscription",
            json!({"auto_renewal": false}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let requests = stub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        key(&requests[0]),
        format!("sync:cancel-at:renewal-off:v{}", version + 1)
    );
    assert_eq!(form(&requests[0]), [("cancel_at", term_end_second().as_str())]);

    // Notes only: nothing that affects money, nothing sent.
    let answer = api
        .patch(
            "/admin/partners/renewal-off/subscription",
            json!({"subscription_notes": "call in May"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn stripe_down_during_a_cancel_leaves_it_pending_until_a_retry_confirms_it() {
    let (stub, api, version) = setup("stripe-down").await;
    stub.set_down(true);
    let answer = api
        .post(
            "/admin/partners/stripe-down/cancel",
            json!({"effective": "immediately"}),
        )
        .await;
    assert_eq!(answer.status, 202, "applied here, pending in Stripe: {}", answer.body);
    let p = &answer.body["partner"];
    assert_eq!(p["engagement_tier"], "free", "the downgrade is not held up by Stripe");
    assert_eq!(p["stripe_sync"]["action"], "cancel_subscription");
    assert_eq!(p["stripe_sync"]["attempts"], 1);
    assert!(
        p["stripe_sync"]["last_error"].as_str().unwrap().contains("unavailable"),
        "{p}"
    );

    // The retry (stripe-reconcile's first step) finds it through the pending index.
    let stripe = api.app.billing.as_ref().map(|b| b.stripe.clone()).unwrap();
    let calendar = BusinessCalendar::utc();
    let still = push_pending_stripe_syncs(&api.app.store, &stripe, &calendar, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((still.pending, still.still_pending), (1, 1));
    assert_eq!(partner(&api, "stripe-down").await["stripe_sync"]["attempts"], 2);

    stub.set_down(false);
    let done = push_pending_stripe_syncs(&api.app.store, &stripe, &calendar, Timestamp::now())
        .await
        .unwrap();
    assert_eq!((done.pending, done.confirmed), (1, 1));
    let p = partner(&api, "stripe-down").await;
    assert!(p.get("stripe_sync").is_none(), "{p}");
    assert_eq!(p["stripe_subscription_status"], "canceled");

    // Every attempt carried the same key; nothing is left to push.
    let requests = stub.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    let expected = format!("sync:cancel:stripe-down:v{}", version + 1);
    assert!(requests.iter().all(|r| key(r) == expected), "{requests:?}");
    let idle = push_pending_stripe_syncs(&api.app.store, &stripe, &calendar, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(idle.pending, 0);
    assert_eq!(stub.requests().len(), 3);
}

/// A Stripe-billed renewal whose charge fails is Stripe's to end: its retries go on while the sweep
/// runs every day for 20 days past the term's end, and nothing is expired, cancelled or sent to
/// Stripe; the third failure, the ladder's last step, downgrades.
#[tokio::test]
async fn a_billed_renewal_in_dunning_is_never_cut_off_by_the_sweep() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    let now = Timestamp::now();
    let calendar = BusinessCalendar::utc();
    let end = calendar.today(now).checked_sub(Span::new().days(1)).unwrap();
    billed_partner(&api.app.store, "renewing", Tier::Gold, end, "cus_R", "sub_R", now).await;
    let renewal_start = end.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_second();
    let failure = |attempt: u32| {
        let mut invoice = shared::stripe::fixtures::invoice(
            "in_renewal",
            "cus_R",
            "sub_R",
            "price_gold",
            360_000,
            "open",
            attempt,
            renewal_start,
        );
        invoice["next_payment_attempt"] = json!(renewal_start + i64::from(attempt) * 5 * 86_400);
        shared::stripe::fixtures::event(
            &format!("evt_renewal_failed_{attempt}"),
            "invoice.payment_failed",
            renewal_start + i64::from(attempt) * 3_600,
            invoice,
        )
    };
    apply(&api, failure(1)).await;
    apply(&api, failure(2)).await;

    let stripe: StripeApi = api.app.billing.as_ref().map(|b| b.stripe.clone()).unwrap();
    for day in 0..20 {
        let at = now + Span::new().hours(24 * day);
        let summary = run_expiry_sweep(&api.app.store, &calendar, &SweepSettings::default(), at)
            .await
            .unwrap();
        assert_eq!(
            (summary.expired, summary.renewal_billing_requested),
            (0, 0),
            "day {day}: {summary:?}"
        );
        assert_eq!(summary.awaiting_stripe, 1, "day {day}: {summary:?}");
        assert_eq!(summary.billed_overdue, 0, "day {day}: within 45 days");
        let pushed = push_pending_stripe_syncs(&api.app.store, &stripe, &calendar, at)
            .await
            .unwrap();
        assert_eq!(pushed.pending, 0, "day {day}: nothing to send Stripe");
    }
    let p = partner(&api, "renewing").await;
    assert_eq!(p["engagement_tier"], "gold", "{p}");
    assert_eq!(p["subscription_status"], "active", "{p}");
    assert!(p.get("stripe_sync").is_none(), "{p}");
    assert!(stub.requests().is_empty(), "{:?}", stub.requests());

    apply(&api, failure(3)).await;
    let p = partner(&api, "renewing").await;
    assert_eq!(p["engagement_tier"], "free", "the ladder's last step downgrades: {p}");
    let history = api.get("/admin/partners/renewing/history").await;
    assert_eq!(
        history.body["history"][0]["event_type"], "payment_failure_downgrade",
        "{}",
        history.body
    );
}

#[tokio::test]
async fn manually_managed_partners_never_reach_stripe() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    api.partner("manual", "Manual Co", 80.0).await;
    assert_eq!(api.tier("manual", json!({"engagement_tier": "gold"})).await.status, 200);
    let answer = api
        .post("/admin/partners/manual/cancel", json!({"effective": "immediately"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["partner"]["billing"], "manual");
    assert!(stub.requests().is_empty(), "{:?}", stub.requests());
}

#[tokio::test]
async fn stripe_drives_a_billed_term_so_renewals_and_date_edits_by_hand_are_refused() {
    let (stub, api, _) = setup("stripe-term").await;
    let renew = api
        .post(
            "/admin/subscriptions/renew",
            json!({"partner_ids": ["stripe-term"], "months": 12}),
        )
        .await;
    assert_eq!(renew.status, 200, "{}", renew.body);
    assert_eq!(renew.body["renewed"], 0);
    assert_eq!(renew.body["results"][0]["status"], "billed_by_stripe");
    assert!(renew.body["results"][0]["message"].as_str().unwrap().contains("Stripe"));

    let dates = api
        .tier(
            "stripe-term",
            json!({"engagement_tier": "gold", "subscription_end_date": "2028-01-01"}),
        )
        .await;
    assert_eq!(dates.status, 409, "{}", dates.body);
    assert!(dates.body["detail"].as_str().unwrap().contains("billed through Stripe"));
    assert!(stub.requests().is_empty());
    let id = PartnerId::parse("stripe-term").unwrap();
    let stored = api.app.store.get_partner(&id).await.unwrap().unwrap();
    assert_eq!(
        stored.subscription_end_date.map(|d| d.to_string()).as_deref(),
        Some("2027-06-01")
    );
}

/// Applies a Stripe event through the webhook's use-case.
async fn apply(api: &TestApi, event: Value) {
    let calendar = BusinessCalendar::utc();
    let prices = shared::testing::billing::test_prices();
    let rules = shared::usecases::stripe_events::BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    let event = shared::stripe::webhook::StripeEvent::from_api(event).unwrap();
    shared::usecases::stripe_events::handle_stripe_event(&api.app.store, &rules, None, &event, Timestamp::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_upgrade_moves_the_price_at_once_prorated_and_invoiced_now() {
    let (stub, api, version) = setup("upgrade").await;
    api.calls.clear();
    let answer = api.tier("upgrade", json!({"engagement_tier": "platinum"})).await;
    assert_eq!(
        api.calls.calls(),
        ["GetItem", "TransactWriteItems"],
        "one read, one commit"
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let requests = stub.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/v1/subscriptions/sub_A")
    );
    let update = &requests[1];
    assert_eq!(
        (update.method.as_str(), update.path.as_str()),
        ("POST", "/v1/subscriptions/sub_A")
    );
    assert_eq!(key(update), format!("switch-upgrade-v{version}"));
    assert_eq!(
        form(update),
        [
            ("items[0][id]", "si_Stub0001"),
            ("items[0][price]", "price_platinum"),
            ("payment_behavior", "pending_if_incomplete"),
            ("proration_behavior", "always_invoice"),
        ]
    );
    let p = &answer.body["partner"];
    assert_eq!(p["engagement_tier"], "platinum");
    assert_eq!(p["subscription_end_date"], "2027-06-01", "the term stays");
    assert_eq!(answer.body["pcr_change"]["delta"], 10.0, "{}", answer.body);
    let history = api.all("upgrade", "history").await;
    assert_eq!(history[0]["event_type"], "upgrade");

    // The same request again changes nothing and asks nothing of Stripe but its state.
    let again = api.tier("upgrade", json!({"engagement_tier": "platinum"})).await;
    assert_eq!((again.status, &again.body["changed"]), (200, &json!(false)));
    assert_eq!(stub.requests_to("/v1/subscriptions").len(), 2);
}

#[tokio::test]
async fn a_downgrade_waits_for_the_end_of_the_paid_period() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    let end = jiff::civil::date(TERM_END.0, TERM_END.1, TERM_END.2);
    let billed = billed_partner(
        &api.app.store,
        "downgrade",
        Tier::Platinum,
        end,
        "cus_D",
        "sub_D",
        Timestamp::now(),
    )
    .await;
    let answer = api.tier("downgrade", json!({"engagement_tier": "gold"})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let update = stub.requests().pop().unwrap();
    assert_eq!(key(&update), format!("switch-downgrade-v{}", billed.version));
    assert_eq!(
        form(&update),
        [
            ("items[0][id]", "si_Stub0001"),
            ("items[0][price]", "price_gold"),
            ("proration_behavior", "none"),
        ]
    );
    let p = &answer.body["partner"];
    assert_eq!(p["engagement_tier"], "platinum", "keeps what was paid for: {p}");
    let effective = (Timestamp::now() + jiff::SignedDuration::from_hours(30 * 24))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    assert_eq!(
        p["scheduled_tier_change"],
        json!({"tier": "gold", "effective": effective})
    );

    // Stripe's echo of the new price does not move the tier early; the first gold invoice paid does.
    let now = Timestamp::now().as_second();
    let echo = shared::stripe::fixtures::subscription("sub_D", "cus_D", "price_gold", "active", false);
    apply(
        &api,
        shared::stripe::fixtures::event("evt_echo", "customer.subscription.updated", now, echo),
    )
    .await;
    assert_eq!(partner(&api, "downgrade").await["engagement_tier"], "platinum");
    let next = now + 30 * 86_400;
    let invoice =
        shared::stripe::fixtures::invoice("in_next", "cus_D", "sub_D", "price_gold", 360_000, "paid", 1, next);
    apply(
        &api,
        shared::stripe::fixtures::event("evt_next_paid", "invoice.paid", next, invoice),
    )
    .await;
    let p = partner(&api, "downgrade").await;
    assert_eq!(p["engagement_tier"], "gold", "{p}");
    assert!(p.get("scheduled_tier_change").is_none(), "{p}");
    let history = api.all("downgrade", "history").await;
    assert_eq!(
        (history[0]["event_type"].as_str(), history[0]["created_by"].as_str()),
        (Some("downgrade"), Some("stripe"))
    );
}

#[tokio::test]
async fn a_pause_moves_the_term_and_pauses_collection_until_the_resume_date() {
    let (stub, api, version) = setup("pausing").await;
    api.calls.clear();
    let answer = api.post("/admin/partners/pausing/pause", json!({"months": 2})).await;
    assert_eq!(
        api.calls.calls(),
        ["GetItem", "TransactWriteItems", "TransactWriteItems"]
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let p = &answer.body["partner"];
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let until = today.checked_add(Span::new().months(2)).unwrap();
    assert_eq!(p["paused_until"], until.to_string());
    assert_eq!(p["engagement_tier"], "gold", "the tier stays");
    let end = jiff::civil::date(TERM_END.0, TERM_END.1, TERM_END.2);
    assert_eq!(
        p["subscription_end_date"],
        end.checked_add(until - today).unwrap().to_string()
    );
    let requests = stub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(key(&requests[0]), format!("sync:pause:pausing:v{}", version + 1));
    let resumes_at = until
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
        .to_string();
    assert_eq!(
        form(&requests[0]),
        [
            ("pause_collection[behavior]", "void"),
            ("pause_collection[resumes_at]", resumes_at.as_str())
        ]
    );
    assert_eq!(
        api.post("/admin/partners/pausing/pause", json!({"months": 1}))
            .await
            .status,
        409
    );
    let bad = api.post("/admin/partners/pausing/pause", json!({"months": 7})).await;
    assert_eq!(
        (bad.status, bad.body["errors"][0]["field"].as_str()),
        (422, Some("months"))
    );

    // Resuming today gives the whole unused span back and clears Stripe's pause.
    let resumed = api.post("/admin/partners/pausing/resume", json!({})).await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert_eq!(resumed.body["partner"]["subscription_end_date"], end.to_string());
    assert!(resumed.body["partner"].get("paused_until").is_none());
    let last = stub.requests().pop().unwrap();
    assert_eq!(form(&last), [("pause_collection", "")]);
    let history = api.all("pausing", "history").await;
    assert_eq!(
        (history[0]["event_type"].as_str(), history[1]["event_type"].as_str()),
        (Some("resume"), Some("pause"))
    );
    assert_eq!(api.post("/admin/partners/pausing/resume", json!({})).await.status, 409);
}

/// A pause Stripe ends by itself (collection running again before the pause's end, as when it is
/// cleared in Stripe's dashboard) resumes the partner here; an event from before Stripe confirmed the
/// pause changes nothing.
#[tokio::test]
async fn a_pause_stripe_ends_by_itself_resumes_the_partner_here() {
    let (_stub, api, _) = setup("pause-ended").await;
    let paused = api
        .post("/admin/partners/pause-ended/pause", json!({"months": 2}))
        .await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    let until = paused.body["partner"]["paused_until"].clone();
    let stored = api
        .app
        .store
        .get_partner(&shared::domain::partner::PartnerId::parse("pause-ended").unwrap())
        .await
        .unwrap()
        .unwrap();
    let confirmed = stored
        .pause_confirmed_at
        .expect("Stripe confirmed the pause")
        .as_second();

    let running = || shared::stripe::fixtures::subscription("sub_A", "cus_A", "price_gold", "active", false);
    // Stripe's state from before the pause, delivered late: still paused here.
    apply(
        &api,
        shared::stripe::fixtures::event(
            "evt_before_pause",
            "customer.subscription.updated",
            confirmed - 60,
            running(),
        ),
    )
    .await;
    assert_eq!(partner(&api, "pause-ended").await["paused_until"], until);
    // Still paused in Stripe: nothing either.
    let mut still = running();
    still["pause_collection"] = json!({"behavior": "void", "resumes_at": confirmed + 60 * 86_400});
    apply(
        &api,
        shared::stripe::fixtures::event(
            "evt_still_paused",
            "customer.subscription.updated",
            confirmed + 5,
            still,
        ),
    )
    .await;
    assert_eq!(partner(&api, "pause-ended").await["paused_until"], until);

    // Stripe ended the pause: the partner resumes, the unused span given back.
    apply(
        &api,
        shared::stripe::fixtures::event(
            "evt_pause_ended",
            "customer.subscription.updated",
            confirmed + 10,
            running(),
        ),
    )
    .await;
    let p = partner(&api, "pause-ended").await;
    assert!(p.get("paused_until").is_none(), "{p}");
    let end = jiff::civil::date(TERM_END.0, TERM_END.1, TERM_END.2);
    assert_eq!(
        p["subscription_end_date"],
        end.to_string(),
        "the whole span given back: {p}"
    );
    let history = api.all("pause-ended", "history").await;
    assert_eq!(
        (history[0]["event_type"].as_str(), history[0]["created_by"].as_str()),
        (Some("resume"), Some("stripe"))
    );
}
