//! `POST /portal/upgrade`: a paid tier, paid in the browser when Stripe asks for it.

use super::Answered;
use crate::Portal;
use jiff::Timestamp;
use serde::Serialize;
use shared::auth::PartnerUser;
use shared::domain::tier::Tier;
use shared::http::Answer;
use shared::stripe::client::PaymentToConfirm;
use shared::usecases::portal::account::AccountView;
use shared::usecases::portal::upgrade::{upgrade as upgrade_to, UpgradeOutcome};

/// Payment routes end with this sentence when they do not change the tier at once.
const TIER_FOLLOWS_PAYMENT: &str = "the new tier starts as soon as Stripe confirms the payment";

/// The upgrade's outcome, said to the partner: 202 while the payment is to confirm or under way,
/// 200 once the tier is theirs.
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(super) enum Upgrade {
    PaymentRequired {
        tier: Tier,
        payment: PaymentToConfirm,
        publishable_key: String,
        message: String,
        account: AccountView,
    },
    Processing {
        tier: Tier,
        message: String,
        account: AccountView,
    },
    Upgraded {
        tier: Tier,
        message: String,
        account: AccountView,
    },
}

impl Answer for Upgrade {
    fn status(&self) -> u16 {
        match self {
            Upgrade::PaymentRequired { .. } | Upgrade::Processing { .. } => 202,
            Upgrade::Upgraded { .. } => 200,
        }
    }
}

impl Upgrade {
    fn of(outcome: UpgradeOutcome, portal: &Portal, now: Timestamp) -> Upgrade {
        match outcome {
            UpgradeOutcome::PaymentRequired { tier, payment, partner } => Upgrade::PaymentRequired {
                tier,
                payment,
                publishable_key: portal.publishable_key.clone(),
                message: format!(
                    "confirm the payment of {} with Stripe Elements; {TIER_FOLLOWS_PAYMENT}",
                    tier.label()
                ),
                account: portal.view(&partner, now),
            },
            UpgradeOutcome::Processing { tier, partner } => Upgrade::Processing {
                tier,
                message: format!(
                    "the payment for {} is being processed; {TIER_FOLLOWS_PAYMENT}",
                    tier.label()
                ),
                account: portal.view(&partner, now),
            },
            UpgradeOutcome::Upgraded { partner } => Upgrade::Upgraded {
                tier: partner.engagement_tier,
                message: format!("you are now on {}", partner.engagement_tier.label()),
                account: portal.view(&partner, now),
            },
        }
    }
}

/// `POST /portal/upgrade` `{tier}`
pub(super) async fn upgrade(portal: &Portal, user: &PartnerUser, tier: Tier, now: Timestamp) -> Answered<Upgrade> {
    portal.count(user, now).await?;
    let outcome = Box::pin(upgrade_to(
        &portal.store,
        &portal.billing,
        &portal.calendar,
        user,
        tier,
        now,
    ))
    .await?;
    Ok(Upgrade::of(outcome, portal, now))
}
