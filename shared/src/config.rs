//! Configuration from the environment, read once per cold start.
//!
//! | variable            | meaning                                                  | default |
//! |---------------------|----------------------------------------------------------|---------|
//! | `TABLE_NAME`        | the DynamoDB table                                       | —       |
//! | `ADMIN_JWT_SECRET`  | HS256 key for admin tokens (at least 32 bytes); in AWS it comes from Secrets Manager | — |
//! | `BUSINESS_TIME_ZONE`| IANA zone that decides what "today" is                    | `UTC`   |
//! | `STRIPE_WEBHOOK_SECRET` | the webhook endpoint's signing secret (`whsec_...`); in AWS from Secrets Manager | — |
//! | `STRIPE_SECRET_KEY` | the API key (`sk_...`); in AWS from Secrets Manager          | —       |
//! | `STRIPE_PRICE_GOLD`, `STRIPE_PRICE_PLATINUM` | the Stripe price id of each paid tier | — |
//! | `STRIPE_API_BASE`   | the Stripe API's base URL (local servers in tests and `make dev`) | Stripe's |
//!
//! AWS endpoints and credentials come from the SDK's own variables (`AWS_ENDPOINT_URL` points the
//! functions at local emulators; nothing else differs).

use crate::domain::dates::BusinessCalendar;
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// A secret that never shows in logs or debug output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

pub fn table_name() -> Result<String, ConfigError> {
    required("TABLE_NAME")
}

pub fn admin_jwt_secret() -> Result<Secret, ConfigError> {
    let secret = required("ADMIN_JWT_SECRET")?;
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name: "ADMIN_JWT_SECRET",
            why: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
        });
    }
    Ok(Secret(secret))
}

pub fn business_calendar() -> Result<BusinessCalendar, ConfigError> {
    match std::env::var("BUSINESS_TIME_ZONE") {
        Ok(name) if !name.trim().is_empty() => BusinessCalendar::named(name.trim()).map_err(|e| ConfigError::Invalid {
            name: "BUSINESS_TIME_ZONE",
            why: e.to_string(),
        }),
        _ => Ok(BusinessCalendar::utc()),
    }
}

/// The AWS SDK configuration (region, credentials, endpoint) from the environment.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

pub fn stripe_webhook_secret() -> Result<Secret, ConfigError> {
    Ok(Secret(required("STRIPE_WEBHOOK_SECRET")?))
}

pub fn stripe_secret_key() -> Result<Secret, ConfigError> {
    Ok(Secret(required("STRIPE_SECRET_KEY")?))
}

/// The Stripe price of each paid tier.
pub fn stripe_prices() -> Result<crate::domain::billing::PriceCatalog, ConfigError> {
    Ok(crate::domain::billing::PriceCatalog {
        gold: required("STRIPE_PRICE_GOLD")?,
        platinum: required("STRIPE_PRICE_PLATINUM")?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_do_not_print() {
        let secret = super::Secret::new("very-secret-value");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }
}
