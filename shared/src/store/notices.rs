//! Renewal notices in the table: the marker that makes a sweep notice exactly once per term end and
//! stage, written with its audit entry and event while the partner is still at the version read.

use super::items::{audit_item_announcing, conditional_put, number_attr, outbox_item, string_attr};
use super::keys::*;
use super::{dynamo_error, failed_condition, Store, StoreError};
use crate::domain::dates::CalendarDate;
use crate::domain::events::DomainEvent;
use crate::domain::history_and_audit::AuditEntry;
use crate::domain::lifecycle::NoticeStage;
use crate::domain::partner::PartnerId;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use std::collections::HashMap;
use ulid::Ulid;

/// A renewal notice to record: the marker (sweep notices only), its audit entry and its event,
/// written only while the partner is still at `partner_version`.
#[derive(Debug, Clone)]
pub struct NoticeWrite {
    pub partner_id: PartnerId,
    pub partner_version: u64,
    pub term_end: CalendarDate,
    /// `Some` for the sweep's notices (sent once per term end and stage); `None` for manual ones.
    pub marker_stage: Option<NoticeStage>,
    /// A stage whose marker must exist for this term (the 30-day one, when a 7-day notice goes out
    /// for a term that was running at its 30-day mark): checked in the same transaction, so a
    /// missed reminder is found without a read of its own ([`NoticeOutcome::EarlierStageMissing`]).
    pub earlier_stage_sent: Option<NoticeStage>,
    pub audit: (Ulid, AuditEntry),
    pub event: (Ulid, DomainEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeOutcome {
    Recorded,
    /// The marker exists: this notice was sent before.
    AlreadySent,
    /// Nothing written: the marker of `earlier_stage_sent` does not exist (that reminder was
    /// missed); record it again without the check.
    EarlierStageMissing,
}

impl Store {
    /// Records a renewal notice atomically: marker (exactly once), audit entry, outbox event.
    #[tracing::instrument(skip_all, fields(partner_id = %notice.partner_id, stage = ?notice.marker_stage), err(Display))]
    pub async fn record_notice(&self, notice: NoticeWrite) -> Result<NoticeOutcome, StoreError> {
        let now = notice.audit.1.at;
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key(PK, string_attr(partner_pk(&notice.partner_id)))
            .key(SK, string_attr(PROFILE_SK))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", number_attr(notice.partner_version))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().condition_check(check).build()];
        let fresh = format!("attribute_not_exists({PK})");
        if let Some(stage) = notice.marker_stage {
            let marker = HashMap::from([
                (PK.to_owned(), string_attr(partner_pk(&notice.partner_id))),
                (SK.to_owned(), string_attr(notice_sk(notice.term_end, stage.days()))),
                ("entity".to_owned(), string_attr("notice")),
                ("stage".to_owned(), number_attr(stage.days())),
                ("term_end".to_owned(), string_attr(notice.term_end.to_string())),
                ("event_id".to_owned(), string_attr(&notice.event.1.event_id)),
                ("sent_at".to_owned(), string_attr(now.to_string())),
            ]);
            items.push(conditional_put(&self.table, marker, &fresh, None)?);
        }
        items.push(conditional_put(
            &self.table,
            audit_item_announcing(notice.audit.0, &notice.audit.1, &[notice.event.0])?,
            &fresh,
            None,
        )?);
        items.push(conditional_put(
            &self.table,
            outbox_item(notice.event.0, &notice.event.1, now)?,
            &fresh,
            None,
        )?);
        let earlier_at = items.len();
        if let Some(stage) = notice.earlier_stage_sent {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .key(PK, string_attr(partner_pk(&notice.partner_id)))
                .key(SK, string_attr(notice_sk(notice.term_end, stage.days())))
                .condition_expression(format!("attribute_exists({PK})"))
                .build()
                .map_err(|e| StoreError::Dynamo(e.to_string()))?;
            items.push(TransactWriteItem::builder().condition_check(check).build());
        }
        match self.transact(items, notice.audit.0).await? {
            None => Ok(NoticeOutcome::Recorded),
            // Item 0 checks the profile's version, item 1 is the marker (sweep notices only).
            Some(codes) if failed_condition(&codes, 0) => Err(StoreError::VersionConflict),
            Some(codes) if notice.marker_stage.is_some() && failed_condition(&codes, 1) => {
                Ok(NoticeOutcome::AlreadySent)
            }
            Some(codes) if notice.earlier_stage_sent.is_some() && failed_condition(&codes, earlier_at) => {
                Ok(NoticeOutcome::EarlierStageMissing)
            }
            Some(codes) => Err(StoreError::Dynamo(format!("transaction cancelled: {codes:?}"))),
        }
    }

    /// The renewal notice stages already sent for a term.
    pub async fn notices_sent(&self, id: &PartnerId, term_end: CalendarDate) -> Result<Vec<NoticeStage>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", string_attr(partner_pk(id)))
            .expression_attribute_values(":prefix", string_attr(format!("{NOTICE_PREFIX}{term_end}#")))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(output
            .items()
            .iter()
            .filter_map(|item| item.get("stage")?.as_n().ok()?.parse::<u8>().ok())
            .filter_map(NoticeStage::from_days)
            .collect())
    }
}
