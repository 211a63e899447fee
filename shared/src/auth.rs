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

    /// One change to a valid token: to its header, a claim (then signed again with the right key,
    /// so that the claim's own check is what decides), its signature or its shape.
    #[derive(Debug, Clone)]
    enum Spoil {
        None,
        Algorithm(&'static str),
        Sub(Option<String>),
        Role(&'static str),
        PartnerId(Option<&'static str>),
        /// Seconds from now; `None` leaves the claim out.
        Exp(Option<i64>),
        Iat(Option<i64>),
        Nbf(Option<i64>),
        Iss(Option<&'static str>),
        Aud(serde_json::Value),
        WrongKey,
        FlipSignatureBit(usize),
        TruncateSignature(usize),
        DropSegment(usize),
        Scheme(&'static str),
    }

    fn any_spoil() -> impl Strategy<Value = Spoil> {
        let offset = prop_oneof![
            Just(None),
            prop::sample::select(vec![-86_400i64, -3_600, -120, 0, 120, 3_600, 11 * 3_600, 13 * 3_600]).prop_map(Some),
        ];
        prop_oneof![
            Just(Spoil::None),
            prop::sample::select(vec!["HS256", "HS384", "HS512", "none", "RS256", "hs256", ""])
                .prop_map(Spoil::Algorithm),
            proptest::option::of(prop_oneof!["[a-z0-9-]{1,20}", "\\PC{0,140}", " +", "a\u{7}b"]).prop_map(Spoil::Sub),
            prop::sample::select(vec!["admin", "partner", "Admin", "", "root"]).prop_map(Spoil::Role),
            proptest::option::of(prop::sample::select(vec![
                "summit-roofing",
                "",
                "../x",
                "a b",
                "other-partner"
            ]))
            .prop_map(Spoil::PartnerId),
            offset.clone().prop_map(Spoil::Exp),
            offset.clone().prop_map(Spoil::Iat),
            offset.prop_map(Spoil::Nbf),
            proptest::option::of(prop::sample::select(vec![
                "https://id.power100.test",
                "https://evil.example",
                ""
            ]))
            .prop_map(Spoil::Iss),
            prop::sample::select(vec![
                serde_json::json!(null),
                serde_json::json!("partner-payments"),
                serde_json::json!("another-app"),
                serde_json::json!(["another-app"]),
                serde_json::json!(7),
            ])
            .prop_map(Spoil::Aud),
            Just(Spoil::WrongKey),
            any::<usize>().prop_map(Spoil::FlipSignatureBit),
            any::<usize>().prop_map(Spoil::TruncateSignature),
            (0usize..3).prop_map(Spoil::DropSegment),
            prop::sample::select(vec!["Bearer", "bearer", "BEARER", "Basic", "Token", ""]).prop_map(Spoil::Scheme),
        ]
    }

    /// A token for `claims` (any JSON) under `alg`, signed with HMAC-SHA256 by `key` (HS384/HS512
    /// with their own HMAC; anything else unsigned), built by hand rather than by jsonwebtoken.
    fn hand_made(alg: &str, claims: &serde_json::Value, key: &[u8]) -> String {
        use hmac::{KeyInit, Mac};
        let header = URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": alg, "typ": "JWT"}).to_string());
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{body}");
        let signature = match alg {
            "HS256" | "hs256" => {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
                mac.update(input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            "HS384" => {
                let mut mac = hmac::Hmac::<sha2::Sha384>::new_from_slice(key).unwrap();
                mac.update(input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            "HS512" => {
                let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
                mac.update(input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            _ => Vec::new(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Whether a token with these claims, HS256-signed with the right key, is valid for anyone:
    /// the rules stated apart from the code that checks them.
    fn claims_are_valid(c: &serde_json::Value, now: i64) -> bool {
        let string = |name: &str| c.get(name).and_then(serde_json::Value::as_str);
        let time = |name: &str| c.get(name).and_then(serde_json::Value::as_i64);
        let sub_ok =
            string("sub").is_some_and(|s| !s.trim().is_empty() && s.len() <= 128 && !s.chars().any(char::is_control));
        let (Some(exp), Some(iat), Some(nbf)) = (time("exp"), time("iat"), time("nbf")) else {
            return false;
        };
        sub_ok
            && string("role").is_some()
            && string("iss") == Some("https://id.power100.test")
            && string("aud") == Some("partner-payments")
            && exp + 30 >= now
            && nbf <= now + 30
            && iat <= now + 30
            && exp - iat <= 12 * 3_600
    }

    proptest! {
        /// A valid token changed in one way is accepted, for the admin or the partner role, exactly
        /// when a model of the rules says the changed token is still valid for that role.
        #[test]
        fn a_changed_token_passes_only_if_it_is_still_valid(partner in any::<bool>(), spoil in any_spoil()) {
            let now = now() as i64;
            let mut c = serde_json::to_value(claims(
                if partner { "partner" } else { "admin" },
                partner.then_some("summit-roofing"),
            ))
            .unwrap();
            let (mut alg, mut key, mut scheme) = ("HS256", secret().expose().as_bytes().to_vec(), "Bearer");
            let set = |c: &mut serde_json::Value, name: &str, value: Option<serde_json::Value>| match value {
                Some(v) => c[name] = v,
                None => {
                    c.as_object_mut().unwrap().remove(name);
                }
            };
            match &spoil {
                Spoil::Algorithm(a) => alg = a,
                Spoil::Sub(sub) => set(&mut c, "sub", sub.clone().map(Into::into)),
                Spoil::Role(role) => set(&mut c, "role", Some((*role).into())),
                Spoil::PartnerId(id) => set(&mut c, "partner_id", id.map(Into::into)),
                Spoil::Exp(at) => set(&mut c, "exp", at.map(|s| (now + s).into())),
                Spoil::Iat(at) => set(&mut c, "iat", at.map(|s| (now + s).into())),
                Spoil::Nbf(at) => set(&mut c, "nbf", at.map(|s| (now + s).into())),
                Spoil::Iss(iss) => set(&mut c, "iss", iss.map(Into::into)),
                Spoil::Aud(aud) => set(&mut c, "aud", (!aud.is_null()).then(|| aud.clone())),
                Spoil::WrongKey => key = b"another-key-another-key-another-key!".to_vec(),
                Spoil::Scheme(s) => scheme = s,
                _ => {}
            }
            let mut token = hand_made(alg, &c, &key);
            let segments: Vec<String> = token.split('.').map(str::to_owned).collect();
            let mut signature_intact = true;
            match spoil {
                Spoil::FlipSignatureBit(at) => {
                    let mut bytes = URL_SAFE_NO_PAD.decode(&segments[2]).unwrap();
                    let bit = at % (bytes.len() * 8);
                    bytes[bit / 8] ^= 1 << (bit % 8);
                    token = format!("{}.{}.{}", segments[0], segments[1], URL_SAFE_NO_PAD.encode(bytes));
                    signature_intact = false;
                }
                Spoil::TruncateSignature(n) => {
                    token = format!("{}.{}.{}", segments[0], segments[1], &segments[2][..n % segments[2].len()]);
                    signature_intact = false;
                }
                Spoil::DropSegment(i) => {
                    let mut kept = segments.clone();
                    kept.remove(i);
                    token = kept.join(".");
                    signature_intact = false;
                }
                _ => {}
            }
            let header = format!("{scheme} {token}");
            let valid = signature_intact
                && alg == "HS256"
                && key == secret().expose().as_bytes()
                && scheme.eq_ignore_ascii_case("bearer")
                && claims_are_valid(&c, now);
            let role = c.get("role").and_then(serde_json::Value::as_str);
            let sub = c.get("sub").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            let expected_admin = (valid && role == Some("admin")).then(|| Admin { id: sub.clone() });
            prop_assert_eq!(auth().admin(Some(&header)).ok(), expected_admin, "{:?}", spoil);
            let partner_id = c
                .get("partner_id")
                .and_then(serde_json::Value::as_str)
                .and_then(|id| PartnerId::parse(id).ok());
            let expected_partner = match (valid && role == Some("partner"), partner_id) {
                (true, Some(partner_id)) => Some(PartnerUser { user: sub, partner_id }),
                _ => None,
            };
            prop_assert_eq!(auth().partner(Some(&header)).ok(), expected_partner, "{:?}", spoil);
        }
    }
}
