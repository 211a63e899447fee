//! The partner's personal data: `GET /portal/export` (a JSON file) and `DELETE /portal/payment-history`.

use super::Answered;
use crate::Portal;
use jiff::Timestamp;
use shared::auth::PartnerUser;
use shared::error::AppError;
use shared::http::body::Confirmed;
use shared::http::{Done, Download, JSON};
use shared::usecases::personal_data::{erase_payment_history, export_partner_data, Erasure};

/// `GET /portal/export`: everything held on the partner, as `power100-data-{partner}.json`.
pub(super) async fn export(portal: &Portal, user: &PartnerUser, now: Timestamp) -> Answered<Download> {
    portal.count(user, now).await?;
    let export = export_partner_data(&portal.store, &user.partner_id, &user.actor(), now).await?;
    let body = serde_json::to_vec(&export).map_err(|e| AppError::Internal(format!("export did not serialize: {e}")))?;
    Ok(Download {
        name: format!("power100-data-{}.json", user.partner_id),
        content_type: JSON,
        body,
    })
}

/// `DELETE /portal/payment-history` `{confirm: true}`
pub(super) async fn erase(
    portal: &Portal,
    user: &PartnerUser,
    _: Confirmed,
    now: Timestamp,
) -> Answered<Done<Erasure>> {
    portal.count(user, now).await?;
    Ok(Done(
        erase_payment_history(&portal.store, &user.partner_id, &user.actor(), now).await?,
    ))
}
