//! admin-api: the admin HTTP API (API Gateway HTTP API, payload v2).
//!
//! Each route authenticates the admin, decodes its input into domain types, calls one use-case in
//! `shared`, and encodes the answer: the table of routes is `routes/` (one module per area), the
//! decoders `decode/`. Bad input answers 4xx `application/problem+json`.

mod decode;
mod routes;

use lambda_http::{Body, Request, Response};
use shared::auth::{Role, TokenAuth};
use shared::config::{self, ConfigError, SdkConfig};
use shared::domain::dates::BusinessCalendar;
use shared::error::AppError;
use shared::http as edge;
use shared::runtime::HttpFunction;
use shared::secrets::SecretReader;
use shared::store::Store;
use shared::stripe::client::StripeApi;

/// What every request needs, built once per cold start.
///
/// The routes that call Stripe or fan out run their use-case boxed (`Box::pin`): one allocation per
/// request keeps the router's future small, where inlining every branch made it big enough to
/// overflow a 2 MiB thread stack in debug builds.
pub struct App {
    pub store: Store,
    pub calendar: BusinessCalendar,
    pub auth: TokenAuth,
    /// Stripe, for starting billing; `None` answers 503 on the billing route (deployed functions
    /// always have it: `from_env` requires its configuration).
    pub billing: Option<Billing>,
}

/// The Stripe client and the tiers' prices.
pub use shared::stripe::client::StripeBilling as Billing;

impl App {
    /// Reads configuration and secrets; the clients share the cold start's SDK configuration (and
    /// its connection pool) however often the secrets are read again.
    pub async fn from_env(sdk: &SdkConfig, secrets: &SecretReader) -> Result<App, ConfigError> {
        let mut secrets = secrets.prefetched_session().await;
        Ok(App {
            store: Store::from_sdk_config(sdk, config::table_name()?),
            calendar: config::business_calendar()?,
            auth: TokenAuth::new(
                &config::token_signing_key(Role::Admin, &mut secrets).await?,
                config::token_rules(Role::Admin)?,
            ),
            billing: Some(Billing {
                stripe: StripeApi::new(&config::stripe_settings(&mut secrets).await?)?,
                prices: config::stripe_prices()?,
            }),
        })
    }

    /// Answers one request; never panics and never fails: errors become problem responses.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        self.respond(&req).await
    }

    /// Answers one request as of `now` (the business clock; tokens are still checked against the
    /// real one): the seam tests use to run at a fixed instant.
    pub async fn handle_at(&self, req: Request, now: jiff::Timestamp) -> Response<Body> {
        edge::answer(&req, |req| Box::pin(routes::route(self, req, now))).await
    }

    /// The Stripe client, where billing is configured.
    pub(crate) fn stripe(&self) -> Option<&StripeApi> {
        self.billing.as_ref().map(|billing| &billing.stripe)
    }

    /// Stripe billing, for the routes that cannot do without it (503 where it is not configured).
    pub(crate) fn required_billing(&self) -> Result<&Billing, AppError> {
        self.billing
            .as_ref()
            .ok_or_else(|| AppError::Unavailable("Stripe billing is not configured".into()))
    }
}

impl HttpFunction for App {
    async fn respond(&self, req: &Request) -> Response<Body> {
        edge::answer(req, |req| Box::pin(routes::route(self, req, jiff::Timestamp::now()))).await
    }
}
