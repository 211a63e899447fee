//! The partner's cancellation at the end of the commitment, `POST /portal/cancel`, and its
//! withdrawal, `POST /portal/cancel/withdraw`.

use super::Answered;
use crate::Portal;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::PartnerUser;
use shared::domain::dates::CalendarDate;
use shared::domain::partner::{Note, Partner};
use shared::http::Pending;
use shared::usecases::portal::account::AccountView;
use shared::usecases::portal::cancellation::{cancel_at_term_end, withdraw as withdraw_cancellation};

/// What the partner is told once the cancellation is withdrawn.
const WITHDRAWN: &str = "Your cancellation is withdrawn: the subscription continues and renews.";

/// The cancellation, what it means for the partner (access until the term's end, no refund), and the
/// account.
#[derive(Serialize)]
pub(super) struct Cancelled {
    cancelled: bool,
    access_until: Option<CalendarDate>,
    refund_cents: i64,
    message: String,
    account: AccountView,
}

impl Cancelled {
    /// 202 while Stripe has yet to confirm the cancellation (it is retried), else 200.
    fn of(partner: &Partner, portal: &Portal, now: Timestamp) -> Pending<Cancelled> {
        let access_until = partner.subscription_end_date;
        let message = match access_until {
            Some(end) => format!(
                "Your subscription is cancelled at the end of its 12-month commitment: you keep {} until {end}, and it does not renew. Commitment months are not refunded. You can withdraw the cancellation until then.",
                partner.engagement_tier.label()
            ),
            None => "Your subscription is cancelled.".to_owned(),
        };
        Pending {
            answer: Cancelled {
                cancelled: true,
                access_until,
                refund_cents: 0,
                message,
                account: portal.view(partner, now),
            },
            pending: partner.stripe_sync.is_some(),
        }
    }
}

/// `POST /portal/cancel` `{reason, confirm: true}`
pub(super) async fn cancel(
    portal: &Portal,
    user: &PartnerUser,
    reason: Note,
    now: Timestamp,
) -> Answered<Pending<Cancelled>> {
    portal.count(user, now).await?;
    let stripe = Some(&portal.billing.stripe);
    let cancel = cancel_at_term_end(&portal.store, stripe, &portal.calendar, user, reason, now);
    Ok(Cancelled::of(&Box::pin(cancel).await?, portal, now))
}

/// The subscription goes on.
#[derive(Serialize)]
pub(super) struct Withdrawn {
    cancelled: bool,
    message: &'static str,
    account: AccountView,
}

/// `POST /portal/cancel/withdraw`
pub(super) async fn withdraw(portal: &Portal, user: &PartnerUser, now: Timestamp) -> Answered<Pending<Withdrawn>> {
    portal.count(user, now).await?;
    let withdraw = withdraw_cancellation(&portal.store, Some(&portal.billing.stripe), &portal.calendar, user, now);
    let partner = Box::pin(withdraw).await?;
    // 202 while Stripe has yet to confirm it (it is retried), else 200.
    Ok(Pending {
        answer: Withdrawn {
            cancelled: false,
            message: WITHDRAWN,
            account: portal.view(&partner, now),
        },
        pending: partner.stripe_sync.is_some(),
    })
}
