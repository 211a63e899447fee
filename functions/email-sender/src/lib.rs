//! email-sender: the app bus's partner-facing events -> one email each, through SES v2.
//!
//! The trigger is an EventBridge event whose `detail` is a [`DomainEvent`]. Exactly-once sending, the
//! choice about the window between sending and marking, and the retry / dead-letter rules live in
//! [`shared::usecases::emails`].

use jiff::Timestamp;
use shared::config::{self, ConfigError};
use shared::dead_letters::DeadLetters;
use shared::domain::events::DomainEvent;
use shared::email::EmailSettings;
use shared::mailer::Mailer;
use shared::store::Store;
use shared::usecases::emails::{Delivery, DeliveryError, EmailService};

/// The email sender, built once per cold start.
pub struct Sender {
    pub service: EmailService,
}

impl Sender {
    /// Reads `TABLE_NAME`, `EMAIL_FROM`, `EMAIL_DLQ_URL`, `PARTNER_PORTAL_URL`, `BUSINESS_TIME_ZONE` and
    /// the optional `SES_CONFIGURATION_SET`.
    pub async fn from_env() -> Result<Sender, ConfigError> {
        let sdk = config::aws_sdk_config().await;
        Ok(Sender {
            service: EmailService {
                store: Store::from_sdk_config(&sdk, config::table_name()?),
                mailer: Mailer::from_sdk_config(&sdk, config::email_from()?, config::ses_configuration_set()),
                dead_letters: DeadLetters::from_sdk_config(&sdk, config::email_dlq_url()?),
                settings: EmailSettings {
                    portal_url: config::partner_portal_url()?,
                    time_zone: config::business_calendar()?.time_zone().clone(),
                },
            },
        })
    }

    /// Handles one EventBridge event. An error fails the invocation so that Lambda retries it.
    pub async fn handle(&self, event: serde_json::Value, now: Timestamp) -> Result<Delivery, DeliveryError> {
        let raw = event.to_string();
        let detail = match event.get("detail") {
            Some(detail) => serde_json::from_value::<DomainEvent>(detail.clone()),
            None => return self.service.park_unreadable(&raw, "the event has no detail").await,
        };
        let delivery = match detail {
            Ok(domain_event) => self.service.deliver(&domain_event, &raw, now).await,
            Err(err) => {
                let reason = format!("the detail is not a domain event this version knows: {err}");
                self.service.park_unreadable(&raw, &reason).await
            }
        };
        match &delivery {
            Ok(outcome) => tracing::info!(?outcome, "event handled"),
            Err(err) => tracing::warn!(error = %err, "event not handled; Lambda will retry it"),
        }
        delivery
    }
}
