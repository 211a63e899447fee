//! Stripe's settings: this function's key, the API base, the webhook secret, the prices, the customer
//! portal. The Stripe client builds itself from them (`StripeApi::new(&StripeSettings)`).

use super::{local_keys_allowed, optional, required, secret_source, ConfigError, Secret, SecretSource};
use crate::secrets::SecretSession;

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
pub(super) fn refuse_public_webhook_secret(secret: Secret, local_allowed: bool) -> Result<Secret, ConfigError> {
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

/// What the Stripe client is built from: this function's own key and, where `STRIPE_API_BASE` is
/// set, another API base (local servers in tests and `make dev`).
#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub secret_key: Secret,
    pub api_base: Option<String>,
}

/// This function's Stripe settings (its key: see [`stripe_key_source`]); refused when no key is
/// configured.
pub async fn stripe_settings(secrets: &mut SecretSession<'_>) -> Result<StripeSettings, ConfigError> {
    optional_stripe_settings(secrets).await?.ok_or(ConfigError::Missing(
        "STRIPE_SECRET_KEY_ARN (deployed) or STRIPE_SECRET_KEY (local runs)",
    ))
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

/// Stripe's customer portal: the configuration a session shows (one that allows only payment-method
/// updates and invoice history: no plan switches, no cancelling: those are ours, with their rules),
/// and where it returns to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPortal {
    /// `bpc_...`: see the README's Stripe setup.
    pub configuration: String,
    pub return_url: String,
}

/// Stripe's customer portal: `STRIPE_BILLING_PORTAL_RETURN_URL` (where it sends the partner back)
/// with `STRIPE_BILLING_PORTAL_CONFIGURATION` (`bpc_...`, the configuration that allows only
/// payment-method updates and invoice history). `None` without a return URL: no sessions. A return
/// URL without a configuration refuses to start: the account's default configuration may let a
/// partner switch plans or cancel its commitment.
pub fn stripe_customer_portal() -> Result<Option<CustomerPortal>, ConfigError> {
    customer_portal_from(
        optional("STRIPE_BILLING_PORTAL_RETURN_URL"),
        optional("STRIPE_BILLING_PORTAL_CONFIGURATION"),
    )
}

pub(super) fn customer_portal_from(
    return_url: Option<String>,
    configuration: Option<String>,
) -> Result<Option<CustomerPortal>, ConfigError> {
    let Some(return_url) = return_url else {
        return Ok(None);
    };
    match configuration {
        Some(configuration) if configuration.starts_with("bpc_") && configuration.len() <= 255 => {
            Ok(Some(CustomerPortal {
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

/// This function's Stripe settings where a key is configured (functions for which Stripe is optional).
pub async fn optional_stripe_settings(secrets: &mut SecretSession<'_>) -> Result<Option<StripeSettings>, ConfigError> {
    let Some(source) = stripe_key_source() else {
        return Ok(None);
    };
    Ok(Some(StripeSettings {
        secret_key: secrets.read("STRIPE_SECRET_KEY", &source).await?,
        api_base: optional("STRIPE_API_BASE"),
    }))
}

/// The Stripe price of each paid tier.
pub fn stripe_prices() -> Result<crate::domain::billing::PriceCatalog, ConfigError> {
    Ok(crate::domain::billing::PriceCatalog {
        gold: required("STRIPE_PRICE_GOLD")?,
        platinum: required("STRIPE_PRICE_PLATINUM")?,
    })
}
