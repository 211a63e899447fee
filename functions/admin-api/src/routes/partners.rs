//! Partners: the directory, one partner, the synced profile, the tier preview, history, audit and
//! the manual renewal reminder.

use super::Answered;
use crate::App;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::Admin;
use shared::domain::history_and_audit::{AuditEntry, HistoryEntry};
use shared::domain::partner::{PartnerId, ProfileFields};
use shared::domain::tier::Tier;
use shared::domain::tier_change::TierPreview;
use shared::http::{Answer, Done, Pending};
use shared::store::{PageRequest, PartnerFilter};
use shared::usecases::notices::{send_manual_notice, ManualNotice};
use shared::usecases::partners;
use shared::usecases::tier_change::preview_tier;
use shared::usecases::views::PartnerView;

#[derive(Serialize)]
pub(super) struct PartnerList {
    partners: Vec<PartnerView>,
    next_cursor: Option<String>,
}

impl Answer for PartnerList {}

/// `GET /admin/partners?tier=&status=&limit=&cursor=`
pub(super) async fn list(
    app: &App,
    (filter, page): (PartnerFilter, PageRequest),
    now: Timestamp,
) -> Answered<PartnerList> {
    let page = partners::list_partners(&app.store, &app.calendar, &filter, &page, now).await?;
    Ok(PartnerList {
        partners: page.items,
        next_cursor: page.next_cursor,
    })
}

/// `GET /admin/partners/{id}`
pub(super) async fn detail(app: &App, id: &PartnerId, now: Timestamp) -> Answered<Done<PartnerView>> {
    Ok(Done(partners::get_partner(&app.store, &app.calendar, id, now).await?))
}

/// The synced profile: 201 when the partner is new, else 200.
#[derive(Serialize)]
pub(super) struct Upserted {
    partner: PartnerView,
    created: bool,
    changed: bool,
}

impl Answer for Upserted {
    fn status(&self) -> u16 {
        if self.created {
            201
        } else {
            200
        }
    }
}

/// `PUT /admin/partners/{id}`
pub(super) async fn upsert(
    app: &App,
    id: &PartnerId,
    fields: ProfileFields,
    admin: &Admin,
    now: Timestamp,
) -> Answered<Upserted> {
    let outcome = partners::upsert_partner(&app.store, id, fields, admin.actor(), now).await?;
    Ok(Upserted {
        partner: PartnerView::new(outcome.partner, app.calendar.today(now)),
        created: outcome.created,
        changed: outcome.changed,
    })
}

/// `GET /admin/partners/{id}/tier-preview?tier=`
pub(super) async fn preview(app: &App, id: &PartnerId, tier: Tier) -> Answered<Done<TierPreview>> {
    Ok(Done(preview_tier(&app.store, id, tier).await?))
}

#[derive(Serialize)]
pub(super) struct History {
    history: Vec<HistoryEntry>,
    next_cursor: Option<String>,
}

impl Answer for History {}

/// `GET /admin/partners/{id}/history?limit=&cursor=`
pub(super) async fn history(app: &App, id: &PartnerId, page: PageRequest) -> Answered<History> {
    let page = partners::partner_history(&app.store, id, &page).await?;
    Ok(History {
        history: page.items,
        next_cursor: page.next_cursor,
    })
}

#[derive(Serialize)]
pub(super) struct Audit {
    audit: Vec<AuditEntry>,
    next_cursor: Option<String>,
}

impl Answer for Audit {}

/// `GET /admin/partners/{id}/audit?limit=&cursor=`
pub(super) async fn audit(app: &App, id: &PartnerId, page: PageRequest) -> Answered<Audit> {
    let page = partners::partner_audit(&app.store, id, &page).await?;
    Ok(Audit {
        audit: page.items,
        next_cursor: page.next_cursor,
    })
}

/// `POST /admin/partners/{id}/reminders`
pub(super) async fn remind(
    app: &App,
    id: &PartnerId,
    admin: &Admin,
    now: Timestamp,
) -> Answered<Pending<ManualNotice>> {
    let today = app.calendar.today(now);
    let notice = send_manual_notice(&app.store, id, &admin.actor(), today, now).await?;
    // Queued for the email sender: 202.
    Ok(Pending {
        answer: notice,
        pending: true,
    })
}
