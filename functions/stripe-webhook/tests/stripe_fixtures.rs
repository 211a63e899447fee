//! Stripe's own example objects through our webhook: `../shared/stripe/fixtures3.json` (Stripe's
//! public openapi repository, MIT licensed; read where it lies, never copied here). Our own fixtures
//! are shaped as we believe Stripe sends them; these are shaped as Stripe says it does.
//!
//! - Each object we act on (invoice, subscription, refund, charge, setup intent, payment method,
//!   payment intent, customer) wrapped in an event of every type the code acts on, signed, and
//!   delivered to the receiver: never a 5xx (an object of the wrong kind is at most "unusable").
//! - The parsers read the ids and amounts the fixture itself holds (compared field by field).
//! - With the fixture's customer linked to a billed partner, its invoice is recorded with the
//!   fixture's id and amounts.
//!
//! A missing fixture file fails the test: it is part of the team's shared folder beside the repo.

use jiff::Timestamp;
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::config::Secret;
use shared::domain::billing::BillingEvent;
use shared::domain::dates::BusinessCalendar;
use shared::domain::tier::Tier;
use shared::stripe::client::StripeApi;
use shared::stripe::fixtures::{self, TEST_WEBHOOK_SECRET};
use shared::stripe::webhook::{verify, StripeEvent, REFUND_EVENT_TYPES};
use shared::testing::billing::{billed_partner, test_prices};
use shared::testing::http_server::{serve, RawRequest};
use shared::testing::{fresh_store, repo_file};
use std::sync::{Arc, Mutex};
use stripe_webhook::Receiver;

/// Every event type the code acts on. Kept equal to the types named in the dispatch
/// (`every_type_the_code_acts_on_is_listed`).
const HANDLED: &[&str] = &shared::stripe::webhook::HANDLED_EVENT_TYPES;

/// The objects of the fixture file wrapped in events.
const OBJECTS: &[&str] = &[
    "invoice",
    "subscription",
    "refund",
    "charge",
    "setup_intent",
    "payment_method",
    "payment_intent",
    "customer",
];

/// Where the dispatch lives: the event types named there are the ones the code acts on.
/// Where event types are read: `classify`, the only function that compares them (from its line to the
/// file's next item: its own helpers).
const DISPATCH: &str = "shared/src/stripe/webhook/classify.rs";

/// Stripe's fixture objects, by resource name.
fn stripe_fixtures() -> serde_json::Map<String, Value> {
    let path = repo_file("../shared/stripe/fixtures3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "Stripe's fixtures are missing at {} ({e}): they come with the team's shared folder \
             (shared/stripe/fixtures3.json beside the repository)",
            path.display()
        )
    });
    let all: Value = serde_json::from_str(&text).expect("fixtures3.json is JSON");
    let resources = all["resources"]
        .as_object()
        .cloned()
        .expect("fixtures3.json has resources");
    for name in OBJECTS {
        assert!(resources.contains_key(*name), "fixtures3.json has no {name}");
    }
    resources
}

fn text<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

fn int(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// `body` verified as the receiver verifies it.
fn verified(event: &Value, now: i64) -> StripeEvent {
    let body = serde_json::to_string_pretty(event).unwrap();
    let header = fixtures::sign(&body, TEST_WEBHOOK_SECRET, now);
    verify(
        body.as_bytes(),
        Some(&header),
        TEST_WEBHOOK_SECRET,
        Timestamp::from_second(now).unwrap(),
    )
    .unwrap_or_else(|e| panic!("a signed fixture event is refused: {e}"))
}

#[test]
fn every_type_the_code_acts_on_is_listed() {
    let mut named = std::collections::BTreeSet::new();
    {
        let file = std::fs::read_to_string(repo_file(DISPATCH)).unwrap_or_else(|e| panic!("reading {DISPATCH}: {e}"));
        let start = file.find("pub fn classify(").expect("classify in its file");
        let end = file[start..].find("\nimpl ").map_or(file.len(), |n| start + n);
        let source = &file[start..end];
        for literal in source.split('"').skip(1).step_by(2) {
            let prefixes = [
                "invoice.",
                "customer.",
                "refund.",
                "charge.",
                "setup_intent.",
                "payment_method.",
                "payment_intent.",
            ];
            let looks_like_type = prefixes.iter().any(|p| literal.starts_with(p))
                && literal
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
            if looks_like_type {
                named.insert(literal.to_owned());
            }
        }
    }
    named.extend(REFUND_EVENT_TYPES.iter().map(|t| (*t).to_owned()));
    let missing: Vec<&String> = named.iter().filter(|t| !HANDLED.contains(&t.as_str())).collect();
    assert!(
        missing.is_empty(),
        "event types the code acts on but Stripe's fixtures are not delivered as: {missing:?} (add them to HANDLED)"
    );
    let stale: Vec<&&str> = HANDLED.iter().filter(|t| !named.contains(**t)).collect();
    assert!(
        stale.is_empty(),
        "HANDLED names types the code no longer acts on: {stale:?}"
    );
}

#[test]
fn the_parsers_read_stripes_own_objects() {
    let resources = stripe_fixtures();
    let now = Timestamp::now().as_second();
    let invoice = &resources["invoice"];
    let subscription = &resources["subscription"];
    let refund = &resources["refund"];
    let charge = &resources["charge"];

    for kind in [
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.created",
        "invoice.finalized",
    ] {
        let event = verified(&fixtures::event("evt_fixture", kind, now, invoice.clone()), now);
        let facts = match event.billing_event() {
            Ok(
                BillingEvent::InvoicePaid(f) | BillingEvent::InvoicePaymentFailed(f) | BillingEvent::InvoiceIssued(f),
            ) => f,
            other => panic!("{kind} of Stripe's invoice read as {other:?}"),
        };
        assert_eq!(Some(facts.invoice_id.as_str()), text(invoice, "/id"), "{kind}");
        assert_eq!(Some(facts.customer_id.as_str()), text(invoice, "/customer"), "{kind}");
        assert_eq!(Some(facts.amount_due.get()), int(invoice, "/amount_due"), "{kind}");
        assert_eq!(Some(facts.amount_paid.get()), int(invoice, "/amount_paid"), "{kind}");
        assert_eq!(Some(facts.status.as_str()), text(invoice, "/status"), "{kind}");
        assert_eq!(facts.number.as_deref(), text(invoice, "/number"), "{kind}");
        assert_eq!(
            facts.subscription_id.as_deref(),
            text(invoice, "/subscription").or(text(invoice, "/parent/subscription_details/subscription")),
            "{kind}: today's invoices name their subscription under parent"
        );
        assert_eq!(
            Some(u64::from(facts.attempt_count)),
            invoice.get("attempt_count").and_then(Value::as_u64),
            "{kind}"
        );
        assert_eq!(facts.created.as_second(), int(invoice, "/created").unwrap(), "{kind}");
        assert_eq!(
            facts.period_start.as_second(),
            int(invoice, "/lines/data/0/period/start").unwrap(),
            "{kind}: the first line's period"
        );
        assert_eq!(
            facts.hosted_invoice_url.as_deref(),
            text(invoice, "/hosted_invoice_url"),
            "{kind}"
        );
    }

    for kind in [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ] {
        let event = verified(&fixtures::event("evt_fixture", kind, now, subscription.clone()), now);
        let facts = match event.billing_event() {
            Ok(BillingEvent::SubscriptionUpdated(f) | BillingEvent::SubscriptionDeleted(f)) => f,
            other => panic!("{kind} of Stripe's subscription read as {other:?}"),
        };
        assert_eq!(
            Some(facts.subscription_id.as_str()),
            text(subscription, "/id"),
            "{kind}"
        );
        assert_eq!(
            Some(facts.customer_id.as_str()),
            text(subscription, "/customer"),
            "{kind}"
        );
        assert_eq!(Some(facts.status.as_str()), text(subscription, "/status"), "{kind}");
        assert_eq!(
            Some(facts.cancel_at_period_end),
            subscription.get("cancel_at_period_end").and_then(Value::as_bool),
            "{kind}"
        );
        assert_eq!(
            facts.current_period_end.map(|t| t.as_second()),
            int(subscription, "/current_period_end").or(int(subscription, "/items/data/0/current_period_end")),
            "{kind}: today's subscriptions carry the period on their item"
        );
        assert_eq!(
            facts.price_id.as_deref(),
            text(subscription, "/items/data/0/price/id"),
            "{kind}"
        );
    }

    for kind in ["refund.created", "refund.updated", "refund.failed"] {
        let event = verified(&fixtures::event("evt_fixture", kind, now, refund.clone()), now);
        let facts = event.refund_facts().unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(facts.len(), 1, "{kind}");
        assert_eq!(Some(facts[0].refund_id.as_str()), text(refund, "/id"), "{kind}");
        assert_eq!(Some(facts[0].amount.get()), int(refund, "/amount"), "{kind}");
        assert_eq!(Some(facts[0].status.as_str()), text(refund, "/status"), "{kind}");
        assert_eq!(
            facts[0].payment_intent.as_deref(),
            text(refund, "/payment_intent"),
            "{kind}"
        );
        assert_eq!(
            facts[0].invoice_id.as_deref(),
            text(refund, "/metadata/invoice_id"),
            "{kind}"
        );
    }

    // charge.refunded: Stripe's charge lists no refund; the same charge listing Stripe's refund.
    let event = verified(
        &fixtures::event("evt_fixture", "charge.refunded", now, charge.clone()),
        now,
    );
    assert_eq!(
        event.refund_facts().unwrap().len(),
        charge
            .pointer("/refunds/data")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    );
    let mut refunded = charge.clone();
    refunded["refunds"]["data"] = json!([refund]);
    let event = verified(&fixtures::event("evt_fixture", "charge.refunded", now, refunded), now);
    let facts = event.refund_facts().unwrap();
    assert_eq!(facts.len(), 1);
    assert_eq!(Some(facts[0].refund_id.as_str()), text(refund, "/id"));
    assert_eq!(Some(facts[0].amount.get()), int(refund, "/amount"));
    assert_eq!(
        facts[0].payment_intent.as_deref(),
        text(refund, "/payment_intent").or(text(charge, "/payment_intent"))
    );

    // An object of another kind in an event billing acts on is refused as unusable, never misread
    // (a subscription in invoice.paid was once recorded as a paid invoice, a charge or a payment
    // intent in refund.created read as a refund).
    for object in OBJECTS {
        for kind in HANDLED {
            let event = verified(
                &fixtures::event("evt_fixture", kind, now, resources[*object].clone()),
                now,
            );
            let own = match *object {
                "invoice" => kind.starts_with("invoice."),
                "subscription" => kind.starts_with("customer.subscription."),
                "refund" => kind.starts_with("refund."),
                "charge" => *kind == "charge.refunded",
                _ => false,
            };
            if REFUND_EVENT_TYPES.contains(kind) {
                let read = event.refund_facts();
                assert!(own == read.is_ok(), "a {object} in {kind} read as {read:?}");
            } else if kind.starts_with("invoice.") || kind.starts_with("customer.subscription.") {
                let read = event.billing_event();
                assert!(own == read.is_ok(), "a {object} in {kind} read as {read:?}");
            }
        }
    }
}

struct Delivery {
    event_type: &'static str,
    object: &'static str,
    status: u16,
    answer: Value,
}

#[tokio::test]
async fn stripes_objects_in_every_handled_event_never_answer_5xx() {
    let resources = stripe_fixtures();
    let (store, _calls) = fresh_store().await;
    let (stripe_base, to_stripe) = accepting_stripe().await;
    let now = Timestamp::now();
    // The fixture's customer (its invoice's and its subscription's) is one of our billed partners.
    let customer = text(&resources["invoice"], "/customer").unwrap().to_owned();
    assert_eq!(text(&resources["subscription"], "/customer"), Some(customer.as_str()));
    let subscription = text(&resources["subscription"], "/id").unwrap().to_owned();
    let end = now.to_zoned(jiff::tz::TimeZone::UTC).date() + jiff::Span::new().months(6);
    billed_partner(&store, "stripe-fixture", Tier::Gold, end, &customer, &subscription, now).await;
    let receiver = Receiver {
        store,
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
        signing_secret: Secret::new(TEST_WEBHOOK_SECRET),
        stripe: Some(StripeApi::with_key(&Secret::new("sk_test_fixtures"), Some(&stripe_base)).unwrap()),
    };

    let mut deliveries = Vec::new();
    let mut created = now.as_second() - 3_600;
    for object in OBJECTS {
        for event_type in HANDLED {
            created += 1;
            let id = format!("evt_fixture_{}_{}", object, event_type.replace('.', "_"));
            let event = fixtures::event(&id, event_type, created, resources[*object].clone());
            let body = serde_json::to_string_pretty(&event).unwrap();
            let header = fixtures::sign(&body, TEST_WEBHOOK_SECRET, now.as_second());
            let req: Request = lambda_http::http::Request::builder()
                .method("POST")
                .uri("https://api.example.test/webhooks/stripe")
                .header("content-type", "application/json")
                .header("stripe-signature", header)
                .body(Body::Text(body))
                .unwrap();
            let response = receiver.handle(req, now).await;
            let answer = match response.body() {
                Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
                Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
                _ => Value::Null,
            };
            deliveries.push(Delivery {
                event_type,
                object,
                status: response.status().as_u16(),
                answer,
            });
        }
    }

    let failed: Vec<String> = deliveries
        .iter()
        .filter(|d| d.status >= 500 || d.status != 200)
        .map(|d| format!("{} of a {}: {} {}", d.event_type, d.object, d.status, d.answer))
        .collect();
    assert!(
        failed.is_empty(),
        "Stripe's objects not handled:\n{}",
        failed.join("\n")
    );
    assert_eq!(deliveries.len(), OBJECTS.len() * HANDLED.len());

    let mut outcomes = std::collections::BTreeMap::new();
    for d in &deliveries {
        let outcome = d
            .answer
            .pointer("/result/outcome")
            .and_then(Value::as_str)
            .unwrap_or("?");
        *outcomes
            .entry(format!("{} in {}: {outcome}", d.object, d.event_type))
            .or_insert(0) += 1;
    }
    println!("{} deliveries of Stripe's objects: {outcomes:#?}", deliveries.len());

    // Each object in the events of its own kind is taken as that kind (not refused as unusable).
    let own_kind = |object: &str, event_type: &str| match object {
        "invoice" => event_type.starts_with("invoice."),
        "subscription" => event_type.starts_with("customer.subscription."),
        "refund" => event_type.starts_with("refund."),
        "charge" => event_type == "charge.refunded",
        "payment_method" => event_type.starts_with("payment_method."),
        "customer" => event_type == "customer.updated",
        _ => false,
    };
    for d in &deliveries {
        let outcome = d.answer.pointer("/result/outcome").and_then(Value::as_str);
        if own_kind(d.object, d.event_type) {
            assert_ne!(
                outcome,
                Some("unusable"),
                "{} of Stripe's {} was refused: {}",
                d.event_type,
                d.object,
                d.answer
            );
        } else {
            assert!(
                matches!(outcome, Some("unusable" | "ignored")),
                "a {} in {} was taken for what it is not: {}",
                d.object,
                d.event_type,
                d.answer
            );
        }
    }

    // The fixture's invoice is recorded under our partner with Stripe's id and amounts.
    let invoice = &resources["invoice"];
    let invoice_id = text(invoice, "/id").unwrap();
    let record = receiver
        .store
        .invoice_by_id(invoice_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("Stripe's invoice {invoice_id} of our customer was not recorded"));
    assert_eq!(record.stripe_invoice_id, invoice_id);
    assert_eq!(record.partner_id.as_str(), "stripe-fixture");
    assert_eq!(Some(record.amount_cents.get()), int(invoice, "/amount_due"));
    assert_eq!(Some(record.amount_paid_cents.get()), int(invoice, "/amount_paid"));
    assert_eq!(record.invoice_number.as_deref(), text(invoice, "/number"));

    // Stripe's setup intent, confirmed for our customer with Stripe's payment method: the card
    // becomes the default at Stripe (customer and subscription), under the fixture's ids.
    let mut confirmed = resources["setup_intent"].clone();
    let method = text(&resources["payment_method"], "/id").unwrap().to_owned();
    confirmed["customer"] = json!(customer);
    confirmed["payment_method"] = json!(method);
    confirmed["status"] = json!("succeeded");
    let event = fixtures::event(
        "evt_fixture_confirmed",
        "setup_intent.succeeded",
        now.as_second(),
        confirmed,
    );
    let body = serde_json::to_string_pretty(&event).unwrap();
    let header = fixtures::sign(&body, TEST_WEBHOOK_SECRET, now.as_second());
    let req: Request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://api.example.test/webhooks/stripe")
        .header("stripe-signature", header)
        .body(Body::Text(body))
        .unwrap();
    let response = receiver.handle(req, now).await;
    assert_eq!(response.status().as_u16(), 200);
    let sent = to_stripe.lock().unwrap().clone();
    let form = |path: &str| {
        sent.iter()
            .filter(|r| r.path == path)
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        form(&format!("/v1/customers/{customer}")),
        [format!("invoice_settings%5Bdefault_payment_method%5D={method}")],
        "the card set as the customer's default"
    );
    assert_eq!(
        form(&format!("/v1/subscriptions/{subscription}")),
        [format!("default_payment_method={method}")],
        "and as the subscription's"
    );
}

/// A Stripe that accepts every change (answering a subscription or a customer), recording each
/// request: what the events that act at Stripe send.
async fn accepting_stripe() -> (String, Arc<Mutex<Vec<RawRequest>>>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    let base = serve(move |raw: RawRequest| {
        let id = raw.path.rsplit('/').next().unwrap_or_default().to_owned();
        let answer = if raw.path.starts_with("/v1/subscriptions/") {
            json!({"id": id, "object": "subscription", "status": "active", "customer": "cus_any",
                   "items": {"object": "list", "data": []}})
        } else {
            json!({"id": id, "object": "customer"})
        };
        log.lock().unwrap().push(raw);
        async move { (200, answer.to_string()) }
    })
    .await;
    (format!("{base}/"), sent)
}

/// The endpoint is registered for exactly the types the code acts on: the template's
/// `StripeWebhookEvents` output (what to register in Stripe's dashboard), the README's list, and the
/// registration `make dev` makes at localstripe.
#[test]
fn every_registration_lists_the_types_the_code_acts_on() {
    let read = |path: &str| std::fs::read_to_string(shared::testing::repo_file(path)).unwrap();
    let handled: std::collections::BTreeSet<&str> = HANDLED.iter().copied().collect();
    let template = read("template.yaml");
    let output = template
        .split("\n  StripeWebhookEvents:\n")
        .nth(1)
        .and_then(|rest| rest.lines().find_map(|line| line.trim().strip_prefix("Value: ")))
        .expect("the StripeWebhookEvents output");
    let registered: std::collections::BTreeSet<&str> = output.trim_matches('"').split(',').collect();
    assert_eq!(registered, handled, "template.yaml's StripeWebhookEvents");
    let readme = read("README.md");
    let missing: Vec<&&str> = HANDLED.iter().filter(|t| !readme.contains(&format!("`{t}`"))).collect();
    assert!(missing.is_empty(), "README.md does not list {missing:?}");
    let pipeline = read("infra/local/pipeline.py");
    let dev: std::collections::BTreeSet<&str> = pipeline
        .split("WEBHOOK_EVENTS = (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("WEBHOOK_EVENTS in pipeline.py")
        .split(',')
        .map(|t| t.trim().trim_matches('"'))
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(
        dev, handled,
        "make dev's registration (infra/local/pipeline.py WEBHOOK_EVENTS)"
    );
}
