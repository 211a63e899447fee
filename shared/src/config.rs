//! Configuration from the environment, read once per cold start.
//!
//! | variable            | meaning                                                  | default |
//! |---------------------|----------------------------------------------------------|---------|
//! | `TABLE_NAME`        | the DynamoDB table                                       | —       |
//! | `ADMIN_JWT_SECRET_ARN` | deployed: the Secrets Manager secret holding the token signing key (see `crate::secrets`) | — |
//! | `ADMIN_JWT_SECRET`  | local runs: HS256 key of the identity service's tokens, admin and partner alike (at least 32 bytes; the role is a signed claim) | — |
//! | `ALLOW_LOCAL_SIGNING_KEY` | `true` lets the public local key and webhook secret of `infra/local/local.env` sign tokens and deliveries (make dev only; refused otherwise) | — |
//! | `TOKEN_ISSUER`, `TOKEN_AUDIENCE` | the `iss` and `aud` every token must carry | — |
//! | `TOKEN_MAX_LIFETIME_HOURS` | the longest a token may live, `iat` to `exp` (1 to 24) | 12 |
//! | `BUSINESS_TIME_ZONE`| IANA zone that decides what "today" is                    | `UTC`   |
//! | `STRIPE_SECRET_ARN`, `STRIPE_SECRET_KEY_FIELD` | deployed: the Secrets Manager secret (a JSON object) holding the Stripe keys, and the field of this function's own restricted key; the webhook's signing secret is its field `webhook_signing_secret` | — |
//! | `STRIPE_WEBHOOK_SECRET` | local runs: the webhook endpoint's signing secret (`whsec_...`) | — |
//! | `STRIPE_SECRET_KEY` | local runs: the API key (`sk_...` or restricted `rk_...`)   | —       |
//! | `STRIPE_PRICE_GOLD`, `STRIPE_PRICE_PLATINUM` | the Stripe price id of each paid tier | — |
//! | `STRIPE_PUBLISHABLE_KEY` | the key Stripe Elements uses in the partner's browser (`pk_...`; not a secret) | — |
//! | `PORTAL_RATE_LIMIT_PER_MINUTE` | portal payment requests a partner may make per minute (1 to 1000) | 10 |
//! | `STRIPE_BILLING_PORTAL_RETURN_URL` | where Stripe's customer portal returns to; set, the portal's payment-method answer also links a customer-portal session | none |
//! | `STRIPE_API_BASE`   | the Stripe API's base URL (local servers in tests and `make dev`) | Stripe's |
//! | `EVENT_BUS_NAME`    | the app's EventBridge bus (outbox-relay publishes to it)   | —       |
//! | `EMAIL_FROM`        | the verified SES sender of partner emails                 | —       |
//! | `EMAIL_DLQ_URL`     | the SQS queue where emails SES refused for good are parked | —       |
//! | `PARTNER_PORTAL_URL`| the partner portal's address, linked from emails          | —       |
//! | `SES_CONFIGURATION_SET` | an SES configuration set for sending events (optional) | none    |
//! | `GRACE_PERIOD_DAYS` | days a renewing term that was not paid stays before it expires (0 to 90) | 7 |
//! | `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL` | the log level or filter directives      | `info`  |
//! | `AWS_SDK_SYSTEM_ROOTS` | `true`: the SDK trusts the system's CA store, not only AWS's roots | `false` |
//!
//! AWS endpoints and credentials come from the SDK's own variables (`AWS_ENDPOINT_URL` points the
//! functions at local emulators; nothing else differs).

use crate::domain::dates::BusinessCalendar;
use crate::domain::lifecycle::DEFAULT_GRACE_DAYS;
use crate::secrets::{SecretSession, SecretSource};
use crate::stripe::client::StripeApi;
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
    #[error("{name} could not be read: {why}")]
    Unreadable { name: &'static str, why: String },
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
/// The longest grace period `GRACE_PERIOD_DAYS` may set.
pub const MAX_GRACE_DAYS: i32 = 90;

fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// A variable that may be absent or blank.
fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

pub fn table_name() -> Result<String, ConfigError> {
    required("TABLE_NAME")
}

/// The signing key of `infra/local/local.env`: public, so worthless (and refused) anywhere else.
pub const PUBLIC_LOCAL_SIGNING_KEY: &str = "public-local-development-key-for-make-dev-only-0000";

/// The Secrets Manager secrets this function's environment names (none in local runs).
pub fn configured_secret_arns() -> Vec<String> {
    ["ADMIN_JWT_SECRET_ARN", "STRIPE_SECRET_ARN"]
        .into_iter()
        .filter_map(optional)
        .collect()
}

/// Where the token signing key comes from: `ADMIN_JWT_SECRET_ARN` deployed, `ADMIN_JWT_SECRET` locally.
fn admin_jwt_secret_source() -> SecretSource {
    match optional("ADMIN_JWT_SECRET_ARN") {
        Some(arn) => SecretSource::SecretsManager { arn, field: None },
        None => SecretSource::Environment("ADMIN_JWT_SECRET"),
    }
}

/// The token signing key, read through `secrets`; the public local key and keys under 32 bytes are
/// refused.
pub async fn admin_jwt_secret(secrets: &mut SecretSession<'_>) -> Result<Secret, ConfigError> {
    let secret = secrets
        .read("ADMIN_JWT_SECRET", &admin_jwt_secret_source())
        .await?
        .expose()
        .to_owned();
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name: "ADMIN_JWT_SECRET",
            why: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
        });
    }
    let local_allowed = optional("ALLOW_LOCAL_SIGNING_KEY").is_some_and(|v| v.trim() == "true");
    if secret == PUBLIC_LOCAL_SIGNING_KEY && !local_allowed {
        return Err(ConfigError::Invalid {
            name: "ADMIN_JWT_SECRET",
            why:
                "is the public local development key; it is accepted only with ALLOW_LOCAL_SIGNING_KEY=true (make dev)"
                    .into(),
        });
    }
    Ok(Secret(secret))
}

/// Whom tokens must come from and be for (`TOKEN_ISSUER`, `TOKEN_AUDIENCE`), and how long they may
/// live (`TOKEN_MAX_LIFETIME_HOURS`, 1 to 24, default 12).
pub fn token_rules() -> Result<crate::auth::TokenRules, ConfigError> {
    let hours = match optional("TOKEN_MAX_LIFETIME_HOURS") {
        None => crate::auth::DEFAULT_MAX_TOKEN_LIFETIME.as_hours(),
        Some(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=24).contains(h))
            .ok_or(ConfigError::Invalid {
                name: "TOKEN_MAX_LIFETIME_HOURS",
                why: "must be a whole number of hours from 1 to 24".into(),
            })?,
    };
    Ok(crate::auth::TokenRules {
        issuer: required("TOKEN_ISSUER")?,
        audience: required("TOKEN_AUDIENCE")?,
        max_lifetime: jiff::SignedDuration::from_hours(hours),
    })
}

pub fn business_calendar() -> Result<BusinessCalendar, ConfigError> {
    match optional("BUSINESS_TIME_ZONE") {
        Some(name) => BusinessCalendar::named(name.trim()).map_err(|e| ConfigError::Invalid {
            name: "BUSINESS_TIME_ZONE",
            why: e.to_string(),
        }),
        None => Ok(BusinessCalendar::utc()),
    }
}

pub fn event_bus_name() -> Result<String, ConfigError> {
    required("EVENT_BUS_NAME")
}

pub fn email_from() -> Result<String, ConfigError> {
    required("EMAIL_FROM")
}

pub fn email_dlq_url() -> Result<String, ConfigError> {
    required("EMAIL_DLQ_URL")
}

pub fn partner_portal_url() -> Result<String, ConfigError> {
    required("PARTNER_PORTAL_URL")
}

pub fn ses_configuration_set() -> Option<String> {
    optional("SES_CONFIGURATION_SET")
}

/// The sweep's grace period for renewing terms that were not paid.
pub fn grace_period_days() -> Result<i32, ConfigError> {
    match optional("GRACE_PERIOD_DAYS") {
        None => Ok(DEFAULT_GRACE_DAYS),
        Some(text) => text
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|days| (0..=MAX_GRACE_DAYS).contains(days))
            .ok_or(ConfigError::Invalid {
                name: "GRACE_PERIOD_DAYS",
                why: format!("must be a whole number of days from 0 to {MAX_GRACE_DAYS}"),
            }),
    }
}

/// `BILLED_OVERDUE_DAYS`: days past its end after which a Stripe-billed term with nothing paid is
/// alarmed on (default 45, at most 365).
pub fn billed_overdue_days() -> Result<i32, ConfigError> {
    match optional("BILLED_OVERDUE_DAYS") {
        None => Ok(crate::domain::lifecycle::DEFAULT_BILLED_OVERDUE_DAYS),
        Some(text) => text
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|days| (1..=365).contains(days))
            .ok_or(ConfigError::Invalid {
                name: "BILLED_OVERDUE_DAYS",
                why: "must be a whole number of days from 1 to 365".into(),
            }),
    }
}

/// The log filter: `RUST_LOG`, else Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`.
pub fn log_level() -> String {
    optional("RUST_LOG")
        .or_else(|| optional("AWS_LAMBDA_LOG_LEVEL").map(|level| level.to_lowercase()))
        .unwrap_or_else(|| "info".to_owned())
}

pub use aws_config::SdkConfig;

/// The AWS SDK configuration (region, credentials, endpoint) from the environment, on
/// [`aws_http_client`].
///
/// Lambda puts the region (`AWS_REGION`) and the role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) in the environment, where the SDK's default chains
/// look first anyway. Reading them there directly skips building the rest of those chains at every
/// cold start (an STS client for web identity, with its endpoint rules parsed from JSON, and an IMDS
/// client): admin-api's init went from 3.82 to 2.81 million instructions (callgrind). Without them in
/// the environment (a developer's profile), the default chains are used.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(aws_http_client());
    if let Some(region) = optional("AWS_REGION") {
        loader = loader.region(aws_config::Region::new(region));
    }
    if optional("AWS_ACCESS_KEY_ID").is_some() && optional("AWS_SECRET_ACCESS_KEY").is_some() {
        loader = loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// The roots AWS's service endpoints chain to: Amazon Trust Services' Amazon Root CA 1 to 4, and
/// Starfield Services Root G2, which cross-signs them.
pub const AWS_TRUST_ROOTS_PEM: &[u8] = include_bytes!("../certs/aws-trust-services-roots.pem");

/// The SDK's HTTPS client, trusting [`AWS_TRUST_ROOTS_PEM`] only. The SDK's default loads the
/// system's whole CA store at every cold start (the bundle, then each file of the certificate
/// directory, every one parsed): about 7 ms of a 13 ms init, measured with `make bench`. These
/// functions talk to AWS endpoints only through this client (Stripe has its own, with compiled-in
/// roots), so AWS's five roots are all they need. `AWS_SDK_SYSTEM_ROOTS=true` trusts the system's
/// store again (the SDK's default), should an AWS endpoint ever chain to another root.
pub fn aws_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring));
    if optional("AWS_SDK_SYSTEM_ROOTS").as_deref() == Some("true") {
        // The escape hatch, should an AWS endpoint ever present a chain to another root.
        return builder.build_https();
    }
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AWS_TRUST_ROOTS_PEM);
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Building the context cannot fail today; should it, the SDK's own default is still safe.
        Err(_) => builder.build_https(),
    }
}

/// The field of the Stripe secret that holds the webhook endpoint's signing secret.
pub const WEBHOOK_SIGNING_SECRET_FIELD: &str = "webhook_signing_secret";

/// The webhook endpoint's signing secret: the Stripe secret's `webhook_signing_secret` deployed,
/// `STRIPE_WEBHOOK_SECRET` locally.
pub async fn stripe_webhook_secret(secrets: &mut SecretSession<'_>) -> Result<Secret, ConfigError> {
    let source = match optional("STRIPE_SECRET_ARN") {
        Some(arn) => SecretSource::SecretsManager {
            arn,
            field: Some(WEBHOOK_SIGNING_SECRET_FIELD.to_owned()),
        },
        None => SecretSource::Environment("STRIPE_WEBHOOK_SECRET"),
    };
    let secret = secrets.read("STRIPE_WEBHOOK_SECRET", &source).await?;
    let local_allowed = optional("ALLOW_LOCAL_SIGNING_KEY").is_some_and(|v| v.trim() == "true");
    refuse_public_webhook_secret(secret, local_allowed)
}

/// The webhook signing secret of `infra/local/local.env`: public, so accepted only in local runs.
pub const PUBLIC_LOCAL_WEBHOOK_SECRET: &str = "whsec_local_test_only_0123456789abcdef";

/// `secret`, unless it is the public local one outside a local run (`ALLOW_LOCAL_SIGNING_KEY=true`,
/// which only `local.env` sets): anyone could sign a delivery with it.
fn refuse_public_webhook_secret(secret: Secret, local_allowed: bool) -> Result<Secret, ConfigError> {
    if secret.expose() == PUBLIC_LOCAL_WEBHOOK_SECRET && !local_allowed {
        return Err(ConfigError::Invalid {
            name: "STRIPE_WEBHOOK_SECRET",
            why: "is the public local development secret; it is accepted only with ALLOW_LOCAL_SIGNING_KEY=true (make dev)"
                .into(),
        });
    }
    Ok(secret)
}

/// Where this function's Stripe key comes from: the field `STRIPE_SECRET_KEY_FIELD` of the secret
/// `STRIPE_SECRET_ARN` deployed, `STRIPE_SECRET_KEY` locally; `None` when neither is configured.
fn stripe_key_source() -> Result<Option<SecretSource>, ConfigError> {
    match (optional("STRIPE_SECRET_ARN"), optional("STRIPE_SECRET_KEY")) {
        (Some(arn), _) => Ok(Some(SecretSource::SecretsManager {
            arn,
            field: Some(required("STRIPE_SECRET_KEY_FIELD")?),
        })),
        (None, Some(_)) => Ok(Some(SecretSource::Environment("STRIPE_SECRET_KEY"))),
        (None, None) => Ok(None),
    }
}

/// The Stripe API client: this function's key (see [`stripe_key_source`]), and `STRIPE_API_BASE`
/// where it is set.
pub async fn stripe_api(secrets: &mut SecretSession<'_>) -> Result<StripeApi, ConfigError> {
    optional_stripe_api(secrets).await?.ok_or(ConfigError::Missing(
        "STRIPE_SECRET_ARN (deployed) or STRIPE_SECRET_KEY (local runs)",
    ))
}

fn stripe_api_with(secret_key: &Secret) -> Result<StripeApi, ConfigError> {
    StripeApi::new(secret_key, optional("STRIPE_API_BASE").as_deref()).map_err(|why| ConfigError::Invalid {
        name: "STRIPE_API_BASE",
        why,
    })
}

/// The publishable key the portal hands to Stripe Elements.
pub fn stripe_publishable_key() -> Result<String, ConfigError> {
    let key = required("STRIPE_PUBLISHABLE_KEY")?;
    if !key.starts_with("pk_") {
        return Err(ConfigError::Invalid {
            name: "STRIPE_PUBLISHABLE_KEY",
            why: "must be a publishable key (pk_...)".into(),
        });
    }
    Ok(key)
}

/// Default of `PORTAL_RATE_LIMIT_PER_MINUTE`.
pub const DEFAULT_PORTAL_RATE_LIMIT: u32 = 10;

/// Portal payment requests a partner may make per minute.
pub fn portal_rate_limit_per_minute() -> Result<u32, ConfigError> {
    match optional("PORTAL_RATE_LIMIT_PER_MINUTE") {
        None => Ok(DEFAULT_PORTAL_RATE_LIMIT),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or(ConfigError::Invalid {
                name: "PORTAL_RATE_LIMIT_PER_MINUTE",
                why: "must be a whole number from 1 to 1000".into(),
            }),
    }
}

/// Stripe's customer portal: `STRIPE_BILLING_PORTAL_RETURN_URL` (where it sends the partner back)
/// with `STRIPE_BILLING_PORTAL_CONFIGURATION` (`bpc_...`, the configuration that allows only
/// payment-method updates and invoice history). `None` without a return URL: no sessions. A return
/// URL without a configuration refuses to start: the account's default configuration may let a
/// partner switch plans or cancel its commitment.
pub fn stripe_customer_portal() -> Result<Option<crate::stripe::client::CustomerPortal>, ConfigError> {
    customer_portal_from(
        optional("STRIPE_BILLING_PORTAL_RETURN_URL"),
        optional("STRIPE_BILLING_PORTAL_CONFIGURATION"),
    )
}

fn customer_portal_from(
    return_url: Option<String>,
    configuration: Option<String>,
) -> Result<Option<crate::stripe::client::CustomerPortal>, ConfigError> {
    let Some(return_url) = return_url else {
        return Ok(None);
    };
    match configuration {
        Some(configuration) if configuration.starts_with("bpc_") && configuration.len() <= 255 => {
            Ok(Some(crate::stripe::client::CustomerPortal {
                configuration,
                return_url,
            }))
        }
        _ => Err(ConfigError::Invalid {
            name: "STRIPE_BILLING_PORTAL_CONFIGURATION",
            why: "must name the customer-portal configuration (bpc_...) that allows only payment-method updates \
                  and invoice history whenever STRIPE_BILLING_PORTAL_RETURN_URL is set"
                .into(),
        }),
    }
}

/// The Stripe API client where a key is configured (functions for which Stripe is optional).
pub async fn optional_stripe_api(secrets: &mut SecretSession<'_>) -> Result<Option<StripeApi>, ConfigError> {
    let Some(source) = stripe_key_source()? else {
        return Ok(None);
    };
    let key = secrets.read("STRIPE_SECRET_KEY", &source).await?;
    stripe_api_with(&key).map(Some)
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
    fn the_public_local_webhook_secret_is_refused_outside_local_runs() {
        use super::{refuse_public_webhook_secret, Secret, PUBLIC_LOCAL_WEBHOOK_SECRET};
        let local_env =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/local/local.env")).unwrap();
        assert!(
            local_env.contains(&format!("STRIPE_WEBHOOK_SECRET={PUBLIC_LOCAL_WEBHOOK_SECRET}")),
            "the constant is local.env's secret"
        );
        assert!(refuse_public_webhook_secret(Secret::new(PUBLIC_LOCAL_WEBHOOK_SECRET), false).is_err());
        assert!(refuse_public_webhook_secret(Secret::new(PUBLIC_LOCAL_WEBHOOK_SECRET), true).is_ok());
        assert!(refuse_public_webhook_secret(Secret::new("whsec_a_real_one"), false).is_ok());
    }

    #[test]
    fn the_customer_portal_is_never_the_accounts_default_configuration() {
        use super::customer_portal_from;
        let url = || Some("https://partners.power100.example/portal".to_owned());
        assert!(
            matches!(customer_portal_from(None, None), Ok(None)),
            "no return URL: no sessions"
        );
        assert!(
            customer_portal_from(url(), None).is_err(),
            "a return URL needs its configuration"
        );
        assert!(customer_portal_from(url(), Some("default".into())).is_err());
        let portal = customer_portal_from(url(), Some("bpc_1Payments".into()))
            .unwrap()
            .unwrap();
        assert_eq!(portal.configuration, "bpc_1Payments");
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = super::Secret::new("very-secret-value");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn the_aws_roots_are_five_certificates() {
        use base64::Engine;
        let text = std::str::from_utf8(super::AWS_TRUST_ROOTS_PEM).unwrap();
        let blocks: Vec<&str> = text
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| block.split("-----END CERTIFICATE-----").next().unwrap())
            .collect();
        assert_eq!(blocks.len(), 5);
        for block in blocks {
            let der = base64::engine::general_purpose::STANDARD
                .decode(block.split_whitespace().collect::<String>())
                .unwrap();
            // A DER SEQUENCE with a two-byte length: an X.509 certificate's outer shape.
            assert_eq!(der[..2], [0x30, 0x82]);
        }
    }
}
