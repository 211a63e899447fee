//! How the store's values become DynamoDB items and back: attribute values, (de)serialization, and
//! the items of a partner change (profile with its index keys, history, audit, outbox).

use super::keys::*;
use super::StoreError;
use crate::domain::events::{DomainEvent, SOURCE};
use crate::domain::history_and_audit::{AuditEntry, HistoryEntry};
use crate::domain::partner::{Partner, PaymentStatus, SubscriptionStatus};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use ulid::Ulid;

pub(super) type Item = HashMap<String, AttributeValue>;

/// How long outbox items stay after the relay has had them.
const OUTBOX_RETENTION_SECONDS: i64 = 7 * 24 * 3600;

/// A string attribute.
pub(super) fn string_attr(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn number_attr(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let where_ = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("{where_}: {e}")))
}

pub(super) fn conditional_put(
    table: &str,
    item: Item,
    condition: &str,
    values: Option<Item>,
) -> Result<TransactWriteItem, StoreError> {
    conditional_put_named(table, item, condition, values, None)
}

/// A conditional put whose condition names one attribute by a placeholder (`#status`: a reserved word).
pub(super) fn conditional_put_named(
    table: &str,
    item: Item,
    condition: &str,
    values: Option<Item>,
    name: Option<(&str, &str)>,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_values(values)
        .set_expression_attribute_names(
            name.map(|(placeholder, attribute)| HashMap::from([(placeholder.to_owned(), attribute.to_owned())])),
        )
        .build()
        .map_err(|e| StoreError::Dynamo(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The profile item: the partner's fields plus its keys; index keys only where they apply.
pub fn profile_item(partner: &Partner) -> Result<Item, StoreError> {
    let mut item = to_item(partner)?;
    item.insert(PK.into(), string_attr(partner_pk(&partner.id)));
    item.insert(SK.into(), string_attr(PROFILE_SK));
    item.insert("entity".into(), string_attr("partner"));
    if let Some(end) = partner.subscription_end_date {
        // The due index: paid terms the sweep may have to act on.
        let due_status = matches!(
            partner.subscription_status,
            SubscriptionStatus::Active | SubscriptionStatus::Cancelled
        );
        if partner.engagement_tier.is_paid() && due_status {
            item.insert(
                "gsi1pk".into(),
                string_attr(subscriptions_pk(partner.subscription_status)),
            );
            item.insert("gsi1sk".into(), string_attr(subscriptions_sk(end, &partner.id)));
        }
        // The dashboard index: every subscription that is not inactive.
        if partner.subscription_status != SubscriptionStatus::Inactive {
            item.insert("gsi4pk".into(), string_attr(dashboard_pk(partner.subscription_status)));
            item.insert("gsi4sk".into(), string_attr(subscriptions_sk(end, &partner.id)));
        }
    }
    // The pending-sync index: partners whose last money change Stripe has not confirmed yet.
    if let Some(sync) = &partner.stripe_sync {
        item.insert("gsi6pk".into(), string_attr(STRIPE_SYNC_PENDING_PK));
        item.insert(
            "gsi6sk".into(),
            string_attr(format!("{}#{}", sync.requested_at, partner.id)),
        );
    } else if let Some(start) = partner
        .pending_billing
        .as_ref()
        .filter(|p| p.carried_out_by_reconciliation())
    {
        item.insert("gsi6pk".into(), string_attr(BILLING_START_PENDING_PK));
        item.insert(
            "gsi6sk".into(),
            string_attr(format!("{}#{}", timestamp_key(start.requested_at), partner.id)),
        );
    }
    // The unpaid-invoice index: emailed invoices the sweep chases once they are overdue.
    let unpaid = matches!(
        partner.payment_status,
        Some(PaymentStatus::AwaitingPayment | PaymentStatus::PastDue)
    );
    if let (Some(due), true) = (partner.payment_due_date, unpaid && partner.engagement_tier.is_paid()) {
        item.insert("gsi7pk".into(), string_attr(INVOICES_DUE_PK));
        item.insert("gsi7sk".into(), string_attr(format!("{due}#{}", partner.id)));
    }
    // The contact index: sign-in by email link finds the partner by its address's hash.
    if let Some(email) = crate::domain::sign_in::normalize_email(partner.primary_email.as_str()) {
        item.insert(
            "gsi10pk".into(),
            string_attr(super::keys::contact_pk(&crate::sign_in_codes::email_key(&email))),
        );
        item.insert("gsi10sk".into(), string_attr(partner.id.to_string()));
    }
    item.insert("gsi2pk".into(), string_attr(DIRECTORY_PK));
    item.insert(
        "gsi2sk".into(),
        string_attr(directory_sk(&partner.company_name.sort_key(), &partner.id)),
    );
    Ok(item)
}

pub(super) fn history_item(id: Ulid, entry: &HistoryEntry) -> Result<Item, StoreError> {
    let mut item = to_item(entry)?;
    item.insert(PK.into(), string_attr(partner_pk(&entry.partner_id)));
    item.insert(SK.into(), string_attr(history_sk(id)));
    item.insert("entity".into(), string_attr("history"));
    item.insert("gsi3pk".into(), string_attr(history_month_pk(entry.created_at)));
    item.insert("gsi3sk".into(), string_attr(history_month_sk(entry.created_at, id)));
    Ok(item)
}

pub(super) fn audit_item(id: Ulid, entry: &AuditEntry) -> Result<Item, StoreError> {
    let mut item = to_item(entry)?;
    item.insert(PK.into(), string_attr(partner_pk(&entry.partner_id)));
    item.insert(SK.into(), string_attr(audit_sk(id)));
    item.insert("entity".into(), string_attr("audit"));
    Ok(item)
}

/// The audit item of a change that also writes `events` to the outbox: it names their ids
/// ([`AUDIT_EVENT_IDS`]), so that an erasure finds the outbox copies of the partner's data.
pub(super) fn audit_item_announcing(id: Ulid, entry: &AuditEntry, events: &[Ulid]) -> Result<Item, StoreError> {
    let mut item = audit_item(id, entry)?;
    if !events.is_empty() {
        let ids = events.iter().map(|event| string_attr(event.to_string())).collect();
        item.insert(AUDIT_EVENT_IDS.into(), AttributeValue::L(ids));
    }
    Ok(item)
}

/// The outbox item the relay publishes from the table's stream.
pub(super) fn outbox_item(id: Ulid, event: &DomainEvent, now: jiff::Timestamp) -> Result<Item, StoreError> {
    let detail = event.detail_json().map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(HashMap::from([
        (PK.into(), string_attr(outbox_pk(id))),
        (SK.into(), string_attr(OUTBOX_SK)),
        ("entity".into(), string_attr("outbox")),
        ("event_id".into(), string_attr(&event.event_id)),
        ("source".into(), string_attr(SOURCE)),
        ("detail_type".into(), string_attr(event.detail_type())),
        ("detail".into(), string_attr(detail)),
        ("partner_id".into(), string_attr(event.partner_id.as_str())),
        ("created_at".into(), string_attr(now.to_string())),
        (
            EXPIRES_AT.into(),
            number_attr(now.as_second() + OUTBOX_RETENTION_SECONDS),
        ),
    ]))
}
