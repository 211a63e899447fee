//! Every local change that affects what a Stripe-billed partner pays reaches Stripe: each row of the
//! rule table (`shared::domain::stripe_sync`) is checked for its exact request (method, path, form
//! fields, idempotency key) against the recording stub and for the partner's final state; Stripe
//! being down leaves the change visibly pending until a retry gets Stripe's confirmation.

mod support;

use jiff::{Span, Timestamp, ToSpan};
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
    assert_eq!(key(&requests[0]), format!("cancel-cancel-now-v{}", version + 1));
    assert_eq!(form(&requests[0]), [("invoice_now", "false"), ("prorate", "false")]);

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
    assert_eq!(key(&requests[0]), format!("cancel-patch-free-v{}", version + 1));
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
    assert_eq!(key(&requests[0]), format!("cancel-at-term-end-v{}", version + 1));
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
    assert_eq!(key(&requests[1]), format!("keep-billing-term-end-v{}", version + 1));
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
    assert_eq!(key(&requests[0]), format!("cancel-at-renewal-off-v{}", version + 1));
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
    let expected = format!("cancel-stripe-down-v{}", version + 1);
    assert!(requests.iter().all(|r| key(r) == expected), "{requests:?}");
    let idle = push_pending_stripe_syncs(&api.app.store, &stripe, &calendar, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(idle.pending, 0);
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn the_sweeps_expiry_of_a_billed_partner_is_pushed_by_the_retry() {
    let stub = StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    let now = Timestamp::now();
    let calendar = BusinessCalendar::utc();
    // Auto-renewing, unpaid and 10 days past its end: past the 7-day grace, so the sweep expires it.
    let end = calendar.today(now).checked_sub(Span::new().days(10)).unwrap();
    billed_partner(&api.app.store, "swept", Tier::Gold, end, "cus_S", "sub_S", now).await;
    let summary = run_expiry_sweep(&api.app.store, &calendar, &SweepSettings::default(), now)
        .await
        .unwrap();
    assert_eq!(summary.expired, 1, "{summary:?}");
    let p = partner(&api, "swept").await;
    assert_eq!(p["engagement_tier"], "free");
    assert_eq!(p["stripe_sync"]["action"], "cancel_subscription", "{p}");
    assert!(stub.requests().is_empty(), "the sweep itself does not call Stripe");

    let stripe: StripeApi = api.app.billing.as_ref().map(|b| b.stripe.clone()).unwrap();
    let done = push_pending_stripe_syncs(&api.app.store, &stripe, &calendar, now + 1.second())
        .await
        .unwrap();
    assert_eq!(done.confirmed, 1);
    let requests = stub.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("DELETE", "/v1/subscriptions/sub_S")
    );
    assert!(partner(&api, "swept").await.get("stripe_sync").is_none());
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
