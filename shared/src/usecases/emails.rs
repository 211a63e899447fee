//! Mailing partners what the app bus announces, exactly once per event id.
//!
//! # The window between sending and marking
//!
//! SES v2 has no idempotency key, so "exactly once" rests on the email log item
//! (`PARTNER#<id>` / `EMAIL#<event id>`), and one window remains whatever the order:
//!
//! - mark first, then send: a crash after the mark loses the email for good (at most once);
//! - send first, then mark: a crash in between sends it again on the retry (at least once).
//!
//! We choose **claim -> send -> mark**. A conditional update claims the event with a lease
//! ([`SEND_LEASE`], far longer than the function's timeout); only the holder sends; SES's message id
//! then marks it `sent`. A second delivery of the same event (relay retries, EventBridge's
//! at-least-once delivery, Lambda's async retries) finds `sent` and does nothing, or finds a live
//! claim and fails so that it is retried after the lease. The only way to a duplicate is a crash (or
//! a DynamoDB outage) in the few milliseconds after SES accepted the message and before the mark,
//! followed by a redelivery after the lease ran out. For renewal notices, receipts and payment
//! warnings a rare duplicate is far better than a notice that silently never went out, so we take
//! that side of the window, and make it as small as we can: nothing runs between the send and the
//! mark, and a failed mark is logged (`email sent but not marked`) rather than retried as a failure.
//!
//! Failures: throttling and transient SES trouble release the claim and fail the invocation, so Lambda
//! retries it (and parks it in the failure destination when retries run out); a message SES refuses
//! for good is parked in the dead-letter queue at once with the reason, marked `rejected`, and never
//! retried.

use crate::dead_letters::DeadLetters;
use crate::domain::events::DomainEvent;
use crate::domain::partner::Partner;
use crate::domain::personal_data::{without_address, ERASED};
use crate::email::{compose, EmailMessage, EmailSettings};
use crate::mailer::{Mailer, SendFailure};
use crate::store::email_log::{ClaimOutcome, EmailClaim, EmailLogState};
use crate::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// How long a claim keeps other deliveries of the same event away. Must exceed the function timeout.
pub const SEND_LEASE: SignedDuration = SignedDuration::from_secs(120);

/// What the email sender needs, built once per cold start.
#[derive(Clone, Debug)]
pub struct EmailService {
    pub store: Store,
    pub mailer: Mailer,
    pub dead_letters: DeadLetters,
    pub settings: EmailSettings,
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Delivery {
    /// SES accepted the email.
    Sent { kind: String, message_id: String },
    /// The event mails nobody.
    NotMailed,
    /// An earlier delivery of this event sent it.
    AlreadySent { message_id: String },
    /// An earlier delivery found it refused for good.
    AlreadyRejected,
    /// SES refused it for good: parked in the dead-letter queue with the reason.
    Rejected { kind: String, reason: String },
    /// The event could not be read: parked in the dead-letter queue with the reason.
    Unreadable { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("another delivery of event {event_id} holds its claim until {lease_until}; retry later")]
    InProgress { event_id: String, lease_until: Timestamp },
    #[error(transparent)]
    Transient(SendFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not park the event in the dead-letter queue: {0}")]
    DeadLetter(String),
}

impl EmailService {
    /// Sends the email of `event` unless an earlier delivery did; `raw` is the event as it arrived
    /// (what goes to the dead-letter queue).
    #[tracing::instrument(skip_all, fields(event_id = %event.event_id, partner_id = %event.partner_id, detail_type = event.detail_type()))]
    pub async fn deliver(&self, event: &DomainEvent, raw: &str, now: Timestamp) -> Result<Delivery, DeliveryError> {
        let mut message = match compose(event, &self.settings) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(Delivery::NotMailed),
            // Rendering is deterministic: a retry would fail the same way.
            Err(err) => {
                let reason = err.to_string();
                self.park(raw, &reason, event, "").await?;
                return Ok(Delivery::Rejected {
                    kind: String::new(),
                    reason,
                });
            }
        };
        // The recipient is the partner's address on record, never the event's: a forged or stale
        // event cannot mail an outside address.
        let Some(partner) = self.store.get_partner(&event.partner_id).await? else {
            let reason = format!("partner {} is not on record; nobody to mail", event.partner_id);
            self.park(raw, &reason, event, message.kind.as_str()).await?;
            return Ok(Delivery::Rejected {
                kind: message.kind.as_str().to_owned(),
                reason,
            });
        };
        if partner.primary_email.as_str() != message.to {
            tracing::warn!(
                "the event's recipient is not the partner's address on record; mailing the address on record"
            );
            message.to = partner.primary_email.to_string();
        }
        if let Some(earlier) = self.claim(event, &message, &partner, now).await? {
            return Ok(earlier);
        }
        self.send_claimed(event, raw, &message, now).await
    }

    /// Claims the email of `event` for this delivery: `None` once claimed, or what an earlier
    /// delivery made of it; an error while another delivery holds the claim.
    async fn claim(
        &self,
        event: &DomainEvent,
        message: &EmailMessage,
        partner: &Partner,
        now: Timestamp,
    ) -> Result<Option<Delivery>, DeliveryError> {
        // An event written before the partner's personal data was erased, and delivered after it,
        // is still mailed to the address on record, but its log keeps neither address nor subject.
        let erased_since = partner
            .personal_data_erased_at
            .is_some_and(|erased| erased >= event.occurred_at);
        let (logged_to, logged_subject) = if erased_since {
            (ERASED, ERASED)
        } else {
            (message.to.as_str(), message.subject.as_str())
        };
        let claim = EmailClaim {
            partner_id: &event.partner_id,
            event_id: &event.event_id,
            kind: message.kind.as_str(),
            to: logged_to,
            subject: logged_subject,
        };
        match self.store.claim_email(&claim, now, SEND_LEASE).await? {
            ClaimOutcome::Claimed => Ok(None),
            ClaimOutcome::Taken(EmailLogState::Sent { message_id }) => Ok(Some(Delivery::AlreadySent { message_id })),
            ClaimOutcome::Taken(EmailLogState::Rejected { .. }) => Ok(Some(Delivery::AlreadyRejected)),
            ClaimOutcome::Taken(EmailLogState::Sending { lease_until }) => Err(DeliveryError::InProgress {
                event_id: event.event_id.clone(),
                lease_until,
            }),
        }
    }

    /// Sends the claimed `message` and marks the log with what SES answered: sent, refused for good
    /// (parked in the dead-letter queue), or released for a retry.
    async fn send_claimed(
        &self,
        event: &DomainEvent,
        raw: &str,
        message: &EmailMessage,
        now: Timestamp,
    ) -> Result<Delivery, DeliveryError> {
        let kind = message.kind.as_str();
        match self.mailer.send(message).await {
            Ok(message_id) => {
                if let Err(err) = self
                    .store
                    .mark_email_sent(&event.partner_id, &event.event_id, &message_id, now)
                    .await
                {
                    // The email went: failing now would only invite a duplicate once the lease ends.
                    tracing::error!(error = %err, message_id, kind, "email sent but not marked");
                }
                tracing::info!(message_id, kind, "email sent");
                Ok(Delivery::Sent {
                    kind: kind.to_owned(),
                    message_id,
                })
            }
            Err(SendFailure::Permanent(reason)) => {
                // SES's reasons may quote the address: neither the log nor the record keeps it.
                let reason = without_address(&reason, &message.to);
                tracing::error!(
                    kind,
                    reason,
                    "SES refused the email for good; parking it in the dead-letter queue"
                );
                if let Err(err) = self.park(raw, &reason, event, kind).await {
                    self.release(event).await;
                    return Err(err);
                }
                self.store
                    .mark_email_rejected(&event.partner_id, &event.event_id, &reason, now)
                    .await?;
                Ok(Delivery::Rejected {
                    kind: kind.to_owned(),
                    reason,
                })
            }
            Err(transient @ SendFailure::Transient(_)) => {
                tracing::warn!(kind, error = %transient, "email not sent; releasing the claim for a retry");
                self.release(event).await;
                Err(DeliveryError::Transient(transient))
            }
        }
    }

    /// Parks an event that could not even be read.
    pub async fn park_unreadable(&self, raw: &str, reason: &str) -> Result<Delivery, DeliveryError> {
        tracing::error!(reason, "unreadable event; parking it in the dead-letter queue");
        self.dead_letters
            .park(raw, reason, &[])
            .await
            .map_err(DeliveryError::DeadLetter)?;
        Ok(Delivery::Unreadable {
            reason: reason.to_owned(),
        })
    }

    /// Gives the claim up so that the retry need not wait for the lease.
    async fn release(&self, event: &DomainEvent) {
        if let Err(err) = self.store.release_email(&event.partner_id, &event.event_id).await {
            tracing::warn!(error = %err, "claim not released; the retry waits for its lease");
        }
    }

    async fn park(&self, raw: &str, reason: &str, event: &DomainEvent, kind: &str) -> Result<(), DeliveryError> {
        let attributes = [
            ("event_id", event.event_id.as_str()),
            ("partner_id", event.partner_id.as_str()),
            ("detail_type", event.detail_type()),
            ("email_kind", kind),
        ];
        self.dead_letters
            .park(raw, reason, &attributes)
            .await
            .map_err(DeliveryError::DeadLetter)
    }
}
