//! Bearer tokens: `Authorization: Bearer <JWT>`, HS256, claims `sub`, `role`, `exp`; a partner token
//! also carries `partner_id`, the only place a portal request learns which partner it acts for.
//!
//! | role      | claims                                  | routes            |
//! |-----------|-----------------------------------------|-------------------|
//! | `admin`   | `sub` (the admin user), `role`, `exp`   | `/admin`, `/api`  |
//! | `partner` | `sub` (the partner user), `role`, `partner_id`, `exp` | `/portal` |
//!
//! A valid token of the other role answers 403; anything else wrong with a token answers 401.

use crate::config::Secret;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::PartnerId;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: u64,
    /// The partner a `partner` token acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
}

/// Who a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Partner,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Partner => "partner",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused: 401, except [`AuthError::WrongRole`] (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header is missing")]
    Missing,
    #[error("the Authorization header must be 'Bearer <token>'")]
    NotBearer,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token's algorithm is not accepted (HS256 only)")]
    WrongAlgorithm,
    #[error("the token is malformed or lacks a required claim (sub, role, exp; partner_id for partners)")]
    Malformed,
    #[error("this route needs the {needed} role")]
    WrongRole { needed: Role },
}

impl AuthError {
    pub fn is_forbidden(&self) -> bool {
        matches!(self, AuthError::WrongRole { .. })
    }
}

/// An authenticated admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub id: String,
}

impl Admin {
    pub fn actor(&self) -> Actor {
        Actor::Admin(self.id.clone())
    }
}

/// An authenticated partner user, and the partner their token acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUser {
    /// The token's `sub`.
    pub user: String,
    pub partner_id: PartnerId,
}

impl PartnerUser {
    /// `partner:<sub>` in history and audit.
    pub fn actor(&self) -> Actor {
        Actor::Partner(self.user.clone())
    }
}

/// Verifies bearer tokens; built once per cold start.
#[derive(Clone)]
pub struct TokenAuth {
    key: DecodingKey,
    validation: Validation,
}

impl TokenAuth {
    pub fn new(secret: &Secret) -> TokenAuth {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        TokenAuth {
            key: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
        }
    }

    /// The admin behind an `Authorization` header value.
    pub fn admin(&self, authorization: Option<&str>) -> Result<Admin, AuthError> {
        let claims = self.claims(authorization)?;
        if claims.role != Role::Admin.as_str() {
            return Err(AuthError::WrongRole { needed: Role::Admin });
        }
        Ok(Admin { id: claims.sub })
    }

    /// The partner user behind an `Authorization` header value: a `partner` token naming its partner.
    pub fn partner(&self, authorization: Option<&str>) -> Result<PartnerUser, AuthError> {
        let claims = self.claims(authorization)?;
        if claims.role != Role::Partner.as_str() {
            return Err(AuthError::WrongRole { needed: Role::Partner });
        }
        let partner_id = claims
            .partner_id
            .as_deref()
            .and_then(|id| PartnerId::parse(id).ok())
            .ok_or(AuthError::Malformed)?;
        Ok(PartnerUser {
            user: claims.sub,
            partner_id,
        })
    }

    /// The verified claims of a bearer token, whatever its role.
    fn claims(&self, authorization: Option<&str>) -> Result<Claims, AuthError> {
        let header = authorization.ok_or(AuthError::Missing)?.trim();
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
            _ => return Err(AuthError::NotBearer),
        };
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => AuthError::WrongAlgorithm,
            _ => AuthError::Malformed,
        })?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() || claims.sub.len() > 128 || claims.sub.chars().any(char::is_control) {
            return Err(AuthError::Malformed);
        }
        Ok(claims)
    }
}

/// Signs a token (local development and tests; production tokens come from the identity service
/// with the same secret). `partner_id` only for the `partner` role.
pub fn mint_token(
    secret: &Secret,
    sub: &str,
    role: Role,
    partner_id: Option<&PartnerId>,
    exp: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    sign_claims(
        secret,
        &Claims {
            sub: sub.to_owned(),
            role: role.as_str().to_owned(),
            exp,
            partner_id: partner_id.map(ToString::to_string),
        },
    )
}

/// Signs any claims with HS256 (tests build odd tokens with it).
pub fn sign_claims(secret: &Secret, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;

    fn secret() -> Secret {
        Secret::new("unit-test-key-unit-test-key-unit-test-key")
    }

    fn in_an_hour() -> u64 {
        jiff::Timestamp::now().as_second() as u64 + 3_600
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn partner_id() -> PartnerId {
        PartnerId::parse("summit-roofing").unwrap()
    }

    fn claims(role: &str, partner_id: Option<&str>) -> Claims {
        Claims {
            sub: "user-1".into(),
            role: role.into(),
            exp: in_an_hour(),
            partner_id: partner_id.map(str::to_owned),
        }
    }

    #[test]
    fn accepts_an_admin_token() {
        let token = mint_token(&secret(), "admin-7", Role::Admin, None, in_an_hour()).unwrap();
        assert_eq!(
            TokenAuth::new(&secret()).admin(Some(&bearer(&token))),
            Ok(Admin { id: "admin-7".into() })
        );
    }

    #[test]
    fn accepts_a_partner_token_for_its_partner_only() {
        let token = mint_token(&secret(), "user-9", Role::Partner, Some(&partner_id()), in_an_hour()).unwrap();
        let user = TokenAuth::new(&secret()).partner(Some(&bearer(&token))).unwrap();
        assert_eq!(user.partner_id, partner_id());
        assert_eq!(user.actor().to_string(), "partner:user-9");
    }

    #[test]
    fn each_role_is_refused_where_the_other_is_needed() {
        let auth = TokenAuth::new(&secret());
        let admin = mint_token(&secret(), "a", Role::Admin, None, in_an_hour()).unwrap();
        let partner = mint_token(&secret(), "u", Role::Partner, Some(&partner_id()), in_an_hour()).unwrap();
        assert_eq!(
            auth.partner(Some(&bearer(&admin))),
            Err(AuthError::WrongRole { needed: Role::Partner })
        );
        assert_eq!(
            auth.admin(Some(&bearer(&partner))),
            Err(AuthError::WrongRole { needed: Role::Admin })
        );
        assert!(AuthError::WrongRole { needed: Role::Admin }.is_forbidden());
    }

    #[test]
    fn refuses_every_bad_token() {
        let auth = TokenAuth::new(&secret());
        let expired = mint_token(&secret(), "a", Role::Admin, None, 1_000).unwrap();
        let other_key = mint_token(
            &Secret::new("another-key-another-key-another-key!"),
            "a",
            Role::Admin,
            None,
            in_an_hour(),
        )
        .unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"a","role":"admin","exp":{}}}"#, in_an_hour()));
        let alg_none = format!("{header}.{body}.");
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims("admin", None),
            &EncodingKey::from_secret(secret().expose().as_bytes()),
        )
        .unwrap();
        let cases = [
            (None, AuthError::Missing),
            (Some("Basic abc".to_owned()), AuthError::NotBearer),
            (Some("Bearer ".to_owned()), AuthError::NotBearer),
            (Some(bearer("not.a.jwt")), AuthError::Malformed),
            (Some(bearer(&expired)), AuthError::Expired),
            (Some(bearer(&other_key)), AuthError::BadSignature),
            (Some(bearer(&alg_none)), AuthError::Malformed),
            (Some(bearer(&hs512)), AuthError::WrongAlgorithm),
        ];
        for (header, expected) in cases {
            assert_eq!(auth.admin(header.as_deref()), Err(expected.clone()), "{header:?}");
            assert_eq!(auth.partner(header.as_deref()), Err(expected), "{header:?}");
        }
    }

    #[test]
    fn a_partner_token_must_name_a_valid_partner() {
        let auth = TokenAuth::new(&secret());
        for partner_id in [None, Some(""), Some("../other"), Some("a b")] {
            let token = sign_claims(&secret(), &claims("partner", partner_id)).unwrap();
            assert_eq!(
                auth.partner(Some(&bearer(&token))),
                Err(AuthError::Malformed),
                "{partner_id:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic_or_pass(s in "\\PC{0,300}") {
            prop_assert!(TokenAuth::new(&secret()).admin(Some(&s)).is_err());
            prop_assert!(TokenAuth::new(&secret()).partner(Some(&s)).is_err());
        }
    }
}
