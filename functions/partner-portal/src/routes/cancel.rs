//! The partner's cancellation at the end of the commitment, `POST /portal/cancel`, and its
//! withdrawal, `POST /portal/cancel/withdraw`.

use super::pending_status;
use crate::Portal;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::PartnerUser;
use shared::domain::dates::CalendarDate;
use shared::domain::partner::{Note, Partner};
use shared::error::AppError;
use shared::http::Answer;
use shared::usecases::portal::account::AccountView;
use shared::usecases::portal::cancellation::{cancel_at_term_end, withdraw as withdraw_cancellation};

/// What the partner is told once the cancellation is withdrawn.
const WITHDRAWN: &str = "Your cancellation is withdrawn: the subscription continues and renews.";

/// The cancellation, what it means for the partner (access until the term's end, no refund), and the
/// account: 202 while Stripe has yet to confirm it.
#[derive(Serialize)]
pub(super) struct Cancelled {
    cancelled: bool,
    access_until: Option<CalendarDate>,
    refund_cents: i64,
    message: String,
    account: AccountView,
    #[serde(skip)]
    awaiting_stripe: bool,
}

impl Cancelled {
    fn of(partner: &Partner, portal: &Portal, now: Timestamp) -> Cancelled {
        let access_until = partner.subscription_end_date;
        let message = match access_until {
            Some(end) => format!(
                "Your subscription is cancelled at the end of its 12-month commitment: you keep {} until {end}, and it does not renew. Commitment months are not refunded. You can withdraw the cancellation until then.",
                partner.engagement_tier.label()
            ),
            None => "Your subscription is cancelled.".to_owned(),
        };
        Cancelled {
            cancelled: true,
            access_until,
            refund_cents: 0,
            message,
            account: portal.view(partner, now),
            awaiting_stripe: partner.stripe_sync.is_some(),
        }
    }
}

impl Answer for Cancelled {
    fn status(&self) -> u16 {
        pending_status(self.awaiting_stripe)
    }
}

/// `POST /portal/cancel` `{reason, confirm: true}`
pub(super) async fn cancel(
    portal: &Portal,
    user: &PartnerUser,
    reason: Note,
    now: Timestamp,
) -> Result<Cancelled, AppError> {
    portal.count(user, now).await?;
    let stripe = Some(&portal.billing.stripe);
    let partner = Box::pin(cancel_at_term_end(
        &portal.store,
        stripe,
        &portal.calendar,
        user,
        reason,
        now,
    ))
    .await?;
    Ok(Cancelled::of(&partner, portal, now))
}

/// The subscription goes on: 202 while Stripe has yet to confirm it.
#[derive(Serialize)]
pub(super) struct Withdrawn {
    cancelled: bool,
    message: &'static str,
    account: AccountView,
    #[serde(skip)]
    awaiting_stripe: bool,
}

impl Answer for Withdrawn {
    fn status(&self) -> u16 {
        pending_status(self.awaiting_stripe)
    }
}

/// `POST /portal/cancel/withdraw`
pub(super) async fn withdraw(portal: &Portal, user: &PartnerUser, now: Timestamp) -> Result<Withdrawn, AppError> {
    portal.count(user, now).await?;
    let stripe = Some(&portal.billing.stripe);
    let partner = Box::pin(withdraw_cancellation(
        &portal.store,
        stripe,
        &portal.calendar,
        user,
        now,
    ))
    .await?;
    Ok(Withdrawn {
        cancelled: false,
        message: WITHDRAWN,
        account: portal.view(&partner, now),
        awaiting_stripe: partner.stripe_sync.is_some(),
    })
}
