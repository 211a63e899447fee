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

use crate::domain::dates::BusinessCalendar;
use crate::domain::lifecycle::DEFAULT_GRACE_DAYS;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

mod aws;
mod stripe;
mod tokens;
mod values;

pub use aws::{aws_http_client, aws_sdk_config, SdkConfig, AWS_TRUST_ROOTS_PEM};
pub use stripe::{
    optional_stripe_settings, stripe_customer_portal, stripe_prices, stripe_publishable_key, stripe_settings,
    stripe_webhook_secret, CustomerPortal, StripeSettings, PUBLIC_LOCAL_WEBHOOK_SECRET,
};
pub use tokens::{token_rules, token_signing_key, PUBLIC_LOCAL_PARTNER_SIGNING_KEY, PUBLIC_LOCAL_SIGNING_KEY};
pub use values::{ConfigError, Secret, SecretSource};

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

/// The whole number in variable `name`, within `range` (`unit`, such as " of days", names what it
/// counts in the refusal); `default` when the variable is absent or blank.
fn whole_number<T>(name: &'static str, range: RangeInclusive<T>, unit: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Display,
{
    let Some(text) = optional(name) else {
        return Ok(default);
    };
    text.trim()
        .parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| ConfigError::Invalid {
            name,
            why: format!("must be a whole number{unit} from {} to {}", range.start(), range.end()),
        })
}

pub fn table_name() -> Result<String, ConfigError> {
    required("TABLE_NAME")
}

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

fn local_keys_allowed() -> bool {
    optional("ALLOW_LOCAL_SIGNING_KEY").is_some_and(|v| v.trim() == "true")
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
    whole_number("GRACE_PERIOD_DAYS", 0..=MAX_GRACE_DAYS, " of days", DEFAULT_GRACE_DAYS)
}

/// `BILLED_OVERDUE_DAYS`: days past its end after which a Stripe-billed term with nothing paid is
/// alarmed on (default 45, at most 365).
pub fn billed_overdue_days() -> Result<i32, ConfigError> {
    let default = crate::domain::lifecycle::DEFAULT_BILLED_OVERDUE_DAYS;
    whole_number("BILLED_OVERDUE_DAYS", 1..=365, " of days", default)
}

/// The log filter: `RUST_LOG`, else Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`.
pub fn log_level() -> String {
    optional("RUST_LOG")
        .or_else(|| optional("AWS_LAMBDA_LOG_LEVEL").map(|level| level.to_lowercase()))
        .unwrap_or_else(|| "info".to_owned())
}

/// Default of `PORTAL_RATE_LIMIT_PER_MINUTE`.
pub const DEFAULT_PORTAL_RATE_LIMIT: u32 = 10;

/// Portal payment requests a partner may make per minute.
pub fn portal_rate_limit_per_minute() -> Result<u32, ConfigError> {
    whole_number("PORTAL_RATE_LIMIT_PER_MINUTE", 1..=1000, "", DEFAULT_PORTAL_RATE_LIMIT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_public_local_webhook_secret_is_refused_outside_local_runs() {
        use super::stripe::refuse_public_webhook_secret;
        use super::{Secret, PUBLIC_LOCAL_WEBHOOK_SECRET};
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
        use super::stripe::customer_portal_from;
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
        use super::tokens::check_signing_key;
        use super::{Secret, PUBLIC_LOCAL_PARTNER_SIGNING_KEY, PUBLIC_LOCAL_SIGNING_KEY};
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
