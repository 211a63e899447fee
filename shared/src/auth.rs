//! Bearer tokens: `Authorization: Bearer <JWT>`, HS256, claims `sub`, `role`, `exp`; a partner token
//! also carries `partner_id`, the only place a portal request learns which partner it acts for.
//!
//! | role      | claims                                  | routes            |
//! |-----------|-----------------------------------------|-------------------|
//! | `admin`   | `sub` (the admin user), `role`, `exp`   | `/admin`, `/api`  |
//! | `partner` | `sub` (the partner user), `role`, `partner_id`, `exp` | `/portal` |
//!
//! Every token also carries `iss` and `aud` (both configured, [`TokenRules`]), `iat` and `nbf`, and
//! lives at most [`TokenRules::max_lifetime`] (12 h by default) from `iat` to `exp`.
//!
//! A valid token of the other role answers 403; anything else wrong with a token answers 401 with
//! "invalid token", whatever check failed (the log says which: [`AuthError::reason`]).

use crate::config::Secret;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::PartnerId;
use jiff::SignedDuration;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

mod hs256;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: u64,
    /// The partner a `partner` token acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// Whom tokens must come from and be for, and how long they may live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRules {
    pub issuer: String,
    pub audience: String,
    pub max_lifetime: SignedDuration,
}

/// The longest a token may live unless configured otherwise.
pub const DEFAULT_MAX_TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// Clock skew forgiven on `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: u64 = 30;

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

/// Why a request was refused: 401, except [`AuthError::WrongRole`] (403). Every failed token
/// check shows as "invalid token"; [`AuthError::reason`] (logged) says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header is missing")]
    Missing,
    #[error("the Authorization header must be 'Bearer <token>'")]
    NotBearer,
    #[error("invalid token")]
    Expired,
    #[error("invalid token")]
    BadSignature,
    #[error("invalid token")]
    WrongAlgorithm,
    #[error("invalid token")]
    Malformed,
    #[error("invalid token")]
    WrongIssuer,
    #[error("invalid token")]
    WrongAudience,
    #[error("invalid token")]
    NotYetValid,
    #[error("invalid token")]
    TooLong,
    #[error("this route needs the {needed} role")]
    WrongRole { needed: Role },
}

impl AuthError {
    pub fn is_forbidden(&self) -> bool {
        matches!(self, AuthError::WrongRole { .. })
    }

    /// Which check failed, for the log (never shown to the caller).
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "no Authorization header",
            AuthError::NotBearer => "not a Bearer header",
            AuthError::Expired => "expired",
            AuthError::BadSignature => "bad signature",
            AuthError::WrongAlgorithm => "algorithm not HS256",
            AuthError::Malformed => "malformed, or a required claim is missing (sub, role, exp, iss, aud, iat, nbf; partner_id for partners)",
            AuthError::WrongIssuer => "wrong issuer",
            AuthError::WrongAudience => "wrong audience",
            AuthError::NotYetValid => "not valid yet (nbf or iat in the future)",
            AuthError::TooLong => "lifetime longer than allowed",
            AuthError::WrongRole { .. } => "wrong role",
        }
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
    rules: TokenRules,
}

impl TokenAuth {
    pub fn new(secret: &Secret, rules: TokenRules) -> TokenAuth {
        hs256::install();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud", "nbf"]);
        validation.set_issuer(&[rules.issuer.as_str()]);
        validation.set_audience(&[rules.audience.as_str()]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        TokenAuth {
            key: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            rules,
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
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            _ => AuthError::Malformed,
        })?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() || claims.sub.len() > 128 || claims.sub.chars().any(char::is_control) {
            return Err(AuthError::Malformed);
        }
        let issued = claims.iat.ok_or(AuthError::Malformed)?;
        let now = jiff::Timestamp::now().as_second().max(0) as u64;
        if issued > now + LEEWAY_SECONDS {
            return Err(AuthError::NotYetValid);
        }
        let lifetime = claims.exp.saturating_sub(issued);
        if lifetime > self.rules.max_lifetime.as_secs().max(0) as u64 {
            return Err(AuthError::TooLong);
        }
        Ok(claims)
    }
}

/// Signs a token issued now, for `rules`' issuer and audience (local development and tests;
/// production tokens come from the identity service with the same secret). `partner_id` only for
/// the `partner` role.
pub fn mint_token(
    secret: &Secret,
    rules: &TokenRules,
    sub: &str,
    role: Role,
    partner_id: Option<&PartnerId>,
    exp: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = jiff::Timestamp::now().as_second().max(0) as u64;
    sign_claims(
        secret,
        &Claims {
            sub: sub.to_owned(),
            role: role.as_str().to_owned(),
            exp,
            partner_id: partner_id.map(ToString::to_string),
            iss: Some(rules.issuer.clone()),
            aud: Some(rules.audience.clone()),
            iat: Some(now),
            nbf: Some(now),
        },
    )
}

/// Signs any claims with HS256 (tests build odd tokens with it).
pub fn sign_claims(secret: &Secret, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    hs256::install();
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

    fn rules() -> TokenRules {
        TokenRules {
            issuer: "https://id.power100.test".into(),
            audience: "partner-payments".into(),
            max_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
        }
    }

    fn auth() -> TokenAuth {
        TokenAuth::new(&secret(), rules())
    }

    fn now() -> u64 {
        jiff::Timestamp::now().as_second() as u64
    }

    fn in_an_hour() -> u64 {
        now() + 3_600
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn partner_id() -> PartnerId {
        PartnerId::parse("summit-roofing").unwrap()
    }

    /// Valid claims of `role`, to spoil one at a time.
    fn claims(role: &str, partner_id: Option<&str>) -> Claims {
        Claims {
            sub: "user-1".into(),
            role: role.into(),
            exp: in_an_hour(),
            partner_id: partner_id.map(str::to_owned),
            iss: Some(rules().issuer),
            aud: Some(rules().audience),
            iat: Some(now()),
            nbf: Some(now()),
        }
    }

    fn signed(claims: &Claims) -> String {
        bearer(&sign_claims(&secret(), claims).unwrap())
    }

    #[test]
    fn accepts_an_admin_token() {
        let token = mint_token(&secret(), &rules(), "admin-7", Role::Admin, None, in_an_hour()).unwrap();
        assert_eq!(auth().admin(Some(&bearer(&token))), Ok(Admin { id: "admin-7".into() }));
    }

    #[test]
    fn accepts_a_partner_token_for_its_partner_only() {
        let token = mint_token(
            &secret(),
            &rules(),
            "user-9",
            Role::Partner,
            Some(&partner_id()),
            in_an_hour(),
        )
        .unwrap();
        let user = auth().partner(Some(&bearer(&token))).unwrap();
        assert_eq!(user.partner_id, partner_id());
        assert_eq!(user.actor().to_string(), "partner:user-9");
    }

    #[test]
    fn each_role_is_refused_where_the_other_is_needed() {
        let admin = signed(&claims("admin", None));
        let partner = signed(&claims("partner", Some("summit-roofing")));
        assert_eq!(
            auth().partner(Some(&admin)),
            Err(AuthError::WrongRole { needed: Role::Partner })
        );
        assert_eq!(
            auth().admin(Some(&partner)),
            Err(AuthError::WrongRole { needed: Role::Admin })
        );
        assert!(AuthError::WrongRole { needed: Role::Admin }.is_forbidden());
    }

    #[test]
    fn refuses_every_bad_token_saying_only_invalid_token() {
        let spoiled = |spoil: fn(&mut Claims)| {
            let mut c = claims("admin", None);
            spoil(&mut c);
            Some(signed(&c))
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims("admin", None)).unwrap());
        let alg_none = format!("{header}.{body}.");
        // Only HS256 is ever signed here; the algorithm is refused before any signature is read.
        let hs512_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
        let hs512 = format!("{hs512_header}.{body}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]));
        let other_key = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims("admin", None),
            &EncodingKey::from_secret(b"another-key-another-key-another-key!"),
        )
        .unwrap();
        let cases = [
            (None, AuthError::Missing),
            (Some("Basic abc".to_owned()), AuthError::NotBearer),
            (Some("Bearer ".to_owned()), AuthError::NotBearer),
            (Some(bearer("not.a.jwt")), AuthError::Malformed),
            (spoiled(|c| c.exp = 1_000), AuthError::Expired),
            (Some(bearer(&other_key)), AuthError::BadSignature),
            (Some(bearer(&alg_none)), AuthError::Malformed),
            (Some(bearer(&hs512)), AuthError::WrongAlgorithm),
            (
                spoiled(|c| c.iss = Some("https://evil.example".into())),
                AuthError::WrongIssuer,
            ),
            (spoiled(|c| c.iss = None), AuthError::Malformed),
            (
                spoiled(|c| c.aud = Some("another-app".into())),
                AuthError::WrongAudience,
            ),
            (spoiled(|c| c.aud = None), AuthError::Malformed),
            (spoiled(|c| c.iat = None), AuthError::Malformed),
            (spoiled(|c| c.nbf = None), AuthError::Malformed),
            (spoiled(|c| c.nbf = Some(c.exp - 60)), AuthError::NotYetValid),
            (spoiled(|c| c.iat = c.iat.map(|i| i + 600)), AuthError::NotYetValid),
            (spoiled(|c| c.exp = now() + 13 * 3_600), AuthError::TooLong),
        ];
        for (header, expected) in cases {
            let refused = auth().admin(header.as_deref());
            assert_eq!(refused, Err(expected.clone()), "{header:?}");
            if !matches!(expected, AuthError::Missing | AuthError::NotBearer) {
                assert_eq!(
                    expected.to_string(),
                    "invalid token",
                    "the answer never says which check failed"
                );
            }
            assert_eq!(auth().partner(header.as_deref()), Err(expected), "{header:?}");
        }
    }

    #[test]
    fn a_partner_token_must_name_a_valid_partner() {
        for partner_id in [None, Some(""), Some("../other"), Some("a b")] {
            let token = signed(&claims("partner", partner_id));
            assert_eq!(
                auth().partner(Some(&token)),
                Err(AuthError::Malformed),
                "{partner_id:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic_or_pass(s in "\\PC{0,300}") {
            prop_assert!(auth().admin(Some(&s)).is_err());
            prop_assert!(auth().partner(Some(&s)).is_err());
        }
    }
}
