//! Everything the table holds about one partner, read for a data export, and the erasure of
//! personal data from its payment history (`domain::personal_data` says what goes and what stays).
//!
//! All of a partner's own records share its partition (`PARTNER#<id>`, see `keys`), so both read it
//! with one paginated query. The erasure updates each record that holds personal data in place
//! (each update is idempotent: a retried or interrupted erasure finishes the job).

use super::items::{audit_item, from_item, string_attr, Item};
use super::keys::*;
use super::{dynamo_error, Store, StoreError};
use crate::domain::history_and_audit::{AuditEntry, FieldChange, HistoryEntry};
use crate::domain::partner::PartnerId;
use crate::domain::personal_data::{erased_actor, keeps_reason, mask_personal_changes, OUTBOX_RETENTION_DAYS};
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
    CardOnFile,
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
            CARD_SK => RecordKind::CardOnFile,
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
    /// Outbox copies of the partner's events (kept 7 days after each change) whose body was removed.
    pub outbox_events: u32,
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
    [PK, SK, "entity", EXPIRES_AT, AUDIT_EVENT_IDS, "as_of_key"].contains(&attribute)
        || INDEXES.iter().any(|(_, pk, sk)| *pk == attribute || *sk == attribute)
}
/// History attributes that are personal.
const HISTORY_PERSONAL: [&str; 2] = ["notes", "payment_method"];
/// Email log attributes that are personal (SES's rejection reason may quote the address).
const EMAIL_PERSONAL: [&str; 3] = ["email_to", "email_subject", "rejection_reason"];

/// The outbox event ids an audit item names (`items::audit_item_announcing`).
fn event_ids(item: &Item) -> Vec<String> {
    item.get(AUDIT_EVENT_IDS)
        .and_then(|v| v.as_l().ok())
        .map(|ids| ids.iter().filter_map(|id| id.as_s().ok().cloned()).collect())
        .unwrap_or_default()
}

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

    /// Removes personal data from `id`'s payment history (see `domain::personal_data`), and the
    /// outbox copies of its events written since `now` minus the outbox's retention.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn erase_personal_data(&self, id: &PartnerId, now: jiff::Timestamp) -> Result<ErasureCounts, StoreError> {
        let mut counts = ErasureCounts::default();
        let outbox_since = now - jiff::SignedDuration::from_hours(24 * OUTBOX_RETENTION_DAYS);
        for item in self.partition(id).await? {
            let sk = sort_key(&item).to_owned();
            let kind = RecordKind::of_sort_key(&sk);
            let erased = match kind {
                RecordKind::History => Box::pin(self.erase_history_entry(id, &sk, item)).await?,
                RecordKind::EmailsSent => self.remove_attributes(id, &sk, &item, &EMAIL_PERSONAL).await?,
                RecordKind::Audit => {
                    let events = event_ids(&item);
                    let entry: AuditEntry = from_item(item.clone())?;
                    if entry.at >= outbox_since {
                        for event in events {
                            counts.outbox_events += u32::from(self.erase_outbox_copy(&event).await?);
                        }
                    }
                    Box::pin(self.mask_audit_entry(id, &sk, item)).await?
                }
                RecordKind::CardOnFile => self.delete_record(id, &sk).await?,
                _ => false,
            };
            counts.add(kind, erased);
        }
        Ok(counts)
    }

    /// Drops a history entry's free text and payment method, and a partner user's id as its author.
    async fn erase_history_entry(&self, id: &PartnerId, sk: &str, item: Item) -> Result<bool, StoreError> {
        let present: Vec<&str> = HISTORY_PERSONAL
            .iter()
            .copied()
            .filter(|a| item.contains_key(*a))
            .collect();
        let entry: HistoryEntry = from_item(item)?;
        let author = erased_actor(&entry.created_by);
        let masked_author = author != entry.created_by;
        if present.is_empty() && !masked_author {
            return Ok(false);
        }
        let mut expression = String::new();
        if masked_author {
            expression.push_str("SET created_by = :author ");
        }
        if !present.is_empty() {
            expression.push_str(&format!("REMOVE {}", present.join(", ")));
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(partner_pk(id)))
            .key(SK, string_attr(sk))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_values(
                masked_author.then(|| {
                    std::collections::HashMap::from([(":author".to_owned(), string_attr(author.to_string()))])
                }),
            )
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(true)
    }

    /// Removes the body of the outbox copy of event `event_id` (it may have expired: then nothing);
    /// whether there was one. The relay acts only on the insert, so nothing is announced again.
    async fn erase_outbox_copy(&self, event_id: &str) -> Result<bool, StoreError> {
        let Ok(id) = event_id.parse::<Ulid>() else {
            return Ok(false);
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(outbox_pk(id)))
            .key(SK, string_attr(OUTBOX_SK))
            .update_expression("REMOVE detail")
            .condition_expression("attribute_exists(detail)")
            .send()
            .await;
        super::update_applied(result)
    }

    /// Deletes a record of the partner's partition (a copy that can be read again from Stripe).
    async fn delete_record(&self, id: &PartnerId, sk: &str) -> Result<bool, StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, string_attr(partner_pk(id)))
            .key(SK, string_attr(sk))
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(true)
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

    /// Drops an audit entry's free-text reason (but an admin's for a money movement,
    /// `domain::personal_data::keeps_reason`), masks the personal values of its changes, and a
    /// partner user's id as its actor.
    async fn mask_audit_entry(&self, id: &PartnerId, sk: &str, item: Item) -> Result<bool, StoreError> {
        let entry: AuditEntry = from_item(item)?;
        let drop_reason = entry.reason.is_some() && !keeps_reason(entry.action, &entry.actor);
        let actor = erased_actor(&entry.actor);
        let (changes, masked) = mask_personal_changes(&entry.changes);
        if !drop_reason && !masked && actor == entry.actor {
            return Ok(false);
        }
        let changes = serde_dynamo::to_attribute_value::<_, AttributeValue>(&changes as &Vec<FieldChange>)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let expression = if drop_reason {
            "SET changes = :changes, actor = :actor REMOVE reason"
        } else {
            "SET changes = :changes, actor = :actor"
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(partner_pk(id)))
            .key(SK, string_attr(sk))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":changes", changes)
            .expression_attribute_values(":actor", string_attr(actor.to_string()))
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
