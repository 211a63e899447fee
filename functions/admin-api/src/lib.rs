//! admin-api: the admin HTTP API (API Gateway HTTP API, payload v2).
//!
//! Each route authenticates the admin, decodes its input into domain types, calls one use-case in
//! `shared`, and encodes the answer. Bad input answers 4xx `application/problem+json`.

mod decode;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::auth::{Admin, Role, TokenAuth};
use shared::config::{self, ConfigError, SdkConfig};
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::PartnerId;
use shared::domain::tier;
use shared::error::AppError;
use shared::http::{self as edge, header_str};
use shared::runtime::HttpFunction;
use shared::secrets::SecretReader;
use shared::store::{ResendOutcome, Store};
use shared::stripe::client::StripeApi;
use shared::usecases::billing_start::BillingStartOutcome;
use shared::usecases::stripe_events::BillingRules;
use shared::usecases::views::PartnerView;
use shared::usecases::{
    billing_start, cancellation, csv_export, dashboard, invoice_actions, invoices, metrics, notices, partners, pause,
    personal_data, renewals, subscription_settings, tier_changes,
};

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
        edge::answer(&req, |req| Box::pin(self.route(req, now))).await
    }

    async fn route(&self, req: &Request, now: jiff::Timestamp) -> Result<Response<Body>, AppError> {
        let admin = self.auth.admin(header_str(req, "authorization"))?;
        let path = req.uri().path().trim_matches('/').to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        let method = req.method();
        let not_allowed = |allow: &'static str| AppError::MethodNotAllowed {
            method: method.to_string(),
            allow,
        };
        match segments.as_slice() {
            ["admin", "tiers"] => match *method {
                Method::GET => Ok(list_tiers()),
                _ => Err(not_allowed("GET")),
            },
            ["admin", "partners"] => match *method {
                Method::GET => {
                    let (filter, page) = decode::partner_listing(req)?;
                    let page = partners::list_partners(&self.store, &self.calendar, &filter, &page, now).await?;
                    Ok(edge::json(
                        200,
                        &json!({ "partners": page.items, "next_cursor": page.next_cursor }),
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "subscriptions"] => match *method {
                Method::GET => {
                    let (request, page) = decode::dashboard(req)?;
                    Ok(edge::json(
                        200,
                        &Box::pin(dashboard::dashboard(&self.store, &self.calendar, &request, &page, now)).await?,
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "subscriptions", "export.csv"] => match *method {
                Method::GET => self.export_csv(req, now).await,
                _ => Err(not_allowed("GET")),
            },
            ["admin", "subscriptions", "renew"] => match *method {
                Method::POST => {
                    let (ids, months) = decode::renewal(req)?;
                    let results = renewals::bulk_renew(&self.store, &ids, months, &admin.actor(), now).await;
                    let renewed = results
                        .iter()
                        .filter(|r| r.status == renewals::RenewalStatus::Renewed)
                        .count();
                    Ok(edge::json(200, &json!({ "renewed": renewed, "results": results })))
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "partners", id, "reminders"] => match *method {
                Method::POST => {
                    let id = partner_id(id)?;
                    let today = self.calendar.today(now);
                    let sent = notices::send_manual_notice(&self.store, &id, &admin.actor(), today, now).await?;
                    Ok(edge::json(202, &sent))
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "partners", id, "billing"] => match *method {
                Method::POST => {
                    let billing = self.required_billing()?;
                    let command = decode::billing_start(req, partner_id(id)?, &admin)?;
                    let outcome = Box::pin(billing_start::start_billing(
                        &self.store,
                        &billing.stripe,
                        &billing.prices,
                        &self.calendar,
                        command,
                        now,
                    ))
                    .await?;
                    let today = self.calendar.today(now);
                    Ok(match outcome {
                        BillingStartOutcome::AwaitingFirstPayment { partner, .. } => edge::json(
                            202,
                            &json!({
                                "partner": PartnerView::new(partner, today),
                                "pending": "the paid tier is granted when the first invoice is paid",
                            }),
                        ),
                        BillingStartOutcome::Granted(partner) => {
                            edge::json(201, &json!({ "partner": PartnerView::new(partner, today) }))
                        }
                    })
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "partners", id, "cancel"] => match *method {
                Method::POST => {
                    let command = decode::cancellation(req, partner_id(id)?, &admin)?;
                    let partner = Box::pin(cancellation::cancel_subscription(
                        &self.store,
                        self.stripe(),
                        &self.calendar,
                        command,
                        now,
                    ))
                    .await?;
                    Ok(self.partner_answer(partner, now))
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "partners", id, action @ ("pause" | "resume")] => match *method {
                Method::POST => {
                    let command = decode::pause(req, partner_id(id)?, &admin, *action == "pause")?;
                    let partner = Box::pin(pause::pause_or_resume(
                        &self.store,
                        self.stripe(),
                        &self.calendar,
                        command,
                        now,
                    ))
                    .await?;
                    Ok(self.partner_answer(partner, now))
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "partners", id, "subscription"] => match *method {
                Method::PATCH => {
                    let command = decode::settings(req, partner_id(id)?, &admin)?;
                    let (partner, changed) = Box::pin(subscription_settings::change_subscription_settings(
                        &self.store,
                        self.stripe(),
                        &self.calendar,
                        command,
                        now,
                    ))
                    .await?;
                    Ok(edge::json(
                        stripe_pending_status(&partner),
                        &json!({ "partner": PartnerView::new(partner, self.calendar.today(now)), "changed": changed }),
                    ))
                }
                _ => Err(not_allowed("PATCH")),
            },
            ["admin", "partners", id] => {
                let id = partner_id(id)?;
                match *method {
                    Method::GET => Ok(edge::json(
                        200,
                        &partners::get_partner(&self.store, &self.calendar, &id, now).await?,
                    )),
                    Method::PUT => self.upsert_partner(req, &admin, &id, now).await,
                    _ => Err(not_allowed("GET, PUT")),
                }
            }
            ["admin", "partners", id, "tier-preview"] => match *method {
                Method::GET => {
                    let id = partner_id(id)?;
                    let tier = decode::preview_tier(req)?;
                    Ok(edge::json(
                        200,
                        &tier_changes::preview_tier(&self.store, &id, tier).await?,
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "partners", id, "history"] => match *method {
                Method::GET => {
                    let id = partner_id(id)?;
                    let page = partners::partner_history(&self.store, &id, &decode::page_only(req)?).await?;
                    Ok(edge::json(
                        200,
                        &json!({ "history": page.items, "next_cursor": page.next_cursor }),
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "partners", id, "audit"] => match *method {
                Method::GET => {
                    let id = partner_id(id)?;
                    let page = partners::partner_audit(&self.store, &id, &decode::page_only(req)?).await?;
                    Ok(edge::json(
                        200,
                        &json!({ "audit": page.items, "next_cursor": page.next_cursor }),
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "metrics"] => match *method {
                Method::GET => {
                    let (from, to) = decode::metrics_window(req, self.calendar.today(now))?;
                    Ok(edge::json(
                        200,
                        &Box::pin(metrics::business_metrics(&self.store, &self.calendar, from, to)).await?,
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "invoices"] => match *method {
                Method::GET => {
                    let (filter, page) = decode::invoice_listing(req, &self.calendar, true)?;
                    let page = invoices::list_invoices(&self.store, &filter, &page).await?;
                    Ok(edge::json(
                        200,
                        &json!({ "invoices": page.items, "next_cursor": page.next_cursor }),
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "invoices", "export.csv"] => match *method {
                Method::GET => {
                    let (filter, _) = decode::invoice_listing(req, &self.calendar, false)?;
                    let csv = invoices::export_invoices_csv(&self.store, &filter).await?;
                    let name = format!("invoices-{}.csv", self.calendar.today(now));
                    Ok(attachment(
                        edge::with_content_type(200, "text/csv; charset=utf-8", csv),
                        &name,
                    ))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "invoices", invoice_id] => match *method {
                Method::GET => {
                    decode::no_query(req)?;
                    Ok(edge::json(200, &invoices::invoice(&self.store, invoice_id).await?))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "invoices", invoice_id, "pdf"] => match *method {
                Method::GET => {
                    decode::no_query(req)?;
                    Ok(edge::redirect(&invoices::invoice_pdf(&self.store, invoice_id).await?))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "invoices", invoice_id, "resend"] => match *method {
                Method::POST => {
                    decode::empty_body(req)?;
                    let outcome = invoice_actions::resend_invoice(&self.store, invoice_id, &admin.actor(), now).await?;
                    Ok(match outcome {
                        ResendOutcome::Queued => edge::json(
                            202,
                            &json!({ "queued": true, "message": "the invoice email is on its way to the partner" }),
                        ),
                        ResendOutcome::AlreadyQueued => edge::json(
                            200,
                            &json!({ "queued": false, "message": "already sent this minute: one email per minute" }),
                        ),
                    })
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "invoices", invoice_id, "mark-paid"] => match *method {
                Method::POST => {
                    let command = decode::mark_paid(req, invoice_id, &admin)?;
                    let billing = self.required_billing()?;
                    let rules = BillingRules {
                        calendar: &self.calendar,
                        prices: &billing.prices,
                    };
                    let marked = Box::pin(invoice_actions::mark_invoice_paid(
                        &self.store,
                        billing,
                        &rules,
                        command,
                        now,
                    ))
                    .await?;
                    Ok(edge::json(200, &marked))
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "invoices", invoice_id, "refund"] => match *method {
                Method::POST => {
                    let command = decode::refund(req, invoice_id, &admin)?;
                    let stripe = &self.required_billing()?.stripe;
                    let refunded = Box::pin(invoice_actions::refund_invoice(&self.store, stripe, command, now)).await?;
                    Ok(edge::json(201, &refunded))
                }
                _ => Err(not_allowed("POST")),
            },
            ["admin", "partners", id, "export"] => match *method {
                Method::GET => {
                    let id = partner_id(id)?;
                    decode::no_query(req)?;
                    let export = personal_data::export_partner_data(&self.store, &id, &admin.actor(), now).await?;
                    Ok(edge::json(200, &export))
                }
                _ => Err(not_allowed("GET")),
            },
            ["admin", "partners", id, "payment-history"] => match *method {
                Method::DELETE => {
                    let id = partner_id(id)?;
                    decode::erasure(req)?;
                    let erasure = personal_data::erase_payment_history(&self.store, &id, &admin.actor(), now).await?;
                    Ok(edge::json(200, &erasure))
                }
                _ => Err(not_allowed("DELETE")),
            },
            ["api", "partners", id, "engagement-tier"] => match *method {
                Method::PATCH | Method::POST => {
                    let id = partner_id(id)?;
                    let command = decode::change_tier(req, id, &admin)?;
                    let outcome = Box::pin(tier_changes::change_tier(
                        &self.store,
                        self.billing.as_ref(),
                        &self.calendar,
                        command,
                        now,
                    ))
                    .await?;
                    let status = if outcome.partner.stripe_sync.is_some() {
                        202
                    } else {
                        200
                    };
                    Ok(edge::json(status, &outcome))
                }
                _ => Err(not_allowed("PATCH, POST")),
            },
            _ => Err(AppError::NotFound(format!("no route for {method} /{path}"))),
        }
    }

    /// The partner after a change: 202 while Stripe has yet to confirm what it asked, else 200.
    fn partner_answer(&self, partner: shared::domain::partner::Partner, now: jiff::Timestamp) -> Response<Body> {
        edge::json(
            stripe_pending_status(&partner),
            &json!({ "partner": PartnerView::new(partner, self.calendar.today(now)) }),
        )
    }

    /// The Stripe client, where billing is configured.
    fn stripe(&self) -> Option<&StripeApi> {
        self.billing.as_ref().map(|billing| &billing.stripe)
    }

    /// Stripe billing, for the routes that cannot do without it (503 where it is not configured).
    fn required_billing(&self) -> Result<&Billing, AppError> {
        self.billing
            .as_ref()
            .ok_or_else(|| AppError::Unavailable("Stripe billing is not configured".into()))
    }

    async fn export_csv(&self, req: &Request, now: jiff::Timestamp) -> Result<Response<Body>, AppError> {
        let request = decode::export(req)?;
        let csv = csv_export::export_csv(&self.store, &self.calendar, &request, now).await?;
        let mut name = format!("subscriptions-{}", request.tab.as_str());
        if let Some(tier) = request.tier {
            name.push_str(&format!("-{tier}"));
        }
        if let Some(event_type) = request.event_type {
            name.push_str(&format!("-{}", event_type.as_str()));
        }
        if let Some(partner) = &request.partner_id {
            name.push_str(&format!("-{partner}"));
        }
        name.push_str(&format!("-{}.csv", self.calendar.today(now)));
        Ok(attachment(
            edge::with_content_type(200, "text/csv; charset=utf-8", csv),
            &name,
        ))
    }

    async fn upsert_partner(
        &self,
        req: &Request,
        admin: &Admin,
        id: &PartnerId,
        now: jiff::Timestamp,
    ) -> Result<Response<Body>, AppError> {
        let fields = decode::profile_fields(req)?;
        let outcome = partners::upsert_partner(&self.store, id, fields, admin.actor(), now).await?;
        let status = if outcome.created { 201 } else { 200 };
        let view = PartnerView::new(outcome.partner, self.calendar.today(now));
        Ok(edge::json(
            status,
            &json!({ "partner": view, "created": outcome.created, "changed": outcome.changed }),
        ))
    }
}

/// 202 while a change the request made still waits for Stripe's confirmation (it is retried), else 200.
fn stripe_pending_status(partner: &shared::domain::partner::Partner) -> u16 {
    if partner.stripe_sync.is_some() {
        202
    } else {
        200
    }
}

/// `response` as a download named `name`.
fn attachment(mut response: Response<Body>, name: &str) -> Response<Body> {
    if let Ok(value) = format!("attachment; filename=\"{name}\"").parse() {
        response.headers_mut().insert("content-disposition", value);
    }
    response
}

/// A partner id from the path; one that cannot exist is an unknown partner.
fn partner_id(text: &str) -> Result<PartnerId, AppError> {
    PartnerId::parse(text).map_err(|e| AppError::NotFound(format!("partner id {e}")))
}

fn list_tiers() -> Response<Body> {
    let tiers: Vec<_> = tier::catalog()
        .into_iter()
        .map(|info| {
            let mut value = serde_json::to_value(info).unwrap_or_default();
            value["monthly_price"] = json!(info.monthly_price_cents.to_string());
            value
        })
        .collect();
    edge::json(200, &json!({ "tiers": tiers }))
}

impl HttpFunction for App {
    async fn respond(&self, req: &Request) -> Response<Body> {
        edge::answer(req, |req| Box::pin(self.route(req, jiff::Timestamp::now()))).await
    }
}
