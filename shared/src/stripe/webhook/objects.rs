//! The few fields billing reads from Stripe's raw objects, whatever API version rendered them.

use crate::domain::billing::{InvoiceFacts, SubscriptionFacts};
use crate::domain::money::Cents;
use crate::domain::refund::RefundFacts;
use jiff::Timestamp;
use serde_json::Value;

/// Refuses an object that says it is another kind than the event's type is about (a signed event
/// that carries, say, a subscription in `invoice.paid` is not read as an invoice); an object that does
/// not say what it is is read as it is.
fn of_kind(object: &Value, kind: &str) -> Result<(), String> {
    match object.get("object").and_then(Value::as_str) {
        Some(other) if other != kind => Err(format!("the event's object is a {other}, not a {kind}")),
        _ => Ok(()),
    }
}

/// An id given as a string or as an expanded object.
pub(super) fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Object(object) => object.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn text(object: &Value, pointer: &str) -> Option<String> {
    object.pointer(pointer).and_then(Value::as_str).map(str::to_owned)
}

fn seconds(object: &Value, pointer: &str) -> Option<Timestamp> {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .and_then(|s| Timestamp::from_second(s).ok())
}

fn required<T>(value: Option<T>, what: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("the event's object has no usable {what}"))
}

/// The first line's price: `price.id` today, `plan.id` in older versions, `pricing.price_details.price`
/// in the newest.
fn first_line_price(lines: Option<&Value>) -> Option<String> {
    let line = lines?.pointer("/data/0")?;
    text(line, "/price/id")
        .or_else(|| text(line, "/plan/id"))
        .or_else(|| text(line, "/pricing/price_details/price"))
        .or_else(|| text(line, "/price"))
}

/// An invoice's facts; `Err` names the field it lacks.
pub fn invoice_facts(invoice: &Value) -> Result<InvoiceFacts, String> {
    of_kind(invoice, "invoice")?;
    let line_period = |edge: &str| seconds(invoice, &format!("/lines/data/0/period/{edge}"));
    let created = required(
        seconds(invoice, "/created").or_else(|| seconds(invoice, "/date")),
        "created",
    )?;
    let period_start = line_period("start")
        .or_else(|| seconds(invoice, "/period_start"))
        .unwrap_or(created);
    let period_end = line_period("end")
        .or_else(|| seconds(invoice, "/period_end"))
        .unwrap_or(created);
    // Stripe's amounts due and paid are never negative; a negative one is not an invoice we can record.
    let cents = |field: &'static str| match invoice.get(field).and_then(Value::as_i64) {
        Some(amount) if amount < 0 => Err(format!("{field} is negative")),
        amount => Ok(Cents(amount.unwrap_or(0))),
    };
    Ok(InvoiceFacts {
        invoice_id: required(text(invoice, "/id"), "id")?,
        number: text(invoice, "/number"),
        customer_id: required(invoice.get("customer").and_then(id_of), "customer")?,
        subscription_id: invoice
            .get("subscription")
            .and_then(id_of)
            .or_else(|| text(invoice, "/parent/subscription_details/subscription")),
        status: text(invoice, "/status").unwrap_or_default(),
        amount_due: cents("amount_due")?,
        amount_paid: cents("amount_paid")?,
        attempt_count: invoice
            .get("attempt_count")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        period_start,
        period_end: period_end.max(period_start),
        price_id: first_line_price(invoice.get("lines")),
        paid_at: seconds(invoice, "/status_transitions/paid_at"),
        next_payment_attempt: seconds(invoice, "/next_payment_attempt"),
        hosted_invoice_url: text(invoice, "/hosted_invoice_url"),
        invoice_pdf: text(invoice, "/invoice_pdf"),
        created,
    })
}

pub(super) fn subscription_facts(subscription: &Value) -> Result<SubscriptionFacts, String> {
    of_kind(subscription, "subscription")?;
    Ok(SubscriptionFacts {
        subscription_id: required(text(subscription, "/id"), "id")?,
        customer_id: required(subscription.get("customer").and_then(id_of), "customer")?,
        status: text(subscription, "/status").unwrap_or_default().into(),
        cancel_at_period_end: subscription
            .get("cancel_at_period_end")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        current_period_end: seconds(subscription, "/current_period_end")
            .or_else(|| seconds(subscription, "/items/data/0/current_period_end")),
        price_id: first_line_price(subscription.get("items")),
        collection_paused: subscription.get("pause_collection").is_some_and(|p| !p.is_null()),
    })
}

/// The refunds a refund object reports: the refund itself, or the refunds listed on a refunded
/// charge (where its API version lists them); `Err` when a refund lacks its id or amount.
pub(super) fn refund_facts(object: &Value, on_charge: bool) -> Result<Vec<RefundFacts>, String> {
    let one = |refund: &Value, charge: Option<&Value>| -> Result<RefundFacts, String> {
        of_kind(refund, "refund")?;
        Ok(RefundFacts {
            refund_id: required(text(refund, "/id"), "refund id")?,
            amount: Cents(required(refund.get("amount").and_then(Value::as_i64), "refund amount")?),
            status: text(refund, "/status").unwrap_or_else(|| "succeeded".into()),
            invoice_id: text(refund, "/metadata/invoice_id")
                .or_else(|| charge.and_then(|c| c.get("invoice")).and_then(id_of)),
            payment_intent: refund
                .get("payment_intent")
                .and_then(id_of)
                .or_else(|| charge.and_then(|c| c.get("payment_intent")).and_then(id_of)),
        })
    };
    if !on_charge {
        return Ok(vec![one(object, None)?]);
    }
    of_kind(object, "charge")?;
    object
        .pointer("/refunds/data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|refund| one(refund, Some(object)))
        .collect()
}
