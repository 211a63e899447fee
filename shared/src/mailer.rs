//! Sending email with SES v2 `SendEmail` from the configured sender, and telling the failures that a
//! retry can cure (throttling, timeouts, SES trouble) from those it cannot (a refused message).

use crate::email::EmailMessage;
use aws_sdk_sesv2::error::{DisplayErrorContext, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};
use aws_sdk_sesv2::Client;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// SES refused this message for good (rejected content, unverified sender, bad address): sending
    /// it again would fail again.
    #[error("SES refused the email: {0}")]
    Permanent(String),
    /// Throttled, timed out, or SES had trouble: worth another try later.
    #[error("SES could not take the email now: {0}")]
    Transient(String),
}

#[derive(Clone, Debug)]
pub struct Mailer {
    client: Client,
    from: String,
    configuration_set: Option<String>,
}

impl Mailer {
    /// `from` is the sender (`Name <address>` or an address) of a verified SES identity.
    pub fn new(client: Client, from: impl Into<String>, configuration_set: Option<String>) -> Mailer {
        Mailer {
            client,
            from: from.into(),
            configuration_set,
        }
    }

    pub fn from_sdk_config(
        sdk: &aws_config::SdkConfig,
        from: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Mailer {
        Mailer::new(Client::new(sdk), from, configuration_set)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `message` (text and HTML parts); SES's message id on success.
    pub async fn send(&self, message: &EmailMessage) -> Result<String, SendFailure> {
        let content = |text: &str| {
            Content::builder()
                .data(text)
                .charset("UTF-8")
                .build()
                .map_err(|e| SendFailure::Permanent(e.to_string()))
        };
        let body = Body::builder()
            .text(content(&message.text)?)
            .html(content(&message.html)?)
            .build();
        let simple = Message::builder()
            .subject(content(&message.subject)?)
            .body(body)
            .build();
        let tag = MessageTag::builder()
            .name("email_kind")
            .value(message.kind.as_str())
            .build()
            .map_err(|e| SendFailure::Permanent(e.to_string()))?;
        let output = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .content(EmailContent::builder().simple(simple).build())
            .email_tags(tag)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(classify)?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// Which SES errors are for good. Account-level pauses (`AccountSuspended`, `SendingPaused`) count as
/// transient: the message itself is fine, and once retries run out it lands in the DLQ anyway.
fn classify(err: SdkError<SendEmailError>) -> SendFailure {
    let text = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(service) => match service.err() {
            SendEmailError::MessageRejected(_)
            | SendEmailError::BadRequestException(_)
            | SendEmailError::MailFromDomainNotVerifiedException(_)
            | SendEmailError::NotFoundException(_) => SendFailure::Permanent(text),
            _ => SendFailure::Transient(text),
        },
        SdkError::ConstructionFailure(_) => SendFailure::Permanent(text),
        _ => SendFailure::Transient(text),
    }
}
