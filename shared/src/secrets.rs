//! Secrets read at run time (the function state built from them: `crate::runtime`).
//!
//! Deployed, a function's environment holds only where its secrets are (`ADMIN_JWT_SECRET_ARN` or
//! `PARTNER_JWT_SECRET_ARN`, `STRIPE_SECRET_KEY_ARN`, `STRIPE_WEBHOOK_SECRET_ARN`: one secret per
//! value, so each function's policy names exactly the secrets it uses), never their values: anyone allowed to read a function's configuration would read them there. The values
//! are read from Secrets Manager at cold start and kept; `crate::runtime::Reloading` reads them
//! again when they are due or were refused.
//!
//! Local runs (`make dev`, the tests) set no ARN and keep plain environment values
//! (`ADMIN_JWT_SECRET`, `PARTNER_JWT_SECRET`, `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`); [`SecretSession::read`] logs
//! which of the two a secret came from.

use crate::config::{ConfigError, Secret, SecretSource};
use std::collections::HashMap;

/// Reads secrets. The Secrets Manager client is built once per cold start; it sends nothing unless
/// a secret's ARN is configured.
#[derive(Clone, Debug)]
pub struct SecretReader {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretReader {
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig) -> SecretReader {
        SecretReader {
            client: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }

    /// One load's reads: each secret is fetched once, however often it is read.
    pub fn session(&self) -> SecretSession<'_> {
        SecretSession {
            client: &self.client,
            fetched: HashMap::new(),
        }
    }

    /// [`SecretReader::session`] with the secrets the environment names
    /// ([`crate::config::configured_secret_arns`]) fetched at once, side by side: a cold start waits
    /// for one round trip, not one per secret. A secret that fails here is fetched again (and its
    /// error reported) when it is read.
    pub async fn prefetched_session(&self) -> SecretSession<'_> {
        let mut session = self.session();
        let arns = crate::config::configured_secret_arns();
        let fetches = arns.iter().map(|arn| async move {
            let answer = self.client.get_secret_value().secret_id(arn).send().await;
            (arn, answer.ok().and_then(|a| a.secret_string))
        });
        for (arn, text) in futures::future::join_all(fetches).await {
            if let Some(text) = text {
                session.fetched.insert(arn.clone(), text);
            }
        }
        session
    }
}

/// The reads of one load (see [`SecretReader::session`]).
pub struct SecretSession<'a> {
    client: &'a aws_sdk_secretsmanager::Client,
    fetched: HashMap<String, String>,
}

impl SecretSession<'_> {
    /// The value of the secret `name` (a name for messages and logs) from `source`.
    pub async fn read(&mut self, name: &'static str, source: &SecretSource) -> Result<Secret, ConfigError> {
        match source {
            SecretSource::Environment(variable) => {
                tracing::info!(
                    secret = name,
                    variable = *variable,
                    "secret read from the environment (local runs)"
                );
                match std::env::var(variable) {
                    Ok(value) if !value.trim().is_empty() => Ok(Secret::new(value)),
                    _ => Err(ConfigError::Missing(variable)),
                }
            }
            SecretSource::SecretsManager { arn } => {
                let value = self.secret_string(name, arn).await?.to_owned();
                tracing::info!(secret = name, "secret read from Secrets Manager");
                if value.trim().is_empty() {
                    return Err(ConfigError::Invalid {
                        name,
                        why: "the secret is empty".into(),
                    });
                }
                Ok(Secret::new(value))
            }
        }
    }

    async fn secret_string(&mut self, name: &'static str, arn: &str) -> Result<&str, ConfigError> {
        if !self.fetched.contains_key(arn) {
            let answer = self
                .client
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|err| ConfigError::Unreadable {
                    name,
                    why: aws_smithy_types::error::display::DisplayErrorContext(err).to_string(),
                })?;
            let text = answer.secret_string.ok_or(ConfigError::Invalid {
                name,
                why: "the secret holds no SecretString".into(),
            })?;
            self.fetched.insert(arn.to_owned(), text);
        }
        Ok(self.fetched.get(arn).map(String::as_str).unwrap_or_default())
    }
}

/// Which secret an answer says was refused. [`crate::http::problem`] puts it on the response; the
/// entry point's `crate::runtime::Reloading::serve` reads the secrets again and, where nothing happened yet,
/// answers the request once more with the values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRefused {
    /// A token's signature did not verify (the identity service may have a new key).
    SigningKey,
    /// A webhook's signature did not verify (the endpoint's secret may have been rolled).
    WebhookSecret,
    /// Stripe answered 401 to our key (it may have been rolled).
    StripeKey,
}

impl SecretRefused {
    /// Whether answering the request again is safe: a refused signature stopped the request before
    /// it did anything; a refused Stripe key may have come after writes of ours.
    pub fn retry_is_safe(self) -> bool {
        !matches!(self, SecretRefused::StripeKey)
    }
}
