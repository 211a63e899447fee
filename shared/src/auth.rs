//! Admin authentication: `Authorization: Bearer <JWT>`, HS256, claims `sub`, `role` = `admin`, `exp`.

use crate::config::Secret;
use crate::domain::history_and_audit::Actor;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: u64,
}

/// Why a request was refused: 401 for the first group, 403 for [`AuthError::NotAdmin`].
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
    #[error("the token is malformed or lacks a required claim (sub, role, exp)")]
    Malformed,
    #[error("this route needs the admin role")]
    NotAdmin,
}

impl AuthError {
    pub fn is_forbidden(&self) -> bool {
        matches!(self, AuthError::NotAdmin)
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

/// Verifies admin tokens; built once per cold start.
#[derive(Clone)]
pub struct AdminAuth {
    key: DecodingKey,
    validation: Validation,
}

impl AdminAuth {
    pub fn new(secret: &Secret) -> AdminAuth {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        AdminAuth {
            key: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
        }
    }

    /// The admin behind an `Authorization` header value.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Admin, AuthError> {
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
        if claims.sub.trim().is_empty() || claims.sub.len() > 128 {
            return Err(AuthError::Malformed);
        }
        if claims.role != "admin" {
            return Err(AuthError::NotAdmin);
        }
        Ok(Admin { id: claims.sub })
    }
}

/// Signs a token (local development and tests; production tokens come from the admin frontend's
/// identity service with the same secret).
pub fn mint_token(secret: &Secret, sub: &str, role: &str, exp: u64) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        sub: sub.to_owned(),
        role: role.to_owned(),
        exp,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
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

    #[test]
    fn accepts_an_admin_token() {
        let token = mint_token(&secret(), "admin-7", "admin", in_an_hour()).unwrap();
        assert_eq!(
            AdminAuth::new(&secret()).verify(Some(&bearer(&token))),
            Ok(Admin { id: "admin-7".into() })
        );
    }

    #[test]
    fn refuses_every_bad_token() {
        let auth = AdminAuth::new(&secret());
        let expired = mint_token(&secret(), "a", "admin", 1_000).unwrap();
        let other_key = mint_token(
            &Secret::new("another-key-another-key-another-key!"),
            "a",
            "admin",
            in_an_hour(),
        )
        .unwrap();
        let partner = mint_token(&secret(), "a", "partner", in_an_hour()).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"a","role":"admin","exp":{}}}"#, in_an_hour()));
        let alg_none = format!("{header}.{body}.");
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &Claims {
                sub: "a".into(),
                role: "admin".into(),
                exp: in_an_hour(),
            },
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
            (Some(bearer(&partner)), AuthError::NotAdmin),
        ];
        for (header, expected) in cases {
            assert_eq!(auth.verify(header.as_deref()), Err(expected.clone()), "{header:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic_or_pass(s in "\\PC{0,300}") {
            prop_assert!(AdminAuth::new(&secret()).verify(Some(&s)).is_err());
        }
    }
}
