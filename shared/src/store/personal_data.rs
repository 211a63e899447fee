//! Everything the table holds about one partner, read for a data export, and the erasure of
//! personal data from its payment history (`domain::personal_data` says what goes and what stays).
//!
//! All of a partner's own records share its partition (`PARTNER#<id>`, see `keys`), so both read it
//! with one paginated query. The erasure updates each record that holds personal data in place
//! (each update is idempotent: a retried or interrupted erasure finishes the job).

use super::items::{audit_item, from_item, string_attr, Item};
use super::keys::*;
use super::{dynamo_error, Store, StoreError};
use crate::domain::history_and_audit::{AuditEntry, FieldChange};
use crate::domain::partner::PartnerId;
use crate::domain::personal_data::mask_personal_changes;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use std::collections::BTreeMap;
use ulid::Ulid;

/// The kinds of record in a partner's partition, by sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Profile,
    History,
    Audit,
    Invoices,
    EmailsSent,
    RenewalNotices,
    Other,
}

impl RecordKind {
    fn of_sort_key(sk: &str) -> RecordKind {
        match sk {
            PROFILE_SK => RecordKind::Profile,
            _ if sk.starts_with(HISTORY_PREFIX) => RecordKind::History,
            _ if sk.starts_with(AUDIT_PREFIX) => RecordKind::Audit,
            _ if sk.starts_with(INVOICE_PREFIX) => RecordKind::Invoices,
            _ if sk.starts_with(EMAIL_PREFIX) => RecordKind::EmailsSent,
            _ if sk.starts_with(NOTICE_PREFIX) => RecordKind::RenewalNotices,
            _ => RecordKind::Other,
        }
    }
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureCounts {
    pub history_entries: u32,
    pub audit_entries: u32,
    pub emails: u32,
    /// Invoices kept unchanged.
    pub invoices_kept: u32,
}

impl ErasureCounts {
    /// Counts one record of `kind`, `erased` when personal data was removed from it.
    fn add(&mut self, kind: RecordKind, erased: bool) {
        match kind {
            RecordKind::History if erased => self.history_entries += 1,
            RecordKind::Audit if erased => self.audit_entries += 1,
            RecordKind::EmailsSent if erased => self.emails += 1,
            RecordKind::Invoices => self.invoices_kept += 1,
            _ => {}
        }
    }
}

/// Attributes of the table's own bookkeeping, left out of an export: the keys, every index's keys
/// (`keys::INDEXES`), the entity tag and the TTL.
fn is_bookkeeping(attribute: &str) -> bool {
    [PK, SK, "entity", EXPIRES_AT].contains(&attribute)
        || INDEXES.iter().any(|(_, pk, sk)| *pk == attribute || *sk == attribute)
}
/// History attributes that are personal.
const HISTORY_PERSONAL: [&str; 2] = ["notes", "payment_method"];
/// Email log attributes that are personal.
const EMAIL_PERSONAL: [&str; 2] = ["email_to", "email_subject"];

fn sort_key(item: &Item) -> &str {
    item.get(SK).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

impl Store {
    /// Every record in `id`'s partition, in sort-key order.
    async fn partition(&self, id: &PartnerId) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", string_attr(partner_pk(id)))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo_error)?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Every record the table holds about `id`, as JSON, grouped by kind (keys and index
    /// bookkeeping left out).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn partner_records(
        &self,
        id: &PartnerId,
    ) -> Result<BTreeMap<RecordKind, Vec<serde_json::Value>>, StoreError> {
        let mut records: BTreeMap<RecordKind, Vec<serde_json::Value>> = BTreeMap::new();
        for mut item in self.partition(id).await? {
            let kind = RecordKind::of_sort_key(sort_key(&item));
            item.retain(|attribute, _| !is_bookkeeping(attribute));
            records.entry(kind).or_default().push(from_item(item)?);
        }
        Ok(records)
    }

    /// Removes personal data from `id`'s payment history (see `domain::personal_data`).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn erase_personal_data(&self, id: &PartnerId) -> Result<ErasureCounts, StoreError> {
        let mut counts = ErasureCounts::default();
        for item in self.partition(id).await? {
            let sk = sort_key(&item).to_owned();
            let kind = RecordKind::of_sort_key(&sk);
            let erased = match kind {
                RecordKind::History => self.remove_attributes(id, &sk, &item, &HISTORY_PERSONAL).await?,
                RecordKind::EmailsSent => self.remove_attributes(id, &sk, &item, &EMAIL_PERSONAL).await?,
                RecordKind::Audit => self.mask_audit_entry(id, &sk, item).await?,
                _ => false,
            };
            counts.add(kind, erased);
        }
        Ok(counts)
    }

    /// Removes those of `attributes` that `item` has; whether there were any.
    async fn remove_attributes(
        &self,
        id: &PartnerId,
        sk: &str,
        item: &Item,
        attributes: &[&str],
    ) -> Result<bool, StoreError> {
        let present: Vec<&str> = attributes.iter().copied().filter(|a| item.contains_key(*a)).collect();
        if present.is_empty() {
            return Ok(false);
        }
        let expression = format!("REMOVE {}", present.join(", "));
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(partner_pk(id)))
            .key(SK, string_attr(sk))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(true)
    }

    /// Drops an audit entry's free-text reason and masks the personal values of its changes.
    async fn mask_audit_entry(&self, id: &PartnerId, sk: &str, item: Item) -> Result<bool, StoreError> {
        let had_reason = item.contains_key("reason");
        let entry: AuditEntry = from_item(item)?;
        let (changes, masked) = mask_personal_changes(&entry.changes);
        if !had_reason && !masked {
            return Ok(false);
        }
        let changes = serde_dynamo::to_attribute_value::<_, AttributeValue>(&changes as &Vec<FieldChange>)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(partner_pk(id)))
            .key(SK, string_attr(sk))
            .update_expression("SET changes = :changes REMOVE reason")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":changes", changes)
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(true)
    }

    /// Writes an audit entry that goes with no state change (a data export, an erasure).
    #[tracing::instrument(skip_all, fields(partner_id = %entry.partner_id), err(Display))]
    pub async fn record_audit_entry(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let item = audit_item(Ulid::new(), entry)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(())
    }
}
