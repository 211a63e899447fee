//! A partner's personal data: `GET /admin/partners/{id}/export` and
//! `DELETE /admin/partners/{id}/payment-history`.

use super::Answered;
use crate::App;
use jiff::Timestamp;
use shared::auth::Admin;
use shared::domain::partner::PartnerId;
use shared::http::body::Confirmed;
use shared::http::Done;
use shared::usecases::personal_data::{erase_payment_history, export_partner_data, DataExport, Erasure};

/// `GET /admin/partners/{id}/export`
pub(super) async fn export(app: &App, id: PartnerId, admin: &Admin, now: Timestamp) -> Answered<Done<DataExport>> {
    Ok(Done(export_partner_data(&app.store, &id, &admin.actor(), now).await?))
}

/// `DELETE /admin/partners/{id}/payment-history` `{confirm: true}`
pub(super) async fn erase(
    app: &App,
    id: PartnerId,
    _: Confirmed,
    admin: &Admin,
    now: Timestamp,
) -> Answered<Done<Erasure>> {
    Ok(Done(erase_payment_history(&app.store, &id, &admin.actor(), now).await?))
}
