//! What a verified Stripe event is to us, decided once: the only place that reads event types. Every
//! later step matches on [`Incoming`].

use super::objects::{id_of, invoice_facts, refund_facts, subscription_facts};
use super::StripeEvent;
use crate::domain::billing::BillingEvent;
use crate::domain::refund::RefundFacts;
use jiff::Timestamp;
use serde_json::Value;

/// Every event type the webhook acts on: what its endpoint is registered for in Stripe (the
/// template's `StripeWebhookEvents` output, the README, `make dev`'s registration; a test keeps them
/// and [`classify`] equal).
pub const HANDLED_EVENT_TYPES: [&str; 17] = [
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.created",
    "invoice.finalized",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refunded",
    "setup_intent.succeeded",
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.automatically_updated",
    "customer.updated",
];

/// The event types that report refunds.
pub const REFUND_EVENT_TYPES: [&str; 4] = ["refund.created", "refund.updated", "refund.failed", "charge.refunded"];

/// A verified event, as far as we act on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// An invoice or subscription event, for the billing rules. `card_may_change`: the card on file
    /// may have changed with it (a paid invoice saves the card paid with; a subscription's update
    /// may set its default card).
    Billing {
        event: Box<BillingEvent>,
        card_may_change: bool,
    },
    /// Refunds made or failed (`refund.*`, or those listed on a refunded charge; none listed in
    /// older API versions).
    Refunds(Vec<RefundFacts>),
    /// A card the partner confirmed in the portal (`setup_intent.succeeded`).
    CardConfirmed(ConfirmedCard),
    /// Only the card on file changed, for this Stripe customer (a payment method attached or
    /// updated, the customer's default changed).
    CardChanged { customer_id: String },
    /// A type we do not act on, or a card event about no customer.
    Ignored { event_type: String },
    /// A type we act on, without a field it needs.
    Unusable { reason: String },
}

/// A SetupIntent that succeeded: its card becomes the customer's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedCard {
    pub setup_intent_id: String,
    pub customer_id: String,
    pub payment_method_id: String,
}

/// Where a record of an event says it came from (the event id is what makes it once-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    pub id: String,
    pub event_type: String,
    pub created: Timestamp,
}

impl EventSource {
    /// An admin marking invoice `invoice_id` paid: applied as Stripe's `invoice.paid` is, under an id
    /// of its own (Stripe's event for it, arriving later, finds the invoice paid already).
    pub fn marked_paid(invoice_id: &str, at: Timestamp) -> EventSource {
        EventSource {
            id: format!("mark_paid_{invoice_id}"),
            event_type: "invoice.paid".into(),
            created: at,
        }
    }
}

/// What `event` is to us.
pub fn classify(event: &StripeEvent) -> Incoming {
    let object = &event.object;
    let billing = |read: Result<BillingEvent, String>, card_may_change: bool| match read {
        Ok(event) => Incoming::Billing {
            event: Box::new(event),
            card_may_change,
        },
        Err(reason) => Incoming::Unusable { reason },
    };
    let refunds = |read: Result<Vec<RefundFacts>, String>| match read {
        Ok(refunds) => Incoming::Refunds(refunds),
        Err(reason) => Incoming::Unusable { reason },
    };
    match event.event_type.as_str() {
        "invoice.paid" => billing(invoice_facts(object).map(BillingEvent::InvoicePaid), true),
        "invoice.payment_succeeded" => billing(invoice_facts(object).map(BillingEvent::InvoicePaid), false),
        "invoice.payment_failed" => billing(invoice_facts(object).map(BillingEvent::InvoicePaymentFailed), false),
        "invoice.created" | "invoice.finalized" => {
            billing(invoice_facts(object).map(BillingEvent::InvoiceIssued), false)
        }
        "customer.subscription.created" => {
            billing(subscription_facts(object).map(BillingEvent::SubscriptionUpdated), false)
        }
        "customer.subscription.updated" => {
            billing(subscription_facts(object).map(BillingEvent::SubscriptionUpdated), true)
        }
        "customer.subscription.deleted" => {
            billing(subscription_facts(object).map(BillingEvent::SubscriptionDeleted), false)
        }
        "refund.created" | "refund.updated" | "refund.failed" => refunds(refund_facts(object, false)),
        "charge.refunded" => refunds(refund_facts(object, true)),
        "setup_intent.succeeded" => confirmed_card(object),
        "payment_method.attached" | "payment_method.updated" | "payment_method.automatically_updated" => {
            card_changed(event, "payment_method")
        }
        "customer.updated" => card_changed(event, "customer"),
        other => Incoming::Ignored {
            event_type: other.to_owned(),
        },
    }
}

fn confirmed_card(object: &Value) -> Incoming {
    let id_at = |field: &str| object.get(field).and_then(id_of);
    match (id_at("id"), id_at("customer"), id_at("payment_method")) {
        (Some(setup_intent_id), Some(customer_id), Some(payment_method_id)) => Incoming::CardConfirmed(ConfirmedCard {
            setup_intent_id,
            customer_id,
            payment_method_id,
        }),
        _ => Incoming::Unusable {
            reason: "a setup_intent.succeeded without its id, customer or payment_method".to_owned(),
        },
    }
}

/// The Stripe customer a card event's object belongs to: the object itself for a customer, else its
/// `customer` (an id, or expanded); ignored when the object is not of the event's kind or has none.
fn card_changed(event: &StripeEvent, kind: &str) -> Incoming {
    let object = &event.object;
    let customer = match object.get("object").and_then(Value::as_str) {
        Some(found) if found == kind && kind == "customer" => object.get("id").and_then(id_of),
        Some(found) if found == kind => object.get("customer").and_then(id_of),
        _ => None,
    };
    match customer {
        Some(customer_id) => Incoming::CardChanged { customer_id },
        None => Incoming::Ignored {
            event_type: event.event_type.clone(),
        },
    }
}

impl StripeEvent {
    /// What the billing rules get of this event ([`BillingEvent::Ignored`] for another kind); `Err`
    /// when it lacks a field we need.
    pub fn billing_event(&self) -> Result<BillingEvent, String> {
        match classify(self) {
            Incoming::Billing { event, .. } => Ok(*event),
            Incoming::Unusable { reason } => Err(reason),
            _ => Ok(BillingEvent::Ignored),
        }
    }

    /// The refunds this event reports; `Err` when one lacks its id or amount, or the event reports
    /// none.
    pub fn refund_facts(&self) -> Result<Vec<RefundFacts>, String> {
        match classify(self) {
            Incoming::Refunds(refunds) => Ok(refunds),
            Incoming::Unusable { reason } => Err(reason),
            _ => Err(format!("a {} does not report refunds", self.event_type)),
        }
    }
}
