//! A local stand-in for Stripe's API that pins the exact requests our client makes: it records every
//! request (method, path, headers, form body) and answers with bodies in today's API shape, which
//! async-stripe must parse. It can be switched to answer 503 (Stripe down) to test what stays pending.
//!
//! Refunds keep Stripe's idempotency: a `POST /v1/refunds` with a key seen before answers what it
//! answered then (Stripe keeps a key's result for 24 hours), and each new key makes a new refund
//! with an id of its own. The next refunds can be made to fail (`fail_next_refunds`).

use super::http_server::RawRequest;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    /// The form body, decoded (`items[0][price]` -> `price_gold`).
    pub form: Vec<(String, String)>,
    /// The query string, decoded.
    pub query: Vec<(String, String)>,
}

impl Recorded {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn query_field(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
pub struct StripeStub {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    down: Arc<AtomicBool>,
    revoked: Arc<AtomicBool>,
    refund_failures: Arc<Mutex<Vec<RefundFailure>>>,
    subscription_failures: Arc<Mutex<Vec<SubscriptionFailure>>>,
}

/// How one of the next subscription creations fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionFailure {
    /// Created at Stripe, but the answer is lost (503, as when the caller timed out).
    AnswerLost,
    /// Never reaches Stripe (503, nothing created).
    Unreachable,
}

/// How one of the next refunds fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundFailure {
    /// Stripe makes the refund, and it fails (`status: failed`).
    Failed,
    /// Stripe cannot be reached for this request (503; nothing made, and the key not kept).
    Unavailable,
}

impl StripeStub {
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }

    /// While down, every request is recorded and answered 503, as when Stripe has an outage.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// While revoked, every request is recorded and answered 401, as when our key was rolled.
    pub fn set_key_revoked(&self, revoked: bool) {
        self.revoked.store(revoked, Ordering::SeqCst);
    }

    /// The next refund requests with a new key fail as listed, in order.
    pub fn fail_next_refunds(&self, failures: &[RefundFailure]) {
        if let Ok(mut next) = self.refund_failures.lock() {
            next.extend_from_slice(failures);
        }
    }

    /// The next subscription creations fail as listed, in order (`GET /v1/subscriptions?customer=`
    /// lists every subscription created, answered or not).
    pub fn fail_next_subscriptions(&self, failures: &[SubscriptionFailure]) {
        if let Ok(mut next) = self.subscription_failures.lock() {
            next.extend_from_slice(failures);
        }
    }

    /// Starts the stub on a free local port; it serves until the test ends.
    pub async fn start() -> StripeStub {
        let subscription_failures: Arc<Mutex<Vec<SubscriptionFailure>>> = Arc::new(Mutex::new(Vec::new()));
        let next_failures = Arc::clone(&subscription_failures);
        let created_subscriptions: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
        let refund_failures: Arc<Mutex<Vec<RefundFailure>>> = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::clone(&refund_failures);
        let refunds_by_key: Arc<Mutex<HashMap<String, (u16, Value)>>> = Arc::new(Mutex::new(HashMap::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let down = Arc::new(AtomicBool::new(false));
        let is_down = Arc::clone(&down);
        let revoked = Arc::new(AtomicBool::new(false));
        let is_revoked = Arc::clone(&revoked);
        let base = super::http_server::serve(move |raw: RawRequest| {
            let request = Recorded {
                form: serde_urlencoded::from_bytes(&raw.body).unwrap_or_default(),
                query: serde_urlencoded::from_str(&raw.query).unwrap_or_default(),
                method: raw.method,
                path: raw.path,
                headers: raw.headers,
            };
            let (status, body) = if is_revoked.load(Ordering::SeqCst) {
                (
                    401,
                    json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided (stub)"}}),
                )
            } else if is_down.load(Ordering::SeqCst) {
                (
                    503,
                    json!({"error": {"type": "api_error", "message": "Stripe is down (stub)"}}),
                )
            } else if (request.method.as_str(), request.path.as_str()) == ("POST", "/v1/refunds") {
                refund_answer(&request, &refunds_by_key, &failures)
            } else if (request.method.as_str(), request.path.as_str()) == ("POST", "/v1/subscriptions") {
                let failure = next_failures
                    .lock()
                    .ok()
                    .and_then(|mut next| (!next.is_empty()).then(|| next.remove(0)));
                let (status, body) = answer(&request);
                if status == 200 && failure != Some(SubscriptionFailure::Unreachable) {
                    if let Ok(mut created) = created_subscriptions.lock() {
                        created.push(body.clone());
                    }
                }
                match failure {
                    Some(_) => (
                        503,
                        json!({"error": {"type": "api_error", "message": "no answer (stub)"}}),
                    ),
                    None => (status, body),
                }
            } else if (request.method.as_str(), request.path.as_str()) == ("GET", "/v1/subscriptions") {
                let customer = request.query_field("customer").map(str::to_owned);
                let data: Vec<Value> = created_subscriptions
                    .lock()
                    .map(|created| {
                        created
                            .iter()
                            .filter(|s| customer.is_none() || s["customer"].as_str() == customer.as_deref())
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    200,
                    json!({"object": "list", "data": data, "has_more": false, "url": "/v1/subscriptions"}),
                )
            } else {
                answer(&request)
            };
            if let Ok(mut all) = recorded.lock() {
                all.push(request);
            }
            async move { (status, body.to_string()) }
        })
        .await;
        StripeStub {
            base_url: format!("{base}/"),
            requests,
            down,
            revoked,
            refund_failures,
            subscription_failures,
        }
    }
}

/// A refund as Stripe answers it: the answer kept for its idempotency key, else a new refund (or the
/// next failure asked for).
fn refund_answer(
    request: &Recorded,
    by_key: &Mutex<HashMap<String, (u16, Value)>>,
    failures: &Mutex<Vec<RefundFailure>>,
) -> (u16, Value) {
    let key = request.headers.get("idempotency-key").cloned().unwrap_or_default();
    let Ok(mut by_key) = by_key.lock() else {
        return (500, json!({"error": {"type": "api_error", "message": "stub poisoned"}}));
    };
    if let Some(kept) = by_key.get(&key) {
        return kept.clone();
    }
    let failure = failures
        .lock()
        .ok()
        .and_then(|mut next| (!next.is_empty()).then(|| next.remove(0)));
    if failure == Some(RefundFailure::Unavailable) {
        return (
            503,
            json!({"error": {"type": "api_error", "message": "Stripe is down (stub)"}}),
        );
    }
    let (status, mut body) = answer(request);
    body["id"] = json!(format!("re_stub{:04}", by_key.len() + 1));
    if failure == Some(RefundFailure::Failed) {
        body["status"] = json!("failed");
        body["failure_reason"] = json!("expired_or_canceled_card");
    }
    by_key.insert(key, (status, body.clone()));
    (status, body)
}

/// Today's shapes, as Stripe documents them, filled from the request.
fn answer(request: &Recorded) -> (u16, Value) {
    let now = jiff::Timestamp::now().as_second();
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/customers") => (
            200,
            json!({
                "id": "cus_Stub0001", "object": "customer", "created": now, "livemode": false,
                "name": request.field("name"), "email": request.field("email"),
                "metadata": {"partner_id": request.field("metadata[partner_id]")},
                "balance": 0, "currency": null, "delinquent": false, "description": null,
                "invoice_prefix": "STUB0001", "preferred_locales": [], "tax_exempt": "none",
                "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null}
            }),
        ),
        ("POST", "/v1/subscriptions")
            if !request
                .field("items[0][price]")
                .is_some_and(|p| p.starts_with("price_")) =>
        {
            (
                400,
                json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "items[0][price]",
                                 "message": format!("No such price: '{}'", request.field("items[0][price]").unwrap_or_default())}}),
            )
        }
        ("POST", "/v1/billing_portal/sessions") => (
            200,
            json!({
                "id": "bps_Stub0001", "object": "billing_portal.session", "created": now, "livemode": false,
                "customer": request.field("customer"), "return_url": request.field("return_url"),
                "configuration": request.field("configuration").unwrap_or("bpc_account_default"),
                "url": "https://billing.stripe.com/p/session/test_stub", "flow": null, "locale": null, "on_behalf_of": null
            }),
        ),
        ("POST", "/v1/refunds") => {
            let key = request.headers.get("idempotency-key").cloned().unwrap_or_default();
            let id: String = key.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            (
                200,
                json!({
                    "id": format!("re_{id}"), "object": "refund", "status": "succeeded",
                    "amount": request.field("amount").and_then(|a| a.parse::<i64>().ok()),
                    "currency": "usd", "payment_intent": request.field("payment_intent"), "created": now,
                    "metadata": {"invoice_id": request.field("metadata[invoice_id]"), "partner_id": request.field("metadata[partner_id]")}
                }),
            )
        }
        ("GET", path) if path.starts_with("/v1/invoices/") => {
            let id = &path["/v1/invoices/".len()..];
            (
                200,
                json!({"id": id, "object": "invoice", "status": "paid", "payment_intent": format!("pi_for_{id}")}),
            )
        }
        ("POST", path) if path.starts_with("/v1/invoices/") && path.ends_with("/pay") => {
            let id = &path["/v1/invoices/".len()..path.len() - "/pay".len()];
            (200, paid_invoice(id, now))
        }
        // An endless list: every page says there is more, so a reader must stop on its own.
        ("GET", "/v1/events") => {
            let page = request
                .query_field("starting_after")
                .and_then(|id| id.strip_prefix("evt_stub_"))
                .and_then(|n| n.parse::<u64>().ok())
                .map_or(0, |n| n + 1);
            (
                200,
                json!({"object": "list", "url": "/v1/events", "has_more": true, "data": [{
                    "id": format!("evt_stub_{page}"), "object": "event", "type": "product.created",
                    "created": now, "livemode": false, "api_version": "2025-03-31.basil",
                    "data": {"object": {"id": format!("prod_{page}"), "object": "product"}},
                }]}),
            )
        }
        ("POST", "/v1/setup_intents") => (
            200,
            json!({
                "id": "seti_Stub0001", "object": "setup_intent", "created": now, "livemode": false,
                "customer": request.field("customer"), "usage": request.field("usage"), "status": "requires_payment_method",
                "client_secret": "seti_Stub0001_secret_stub", "payment_method": null,
                "metadata": {"partner_id": request.field("metadata[partner_id]")}
            }),
        ),
        ("POST", "/v1/subscriptions") => (
            200,
            json!({
                "id": "sub_Stub0001", "object": "subscription", "created": now, "livemode": false,
                "customer": request.field("customer"),
                "status": if request.field("payment_behavior") == Some("default_incomplete") { "incomplete" } else { "active" },
                "latest_invoice": if request.field("expand[0]") == Some("latest_invoice.confirmation_secret") {
                    open_invoice()
                } else {
                    json!("in_Stub0001")
                },
                "start_date": now,
                "billing_cycle_anchor": now, "cancel_at_period_end": false,
                "cancel_at": request.field("cancel_at").and_then(|c| c.parse::<i64>().ok()),
                "collection_method": request.field("collection_method").unwrap_or("charge_automatically"),
                "currency": "usd", "discounts": [], "billing_schedules": [],
                "automatic_tax": {"enabled": false, "liability": null, "disabled_reason": null},
                "billing_mode": {"type": "classic"},
                "invoice_settings": {"issuer": {"type": "self"}, "account_tax_ids": null},
                "items": {"object": "list", "data": [], "has_more": false, "url": "/v1/subscription_items"},
                "metadata": {"partner_id": request.field("metadata[partner_id]"), "tier": request.field("metadata[tier]"),
                             "billing_start": request.field("metadata[billing_start]")}
            }),
        ),
        ("DELETE", path) if path.starts_with("/v1/subscriptions/") => (
            200,
            subscription(request, &path["/v1/subscriptions/".len()..], "canceled", None),
        ),
        ("POST", path) if path.starts_with("/v1/subscriptions/") => {
            let cancel_at = request.field("cancel_at").and_then(|c| c.parse::<i64>().ok());
            (
                200,
                subscription(request, &path["/v1/subscriptions/".len()..], "active", cancel_at),
            )
        }
        // A customer whose default card is a Visa ending 4242 (expanded when asked).
        ("GET", path) if path.starts_with("/v1/customers/") => {
            let card = json!({"id": "pm_Stub4242", "object": "payment_method", "type": "card",
                "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}});
            let expanded = request.query_field("expand[0]") == Some("invoice_settings.default_payment_method");
            (
                200,
                json!({
                    "id": &path["/v1/customers/".len()..], "object": "customer", "created": now, "livemode": false,
                    "invoice_settings": {"custom_fields": null, "footer": null, "rendering_options": null,
                        "default_payment_method": if expanded { card } else { json!("pm_Stub4242") }}
                }),
            )
        }
        ("GET", path) if path.starts_with("/v1/subscriptions/") => {
            let mut answer = subscription(request, &path["/v1/subscriptions/".len()..], "active", None);
            if request.query_field("expand[0]") == Some("latest_invoice.confirmation_secret") {
                answer["status"] = json!("incomplete");
                answer["latest_invoice"] = open_invoice();
            }
            (200, answer)
        }
        _ => (
            404,
            json!({"error": {"type": "invalid_request_error", "message": format!("Unrecognized request URL ({} {})", request.method, request.path)}}),
        ),
    }
}

/// Invoice `id` of `cus_Stub0001`, paid out of band just now ($3,600 of Power Gold for a month).
fn paid_invoice(id: &str, now: i64) -> Value {
    json!({
        "id": id, "object": "invoice", "customer": "cus_Stub0001", "subscription": "sub_Stub0001",
        "number": format!("STUB-{id}"), "status": "paid", "paid": true, "paid_out_of_band": true,
        "amount_due": 360_000, "amount_paid": 360_000, "amount_remaining": 0, "attempt_count": 4,
        "currency": "usd", "created": now - 86_400, "period_start": now - 86_400, "period_end": now - 86_400,
        "lines": {"object": "list", "data": [{"id": format!("il_{id}"), "object": "line_item", "amount": 360_000,
                  "period": {"start": now - 86_400, "end": now + 29 * 86_400},
                  "price": {"id": "price_gold", "object": "price"}}]},
        "status_transitions": {"paid_at": now},
        "hosted_invoice_url": format!("https://invoice.stripe.com/i/acct_test/{id}"),
        "invoice_pdf": format!("https://pay.stripe.com/invoice/acct_test/{id}/pdf")
    })
}

/// The first invoice of a subscription left for the partner to pay, with its confirmation secret.
fn open_invoice() -> Value {
    json!({
        "id": "in_Stub0001", "object": "invoice", "status": "open", "amount_due": 360_000, "currency": "usd",
        "confirmation_secret": {"client_secret": "pi_Stub0001_secret_stub", "type": "payment_intent"}
    })
}

/// A subscription `id` in today's shape with `status` and `cancel_at`.
fn subscription(request: &Recorded, id: &str, status: &str, cancel_at: Option<i64>) -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({
        "id": id, "object": "subscription", "created": now, "livemode": false, "customer": "cus_Stub0001",
        "status": status, "cancel_at": cancel_at, "cancel_at_period_end": false,
        "canceled_at": (status == "canceled").then_some(now), "collection_method": "charge_automatically",
        "currency": "usd", "metadata": {}, "pause_collection": null, "pending_update": null,
        "items": {"object": "list", "data": [{"id": "si_Stub0001", "object": "subscription_item",
            "current_period_start": now, "current_period_end": now + 30 * 86_400,
            "price": {"id": request.field("items[0][price]").unwrap_or("price_gold"), "object": "price"}}],
            "has_more": false, "url": "/v1/subscription_items"}
    })
}
