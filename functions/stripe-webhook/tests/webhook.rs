//! stripe-webhook against moto with signed fixtures: each event type's effect, the dunning ladder,
//! exactly-once, out-of-order delivery, and every rejection with the table unchanged.

use jiff::Timestamp;
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::domain::history_and_audit::HistoryEventType;
use shared::domain::invoice::InvoiceStatus;
use shared::domain::partner::{PartnerId, PaymentStatus, SubscriptionStatus};
use shared::domain::tier::Tier;
use shared::store::{PageRequest, Store};
use shared::stripe::fixtures::{self, TEST_WEBHOOK_SECRET};
use shared::testing::billing::{billed_partner, test_prices};
use shared::testing::{fresh_store, outbox_events, table_snapshot, CallLog};
use stripe_webhook::Receiver;

const T0: i64 = 1_795_521_600; // 2026-11-24T12:00:00Z

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

struct Fixture {
    receiver: Receiver,
    calls: CallLog,
}

async fn fixture() -> Fixture {
    let (store, calls) = fresh_store().await;
    Fixture {
        receiver: Receiver {
            store,
            calendar: BusinessCalendar::utc(),
            prices: test_prices(),
            signing_secret: Secret::new(TEST_WEBHOOK_SECRET),
            stripe: None,
        },
        calls,
    }
}

impl Fixture {
    fn store(&self) -> &Store {
        &self.receiver.store
    }

    /// Delivers `event` signed at `now` as Stripe does (pretty-printed body).
    async fn deliver(&self, event: &Value, now: i64) -> (u16, Value) {
        let body = serde_json::to_string_pretty(event).unwrap();
        let header = fixtures::sign(&body, TEST_WEBHOOK_SECRET, now);
        self.post(Body::Text(body), Some(&header), now).await
    }

    async fn post(&self, body: Body, signature: Option<&str>, now: i64) -> (u16, Value) {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://api.example.test/webhooks/stripe")
            .header("content-type", "application/json");
        if let Some(signature) = signature {
            builder = builder.header("stripe-signature", signature);
        }
        let req: Request = builder.body(body).unwrap();
        let response = self.receiver.handle(req, at(now)).await;
        let status = response.status().as_u16();
        let body = match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        (status, body)
    }

    async fn partner(&self, id: &str) -> shared::domain::partner::Partner {
        self.store()
            .get_partner(&PartnerId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    async fn history(&self, id: &str) -> Vec<shared::domain::history_and_audit::HistoryEntry> {
        let page = PageRequest {
            limit: 100,
            cursor: None,
        };
        self.store()
            .partner_history(&PartnerId::parse(id).unwrap(), None, &page)
            .await
            .unwrap()
            .items
    }

    async fn invoices(&self, id: &str) -> Vec<shared::domain::invoice::InvoiceRecord> {
        let page = PageRequest {
            limit: 100,
            cursor: None,
        };
        self.store()
            .partner_invoices(&PartnerId::parse(id).unwrap(), &page)
            .await
            .unwrap()
            .items
    }
}

/// A partner on `tier` until 2027-06-01, billed through `customer` / `subscription`.
async fn billed(
    f: &Fixture,
    id: &str,
    tier: Tier,
    customer: &str,
    subscription: &str,
) -> shared::domain::partner::Partner {
    let end = jiff::civil::date(2027, 6, 1);
    billed_partner(f.store(), id, tier, end, customer, subscription, at(T0)).await
}

fn outcome(body: &Value) -> &str {
    body["result"]["outcome"].as_str().unwrap_or("")
}

fn gold_invoice(id: &str, status: &str, attempt: u32, period_start: i64) -> Value {
    fixtures::invoice(
        id,
        "cus_bp",
        "sub_bp",
        "price_gold",
        360_000,
        status,
        attempt,
        period_start,
    )
}

#[tokio::test]
async fn a_paid_invoice_is_applied_once() {
    let f = fixture().await;
    billed(&f, "buildpro", Tier::Gold, "cus_bp", "sub_bp").await;
    let event = fixtures::event("evt_paid_1", "invoice.paid", T0, gold_invoice("in_0001", "paid", 1, T0));

    f.calls.clear();
    let (status, body) = f.deliver(&event, T0 + 5).await;
    assert_eq!((status, outcome(&body)), (200, "applied"), "{body}");
    let calls = f.calls.calls();
    // The customer's partner, the partner, the event's one transaction, and the card copy marked
    // changed (a paid invoice may have saved a new card).
    assert_eq!(
        calls,
        ["GetItem", "GetItem", "TransactWriteItems", "PutItem"],
        "DynamoDB calls for one event"
    );

    let partner = f.partner("buildpro").await;
    assert_eq!(partner.payment_status, Some(PaymentStatus::Current));
    assert_eq!(partner.last_payment_amount.map(|c| c.get()), Some(360_000));
    assert_eq!(partner.paid_through, Some(jiff::civil::date(2026, 12, 24)));
    let invoices = f.invoices("buildpro").await;
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].status, InvoiceStatus::Paid);
    assert_eq!(invoices[0].tier, Some(Tier::Gold));
    assert_eq!(invoices[0].amount_cents.get(), 360_000);
    assert!(invoices[0].pdf_url.as_deref().unwrap().ends_with("/pdf"));
    let paid = f
        .store()
        .invoices_with_status(
            InvoiceStatus::Paid,
            &PageRequest {
                limit: 10,
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(paid.items.len(), 1, "the invoice dashboard index has it");
    let receipts = outbox_events(f.store())
        .await
        .into_iter()
        .filter(|(t, _)| t == "PaymentSucceeded")
        .count();
    assert_eq!(receipts, 1);

    // Stripe delivers it again: 200, nothing changes.
    let before = table_snapshot(f.store()).await;
    let (status, body) = f.deliver(&event, T0 + 60).await;
    assert_eq!((status, outcome(&body)), (200, "duplicate"));
    assert_eq!(table_snapshot(f.store()).await, before);

    // The same event id with another body (another invoice, another amount), correctly signed: the
    // id decides; it is the event already applied, and nothing is applied twice.
    let mut forged = fixtures::event(
        "evt_paid_1",
        "invoice.paid",
        T0 + 30,
        gold_invoice("in_0002", "paid", 1, T0),
    );
    forged["data"]["object"]["amount_paid"] = json!(36);
    let (status, body) = f.deliver(&forged, T0 + 90).await;
    assert_eq!((status, outcome(&body)), (200, "duplicate"), "{body}");
    assert_eq!(table_snapshot(f.store()).await, before);
}

/// Stripe sends both `invoice.paid` and `invoice.payment_succeeded` for one payment, with their own
/// ids and `created` seconds, in any order: one payment, one receipt.
#[tokio::test]
async fn both_paid_events_of_one_invoice_record_one_payment_in_either_order() {
    for (first, second) in [
        ("invoice.paid", "invoice.payment_succeeded"),
        ("invoice.payment_succeeded", "invoice.paid"),
    ] {
        let f = fixture().await;
        billed(&f, "buildpro", Tier::Gold, "cus_bp", "sub_bp").await;
        let invoice = gold_invoice("in_0001", "paid", 1, T0);
        let one = fixtures::event("evt_one", first, T0, invoice.clone());
        let other = fixtures::event("evt_other", second, T0 + 1, invoice);
        let (status, body) = f.deliver(&one, T0 + 5).await;
        assert_eq!((status, outcome(&body)), (200, "applied"), "{first}: {body}");
        let version = f.partner("buildpro").await.version;
        let (status, body) = f.deliver(&other, T0 + 6).await;
        assert_eq!(
            (status, outcome(&body)),
            (200, "stale"),
            "{second} after {first}: {body}"
        );

        let partner = f.partner("buildpro").await;
        assert_eq!(partner.version, version, "{second} changed nothing");
        assert_eq!(partner.last_payment_amount.map(|c| c.get()), Some(360_000));
        let receipts = outbox_events(f.store())
            .await
            .into_iter()
            .filter(|(t, _)| t == "PaymentSucceeded")
            .count();
        assert_eq!(receipts, 1, "{first} then {second}");
        assert_eq!(f.invoices("buildpro").await.len(), 1);
    }
}

/// A higher price set in Stripe's dashboard (or its customer portal) grants nothing by itself: the
/// tier stays and nothing is scheduled until an invoice at that price is paid, which grants it, as
/// our own upgrades are granted for money. A lower price moves the tier down at once.
#[tokio::test]
async fn a_price_changed_in_stripe_grants_a_higher_tier_only_when_paid() {
    let f = fixture().await;
    let before = billed(&f, "buildpro", Tier::Gold, "cus_bp", "sub_bp").await;
    let repriced = fixtures::subscription("sub_bp", "cus_bp", "price_platinum", "active", false);
    let event = fixtures::event("evt_repriced", "customer.subscription.updated", T0 + 10, repriced);
    let (status, body) = f.deliver(&event, T0 + 11).await;
    assert_eq!(status, 200, "{body}");
    let partner = f.partner("buildpro").await;
    assert_eq!(partner.engagement_tier, Tier::Gold, "not granted by a price alone");
    assert!(partner.scheduled_tier_change.is_none(), "nothing unpaid scheduled");
    assert!(partner.pending_billing.is_none());

    // The invoice at the platinum price is paid: platinum from this period, the term unchanged.
    let mut invoice = fixtures::invoice(
        "in_plat",
        "cus_bp",
        "sub_bp",
        "price_platinum",
        600_000,
        "paid",
        1,
        T0 + 20,
    );
    invoice["amount_paid"] = json!(600_000);
    let paid = fixtures::event("evt_plat_paid", "invoice.paid", T0 + 30, invoice);
    let (status, body) = f.deliver(&paid, T0 + 31).await;
    assert_eq!((status, outcome(&body)), (200, "applied"), "{body}");
    let partner = f.partner("buildpro").await;
    assert_eq!(partner.engagement_tier, Tier::Platinum, "granted by the paid invoice");
    assert_eq!(
        partner.subscription_end_date, before.subscription_end_date,
        "the term stays"
    );
    let history = f.history("buildpro").await;
    let last = history.first().unwrap();
    assert_eq!(
        (last.event_type, last.created_by.to_string().as_str()),
        (HistoryEventType::Upgrade, "stripe")
    );

    // A lower price in Stripe moves the tier down at once.
    let lowered = fixtures::subscription("sub_bp", "cus_bp", "price_gold", "active", false);
    let event = fixtures::event("evt_lowered", "customer.subscription.updated", T0 + 40, lowered);
    let (status, body) = f.deliver(&event, T0 + 41).await;
    assert_eq!((status, outcome(&body)), (200, "applied"), "{body}");
    assert_eq!(f.partner("buildpro").await.engagement_tier, Tier::Gold);
}

#[tokio::test]
async fn failed_payments_walk_the_dunning_ladder() {
    let f = fixture().await;
    let before = billed(&f, "ladder", Tier::Gold, "cus_bp", "sub_bp").await;
    let failed = |n: u32| {
        fixtures::event(
            &format!("evt_fail_{n}"),
            "invoice.payment_failed",
            T0 + i64::from(n) * 3 * 86_400,
            gold_invoice("in_0002", "open", n, T0),
        )
    };
    let (status, body) = f.deliver(&failed(1), T0 + 3 * 86_400).await;
    assert_eq!((status, outcome(&body)), (200, "applied"), "{body}");
    assert_eq!(f.partner("ladder").await.payment_status, Some(PaymentStatus::PastDue));
    f.deliver(&failed(2), T0 + 6 * 86_400).await;
    let after_two = f.partner("ladder").await;
    assert_eq!(
        (after_two.engagement_tier, after_two.payment_status),
        (Tier::Gold, Some(PaymentStatus::PastDue))
    );
    let attempts: Vec<u64> = outbox_events(f.store())
        .await
        .into_iter()
        .filter(|(t, _)| t == "PaymentFailed")
        .map(|(_, d)| serde_json::from_str::<Value>(&d).unwrap()["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2], "a friendly reminder, then the urgent notice");

    f.deliver(&failed(3), T0 + 9 * 86_400).await;
    let downgraded = f.partner("ladder").await;
    assert_eq!(downgraded.engagement_tier, Tier::Free);
    assert_eq!(downgraded.payment_status, Some(PaymentStatus::Failed));
    assert_eq!(downgraded.final_pcr_score, before.pcr_at(Tier::Free));
    let history = f.history("ladder").await;
    let last = &history[0];
    assert_eq!(last.event_type, HistoryEventType::PaymentFailureDowngrade);
    assert_eq!(
        last.notes.as_ref().map(|n| n.to_string()).as_deref(),
        Some("Failed after 3 attempts")
    );
    let events = outbox_events(f.store()).await;
    assert!(events.iter().any(|(t, _)| t == "PaymentFailureDowngrade"));
    let downgrades = events
        .iter()
        .filter(|(t, d)| t == "TierChanged" && d.contains("\"change\":\"payment_failure_downgrade\""))
        .count();
    assert_eq!(downgrades, 1, "scoring hears of the downgrade");
    assert_eq!(f.invoices("ladder").await[0].status, InvoiceStatus::Failed);
}

#[tokio::test]
async fn subscription_events_cancel_and_end() {
    let f = fixture().await;
    billed(&f, "subs", Tier::Platinum, "cus_s", "sub_s").await;
    let updated = fixtures::event(
        "evt_upd",
        "customer.subscription.updated",
        T0 + 10,
        fixtures::subscription("sub_s", "cus_s", "price_platinum", "active", true),
    );
    f.deliver(&updated, T0 + 20).await;
    let cancelling = f.partner("subs").await;
    assert_eq!(
        (cancelling.engagement_tier, cancelling.subscription_status),
        (Tier::Platinum, SubscriptionStatus::Cancelled)
    );
    let deleted = fixtures::event(
        "evt_del",
        "customer.subscription.deleted",
        T0 + 30,
        fixtures::subscription("sub_s", "cus_s", "price_platinum", "canceled", false),
    );
    let (status, body) = f.deliver(&deleted, T0 + 40).await;
    assert_eq!((status, outcome(&body)), (200, "applied"));
    let ended = f.partner("subs").await;
    assert_eq!(ended.engagement_tier, Tier::Free);
    assert_eq!(
        ended.stripe_subscription_status,
        Some(shared::domain::stripe_subscription::StripeSubscriptionStatus::Canceled)
    );
    assert_eq!(f.history("subs").await[0].event_type, HistoryEventType::Cancellation);
    // The older update, arriving late, is recorded and ignored.
    let late = fixtures::event(
        "evt_upd_old",
        "customer.subscription.updated",
        T0 + 5,
        fixtures::subscription("sub_s", "cus_s", "price_platinum", "active", false),
    );
    let (_, body) = f.deliver(&late, T0 + 50).await;
    assert_eq!(outcome(&body), "stale");
    assert_eq!(f.partner("subs").await.engagement_tier, Tier::Free);
}

#[tokio::test]
async fn an_older_invoice_event_never_undoes_a_newer_one() {
    let f = fixture().await;
    billed(&f, "order", Tier::Gold, "cus_bp", "sub_bp").await;
    let paid = fixtures::event(
        "evt_paid",
        "invoice.paid",
        T0 + 100,
        gold_invoice("in_0003", "paid", 2, T0),
    );
    let failed = fixtures::event(
        "evt_failed",
        "invoice.payment_failed",
        T0 + 50,
        gold_invoice("in_0003", "open", 1, T0),
    );
    f.deliver(&paid, T0 + 200).await;
    let (status, body) = f.deliver(&failed, T0 + 210).await;
    assert_eq!((status, outcome(&body)), (200, "stale"), "{body}");
    assert_eq!(f.partner("order").await.payment_status, Some(PaymentStatus::Current));
    assert_eq!(f.invoices("order").await[0].status, InvoiceStatus::Paid);
}

#[tokio::test]
async fn events_that_are_not_ours_or_not_billing_are_acknowledged() {
    let f = fixture().await;
    let stranger = fixtures::event(
        "evt_stranger",
        "invoice.paid",
        T0,
        fixtures::invoice("in_x", "cus_unknown", "sub_x", "price_gold", 100, "paid", 1, T0),
    );
    let (status, body) = f.deliver(&stranger, T0).await;
    assert_eq!((status, outcome(&body)), (200, "not_ours"));
    let other = fixtures::event(
        "evt_charge",
        "charge.refunded",
        T0,
        json!({"id": "ch_1", "customer": "cus_unknown"}),
    );
    let (status, body) = f.deliver(&other, T0).await;
    assert_eq!((status, outcome(&body)), (200, "ignored"));
    let unusable = fixtures::event("evt_broken", "invoice.paid", T0, json!({"id": "in_b", "created": T0}));
    let (status, body) = f.deliver(&unusable, T0).await;
    assert_eq!((status, outcome(&body)), (200, "unusable"));
}

#[tokio::test]
async fn every_rejection_answers_400_and_changes_nothing() {
    let f = fixture().await;
    billed(&f, "guarded", Tier::Gold, "cus_bp", "sub_bp").await;
    let event = fixtures::event("evt_sec", "invoice.paid", T0, gold_invoice("in_0004", "paid", 1, T0));
    let body = serde_json::to_string_pretty(&event).unwrap();
    let good = fixtures::sign(&body, TEST_WEBHOOK_SECRET, T0);
    let before = table_snapshot(f.store()).await;
    let cases: Vec<(&str, Body, Option<String>, i64)> = vec![
        ("missing header", Body::Text(body.clone()), None, T0),
        ("garbage header", Body::Text(body.clone()), Some("nonsense".into()), T0),
        (
            "wrong secret",
            Body::Text(body.clone()),
            Some(fixtures::sign(&body, "whsec_wrong", T0)),
            T0,
        ),
        (
            "stale timestamp",
            Body::Text(body.clone()),
            Some(good.clone()),
            T0 + 301,
        ),
        (
            "tampered body",
            Body::Text(body.replace("360000", "36")),
            Some(good.clone()),
            T0,
        ),
        ("empty body", Body::Empty, Some(good.clone()), T0),
    ];
    for (name, request_body, header, now) in cases {
        let (status, answer) = f.post(request_body, header.as_deref(), now).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert!(answer["detail"].as_str().is_some(), "{name}: a problem body says why");
    }
    // A body over the limit answers 413 before its signature is even checked.
    let huge = format!(
        r#"{{"id":"evt_huge","padding":"{}"}}"#,
        "x".repeat(shared::http::MAX_BODY_BYTES)
    );
    let huge_signature = fixtures::sign(&huge, TEST_WEBHOOK_SECRET, T0);
    let (status, answer) = f.post(Body::Text(huge), Some(&huge_signature), T0).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(table_snapshot(f.store()).await, before, "nothing stored");
    // The same bytes as a binary (base64-decoded) body are accepted.
    let (status, answer) = f.post(Body::Binary(body.into_bytes()), Some(&good), T0).await;
    assert_eq!((status, outcome(&answer)), (200, "applied"));
}

#[tokio::test]
async fn wrong_route_or_method() {
    let f = fixture().await;
    let req: Request = lambda_http::http::Request::builder()
        .method("GET")
        .uri("https://api.example.test/webhooks/stripe")
        .body(Body::Empty)
        .unwrap();
    assert_eq!(f.receiver.handle(req, at(T0)).await.status().as_u16(), 405);
}

#[tokio::test]
async fn refunds_from_stripe_keep_the_invoice_true_once_each() {
    let f = fixture().await;
    billed(&f, "rf", Tier::Gold, "cus_rf", "sub_rf").await;
    let paid = fixtures::event(
        "evt_rf_paid",
        "invoice.paid",
        T0,
        fixtures::invoice("in_r1", "cus_rf", "sub_rf", "price_gold", 360_000, "paid", 1, T0),
    );
    assert_eq!(outcome(&f.deliver(&paid, T0).await.1), "applied");

    // Refunded in Stripe's dashboard: the charge lists the refund.
    let charge = json!({"id": "ch_1", "object": "charge", "invoice": "in_r1", "payment_intent": "pi_1",
        "amount": 360_000, "amount_refunded": 50_000,
        "refunds": {"object": "list", "data": [{"id": "re_1", "object": "refund", "amount": 50_000, "status": "succeeded"}]}});
    let refunded = fixtures::event("evt_rf_charge", "charge.refunded", T0 + 60, charge);
    let (status, body) = f.deliver(&refunded, T0 + 60).await;
    assert_eq!((status, outcome(&body)), (200, "applied"), "{body}");
    let invoice = &f.invoices("rf").await[0];
    assert_eq!(invoice.amount_refunded_cents.get(), 50_000);
    assert_eq!(invoice.status, InvoiceStatus::PartiallyRefunded);
    let history = f.history("rf").await;
    assert_eq!(history[0].event_type, HistoryEventType::Refund);
    assert_eq!(history[0].created_by.to_string(), "stripe");
    let events = outbox_events(f.store()).await;
    let refund_events: Vec<_> = events.iter().filter(|(kind, _)| kind == "PaymentRefunded").collect();
    assert_eq!(refund_events.len(), 1);
    assert!(refund_events[0].1.contains("\"refunded_by\":\"stripe\""));

    // The same refund again (redelivery, or its refund.updated): nothing more.
    assert_eq!(outcome(&f.deliver(&refunded, T0 + 60).await.1), "duplicate");
    let refund = |status: &str| {
        json!({"id": "re_1", "object": "refund", "amount": 50_000, "status": status,
        "payment_intent": "pi_1", "metadata": {"invoice_id": "in_r1"}})
    };
    let updated = fixtures::event("evt_rf_updated", "refund.updated", T0 + 61, refund("succeeded"));
    assert_eq!(outcome(&f.deliver(&updated, T0 + 61).await.1), "applied");
    assert_eq!(
        f.invoices("rf").await[0].amount_refunded_cents.get(),
        50_000,
        "recorded once"
    );

    // The bank sends it back: refundable again, the invoice paid in full again, once.
    let failed = fixtures::event("evt_rf_failed", "refund.failed", T0 + 120, refund("failed"));
    assert_eq!(outcome(&f.deliver(&failed, T0 + 120).await.1), "applied");
    let invoice = &f.invoices("rf").await[0];
    assert_eq!(invoice.amount_refunded_cents.get(), 0);
    assert_eq!(invoice.status, InvoiceStatus::Paid);
    let again = fixtures::event("evt_rf_failed_2", "refund.updated", T0 + 121, refund("failed"));
    f.deliver(&again, T0 + 121).await;
    assert_eq!(
        f.invoices("rf").await[0].amount_refunded_cents.get(),
        0,
        "reversed once"
    );

    let broken = fixtures::event("evt_rf_broken", "refund.created", T0, json!({"object": "refund"}));
    assert_eq!(outcome(&f.deliver(&broken, T0).await.1), "unusable");
    let stranger = fixtures::event(
        "evt_rf_stranger",
        "refund.created",
        T0,
        json!({"id": "re_9", "amount": 5, "status": "succeeded", "metadata": {"invoice_id": "in_unknown"}}),
    );
    assert_eq!(outcome(&f.deliver(&stranger, T0).await.1), "not_ours");
}

/// A signature made with another secret (the endpoint's secret was rolled) asks the entry point to
/// read the secrets again; a stale or missing signature does not.
#[tokio::test]
async fn only_a_signature_of_another_secret_asks_for_the_secret_again() {
    let f = fixture().await;
    let body = serde_json::to_string_pretty(&fixtures::event(
        "evt_rolled",
        "invoice.paid",
        T0,
        gold_invoice("in_0009", "paid", 1, T0),
    ))
    .unwrap();
    let refused = |signature: Option<String>, now: i64| {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://api.example.test/webhooks/stripe");
        if let Some(signature) = signature {
            builder = builder.header("stripe-signature", signature);
        }
        let req: Request = builder.body(Body::Text(body.clone())).unwrap();
        let receiver = &f.receiver;
        async move {
            let response = receiver.handle(req, at(now)).await;
            (
                response.status().as_u16(),
                response.extensions().get::<shared::secrets::SecretRefused>().copied(),
            )
        }
    };
    assert_eq!(
        refused(Some(fixtures::sign(&body, "whsec_rolled_secret", T0)), T0).await,
        (400, Some(shared::secrets::SecretRefused::WebhookSecret))
    );
    assert_eq!(
        refused(Some(fixtures::sign(&body, TEST_WEBHOOK_SECRET, T0)), T0 + 900).await,
        (400, None)
    );
    assert_eq!(refused(None, T0).await, (400, None));
}
