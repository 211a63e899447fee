//! Sign-in by email link around the portal ([`PortalFunction`]): the routes that need no token,
//! `POST /portal/sign-in` (a link by email) and `POST /portal/session` (its code for a partner token),
//! and `POST /portal/sign-out`; a signed-out token is refused on every route. Every other request goes
//! to [`Portal`]. Thin: decode, one use-case, encode.

use crate::{decode, Portal};
use jiff::Timestamp;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use shared::auth::Role;
use shared::auth::TokenRules;
use shared::config::Secret;
use shared::config::{self, ConfigError, SdkConfig};
use shared::domain::sign_in::{ANSWER_FLOOR, SESSION_LIFETIME, SIGN_IN_ANSWER};
use shared::error::AppError;
use shared::http::header_str;
use shared::http::{self as edge, Created, Pending, Reply};
use shared::mailer::Mailer;
use shared::runtime::HttpFunction;
use shared::secrets::SecretReader;
use shared::store::Store;
use shared::usecases::portal::sign_in::{exchange_sign_in_code, request_sign_in_link, ExchangeError};
use shared::usecases::portal::sign_in::{sign_out, signed_out};

/// What sign-in needs: the mail, where the link points, and the partner key tokens are signed with
/// (the one this function verifies partner tokens with: it signs with no other).
pub struct SignIn {
    pub mailer: Mailer,
    /// The portal page the link opens (`PARTNER_PORTAL_URL`).
    pub portal_url: String,
    pub key: Secret,
    pub rules: TokenRules,
}

/// The client a request comes from (API Gateway's source address), for the per-client limits.
fn client(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Answers the routes that need no token; `None` for every other.
pub async fn route(
    sign_in: &SignIn,
    store: &Store,
    req: &Request,
    now: Timestamp,
) -> Result<Option<Response<Body>>, AppError> {
    let path = req.uri().path().trim_matches('/');
    let method = req.method().as_str();
    match (path, method) {
        ("portal/sign-in", "POST") => {
            let started = tokio::time::Instant::now();
            let email = decode::sign_in(req)?;
            Ok(Some(
                link(sign_in, store, &email, &client(req), started, now)
                    .await?
                    .into_response(),
            ))
        }
        ("portal/session", "POST") => {
            let code = decode::session(req)?;
            Ok(Some(
                session(sign_in, store, &code, &client(req), now).await?.into_response(),
            ))
        }
        ("portal/sign-in" | "portal/session", _) => Err(AppError::MethodNotAllowed {
            method: method.to_owned(),
            allow: "POST",
        }),
        _ => Ok(None),
    }
}

/// The same answer whatever the address.
#[derive(Serialize)]
struct LinkRequested {
    message: &'static str,
}

/// `POST /portal/sign-in` `{email}`: a sign-in link by email, when the address is a partner user's.
/// The same answer, no sooner than the floor after `started`, whatever the address (only the
/// per-client limit answers otherwise, and it says nothing about the address).
async fn link(
    sign_in: &SignIn,
    store: &Store,
    email: &str,
    client: &str,
    started: tokio::time::Instant,
    now: Timestamp,
) -> Result<Pending<LinkRequested>, AppError> {
    request_sign_in_link(store, &sign_in.mailer, &sign_in.portal_url, email, client, now).await?;
    tokio::time::sleep_until(started + ANSWER_FLOOR).await;
    // 202: the email, if any, goes out after the answer.
    Ok(Pending {
        answer: LinkRequested {
            message: SIGN_IN_ANSWER,
        },
        pending: true,
    })
}

/// A partner token for the code of a sign-in link.
#[derive(Serialize)]
struct SessionStarted {
    token: String,
    token_type: &'static str,
    expires_at: Timestamp,
    expires_in: i64,
}

/// `POST /portal/session` `{code}`
async fn session(
    sign_in: &SignIn,
    store: &Store,
    code: &str,
    client: &str,
    now: Timestamp,
) -> Result<Created<SessionStarted>, AppError> {
    match exchange_sign_in_code(store, &sign_in.key, &sign_in.rules, code, client, now).await {
        Ok(session) => Ok(Created(SessionStarted {
            token: session.token,
            token_type: "Bearer",
            expires_at: session.expires_at,
            expires_in: SESSION_LIFETIME.as_secs(),
        })),
        Err(ExchangeError::CodeRefused) => Err(AppError::SignInRefused(ExchangeError::CodeRefused.to_string())),
        Err(ExchangeError::UseCase(err)) => Err(err.into()),
    }
}

/// The partner-portal function: the portal's routes and sign-in.
pub struct PortalFunction {
    pub portal: Portal,
    pub sign_in: SignIn,
}

impl PortalFunction {
    /// Reads configuration and secrets: the portal's, and `EMAIL_FROM`, `PARTNER_PORTAL_URL`, the
    /// optional `SES_CONFIGURATION_SET` for the sign-in email.
    pub async fn from_env(sdk: &SdkConfig, secrets: &SecretReader) -> Result<PortalFunction, ConfigError> {
        let portal = Portal::from_env(sdk, secrets).await?;
        let mut session = secrets.prefetched_session().await;
        Ok(PortalFunction {
            portal,
            sign_in: SignIn {
                mailer: Mailer::from_sdk_config(sdk, config::email_from()?, config::ses_configuration_set()),
                portal_url: config::partner_portal_url()?,
                key: config::token_signing_key(Role::Partner, &mut session).await?,
                rules: config::token_rules(Role::Partner)?,
            },
        })
    }

    /// `POST /portal/sign-out`: the request's token is refused from now until it would expire.
    async fn sign_out(&self, req: &Request, now: Timestamp) -> Result<Response<Body>, AppError> {
        let authorization = header_str(req, "authorization");
        self.portal.auth.partner(authorization)?;
        if req.method().as_str() != "POST" {
            return Err(AppError::MethodNotAllowed {
                method: req.method().to_string(),
                allow: "POST",
            });
        }
        decode::no_body(req, ())?;
        let token = bearer(authorization).unwrap_or_default();
        let until = now.checked_add(self.sign_in.rules.max_lifetime).unwrap_or(now);
        sign_out(&self.portal.store, token, until.as_second().max(0) as u64).await?;
        let mut res = Response::new(Body::Empty);
        *res.status_mut() = lambda_http::http::StatusCode::NO_CONTENT;
        Ok(res)
    }
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl HttpFunction for PortalFunction {
    async fn respond(&self, req: &Request) -> Response<Body> {
        let now = Timestamp::now();
        match req.uri().path().trim_matches('/') {
            "portal/sign-in" | "portal/session" => {
                edge::answer(req, |req| async move {
                    route(&self.sign_in, &self.portal.store, req, now)
                        .await?
                        .ok_or_else(|| AppError::NotFound("no route".into()))
                })
                .await
            }
            "portal/sign-out" => edge::answer(req, |req| self.sign_out(req, now)).await,
            _ => {
                if let Some(token) = bearer(header_str(req, "authorization")).filter(|t| !t.is_empty()) {
                    match signed_out(&self.portal.store, token).await {
                        Ok(false) => {}
                        Ok(true) => {
                            return edge::problem(&AppError::SignInRefused(
                                "you signed out with this token: sign in again".into(),
                            ))
                        }
                        Err(err) => return edge::problem(&AppError::from(err)),
                    }
                }
                self.portal.respond(req).await
            }
        }
    }
}
