//! Every request our Stripe client builds, recorded exactly as the request stub receives them (method,
//! path, headers, decoded form and query), written as JSON for the conformance check against
//! Stripe's own API description (`infra/local/check_stripe_requests.py`, run by `make test`).
//!
//! The test calls every public method of `StripeApi` in every variant of the requests it builds (each
//! collection and first payment of a subscription, a price change now or next period, a pause set
//! and cleared, ...). A public method added to any file of `shared/src/stripe/client/` without being called
//! here fails the test, so no request escapes the check.
//!
//! The requests go to `$STRIPE_REQUESTS_OUT`, else to `requests.json` in cargo's temporary directory
//! for integration tests. Needs no emulator.

use jiff::Timestamp;
use serde_json::{json, Value};
use shared::config::Secret;
use shared::domain::money::Cents;
use shared::domain::partner::{CompanyName, Email, Partner, PartnerId, ProfileFields};
use shared::domain::pcr::{BasePcr, Momentum};
use shared::stripe::client::{Collection, FirstPayment, NewSubscription, PriceChange, StripeApi};
use shared::testing::http_server::{serve, RawRequest};
use shared::testing::repo_file;
use shared::testing::stripe_stub::{Recorded, StripeStub};
use std::sync::{Arc, Mutex};

/// The public methods of `StripeApi` this test calls: each makes at least one request. Kept equal to
/// the `pub async fn`s of `shared/src/stripe/client/` by `every_public_method_of_the_client_is_exercised`.
const EXERCISED: &[&str] = &[
    "create_customer",
    "create_subscription",
    "cancel_subscription",
    "set_cancel_at",
    "change_price",
    "pause_collection",
    "subscription",
    "started_subscription",
    "subscription_with_payment",
    "invoice_payment",
    "pay_invoice_out_of_band",
    "invoice_payment_intent",
    "invoice_of_payment_intent",
    "create_refund",
    "create_setup_intent",
    "set_customer_default_payment_method",
    "set_subscription_default_payment_method",
    "card_on_file",
    "create_billing_portal_session",
    "events_since",
];

/// The headers the check reads (never the key in `authorization`).
const KEPT_HEADERS: [&str; 3] = ["idempotency-key", "stripe-version", "content-type"];

fn request_json(label: &str, request: &Recorded) -> Value {
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .filter(|(name, _)| KEPT_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        .map(|(name, value)| (name.to_ascii_lowercase(), json!(value)))
        .collect();
    json!({
        "label": label,
        "method": request.method,
        "path": request.path,
        "headers": headers,
        "form": request.form,
        "query": request.query,
    })
}

/// The `pub async fn`s of the client's files (`shared/src/stripe/client/`, one per Stripe resource).
fn client_methods() -> Vec<String> {
    let folder = repo_file("shared/src/stripe/client");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("reading {}: {e}", folder.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|path| {
            let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            source
                .lines()
                .filter_map(|line| line.trim_start().strip_prefix("pub async fn "))
                .filter_map(|rest| rest.split(['(', '<']).next())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_public_method_of_the_client_is_exercised() {
    let methods = client_methods();
    assert!(methods.len() >= 10, "the client's files read wrongly: {methods:?}");
    let missing: Vec<&String> = methods.iter().filter(|m| !EXERCISED.contains(&m.as_str())).collect();
    assert!(
        missing.is_empty(),
        "StripeApi methods not exercised by the conformance test: {missing:?}; call each in \
         `every_request_the_client_builds` (every variant of its request) and add it to EXERCISED"
    );
    let stale: Vec<&&str> = EXERCISED.iter().filter(|m| !methods.iter().any(|n| n == **m)).collect();
    assert!(
        stale.is_empty(),
        "EXERCISED names methods the client no longer has: {stale:?}"
    );
}

/// The requests made so far, each labelled with what made it.
struct Log {
    stub: StripeStub,
    seen: usize,
    out: Vec<Value>,
    called: Vec<&'static str>,
}

impl Log {
    /// Labels the stub's requests since the last call with `method` (and `variant`); each call must
    /// have reached Stripe.
    fn made(&mut self, method: &'static str, variant: &str) {
        let all = self.stub.requests();
        let new = &all[self.seen..];
        assert!(!new.is_empty(), "{method} ({variant}) sent no request");
        let label = if variant.is_empty() {
            method.to_owned()
        } else {
            format!("{method} ({variant})")
        };
        self.out.extend(new.iter().map(|r| request_json(&label, r)));
        self.seen = all.len();
        self.called.push(method);
    }
}

fn partner(now: Timestamp) -> Partner {
    let fields = ProfileFields {
        company_name: CompanyName::parse("BuildPro CRM").unwrap(),
        primary_email: Email::parse("billing@buildpro.example").unwrap(),
        base_pcr_score: BasePcr::from_hundredths(8_000).unwrap(),
        momentum_modifier: Momentum::Steady,
    };
    Partner::new_free(PartnerId::parse("buildpro-crm").unwrap(), fields, now)
}

/// `a=1&b%5Bc%5D=x+y` decoded as the stub decodes it (serde_urlencoded).
fn decode_form(text: &str) -> Vec<(String, String)> {
    fn decode(part: &str) -> String {
        let bytes = part.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len()
                    && part.is_char_boundary(i + 3)
                    && u8::from_str_radix(&part[i + 1..i + 3], 16).is_ok() =>
                {
                    out.push(u8::from_str_radix(&part[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                other => out.push(other),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// A Stripe that answers an invoice in today's shape (no `payment_intent` on it, its payments listed
/// at `/v1/invoice_payments`), recording like the stub: the branch of `invoice_payment_intent` the
/// stub's older invoice shape never reaches.
async fn todays_invoices() -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&recorded);
    let base = serve(move |raw: RawRequest| {
        let request = Recorded {
            form: decode_form(&String::from_utf8_lossy(&raw.body)),
            query: decode_form(&raw.query),
            method: raw.method,
            path: raw.path,
            headers: raw.headers,
        };
        let answer = if request.path == "/v1/invoice_payments" {
            json!({"object": "list", "has_more": false, "url": "/v1/invoice_payments", "data": [
                {"id": "inpay_1", "object": "invoice_payment", "invoice": "in_today", "status": "paid",
                 "payment": {"type": "payment_intent", "payment_intent": "pi_today"}}]})
        } else {
            json!({"id": "in_today", "object": "invoice", "status": "paid"})
        };
        log.lock().unwrap().push(request);
        async move { (200, answer.to_string()) }
    })
    .await;
    (format!("{base}/"), recorded)
}

#[tokio::test]
async fn every_request_the_client_builds() {
    let stub = StripeStub::start().await;
    let stripe = StripeApi::with_key(&Secret::new("sk_test_conformance"), Some(&stub.base_url)).unwrap();
    let mut log = Log {
        stub: stub.clone(),
        seen: 0,
        out: Vec::new(),
        called: Vec::new(),
    };
    let now = Timestamp::now();
    let later = now + jiff::SignedDuration::from_hours(24 * 365);
    let metadata = [
        ("partner_id", "buildpro-crm"),
        ("tier", "gold"),
        ("billing_start", "start-buildpro-crm-1"),
    ];

    stripe.create_customer(&partner(now)).await.unwrap();
    log.made("create_customer", "");

    for (collection, first_payment, cancel_at, variant) in [
        (
            Collection::ChargeAutomatically,
            FirstPayment::SavedMethod,
            None,
            "charged, saved card",
        ),
        (
            Collection::ChargeAutomatically,
            FirstPayment::ByPartner,
            None,
            "charged, paid in the browser",
        ),
        (
            Collection::SendInvoice,
            FirstPayment::SavedMethod,
            Some(later),
            "invoiced, ending",
        ),
        (
            Collection::ChargeAutomatically,
            FirstPayment::SavedMethod,
            Some(later),
            "charged, ending",
        ),
    ] {
        let new = NewSubscription {
            customer_id: "cus_Stub0001",
            price_id: "price_gold",
            collection,
            cancel_at,
            metadata: metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            idempotency_key: format!("subscription-buildpro-crm-{variant}"),
            first_payment,
        };
        stripe.create_subscription(&new).await.unwrap();
        log.made("create_subscription", variant);
    }

    for prorate in [true, false] {
        stripe
            .cancel_subscription("sub_Stub0001", prorate, &format!("cancel-{prorate}"))
            .await
            .unwrap();
        log.made("cancel_subscription", if prorate { "prorated" } else { "not prorated" });
    }

    for (cancel_at, variant) in [(Some(later), "set"), (None, "cleared")] {
        stripe
            .set_cancel_at("sub_Stub0001", cancel_at, &format!("cancel-at-{variant}"))
            .await
            .unwrap();
        log.made("set_cancel_at", variant);
    }

    for (change, variant) in [
        (PriceChange::ProratedNow, "prorated now"),
        (PriceChange::NextPeriod, "next period"),
    ] {
        stripe
            .change_price(
                "sub_Stub0001",
                "si_Stub0001",
                "price_platinum",
                change,
                &format!("price-{variant}"),
            )
            .await
            .unwrap();
        log.made("change_price", variant);
    }

    for (resumes_at, variant) in [(Some(later), "paused"), (None, "resumed")] {
        stripe
            .pause_collection("sub_Stub0001", resumes_at, &format!("pause-{variant}"))
            .await
            .unwrap();
        log.made("pause_collection", variant);
    }

    stripe.subscription("sub_Stub0001").await.unwrap();
    log.made("subscription", "");
    let found = stripe
        .started_subscription("cus_Stub0001", "start-buildpro-crm-1")
        .await
        .unwrap();
    assert!(found.is_some(), "the listing finds the started subscription");
    log.made("started_subscription", "listed, then read with its payment");
    stripe.subscription_with_payment("sub_Stub0001").await.unwrap();
    log.made("subscription_with_payment", "");

    stripe.invoice_payment("in_Stub0001").await.unwrap();
    log.made("invoice_payment", "");
    stripe
        .pay_invoice_out_of_band("in_Stub0001", "mark-paid-in_Stub0001")
        .await
        .unwrap();
    log.made("pay_invoice_out_of_band", "");

    stripe.invoice_payment_intent("in_Stub0001").await.unwrap();
    log.made("invoice_payment_intent", "invoice with its payment_intent");
    let (today, recorded) = todays_invoices().await;
    let todays = StripeApi::with_key(&Secret::new("sk_test_conformance"), Some(&today)).unwrap();
    assert_eq!(
        todays.invoice_payment_intent("in_today").await.unwrap().as_deref(),
        Some("pi_today")
    );
    let paid_through_payments = recorded.lock().unwrap().clone();
    assert_eq!(paid_through_payments.len(), 2, "the invoice, then its payments");
    log.out.extend(
        paid_through_payments
            .iter()
            .map(|r| request_json("invoice_payment_intent (invoice listing its payments)", r)),
    );

    // The stub has no invoice payments: Stripe's refusal is fine, the request is what is checked.
    let _ = stripe.invoice_of_payment_intent("pi_Stub0001").await;
    log.made("invoice_of_payment_intent", "");

    stripe
        .create_refund(
            "pi_Stub0001",
            Cents(120_000),
            "in_Stub0001",
            "buildpro-crm",
            "refund-in_Stub0001-1",
        )
        .await
        .unwrap();
    log.made("create_refund", "");

    stripe
        .create_setup_intent("cus_Stub0001", "buildpro-crm", "setup-buildpro-crm")
        .await
        .unwrap();
    log.made("create_setup_intent", "");

    let _ = stripe
        .set_customer_default_payment_method("cus_Stub0001", "pm_Stub0001", "default-pm-customer")
        .await;
    log.made("set_customer_default_payment_method", "");
    stripe
        .set_subscription_default_payment_method("sub_Stub0001", "pm_Stub0001", "default-pm-subscription")
        .await
        .unwrap();
    log.made("set_subscription_default_payment_method", "");

    // With a subscription whose default has no card, the customer is read too.
    let _ = stripe.card_on_file("cus_Stub0001", Some("sub_Stub0001")).await;
    log.made("card_on_file", "subscription, then customer");

    let _ = stripe
        .create_billing_portal_session(
            "cus_Stub0001",
            &shared::stripe::client::CustomerPortal {
                configuration: "bpc_PaymentMethodOnly".into(),
                return_url: "https://partners.power100.example/portal".into(),
            },
            "portal-1",
        )
        .await;
    log.made("create_billing_portal_session", "");

    let listing = stripe
        .events_since(now - jiff::SignedDuration::from_hours(2), 2)
        .await
        .unwrap();
    assert_eq!(listing.events.len(), 2, "two pages of the stub's endless list");
    log.made("events_since", "first page, then the next");

    let mut called = log.called.clone();
    called.dedup();
    let missed: Vec<&&str> = EXERCISED.iter().filter(|m| !called.contains(m)).collect();
    assert!(missed.is_empty(), "EXERCISED but not called: {missed:?}");

    let out = std::env::var("STRIPE_REQUESTS_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("stripe-requests.json"));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let document = json!({ "requests": log.out });
    std::fs::write(&out, serde_json::to_string_pretty(&document).unwrap())
        .unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    println!("{} Stripe requests written to {}", log.out.len(), out.display());
}
