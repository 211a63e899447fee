//! Subscriptions: the dashboard and its CSV, bulk renewal, cancellation, pause and resume, the
//! subscription's settings, and the tier change.

use super::{Answered, PartnerAnswer, CSV};
use crate::App;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::Admin;
use shared::http::{Answer, Done, Download, Pending};
use shared::store::PageRequest;
use shared::usecases::cancellation::{cancel_subscription, CancelCommand};
use shared::usecases::csv_export;
use shared::usecases::dashboard::{self, Dashboard, DashboardRequest};
use shared::usecases::pause::{pause_or_resume, PauseCommand};
use shared::usecases::renewals::{bulk_renew, RenewalResult, RenewalStatus};
use shared::usecases::subscription_settings::{change_subscription_settings, SettingsCommand};
use shared::usecases::tier_change::{self, ChangeTierCommand, TierChangeOutcome};

/// `GET /admin/subscriptions?tab=&tier=&sort=&order=&limit=&cursor=&event_type=&partner=`
pub(super) async fn dashboard(
    app: &App,
    (request, page): (DashboardRequest, PageRequest),
    now: Timestamp,
) -> Answered<Done<Dashboard>> {
    let dashboard = dashboard::dashboard(&app.store, &app.calendar, &request, &page, now);
    Ok(Done(Box::pin(dashboard).await?))
}

/// `GET /admin/subscriptions/export.csv`: the dashboard's rows, named after the tab and its filters.
pub(super) async fn export(app: &App, request: DashboardRequest, now: Timestamp) -> Answered<Download> {
    let body = csv_export::export_csv(&app.store, &app.calendar, &request, now).await?;
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
    name.push_str(&format!("-{}.csv", app.calendar.today(now)));
    Ok(Download {
        name,
        content_type: CSV,
        body,
    })
}

#[derive(Serialize)]
pub(super) struct Renewals {
    renewed: usize,
    results: Vec<RenewalResult>,
}

impl Answer for Renewals {}

/// `POST /admin/subscriptions/renew` `{partner_ids, months?}`: each partner's own result.
pub(super) async fn renew(app: &App, (ids, months): (Vec<String>, u8), admin: &Admin, now: Timestamp) -> Renewals {
    let results = bulk_renew(&app.store, &ids, months, &admin.actor(), now).await;
    let renewed = results.iter().filter(|r| r.status == RenewalStatus::Renewed).count();
    Renewals { renewed, results }
}

/// `POST /admin/partners/{id}/cancel`
pub(super) async fn cancel(app: &App, command: CancelCommand, now: Timestamp) -> Answered<Pending<PartnerAnswer>> {
    let partner = Box::pin(cancel_subscription(
        &app.store,
        app.stripe(),
        &app.calendar,
        command,
        now,
    ))
    .await?;
    Ok(PartnerAnswer::new(partner, None, app, now))
}

/// `POST /admin/partners/{id}/pause` and `POST /admin/partners/{id}/resume`
pub(super) async fn pause(app: &App, command: PauseCommand, now: Timestamp) -> Answered<Pending<PartnerAnswer>> {
    let partner = Box::pin(pause_or_resume(&app.store, app.stripe(), &app.calendar, command, now)).await?;
    Ok(PartnerAnswer::new(partner, None, app, now))
}

/// `PATCH /admin/partners/{id}/subscription`: the partner and whether anything changed.
pub(super) async fn settings(app: &App, command: SettingsCommand, now: Timestamp) -> Answered<Pending<PartnerAnswer>> {
    let change = change_subscription_settings(&app.store, app.stripe(), &app.calendar, command, now);
    let (partner, changed) = Box::pin(change).await?;
    Ok(PartnerAnswer::new(partner, Some(changed), app, now))
}

/// `PATCH|POST /api/partners/{id}/engagement-tier`
pub(super) async fn change_tier(
    app: &App,
    command: ChangeTierCommand,
    now: Timestamp,
) -> Answered<Pending<TierChangeOutcome>> {
    let change = tier_change::change_tier(&app.store, app.billing.as_ref(), &app.calendar, command, now);
    let outcome = Box::pin(change).await?;
    // 202 while Stripe has yet to confirm the change (it is retried).
    Ok(Pending {
        pending: outcome.partner.stripe_sync.is_some(),
        answer: outcome,
    })
}
