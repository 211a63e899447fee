//! partner-portal: the partner's self-service API under `/portal` (API Gateway HTTP API, payload v2).
//!
//! Every route authenticates a partner token; the partner is the token's `partner_id`, never the
//! path, query or body. Each route decodes its input, calls one use-case in `shared`, and encodes the
//! answer. Payment routes (upgrade, payment method, cancel, withdraw, export, erase) count against
//! the partner's per-minute limit first. Bad input answers 4xx `application/problem+json`.

mod decode;
mod sign_in;

pub use sign_in::{PortalFunction, SignIn};

use jiff::Timestamp;
use lambda_http::http::{header, HeaderValue, Method};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::auth::{PartnerUser, Role, TokenAuth};
use shared::config::{self, ConfigError, SdkConfig};
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::Partner;
use shared::error::AppError;
use shared::http::{self as edge, header_str};
use shared::runtime::HttpFunction;
use shared::secrets::SecretReader;
use shared::store::Store;
use shared::stripe::client::StripeBilling;
use shared::usecases::personal_data::{erase_payment_history, export_partner_data};
use shared::usecases::portal::account::{my_account, tier_cards, AccountView};
use shared::usecases::portal::cancellation::{cancel_at_term_end, withdraw};
use shared::usecases::portal::invoices::{invoice_pdf, my_invoices};
use shared::usecases::portal::payment_method::start_card_setup;
use shared::usecases::portal::rate_limit::count_payment_request;
use shared::usecases::portal::upgrade::{upgrade, UpgradeOutcome};

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

/// Payment routes end with this sentence when they do not change the tier at once.
const TIER_FOLLOWS_PAYMENT: &str = "the new tier starts as soon as Stripe confirms the payment";

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

    async fn route(&self, req: &Request, now: Timestamp) -> Result<Response<Body>, AppError> {
        let user = self.auth.partner(header_str(req, "authorization"))?;
        let path = req.uri().path().trim_matches('/').to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        let method = req.method();
        let not_allowed = |allow: &'static str| AppError::MethodNotAllowed {
            method: method.to_string(),
            allow,
        };
        match segments.as_slice() {
            ["portal", "me"] => match *method {
                Method::GET => {
                    decode::no_query(req)?;
                    let account = Box::pin(my_account(
                        &self.store,
                        Some(&self.billing.stripe),
                        &self.calendar,
                        &user.partner_id,
                        now,
                    ))
                    .await?;
                    Ok(edge::json(200, &account))
                }
                _ => Err(not_allowed("GET")),
            },
            ["portal", "tiers"] => match *method {
                Method::GET => {
                    decode::no_query(req)?;
                    let tiers = tier_cards(&self.store, &user.partner_id).await?;
                    Ok(edge::json(200, &json!({ "tiers": tiers })))
                }
                _ => Err(not_allowed("GET")),
            },
            ["portal", "upgrade"] => match *method {
                Method::POST => {
                    let tier = decode::upgrade(req)?;
                    self.count(&user, now).await?;
                    let outcome =
                        Box::pin(upgrade(&self.store, &self.billing, &self.calendar, &user, tier, now)).await?;
                    Ok(self.upgrade_answer(outcome, now))
                }
                _ => Err(not_allowed("POST")),
            },
            ["portal", "payment-method"] => match *method {
                Method::POST => {
                    decode::empty(req)?;
                    self.count(&user, now).await?;
                    let setup = Box::pin(start_card_setup(
                        &self.store,
                        &self.billing.stripe,
                        &user,
                        self.customer_portal.as_ref(),
                        now,
                    ))
                    .await?;
                    Ok(edge::json(
                        201,
                        &json!({
                            "client_secret": setup.client_secret,
                            "publishable_key": self.publishable_key,
                            "customer_portal_url": setup.customer_portal_url,
                            "next": "confirm the card with Stripe Elements; once Stripe confirms it, it becomes the card your subscription is charged to",
                        }),
                    ))
                }
                _ => Err(not_allowed("POST")),
            },
            ["portal", "invoices"] => match *method {
                Method::GET => {
                    let page = my_invoices(&self.store, &user.partner_id, &decode::page(req)?).await?;
                    Ok(edge::json(
                        200,
                        &json!({ "invoices": page.items, "next_cursor": page.next_cursor }),
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["portal", "invoices", invoice_id, "pdf"] => match *method {
                Method::GET => {
                    decode::no_query(req)?;
                    let url = invoice_pdf(&self.store, &user.partner_id, invoice_id).await?;
                    Ok(edge::redirect(&url))
                }
                _ => Err(not_allowed("GET")),
            },
            ["portal", "cancel"] => match *method {
                Method::POST => {
                    let reason = decode::cancellation(req)?;
                    self.count(&user, now).await?;
                    let partner = Box::pin(cancel_at_term_end(
                        &self.store,
                        Some(&self.billing.stripe),
                        &self.calendar,
                        &user,
                        reason,
                        now,
                    ))
                    .await?;
                    let access_until = partner.subscription_end_date;
                    let message = match access_until {
                        Some(end) => format!(
                            "Your subscription is cancelled at the end of its 12-month commitment: you keep {} until {end}, and it does not renew. Commitment months are not refunded. You can withdraw the cancellation until then.",
                            partner.engagement_tier.label()
                        ),
                        None => "Your subscription is cancelled.".to_owned(),
                    };
                    Ok(edge::json(
                        stripe_pending_status(&partner),
                        &json!({
                            "cancelled": true,
                            "access_until": access_until,
                            "refund_cents": 0,
                            "message": message,
                            "account": self.view(&partner, now),
                        }),
                    ))
                }
                _ => Err(not_allowed("POST")),
            },
            ["portal", "cancel", "withdraw"] => match *method {
                Method::POST => {
                    decode::empty(req)?;
                    self.count(&user, now).await?;
                    let partner = Box::pin(withdraw(
                        &self.store,
                        Some(&self.billing.stripe),
                        &self.calendar,
                        &user,
                        now,
                    ))
                    .await?;
                    Ok(edge::json(
                        stripe_pending_status(&partner),
                        &json!({
                            "cancelled": false,
                            "message": "Your cancellation is withdrawn: the subscription continues and renews.",
                            "account": self.view(&partner, now),
                        }),
                    ))
                }
                _ => Err(not_allowed("POST")),
            },
            ["portal", "export"] => match *method {
                Method::GET => {
                    decode::no_query(req)?;
                    self.count(&user, now).await?;
                    let export = export_partner_data(&self.store, &user.partner_id, &user.actor(), now).await?;
                    let mut response = edge::json(200, &export);
                    let name = format!("attachment; filename=\"power100-data-{}.json\"", user.partner_id);
                    if let Ok(value) = HeaderValue::from_str(&name) {
                        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
                    }
                    Ok(response)
                }
                _ => Err(not_allowed("GET")),
            },
            ["portal", "payment-history"] => match *method {
                Method::DELETE => {
                    decode::erasure(req)?;
                    self.count(&user, now).await?;
                    let erasure = erase_payment_history(&self.store, &user.partner_id, &user.actor(), now).await?;
                    Ok(edge::json(200, &erasure))
                }
                _ => Err(not_allowed("DELETE")),
            },
            _ => Err(AppError::NotFound(format!("no route for {method} /{path}"))),
        }
    }

    /// Counts a payment request against the partner's limit (429 once it is reached).
    async fn count(&self, user: &PartnerUser, now: Timestamp) -> Result<(), AppError> {
        Ok(count_payment_request(&self.store, &user.partner_id, self.rate_limit_per_minute, now).await?)
    }

    fn view(&self, partner: &Partner, now: Timestamp) -> AccountView {
        AccountView::without_card(partner, self.calendar.today(now))
    }

    fn upgrade_answer(&self, outcome: UpgradeOutcome, now: Timestamp) -> Response<Body> {
        match outcome {
            UpgradeOutcome::PaymentRequired { tier, payment, partner } => edge::json(
                202,
                &json!({
                    "status": "payment_required",
                    "tier": tier,
                    "payment": payment,
                    "publishable_key": self.publishable_key,
                    "message": format!("confirm the payment of {} with Stripe Elements; {TIER_FOLLOWS_PAYMENT}", tier.label()),
                    "account": self.view(&partner, now),
                }),
            ),
            UpgradeOutcome::Processing { tier, partner } => edge::json(
                202,
                &json!({
                    "status": "processing",
                    "tier": tier,
                    "message": format!("the payment for {} is being processed; {TIER_FOLLOWS_PAYMENT}", tier.label()),
                    "account": self.view(&partner, now),
                }),
            ),
            UpgradeOutcome::Upgraded { partner } => edge::json(
                200,
                &json!({
                    "status": "upgraded",
                    "tier": partner.engagement_tier,
                    "message": format!("you are now on {}", partner.engagement_tier.label()),
                    "account": self.view(&partner, now),
                }),
            ),
        }
    }
}

/// 202 while a change still waits for Stripe's confirmation (it is retried), else 200.
fn stripe_pending_status(partner: &Partner) -> u16 {
    if partner.stripe_sync.is_some() {
        202
    } else {
        200
    }
}

impl HttpFunction for Portal {
    async fn respond(&self, req: &Request) -> Response<Body> {
        // Boxed: the routes' futures together are too large for a debug-build test thread's stack.
        edge::answer(req, |req| Box::pin(self.route(req, Timestamp::now()))).await
    }
}
