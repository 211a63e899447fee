//! The partner's own account: `GET /portal/me` and the tiers on offer, `GET /portal/tiers`.

use super::Answered;
use crate::Portal;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::PartnerUser;
use shared::http::{Answer, Done};
use shared::usecases::portal::account::{my_account, tier_cards, AccountView, TierCard};

/// `GET /portal/me`
pub(super) async fn me(portal: &Portal, user: &PartnerUser, now: Timestamp) -> Answered<Done<AccountView>> {
    let stripe = Some(&portal.billing.stripe);
    let account = my_account(&portal.store, stripe, &portal.calendar, &user.partner_id, now);
    Ok(Done(Box::pin(account).await?))
}

#[derive(Serialize)]
pub(super) struct Tiers {
    tiers: Vec<TierCard>,
}

impl Answer for Tiers {}

/// `GET /portal/tiers`
pub(super) async fn tiers(portal: &Portal, user: &PartnerUser) -> Answered<Tiers> {
    Ok(Tiers {
        tiers: tier_cards(&portal.store, &user.partner_id).await?,
    })
}
