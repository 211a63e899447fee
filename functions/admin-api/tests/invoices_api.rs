//! The invoice dashboard against moto: invoices stored as Stripe's webhooks store them, listed across
//! partners newest first with combined filters and paging, one by id, its PDF, and the CSV export.

mod support;

use serde_json::Value;
use shared::domain::dates::BusinessCalendar;
use shared::domain::tier::Tier;
use shared::store::Store;
use shared::stripe::fixtures;
use shared::stripe::webhook::StripeEvent;
use shared::testing::billing::{billed_partner, test_prices};
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules};
use support::TestApi;

/// 2026-11-02T12:00:00Z and the days around it.
const NOV_2: i64 = 1_793_620_800;
const DAY: i64 = 86_400;

/// Stores invoice `id` of partner `partner` (customer `cus_<partner>`), created at `created`, as its
/// webhook would.
async fn invoice(store: &Store, partner: &str, id: &str, status: &str, amount: i64, created: i64) {
    let customer = format!("cus_{partner}");
    let object = fixtures::invoice(
        id,
        &customer,
        &format!("sub_{partner}"),
        "price_gold",
        amount,
        status,
        1,
        created,
    );
    let event_type = if status == "paid" {
        "invoice.paid"
    } else {
        "invoice.payment_failed"
    };
    let event = StripeEvent::from_api(fixtures::event(&format!("evt_{id}"), event_type, created, object)).unwrap();
    let calendar = BusinessCalendar::utc();
    let prices = test_prices();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    handle_stripe_event(store, &rules, None, &event, jiff::Timestamp::now())
        .await
        .unwrap();
}

async fn seeded() -> TestApi {
    let api = TestApi::new().await;
    let store = &api.app.store;
    let now = jiff::Timestamp::now();
    let end = jiff::civil::date(2027, 11, 1);
    billed_partner(store, "alpha", Tier::Gold, end, "cus_alpha", "sub_alpha", now).await;
    billed_partner(store, "beta", Tier::Gold, end, "cus_beta", "sub_beta", now).await;
    invoice(store, "alpha", "in_a1", "paid", 360_000, NOV_2).await;
    invoice(store, "beta", "in_b1", "paid", 360_000, NOV_2 + DAY).await;
    invoice(store, "alpha", "in_a2", "open", 360_000, NOV_2 + 2 * DAY).await;
    invoice(store, "beta", "in_b2", "paid", 120_050, NOV_2 + 3 * DAY).await;
    api
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["invoice_id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn invoices_list_newest_first_with_combined_filters_and_pages() {
    let api = seeded().await;
    let all = api.get("/admin/invoices").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let rows = all.body["invoices"].as_array().unwrap();
    assert_eq!(ids(rows), ["in_b2", "in_a2", "in_b1", "in_a1"]);
    let b2 = &rows[0];
    assert_eq!(b2["amount_cents"], 120_050);
    assert_eq!(b2["amount"], "$1,200.50");
    assert_eq!(b2["company_name"], "Company beta");
    assert_eq!(b2["tier"], "gold");
    assert_eq!(b2["status"], "paid");
    assert!(b2["invoice_pdf_url"].as_str().unwrap().ends_with("in_b2/pdf"));

    let paid = api.get("/admin/invoices?status=paid").await;
    assert_eq!(
        ids(paid.body["invoices"].as_array().unwrap()),
        ["in_b2", "in_b1", "in_a1"]
    );
    let alpha = api.get("/admin/invoices?partner_id=alpha").await;
    assert_eq!(ids(alpha.body["invoices"].as_array().unwrap()), ["in_a2", "in_a1"]);
    let alpha_failed = api.get("/admin/invoices?partner_id=alpha&status=failed").await;
    assert_eq!(ids(alpha_failed.body["invoices"].as_array().unwrap()), ["in_a2"]);
    let range = api.get("/admin/invoices?from=2026-11-03&to=2026-11-04").await;
    assert_eq!(ids(range.body["invoices"].as_array().unwrap()), ["in_a2", "in_b1"]);
    let paid_range = api
        .get("/admin/invoices?status=paid&from=2026-11-03&to=2026-11-05")
        .await;
    assert_eq!(ids(paid_range.body["invoices"].as_array().unwrap()), ["in_b2", "in_b1"]);

    let pages = api.pages("/admin/invoices?limit=3", "invoices").await;
    assert_eq!(pages.len(), 2);
    assert_eq!(ids(&pages.concat()), ["in_b2", "in_a2", "in_b1", "in_a1"]);
}

#[tokio::test]
async fn one_invoice_its_pdf_and_the_csv() {
    let api = seeded().await;
    let one = api.get("/admin/invoices/in_a1").await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["partner_id"], "alpha");
    assert_eq!(one.body["amount_paid_cents"], 360_000);
    let unknown = api.get("/admin/invoices/in_nobody").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body["detail"].as_str().unwrap().contains("in_nobody"));
    assert_eq!(api.get("/admin/invoices/in%20bad/pdf").await.status, 404);

    let raw = |path: &str| {
        let req = lambda_http::http::Request::builder()
            .uri(format!("https://admin.example.test{path}"))
            .header("authorization", format!("Bearer {}", api.token))
            .body(lambda_http::Body::Empty)
            .unwrap();
        api.app.handle(req)
    };
    let pdf = raw("/admin/invoices/in_b1/pdf").await;
    assert_eq!(pdf.status(), 302);
    assert_eq!(
        pdf.headers()["location"],
        "https://pay.stripe.com/invoice/acct_test/in_b1/pdf"
    );

    let csv = raw("/admin/invoices/export.csv?status=paid&partner_id=beta").await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let text = String::from_utf8(csv.body().as_ref().to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[1], "invoice_id");
    let rows: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((&rows[0][1], &rows[0][7]), ("in_b2", "1200.50"));
}

#[tokio::test]
async fn bad_invoice_queries_say_what_is_wrong() {
    let api = TestApi::new().await;
    for (query, field) in [
        ("status=bogus", "status"),
        ("partner_id=a%20b", "partner_id"),
        ("from=2026-13-01", "from"),
        ("from=2026-11-05&to=2026-11-01", "to"),
        ("limit=0", "limit"),
        ("colour=red", "query"),
    ] {
        let answer = api.get(&format!("/admin/invoices?{query}")).await;
        assert_eq!(answer.status, 422, "{query}: {}", answer.body);
        assert_eq!(answer.content_type, "application/problem+json");
        assert!(
            answer.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{query}: {}",
            answer.body
        );
    }
    assert_eq!(api.get("/admin/invoices?cursor=garbage").await.status, 400);
    assert_eq!(api.get("/admin/invoices/export.csv?limit=5").await.status, 422);
}

#[tokio::test]
async fn resend_queues_one_email_a_minute() {
    let api = seeded().await;
    let first = api.post("/admin/invoices/in_a1/resend", serde_json::json!({})).await;
    assert_eq!(first.status, 202, "{}", first.body);
    let again = api.post("/admin/invoices/in_a1/resend", serde_json::json!({})).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["queued"], false);
    let events = shared::testing::outbox_events(&api.app.store).await;
    let resends: Vec<_> = events
        .iter()
        .filter(|(kind, _)| kind == "InvoiceResendRequested")
        .collect();
    assert_eq!(resends.len(), 1, "one email for two clicks: {resends:?}");
    let detail: Value = serde_json::from_str(&resends[0].1).unwrap();
    assert_eq!(detail["invoice_id"], "in_a1");
    assert_eq!(detail["amount_cents"], 360_000);
    assert_eq!(detail["requested_by"], "admin:admin-1");
    let audit = api.all("alpha", "audit").await;
    assert_eq!(
        audit
            .iter()
            .filter(|a| a["action"] == "invoice_resend_requested")
            .count(),
        1
    );
    assert_eq!(
        api.post("/admin/invoices/in_nobody/resend", serde_json::json!({}))
            .await
            .status,
        404
    );
    let extra = api
        .post("/admin/invoices/in_a1/resend", serde_json::json!({"to": "x@y.z"}))
        .await;
    assert_eq!(extra.status, 422);
}

#[tokio::test]
async fn mark_paid_asks_stripe_once_audits_and_restores_the_tier_only_when_asked() {
    let stub = shared::testing::stripe_stub::StripeStub::start().await;
    let api = TestApi::new().await.with_stripe(&stub.base_url);
    let store = &api.app.store;
    let now = jiff::Timestamp::now();
    billed_partner(
        store,
        "dunned",
        Tier::Gold,
        jiff::civil::date(2027, 11, 1),
        "cus_Stub0001",
        "sub_Stub0001",
        now,
    )
    .await;
    // The third failed attempt downgrades the partner to free (dunning).
    let created = now.as_second() - 86_400;
    let object = fixtures::invoice(
        "in_late",
        "cus_Stub0001",
        "sub_Stub0001",
        "price_gold",
        360_000,
        "open",
        3,
        created,
    );
    let event = StripeEvent::from_api(fixtures::event("evt_late", "invoice.payment_failed", created, object)).unwrap();
    let calendar = BusinessCalendar::utc();
    let prices = test_prices();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    handle_stripe_event(store, &rules, None, &event, now).await.unwrap();
    let downgraded = api.get("/admin/partners/dunned").await;
    assert_eq!(downgraded.body["engagement_tier"], "free", "{}", downgraded.body);

    let no_reason = api
        .post("/admin/invoices/in_late/mark-paid", serde_json::json!({}))
        .await;
    assert_eq!(no_reason.status, 422);
    let marked = api
        .post(
            "/admin/invoices/in_late/mark-paid",
            serde_json::json!({"reason": "paid by bank transfer, ref 8812", "restore_tier": true}),
        )
        .await;
    assert_eq!(marked.status, 200, "{}", marked.body);
    assert_eq!(marked.body["tier_restored"], true);

    let pay = stub.requests_to("/v1/invoices/in_late/pay");
    assert_eq!(pay.len(), 1);
    assert_eq!(pay[0].field("paid_out_of_band"), Some("true"));
    assert_eq!(
        pay[0].headers.get("idempotency-key").map(String::as_str),
        Some("mark-paid-in_late")
    );
    let invoice = api.get("/admin/invoices/in_late").await;
    assert_eq!(invoice.body["status"], "paid", "{}", invoice.body);
    let partner = api.get("/admin/partners/dunned").await;
    assert_eq!(partner.body["engagement_tier"], "gold", "{}", partner.body);
    assert_eq!(partner.body["payment_status"], "current");
    let audit = api.all("dunned", "audit").await;
    let entry = audit
        .iter()
        .find(|a| a["action"] == "invoice_marked_paid")
        .expect("audited");
    assert_eq!(entry["actor"], "admin:admin-1");
    assert_eq!(entry["reason"], "paid by bank transfer, ref 8812");

    let twice = api
        .post(
            "/admin/invoices/in_late/mark-paid",
            serde_json::json!({"reason": "again"}),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(stub.requests_to("/v1/invoices/").len(), 1);
}

#[tokio::test]
async fn refunds_never_give_back_more_than_was_paid() {
    let stub = shared::testing::stripe_stub::StripeStub::start().await;
    let mut api = seeded().await;
    api = api.with_stripe(&stub.base_url);
    let refund = |body: serde_json::Value| api.post("/admin/invoices/in_a1/refund", body);

    api.calls.clear();
    let partial = refund(serde_json::json!({"amount_cents": 100_000, "reason": "November outage credit"})).await;
    assert_eq!(partial.status, 201, "{}", partial.body);
    assert_eq!(
        api.calls.calls(),
        [
            "Query",
            "GetItem",
            "UpdateItem",
            "GetItem",
            "GetItem",
            "TransactWriteItems",
            "UpdateItem"
        ],
        "find the invoice, read it, reserve, read partner and invoice, record, settle the status"
    );
    assert_eq!(partial.body["invoice_status"], "partially_refunded");
    assert_eq!(partial.body["total_refunded_cents"], 100_000);
    assert_eq!(partial.body["amount"], "$1,000.00");
    let sent = stub.requests_to("/v1/refunds");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].field("payment_intent"), Some("pi_for_in_a1"));
    assert_eq!(sent[0].field("amount"), Some("100000"));
    assert_eq!(sent[0].field("metadata[invoice_id]"), Some("in_a1"));
    let first_key = sent[0].headers.get("idempotency-key").cloned().unwrap_or_default();
    assert!(
        first_key.starts_with("refund-in_a1-"),
        "the key names the invoice and the request: {first_key}"
    );

    let too_much = refund(serde_json::json!({"amount_cents": 260_001, "reason": "x"})).await;
    assert_eq!(too_much.status, 422, "{}", too_much.body);
    assert!(too_much.body["detail"].as_str().unwrap().contains("$2,600.00"));
    assert_eq!(stub.requests_to("/v1/refunds").len(), 1, "nothing asked of Stripe");

    // Stripe down: nothing refunded, the reservation given back.
    stub.set_down(true);
    let down = refund(serde_json::json!({"amount_cents": 10_000, "reason": "x"})).await;
    assert_eq!(down.status, 503, "{}", down.body);
    stub.set_down(false);

    // Four concurrent refunds of $1,000 on the $2,600 left: two fit, two are refused.
    let body = serde_json::json!({"amount_cents": 100_000, "reason": "duplicate charge"});
    let answers = futures::future::join_all((0..4).map(|_| refund(body.clone()))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [201, 201, 422, 422],
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );

    let rest = refund(serde_json::json!({"reason": "closing the account"})).await;
    assert_eq!(rest.status, 201, "{}", rest.body);
    assert_eq!(rest.body["amount_cents"], 60_000);
    assert_eq!(rest.body["invoice_status"], "refunded");
    let nothing = refund(serde_json::json!({"reason": "again"})).await;
    assert_eq!(nothing.status, 409, "{}", nothing.body);

    let invoice = api.get("/admin/invoices/in_a1").await;
    assert_eq!(invoice.body["status"], "refunded", "{}", invoice.body);
    let refunded = api.get("/admin/invoices?status=refunded").await;
    assert_eq!(ids(refunded.body["invoices"].as_array().unwrap()), ["in_a1"]);
    let refunds_made: i64 = stub
        .requests_to("/v1/refunds")
        .iter()
        .filter_map(|r| r.field("amount").and_then(|a| a.parse::<i64>().ok()))
        .sum::<i64>();
    assert_eq!(refunds_made, 360_000, "Stripe was asked for exactly what was paid");
    let keys: std::collections::BTreeSet<String> = stub
        .requests_to("/v1/refunds")
        .iter()
        .filter_map(|r| r.headers.get("idempotency-key").cloned())
        .collect();
    assert_eq!(
        keys.len(),
        stub.requests_to("/v1/refunds").len(),
        "every request a key of its own"
    );

    let history = api.all("alpha", "history").await;
    assert_eq!(history.iter().filter(|h| h["event_type"] == "refund").count(), 4);
    let audit = api.all("alpha", "audit").await;
    let issued: Vec<_> = audit.iter().filter(|a| a["action"] == "refund_issued").collect();
    assert_eq!(issued.len(), 4);
    assert!(issued.iter().all(|a| a["actor"] == "admin:admin-1"));
    assert!(issued.iter().any(|a| a["reason"] == "November outage credit"));
    let events = shared::testing::outbox_events(&api.app.store).await;
    assert_eq!(events.iter().filter(|(kind, _)| kind == "PaymentRefunded").count(), 4);

    let unpaid = api
        .post("/admin/invoices/in_a2/refund", serde_json::json!({"reason": "x"}))
        .await;
    assert_eq!(unpaid.status, 409, "{}", unpaid.body);
    for bad in [
        serde_json::json!({"amount_cents": 100}),
        serde_json::json!({"reason": "x", "amount_cents": 0}),
        serde_json::json!({"reason": "x", "amount_cents": 12.5}),
        serde_json::json!({"reason": "x", "currency": "eur"}),
    ] {
        assert_eq!(refund(bad.clone()).await.status, 422, "{bad}");
    }
}

/// The refunds Stripe made for the requests it received: (refund id, amount), failed ones included,
/// one per idempotency key (a key seen again is the same refund).
fn refunds_at_stripe(stub: &shared::testing::stripe_stub::StripeStub) -> Vec<String> {
    let mut keys: Vec<String> = stub
        .requests_to("/v1/refunds")
        .iter()
        .filter_map(|r| r.headers.get("idempotency-key").cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Stripe reports a refund failed: asking again for the same amount makes a second refund at
/// Stripe, which moves the money (a key built from what is left would repeat the failed one).
#[tokio::test]
async fn a_refund_stripe_reports_failed_can_be_asked_again_and_moves_money() {
    use shared::testing::stripe_stub::{RefundFailure, StripeStub};
    let stub = StripeStub::start().await;
    let api = seeded().await.with_stripe(&stub.base_url);
    stub.fail_next_refunds(&[RefundFailure::Failed]);
    let body = serde_json::json!({"amount_cents": 10_000, "reason": "outage credit"});
    let failed = api.post("/admin/invoices/in_a1/refund", body.clone()).await;
    assert_eq!(failed.status, 502, "{}", failed.body);
    let invoice = api.get("/admin/invoices/in_a1").await.body;
    assert_eq!(invoice["amount_refunded_cents"], 0, "{invoice}");

    let again = api.post("/admin/invoices/in_a1/refund", body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["refund_status"], "succeeded");
    assert_eq!(again.body["total_refunded_cents"], 10_000);
    assert_eq!(refunds_at_stripe(&stub).len(), 2, "two distinct refunds at Stripe");
    let invoice = api.get("/admin/invoices/in_a1").await.body;
    assert_eq!(invoice["amount_refunded_cents"], 10_000, "{invoice}");
}

/// Two admins refund at once and one of them meets a transient failure, then asks again: three
/// requests, three refunds asked of Stripe, two made, and both admins' money moved (a retry never
/// receives the other admin's refund).
#[tokio::test]
async fn concurrent_refunds_with_a_transient_failure_stay_two_refunds() {
    use shared::testing::stripe_stub::{RefundFailure, StripeStub};
    let stub = StripeStub::start().await;
    let api = seeded().await.with_stripe(&stub.base_url);
    stub.fail_next_refunds(&[RefundFailure::Unavailable]);
    let a = serde_json::json!({"amount_cents": 10_000, "reason": "admin A"});
    let b = serde_json::json!({"amount_cents": 10_000, "reason": "admin B"});
    let (first, second) = futures::join!(
        api.post("/admin/invoices/in_a1/refund", a.clone()),
        api.post("/admin/invoices/in_a1/refund", b.clone()),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 503], "{} {}", first.body, second.body);
    let retry_body = if first.status == 503 { a } else { b };
    let retried = api.post("/admin/invoices/in_a1/refund", retry_body).await;
    assert_eq!(retried.status, 201, "{}", retried.body);

    let made: std::collections::BTreeSet<String> = [&first, &second, &retried]
        .iter()
        .filter(|answer| answer.status == 201)
        .map(|answer| answer.body["refund_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(made.len(), 2, "two different refunds: {made:?}");
    assert_eq!(refunds_at_stripe(&stub).len(), 3, "three requests, three keys");
    let invoice = api.get("/admin/invoices/in_a1").await.body;
    assert_eq!(
        invoice["amount_refunded_cents"], 20_000,
        "both admins' money moved: {invoice}"
    );
    assert_eq!(retried.body["total_refunded_cents"], 20_000);
}

/// An `Idempotency-Key` makes a retried request the same refund: one refund at Stripe, reserved
/// once, the same answer; the key with another amount is refused.
#[tokio::test]
async fn an_idempotency_key_makes_a_retried_refund_the_same_refund() {
    let stub = shared::testing::stripe_stub::StripeStub::start().await;
    let api = seeded().await.with_stripe(&stub.base_url);
    async fn refund_with_key(api: &TestApi, body: serde_json::Value, key: &str) -> support::Answer {
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://admin.example.test/admin/invoices/in_a1/refund")
            .header("authorization", format!("Bearer {}", api.token))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(lambda_http::Body::from(body.to_string()))
            .unwrap();
        support::answer(api.app.handle_at(req, api.now()).await)
    }
    let send = |body: serde_json::Value, key: &'static str| refund_with_key(&api, body, key);
    let body = serde_json::json!({"amount_cents": 25_000, "reason": "goodwill"});
    let once = send(body.clone(), "refund-ticket-4711").await;
    assert_eq!(once.status, 201, "{}", once.body);
    let again = send(body.clone(), "refund-ticket-4711").await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["refund_id"], once.body["refund_id"]);
    assert_eq!(again.body["total_refunded_cents"], 25_000, "counted once");
    assert_eq!(
        again.body["refund_status"], "recorded",
        "answered from the record: {}",
        again.body
    );
    assert_eq!(refunds_at_stripe(&stub).len(), 1);
    assert_eq!(
        stub.requests_to("/v1/refunds").len(),
        1,
        "Stripe is not asked again (its keys expire after 24 hours)"
    );
    let invoice = api.get("/admin/invoices/in_a1").await.body;
    assert_eq!(invoice["amount_refunded_cents"], 25_000, "{invoice}");

    let other_amount = send(
        serde_json::json!({"amount_cents": 1_000, "reason": "goodwill"}),
        "refund-ticket-4711",
    )
    .await;
    assert_eq!(other_amount.status, 409, "{}", other_amount.body);
    assert!(other_amount.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("$250.00"));
    let malformed = send(body, "not a key!").await;
    assert_eq!(malformed.status, 422, "{}", malformed.body);
    assert_eq!(refunds_at_stripe(&stub).len(), 1, "nothing more asked of Stripe");
}

/// A refund's Stripe calls (the invoice, its payments, the refund), each at the transport's timeout,
/// fit the function's timeout with margin: the function is never killed between reserving and
/// recording (or giving the reservation back).
#[test]
fn a_refunds_stripe_calls_fit_the_function_timeout() {
    let template = std::fs::read_to_string(shared::testing::repo_file("template.yaml")).unwrap();
    let function = template.split("\n  AdminApiFunction:\n").nth(1).unwrap();
    let timeout: u64 = function
        .lines()
        .take_while(|line| !line.starts_with("  ") || line.starts_with("   "))
        .find_map(|line| line.trim().strip_prefix("Timeout: "))
        .expect("AdminApiFunction's Timeout")
        .parse()
        .unwrap();
    let stripe_calls = 3 * shared::stripe::transport::TIMEOUT.as_secs();
    assert!(
        stripe_calls + 3 <= timeout,
        "three Stripe calls of {} s need {stripe_calls} s and a margin; the function has {timeout} s",
        shared::stripe::transport::TIMEOUT.as_secs()
    );
    assert!(timeout < 30, "the HTTP API waits 30 s at most");
}
