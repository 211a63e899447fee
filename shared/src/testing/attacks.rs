//! The tokens an attacker (or a broken client) sends, one per check a token must pass, for tests
//! that send each of them to every route a function is deployed with.

use crate::auth::{sign_claims, Claims, Role};
use crate::config::Secret;
use crate::testing::{test_rules, test_signing_key};

/// One way a token is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadToken {
    Missing,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    /// Signed with a key that is not ours.
    WrongKey,
    /// `alg: none`, no signature.
    AlgNone,
    /// Signed with the route's key for its audience, but of the role the route is not for.
    OtherRole,
    /// A genuine token of the other role: the other role's key and audience (a function holds only
    /// its own role's key, so this does not verify).
    OtherRolesToken,
}

impl BadToken {
    pub const ALL: [BadToken; 9] = [
        BadToken::Missing,
        BadToken::Expired,
        BadToken::NotYetValid,
        BadToken::WrongIssuer,
        BadToken::WrongAudience,
        BadToken::WrongKey,
        BadToken::AlgNone,
        BadToken::OtherRole,
        BadToken::OtherRolesToken,
    ];

    /// Whether the route must mark its signing key refused (so that its secrets are read again): a
    /// signature that does not verify with its key.
    pub fn bad_signature(self) -> bool {
        matches!(self, BadToken::WrongKey | BadToken::OtherRolesToken)
    }

    /// What the route answers: 403 to a token of the route's key that claims the other role, 401 to
    /// everything else.
    pub fn status(self) -> u16 {
        match self {
            BadToken::OtherRole => 403,
            _ => 401,
        }
    }

    /// The `Authorization` header value for a route that needs `role` (`None`: no header).
    pub fn header(self, role: Role) -> Option<String> {
        let now = jiff::Timestamp::now().as_second().max(0) as u64;
        let other = match role {
            Role::Admin => Role::Partner,
            Role::Partner => Role::Admin,
        };
        let (token_role, key_role) = match self {
            BadToken::OtherRole => (other, role),
            BadToken::OtherRolesToken => (other, other),
            _ => (role, role),
        };
        let rules = test_rules(key_role);
        let mut claims = Claims {
            sub: "attacker".into(),
            role: token_role.as_str().into(),
            exp: now + 3_600,
            partner_id: (token_role == Role::Partner).then(|| "p1".to_owned()),
            iss: Some(rules.issuer),
            aud: Some(rules.audience),
            iat: Some(now),
            nbf: Some(now),
        };
        let mut key = test_signing_key(key_role);
        match self {
            BadToken::Missing => return None,
            BadToken::Expired => {
                claims.iat = Some(now - 7_200);
                claims.nbf = Some(now - 7_200);
                claims.exp = now - 3_600;
            }
            BadToken::NotYetValid => {
                claims.iat = Some(now + 3_600);
                claims.nbf = Some(now + 3_600);
                claims.exp = now + 7_200;
            }
            BadToken::WrongIssuer => claims.iss = Some("https://id.attacker.example".into()),
            BadToken::WrongAudience => claims.aud = Some("someone-elses-api".into()),
            BadToken::WrongKey => key = Secret::new("a-key-that-is-not-ours-a-key-that-is-not-ours"),
            BadToken::AlgNone => {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let body = serde_json::to_vec(&claims).unwrap_or_default();
                return Some(format!(
                    "Bearer {}.{}.",
                    b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
                    b64.encode(body)
                ));
            }
            BadToken::OtherRole | BadToken::OtherRolesToken => {}
        }
        let token = sign_claims(&key, &claims).unwrap_or_else(|e| panic!("signing a test token: {e}"));
        Some(format!("Bearer {token}"))
    }
}

/// A body just over the size limit every route enforces.
pub fn oversized_body() -> String {
    let filler = "x".repeat(crate::http::MAX_BODY_BYTES);
    format!(r#"{{"reason":"{filler}"}}"#)
}

/// Sends every bad token, and a body over the limit, to every route `function` is deployed with
/// (its `HttpApi` events in `template.yaml`, so a new route is attacked the moment it is added), and
/// returns what answered otherwise than it must: 401/403 `application/problem+json` for the tokens
/// (a wrong key also marking the signing key refused, so that the secrets are read again), 413 for
/// the body. The second value is how many routes were attacked.
pub async fn attack_every_route<F, Fut>(function: &str, role: Role, handle: F) -> (Vec<String>, usize)
where
    F: Fn(lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>>,
{
    use crate::secrets::SecretRefused;
    let routes = super::routes::template_routes(function);
    assert!(!routes.is_empty(), "{function} has routes in template.yaml");
    let mut failures = Vec::new();
    let mut sent = 0;
    let request = |method: &str, path: &str, authorization: Option<String>, body: String| {
        let mut builder = lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://api.example.test{path}"))
            .header("content-type", "application/json");
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder
            .body(lambda_http::Body::from(body))
            .unwrap_or_else(|e| panic!("building {method} {path}: {e}"))
    };
    for route in &routes {
        let (method, template) = route.split_once(' ').unwrap_or(("GET", route));
        let path = super::routes::concrete_path(template);
        let small_body = r#"{"reason":"attack","confirm":true}"#.to_owned();
        for bad in BadToken::ALL {
            let response = handle(request(method, &path, bad.header(role), small_body.clone())).await;
            sent += 1;
            let status = response.status().as_u16();
            let problem = response
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes() == crate::http::PROBLEM_JSON.as_bytes());
            let refused = response.extensions().get::<SecretRefused>().copied();
            let refused_as_it_must = refused == bad.bad_signature().then_some(SecretRefused::SigningKey);
            if status != bad.status() || !problem || !refused_as_it_must {
                failures.push(format!(
                    "{route} with a {bad:?} token answered {status} (problem+json: {problem}, refused: {refused:?})"
                ));
            }
        }
        let valid = Some(format!(
            "Bearer {}",
            match role {
                Role::Admin => super::admin_token("admin-attacks"),
                Role::Partner => super::partner_token(
                    "partner-attacks",
                    &crate::domain::partner::PartnerId::parse("p1").unwrap_or_else(|e| panic!("{e}"))
                ),
            }
        ));
        let response = handle(request(method, &path, valid, oversized_body())).await;
        sent += 1;
        if response.status().as_u16() != 413 {
            failures.push(format!(
                "{route} with an oversized body answered {}",
                response.status().as_u16()
            ));
        }
    }
    assert_eq!(sent, routes.len() * (BadToken::ALL.len() + 1), "every attack was sent");
    (failures, routes.len())
}
