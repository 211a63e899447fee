//! The email log: one item per domain event that mails a partner (`PARTNER#<id>` / `EMAIL#<event id>`),
//! the exactly-once guard of the email sender and the record of what was sent.
//!
//! Its `email_status` walks `sending` (claimed, with a lease) -> `sent` (SES accepted it, with its
//! message id) or `rejected` (SES refused it for good, with the reason). A claim whose lease ran out
//! (its sender died or gave up) can be taken again.

use super::items::{number_attr, string_attr};
use super::keys::{email_sk, partner_pk, EXPIRES_AT, PK, SK};
use super::{dynamo_error, update_applied, update_condition_failed, Store, StoreError};
use crate::domain::partner::PartnerId;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// How long the record of a sent email is kept.
const EMAIL_LOG_RETENTION_SECONDS: i64 = 400 * 24 * 3600;

/// The email about to be sent for one event.
#[derive(Debug, Clone)]
pub struct EmailClaim<'a> {
    pub partner_id: &'a PartnerId,
    pub event_id: &'a str,
    pub kind: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
}

/// What the log says about an event's email when a claim is refused or after it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailLogState {
    /// Another delivery holds the claim until `lease_until`.
    Sending {
        lease_until: Timestamp,
    },
    Sent {
        message_id: String,
    },
    Rejected {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This delivery may send now.
    Claimed,
    /// Somebody got there first.
    Taken(EmailLogState),
}

impl Store {
    /// An update of the email log item of one event.
    fn update_email_log(&self, partner_id: &PartnerId, event_id: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(partner_pk(partner_id)))
            .key(SK, string_attr(email_sk(event_id)))
    }

    /// Claims the right to send the email of `claim.event_id` for `lease`: succeeds when no delivery
    /// has claimed it yet or an earlier claim's lease ran out.
    #[tracing::instrument(skip_all, fields(event_id = claim.event_id, kind = claim.kind), err(Display))]
    pub async fn claim_email(
        &self,
        claim: &EmailClaim<'_>,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<ClaimOutcome, StoreError> {
        let lease_until = now.as_second().saturating_add(lease.as_secs());
        let result = self
            .update_email_log(claim.partner_id, claim.event_id)
            .update_expression(
                "SET email_status = :sending, lease_until = :lease_until, entity = :entity, event_id = :event_id, \
                 email_kind = :kind, email_to = :to, email_subject = :subject, claimed_at = :now_text, \
                 #expires_at = if_not_exists(#expires_at, :expires_at) ADD attempts :one",
            )
            .condition_expression(format!(
                "attribute_not_exists({PK}) OR (email_status = :sending AND lease_until < :now)"
            ))
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .set_expression_attribute_values(Some(HashMap::from([
                (":sending".to_owned(), string_attr("sending")),
                (":lease_until".to_owned(), number_attr(lease_until)),
                (":entity".to_owned(), string_attr("email")),
                (":event_id".to_owned(), string_attr(claim.event_id)),
                (":kind".to_owned(), string_attr(claim.kind)),
                (":to".to_owned(), string_attr(claim.to)),
                (":subject".to_owned(), string_attr(claim.subject)),
                (":now_text".to_owned(), string_attr(now.to_string())),
                (":now".to_owned(), number_attr(now.as_second())),
                (
                    ":expires_at".to_owned(),
                    number_attr(now.as_second() + EMAIL_LOG_RETENTION_SECONDS),
                ),
                (":one".to_owned(), number_attr(1)),
            ])))
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(err) if update_condition_failed(&err) => {
                match self.email_log_state(claim.partner_id, claim.event_id).await? {
                    Some(state) => Ok(ClaimOutcome::Taken(state)),
                    // Deleted in between (it has a TTL): nothing to report, let the caller retry.
                    None => Err(StoreError::Dynamo("email log item vanished during its claim".into())),
                }
            }
            Err(err) => Err(dynamo_error(err)),
        }
    }

    /// Records that SES accepted the email.
    #[tracing::instrument(skip(self, now), err(Display))]
    pub async fn mark_email_sent(
        &self,
        partner_id: &PartnerId,
        event_id: &str,
        message_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.settle_email(
            partner_id,
            event_id,
            "SET email_status = :to_status, message_id = :detail, sent_at = :now REMOVE lease_until",
            "sent",
            message_id,
            now,
        )
        .await
    }

    /// Records that SES refused the email for good, and why.
    #[tracing::instrument(skip(self, now), err(Display))]
    pub async fn mark_email_rejected(
        &self,
        partner_id: &PartnerId,
        event_id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.settle_email(
            partner_id,
            event_id,
            "SET email_status = :to_status, rejection_reason = :detail, rejected_at = :now REMOVE lease_until",
            "rejected",
            reason,
            now,
        )
        .await
    }

    /// Gives a claim up (the send failed in a way worth retrying), so the next delivery may claim it
    /// at once instead of waiting for the lease to run out.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn release_email(&self, partner_id: &PartnerId, event_id: &str) -> Result<(), StoreError> {
        let result = self
            .update_email_log(partner_id, event_id)
            .update_expression("SET lease_until = :zero")
            .condition_expression("email_status = :sending")
            .expression_attribute_values(":zero", number_attr(0))
            .expression_attribute_values(":sending", string_attr("sending"))
            .send()
            .await;
        update_applied(result).map(|_| ())
    }

    async fn settle_email(
        &self,
        partner_id: &PartnerId,
        event_id: &str,
        update: &str,
        to_status: &str,
        detail: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let result = self
            .update_email_log(partner_id, event_id)
            .update_expression(update)
            .condition_expression("email_status = :sending")
            .expression_attribute_values(":sending", string_attr("sending"))
            .expression_attribute_values(":to_status", string_attr(to_status))
            .expression_attribute_values(":detail", string_attr(detail))
            .expression_attribute_values(":now", string_attr(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Already settled by a delivery that took over an expired lease: its record stands.
            Err(err) if update_condition_failed(&err) => {
                tracing::warn!(event_id, to_status, "email log was settled by another delivery");
                Ok(())
            }
            Err(err) => Err(dynamo_error(err)),
        }
    }

    /// The email log's state for one event, if it has an item.
    pub async fn email_log_state(
        &self,
        partner_id: &PartnerId,
        event_id: &str,
    ) -> Result<Option<EmailLogState>, StoreError> {
        let Some(item) = self.get_item(partner_pk(partner_id), &email_sk(event_id)).await? else {
            return Ok(None);
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let state = match text("email_status").as_str() {
            "sent" => EmailLogState::Sent {
                message_id: text("message_id"),
            },
            "rejected" => EmailLogState::Rejected {
                reason: text("rejection_reason"),
            },
            "sending" => {
                let lease = item
                    .get("lease_until")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0);
                EmailLogState::Sending {
                    lease_until: Timestamp::from_second(lease).unwrap_or(Timestamp::UNIX_EPOCH),
                }
            }
            other => return Err(StoreError::Corrupt(format!("email log status {other:?}"))),
        };
        Ok(Some(state))
    }
}
