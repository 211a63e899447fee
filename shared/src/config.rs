//! Configuration from the environment, read once per cold start.
//!
//! | variable            | meaning                                                  | default |
//! |---------------------|----------------------------------------------------------|---------|
//! | `TABLE_NAME`        | the DynamoDB table                                       | —       |
//! | `ADMIN_JWT_SECRET_ARN`, `PARTNER_JWT_SECRET_ARN` | deployed: the Secrets Manager secret holding the HS256 key of admin tokens (admin-api) or of partner tokens (partner-portal); each function names only its own (see `crate::secrets`) | — |
//! | `ADMIN_JWT_SECRET`, `PARTNER_JWT_SECRET` | local runs: the same keys as plain values (at least 32 bytes each, never the same) | — |
//! | `ALLOW_LOCAL_SIGNING_KEY` | `true` lets the public local keys and webhook secret of `infra/local/local.env` sign tokens and deliveries (make dev only; refused otherwise) | — |
//! | `TOKEN_ISSUER`      | the `iss` every token must carry                           | — |
//! | `ADMIN_TOKEN_AUDIENCE`, `PARTNER_TOKEN_AUDIENCE` | the `aud` of admin tokens and of partner tokens (they must differ) | — |
//! | `TOKEN_MAX_LIFETIME_HOURS` | the longest a token may live, `iat` to `exp` (1 to 24) | 12 |
//! | `BUSINESS_TIME_ZONE`| IANA zone that decides what "today" is                    | `UTC`   |
//! | `STRIPE_SECRET_KEY_ARN` | deployed: the Secrets Manager secret holding this function's own restricted Stripe key (one secret per key) | — |
//! | `STRIPE_WEBHOOK_SECRET_ARN` | deployed (stripe-webhook only): the secret holding the webhook endpoint's signing secret | — |
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
//! | `GRACE_PERIOD_DAYS` | days an auto-renewing manual term keeps its tier past its end while its renewal billing is requested (0 to 90) | 7 |
//! | `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL` | the log level or filter directives      | `info`  |
//! | `AWS_SDK_SYSTEM_ROOTS` | `true`: the SDK trusts the system's CA store, not only AWS's roots | `false` |
//!
//! AWS endpoints and credentials come from the SDK's own variables (`AWS_ENDPOINT_URL` points the
//! functions at local emulators; nothing else differs).

use crate::auth::Role;
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

/// The admin signing key of `infra/local/local.env`: public, so worthless (and refused) anywhere else.
pub const PUBLIC_LOCAL_SIGNING_KEY: &str = "public-local-development-key-for-make-dev-only-0000";
/// The partner signing key of `infra/local/local.env`: public too, and refused the same way.
pub const PUBLIC_LOCAL_PARTNER_SIGNING_KEY: &str = "public-local-partner-key-for-make-dev-only-000000";

/// The Secrets Manager secrets this function's environment names (none in local runs). Each holds
/// one value, its whole `SecretString`, so a function's policy can name exactly the ones it uses.
pub fn configured_secret_arns() -> Vec<String> {
    SECRET_ARN_VARIABLES.into_iter().filter_map(optional).collect()
}

/// The variables that name a function's secrets (deployed); a function sets only those it uses.
pub const SECRET_ARN_VARIABLES: [&str; 4] = [
    "ADMIN_JWT_SECRET_ARN",
    "PARTNER_JWT_SECRET_ARN",
    "STRIPE_SECRET_KEY_ARN",
    "STRIPE_WEBHOOK_SECRET_ARN",
];

/// Where a secret comes from: the secret named by `arn_variable` deployed, the environment
/// variable `variable` locally.
fn secret_source(variable: &'static str, arn_variable: &'static str) -> SecretSource {
    match optional(arn_variable) {
        Some(arn) => SecretSource::SecretsManager { arn },
        None => SecretSource::Environment(variable),
    }
}

/// The variables that configure one role's tokens: each role has its own key and audience, so a
/// function that holds one role's key can neither mint nor accept the other role's tokens.
struct TokenVariables {
    key: &'static str,
    key_arn: &'static str,
    audience: &'static str,
    public_local_key: &'static str,
}

fn token_variables(role: Role) -> TokenVariables {
    match role {
        Role::Admin => TokenVariables {
            key: "ADMIN_JWT_SECRET",
            key_arn: "ADMIN_JWT_SECRET_ARN",
            audience: "ADMIN_TOKEN_AUDIENCE",
            public_local_key: PUBLIC_LOCAL_SIGNING_KEY,
        },
        Role::Partner => TokenVariables {
            key: "PARTNER_JWT_SECRET",
            key_arn: "PARTNER_JWT_SECRET_ARN",
            audience: "PARTNER_TOKEN_AUDIENCE",
            public_local_key: PUBLIC_LOCAL_PARTNER_SIGNING_KEY,
        },
    }
}

fn local_keys_allowed() -> bool {
    optional("ALLOW_LOCAL_SIGNING_KEY").is_some_and(|v| v.trim() == "true")
}

/// The key that signs `role`'s tokens (`ADMIN_JWT_SECRET[_ARN]` or `PARTNER_JWT_SECRET[_ARN]`), read
/// through `secrets`; keys under 32 bytes and the public local keys (outside local runs) are refused.
pub async fn token_signing_key(role: Role, secrets: &mut SecretSession<'_>) -> Result<Secret, ConfigError> {
    let vars = token_variables(role);
    let secret = secrets.read(vars.key, &secret_source(vars.key, vars.key_arn)).await?;
    check_signing_key(vars.key, secret, vars.public_local_key, local_keys_allowed())
}

fn check_signing_key(
    name: &'static str,
    secret: Secret,
    public_local_key: &str,
    local_allowed: bool,
) -> Result<Secret, ConfigError> {
    if secret.expose().len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name,
            why: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
        });
    }
    let public = [PUBLIC_LOCAL_SIGNING_KEY, PUBLIC_LOCAL_PARTNER_SIGNING_KEY];
    if public.contains(&secret.expose()) && !local_allowed {
        return Err(ConfigError::Invalid {
            name,
            why: "is a public local development key; it is accepted only with ALLOW_LOCAL_SIGNING_KEY=true (make dev)"
                .into(),
        });
    }
    if public.contains(&secret.expose()) && secret.expose() != public_local_key {
        return Err(ConfigError::Invalid {
            name,
            why: "is the other role's local key: admin and partner tokens never share a key".into(),
        });
    }
    Ok(secret)
}

/// Whom `role`'s tokens must come from and be for (`TOKEN_ISSUER`; `ADMIN_TOKEN_AUDIENCE` or
/// `PARTNER_TOKEN_AUDIENCE`), and how long they may live (`TOKEN_MAX_LIFETIME_HOURS`, 1 to 24,
/// default 12). The two audiences must differ, where both are set: a token is for one API only.
pub fn token_rules(role: Role) -> Result<crate::auth::TokenRules, ConfigError> {
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
    let audience = required(token_variables(role).audience)?;
    let other = match role {
        Role::Admin => Role::Partner,
        Role::Partner => Role::Admin,
    };
    if optional(token_variables(other).audience).is_some_and(|a| a.trim() == audience.trim()) {
        return Err(ConfigError::Invalid {
            name: token_variables(role).audience,
            why: "must differ from the other role's audience".into(),
        });
    }
    Ok(crate::auth::TokenRules {
        issuer: required("TOKEN_ISSUER")?,
        audience,
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

/// The webhook endpoint's signing secret: the secret `STRIPE_WEBHOOK_SECRET_ARN` deployed,
/// `STRIPE_WEBHOOK_SECRET` locally.
pub async fn stripe_webhook_secret(secrets: &mut SecretSession<'_>) -> Result<Secret, ConfigError> {
    let source = secret_source("STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET_ARN");
    let secret = secrets.read("STRIPE_WEBHOOK_SECRET", &source).await?;
    refuse_public_webhook_secret(secret, local_keys_allowed())
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

/// Where this function's Stripe key comes from: the secret `STRIPE_SECRET_KEY_ARN` (this function's
/// own restricted key) deployed, `STRIPE_SECRET_KEY` locally; `None` when neither is configured.
fn stripe_key_source() -> Option<SecretSource> {
    match (optional("STRIPE_SECRET_KEY_ARN"), optional("STRIPE_SECRET_KEY")) {
        (Some(arn), _) => Some(SecretSource::SecretsManager { arn }),
        (None, Some(_)) => Some(SecretSource::Environment("STRIPE_SECRET_KEY")),
        (None, None) => None,
    }
}

/// The Stripe API client: this function's key (see [`stripe_key_source`]), and `STRIPE_API_BASE`
/// where it is set.
pub async fn stripe_api(secrets: &mut SecretSession<'_>) -> Result<StripeApi, ConfigError> {
    optional_stripe_api(secrets).await?.ok_or(ConfigError::Missing(
        "STRIPE_SECRET_KEY_ARN (deployed) or STRIPE_SECRET_KEY (local runs)",
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
    let Some(source) = stripe_key_source() else {
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

    /// The resource `name`'s lines in the template's text (up to the next top-level resource).
    fn template_resource<'t>(template: &'t str, name: &str) -> Vec<&'t str> {
        let section = template
            .split(&format!("\n  {name}:\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("{name} is in the template"));
        section
            .lines()
            .take_while(|line| !(line.starts_with("  ") && !line.starts_with("   ") && !line.trim().is_empty()))
            .collect()
    }

    /// `VARIABLE: !Ref Parameter` pairs of a function's environment whose variable ends in `_ARN`.
    fn secret_variables(lines: &[&str]) -> std::collections::BTreeMap<String, String> {
        lines
            .iter()
            .filter_map(|line| line.trim().split_once(": !Ref "))
            .filter(|(variable, _)| variable.ends_with("_ARN"))
            .map(|(variable, parameter)| (variable.to_owned(), parameter.trim().to_owned()))
            .collect()
    }

    /// The secret parameters the function's `secretsmanager:GetSecretValue` statement names.
    fn readable_secrets(lines: &[&str]) -> std::collections::BTreeSet<String> {
        let Some(start) = lines.iter().position(|l| l.contains("secretsmanager:")) else {
            return Default::default();
        };
        lines[start + 1..]
            .iter()
            .take_while(|line| !line.trim_start().starts_with("- Sid:"))
            .filter_map(|line| line.split("!Ref ").nth(1))
            .map(|parameter| parameter.trim().to_owned())
            .collect()
    }

    #[test]
    fn no_function_can_read_a_secret_it_does_not_use() {
        use std::collections::{BTreeMap, BTreeSet};
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
        // What each function's code reads (`token_signing_key` of its one role, its own Stripe key,
        // and the webhook's signing secret), and from which parameter.
        let uses: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::from([
            (
                "AdminApiFunction",
                BTreeMap::from([
                    ("ADMIN_JWT_SECRET_ARN", "AdminJwtSecretArn"),
                    ("STRIPE_SECRET_KEY_ARN", "StripeAdminApiKeySecretArn"),
                ]),
            ),
            (
                "PartnerPortalFunction",
                BTreeMap::from([
                    ("PARTNER_JWT_SECRET_ARN", "PartnerJwtSecretArn"),
                    ("STRIPE_SECRET_KEY_ARN", "StripePartnerPortalKeySecretArn"),
                ]),
            ),
            (
                "StripeWebhookFunction",
                BTreeMap::from([
                    ("STRIPE_SECRET_KEY_ARN", "StripeWebhookKeySecretArn"),
                    ("STRIPE_WEBHOOK_SECRET_ARN", "StripeWebhookSigningSecretArn"),
                ]),
            ),
            (
                "StripeReconcileFunction",
                BTreeMap::from([("STRIPE_SECRET_KEY_ARN", "StripeReconcileKeySecretArn")]),
            ),
        ]);
        let lines: Vec<&str> = template.lines().collect();
        let functions: Vec<&str> = lines
            .windows(2)
            .filter(|pair| pair[1] == "    Type: AWS::Serverless::Function")
            .filter_map(|pair| pair[0].strip_prefix("  ")?.strip_suffix(':'))
            .collect();
        assert_eq!(functions.len(), 8, "every function is checked: {functions:?}");
        let variables_the_code_reads = configured_secret_arns_names();
        let mut readers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for function in &functions {
            let lines = template_resource(&template, function);
            let expected: BTreeMap<String, String> = uses
                .get(function)
                .into_iter()
                .flatten()
                .map(|(v, p)| ((*v).to_owned(), (*p).to_owned()))
                .collect();
            let environment = secret_variables(&lines);
            assert_eq!(
                environment, expected,
                "{function}'s environment names exactly the secrets it uses"
            );
            assert!(environment.keys().all(|v| variables_the_code_reads.contains(v)));
            let readable = readable_secrets(&lines);
            let used: BTreeSet<String> = expected.values().cloned().collect();
            assert_eq!(
                readable, used,
                "{function}'s policy reaches exactly the secrets it uses"
            );
            assert!(
                lines
                    .iter()
                    .filter(|l| l.contains("secretsmanager:"))
                    .all(|l| l.trim() == "Action: secretsmanager:GetSecretValue"),
                "{function}: reading is all a function may do with a secret"
            );
            for parameter in readable {
                readers.entry(parameter).or_default().push(function);
            }
        }
        for (parameter, functions) in &readers {
            assert_eq!(
                functions.len(),
                1,
                "{parameter} is one function's secret, not {functions:?}'s"
            );
        }
        assert_eq!(readers.len(), 7, "one secret per key: {readers:?}");
        // The role split itself: the portal never holds the admin key, nor admin-api the partner key.
        assert!(!readers["AdminJwtSecretArn"].contains(&"PartnerPortalFunction"));
        assert!(!readers["PartnerJwtSecretArn"].contains(&"AdminApiFunction"));
    }

    fn configured_secret_arns_names() -> std::collections::BTreeSet<String> {
        super::SECRET_ARN_VARIABLES.iter().map(|v| (*v).to_owned()).collect()
    }

    /// A parameter's default in the template.
    fn parameter_default(template: &str, name: &str) -> f64 {
        template_resource(template, name)
            .iter()
            .find_map(|line| line.trim().strip_prefix("Default: "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} has a numeric default"))
    }

    /// No client can spend the throttles everyone shares: every request reaches the API through the
    /// edge distribution, whose WebACL limits each client IP to a rate well under the stage's and
    /// the sign-in routes' throttles.
    #[test]
    fn one_client_cannot_spend_the_throttles_everyone_shares() {
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
        let distribution = template_resource(&template, "EdgeDistribution").join("\n");
        assert!(
            distribution.contains(
                "WebACLId: !If [EdgeWebAclHere, !GetAtt EdgeWebAcl.Arn, !If [HasEdgeWebAclArn, !Ref EdgeWebAclArn"
            ),
            "the distribution carries the WebACL"
        );
        assert!(
            distribution.contains("DomainName: !Sub ${HttpApi}.execute-api."),
            "its origin is the API"
        );
        let acl = template_resource(&template, "EdgeWebAcl").join("\n");
        assert!(acl.contains("Scope: CLOUDFRONT"));
        assert_eq!(
            acl.matches("AggregateKeyType: IP").count(),
            2,
            "two limits per client IP"
        );
        let sign_in = acl
            .split("- Name: PerClientSignInLimit")
            .nth(1)
            .unwrap()
            .split("- Name: PerClientLimit")
            .next()
            .unwrap();
        for route in ["/portal/sign-in", "/portal/session"] {
            assert!(
                sign_in.contains(&format!("SearchString: {route}")),
                "{route} has the tight limit"
            );
        }
        assert!(sign_in.contains("Action: {Block: {}}") && acl.matches("Action: {Block: {}}").count() == 2);
        // Per second, one client's most is far under the throttle all clients share.
        let window = 300.0;
        let stage = parameter_default(&template, "ApiThrottleRate");
        let per_client = parameter_default(&template, "EdgeRateLimitPerClient") / window;
        assert!(
            per_client * 5.0 <= stage,
            "{per_client}/s per client against {stage}/s for everyone"
        );
        let sign_in_route = parameter_default(&template, "PortalPaymentThrottleRate");
        let per_client_sign_in = parameter_default(&template, "EdgeSignInRateLimitPerClient") / window;
        assert!(
            per_client_sign_in * 5.0 <= sign_in_route,
            "{per_client_sign_in}/s per client against {sign_in_route}/s for everyone"
        );
        assert!(template.contains("  EdgeUrl:\n"), "clients are told where to reach it");
    }

    #[test]
    fn a_signing_key_is_one_roles_and_never_a_public_one_outside_local_runs() {
        use super::{check_signing_key, Secret, PUBLIC_LOCAL_PARTNER_SIGNING_KEY, PUBLIC_LOCAL_SIGNING_KEY};
        let local_env =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/local/local.env")).unwrap();
        assert!(local_env.contains(&format!("ADMIN_JWT_SECRET={PUBLIC_LOCAL_SIGNING_KEY}\n")));
        assert!(local_env.contains(&format!("PARTNER_JWT_SECRET={PUBLIC_LOCAL_PARTNER_SIGNING_KEY}\n")));
        let check = |key: &str, own: &str, local: bool| check_signing_key("K", Secret::new(key), own, local).is_ok();
        assert!(check(PUBLIC_LOCAL_SIGNING_KEY, PUBLIC_LOCAL_SIGNING_KEY, true));
        assert!(!check(PUBLIC_LOCAL_SIGNING_KEY, PUBLIC_LOCAL_SIGNING_KEY, false));
        assert!(!check(
            PUBLIC_LOCAL_PARTNER_SIGNING_KEY,
            PUBLIC_LOCAL_PARTNER_SIGNING_KEY,
            false
        ));
        assert!(
            !check(PUBLIC_LOCAL_SIGNING_KEY, PUBLIC_LOCAL_PARTNER_SIGNING_KEY, true),
            "the portal refuses the admin's local key even locally"
        );
        assert!(!check("short", PUBLIC_LOCAL_SIGNING_KEY, true));
        assert!(check(
            "a-real-key-of-at-least-thirty-two-bytes!!",
            PUBLIC_LOCAL_SIGNING_KEY,
            false
        ));
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
