//! partner-portal: the partner's self-service API under `/portal` (API Gateway HTTP API, payload v2).
//!
//! Every route authenticates a partner token; the partner is the token's `partner_id`, never the
//! path, query or body. Each route decodes its input, calls one use-case in `shared`, and encodes the
//! answer. Payment routes (upgrade, payment method, cancel, withdraw, export, erase) count against
//! the partner's per-minute limit first. Bad input answers 4xx `application/problem+json`. The table
//! of routes is `routes/` (one module per area), the decoders `decode.rs`, sign-in `sign_in.rs`.

mod decode;
mod routes;
mod sign_in;

pub use sign_in::{PortalFunction, SignIn};

use jiff::Timestamp;
use lambda_http::{Body, Request, Response};
use shared::auth::{PartnerUser, Role, TokenAuth};
use shared::config::{self, ConfigError, SdkConfig};
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::Partner;
use shared::error::AppError;
use shared::http as edge;
use shared::runtime::HttpFunction;
use shared::secrets::SecretReader;
use shared::store::Store;
use shared::stripe::client::StripeBilling;
use shared::usecases::portal::account::AccountView;
use shared::usecases::portal::rate_limit::count_payment_request;

/// What every request needs, built once per cold start.
pub struct Portal {
    pub store: Store,
    pub calendar: BusinessCalendar,
    pub auth: TokenAuth,
    pub billing: StripeBilling,
    /// Handed to Stripe Elements with each payment to confirm.
    pub publishable_key: String,
    /// Payment requests a partner may make per minute.
    pub rate_limit_per_minute: u32,
    /// Stripe's customer portal (its configuration and return URL); `None`: no customer-portal links.
    pub customer_portal: Option<shared::stripe::client::CustomerPortal>,
}

impl Portal {
    /// Reads configuration and secrets (see `admin_api::App::from_env`).
    pub async fn from_env(sdk: &SdkConfig, secrets: &SecretReader) -> Result<Portal, ConfigError> {
        let mut secrets = secrets.prefetched_session().await;
        Ok(Portal {
            store: Store::from_sdk_config(sdk, config::table_name()?),
            calendar: config::business_calendar()?,
            auth: TokenAuth::new(
                &config::token_signing_key(Role::Partner, &mut secrets).await?,
                config::token_rules(Role::Partner)?,
            ),
            billing: StripeBilling {
                stripe: shared::stripe::client::StripeApi::new(&config::stripe_settings(&mut secrets).await?)?,
                prices: config::stripe_prices()?,
            },
            publishable_key: config::stripe_publishable_key()?,
            rate_limit_per_minute: config::portal_rate_limit_per_minute()?,
            customer_portal: config::stripe_customer_portal()?,
        })
    }

    /// Answers one request; never panics and never fails: errors become problem responses.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        self.respond(&req).await
    }

    /// Counts a payment request against the partner's limit (429 once it is reached).
    pub(crate) async fn count(&self, user: &PartnerUser, now: Timestamp) -> Result<(), AppError> {
        Ok(count_payment_request(&self.store, &user.partner_id, self.rate_limit_per_minute, now).await?)
    }

    pub(crate) fn view(&self, partner: &Partner, now: Timestamp) -> AccountView {
        AccountView::without_card(partner, self.calendar.today(now))
    }
}

impl HttpFunction for Portal {
    async fn respond(&self, req: &Request) -> Response<Body> {
        // Boxed: the routes' futures together are too large for a debug-build test thread's stack.
        edge::answer(req, |req| Box::pin(routes::route(self, req, Timestamp::now()))).await
    }
}
