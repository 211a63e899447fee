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
use shared::usecases::stripe_events::{apply_stripe_event, BillingRules};
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
    apply_stripe_event(store, &rules, &event, jiff::Timestamp::now())
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
    apply_stripe_event(store, &rules, &event, now).await.unwrap();
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
    assert_eq!(
        sent[0].headers.get("idempotency-key").map(String::as_str),
        Some("refund-in_a1-260000"),
        "the key names what is left after this refund"
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
