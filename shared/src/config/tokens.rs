//! The token settings of each role: its signing key (through the secrets reader) and its rules.

use super::{
    local_keys_allowed, optional, required, secret_source, whole_number, ConfigError, Secret, MIN_JWT_SECRET_BYTES,
};
use crate::auth::{Role, TokenRules, DEFAULT_MAX_TOKEN_LIFETIME};
use crate::secrets::SecretSession;

/// The admin signing key of `infra/local/local.env`: public, so worthless (and refused) anywhere else.
pub const PUBLIC_LOCAL_SIGNING_KEY: &str = "public-local-development-key-for-make-dev-only-0000";
/// The partner signing key of `infra/local/local.env`: public too, and refused the same way.
pub const PUBLIC_LOCAL_PARTNER_SIGNING_KEY: &str = "public-local-partner-key-for-make-dev-only-000000";

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

/// The key that signs `role`'s tokens (`ADMIN_JWT_SECRET[_ARN]` or `PARTNER_JWT_SECRET[_ARN]`), read
/// through `secrets`; keys under 32 bytes and the public local keys (outside local runs) are refused.
pub async fn token_signing_key(role: Role, secrets: &mut SecretSession<'_>) -> Result<Secret, ConfigError> {
    let vars = token_variables(role);
    let secret = secrets.read(vars.key, &secret_source(vars.key, vars.key_arn)).await?;
    check_signing_key(vars.key, secret, vars.public_local_key, local_keys_allowed())
}

pub(super) fn check_signing_key(
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
pub fn token_rules(role: Role) -> Result<TokenRules, ConfigError> {
    let default = DEFAULT_MAX_TOKEN_LIFETIME.as_hours();
    let hours = whole_number("TOKEN_MAX_LIFETIME_HOURS", 1..=24, " of hours", default)?;
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
    Ok(TokenRules {
        issuer: required("TOKEN_ISSUER")?,
        audience,
        max_lifetime: jiff::SignedDuration::from_hours(hours),
    })
}
