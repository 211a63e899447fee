//! Stripe events for tests, shaped like today's API, and signed as Stripe signs them.

use hmac::Mac;
use serde_json::{json, Value};

/// The webhook signing secret of the tests (and of `make dev`'s localstripe).
pub const TEST_WEBHOOK_SECRET: &str = "whsec_local_test_only_0123456789abcdef";

/// An event envelope around `object`.
pub fn event(id: &str, event_type: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2025-09-30.clover", "created": created,
        "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "data": {"object": object}, "type": event_type
    })
}

/// The `Stripe-Signature` header for `body` at `timestamp`.
pub fn sign(body: &str, secret: &str, timestamp: i64) -> String {
    let signature = super::webhook::signature_mac(secret, timestamp, body)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={timestamp},v1={signature}")
}

/// An invoice of `customer` for one month from `period_start` at `price`.
#[allow(clippy::too_many_arguments)]
pub fn invoice(
    id: &str,
    customer: &str,
    subscription: &str,
    price: &str,
    amount_cents: i64,
    status: &str,
    attempt_count: u32,
    period_start: i64,
) -> Value {
    let period_end = period_start + 30 * 86_400;
    let paid = status == "paid";
    json!({
        "id": id, "object": "invoice", "customer": customer, "subscription": subscription,
        "number": format!("P100-{}", &id[id.len().saturating_sub(6)..]), "status": status,
        "amount_due": amount_cents, "amount_paid": if paid { amount_cents } else { 0 },
        "attempt_count": attempt_count, "created": period_start, "currency": "usd",
        "period_start": period_start, "period_end": period_start,
        "lines": {"object": "list", "data": [{"id": format!("il_{id}"), "object": "line_item",
                  "amount": amount_cents, "period": {"start": period_start, "end": period_end},
                  "price": {"id": price, "object": "price"}}]},
        "status_transitions": {"paid_at": if paid { Some(period_start + 60) } else { None }},
        "next_payment_attempt": if paid { None } else { Some(period_start + 3 * 86_400) },
        "hosted_invoice_url": format!("https://invoice.stripe.com/i/acct_test/{id}"),
        "invoice_pdf": format!("https://pay.stripe.com/invoice/acct_test/{id}/pdf")
    })
}

/// A subscription of `customer` at `price`.
pub fn subscription(id: &str, customer: &str, price: &str, status: &str, cancel_at_period_end: bool) -> Value {
    json!({
        "id": id, "object": "subscription", "customer": customer, "status": status,
        "cancel_at_period_end": cancel_at_period_end, "collection_method": "charge_automatically",
        "items": {"object": "list", "data": [{"id": format!("si_{id}"), "price": {"id": price},
                  "current_period_end": 1_800_000_000}]}
    })
}
