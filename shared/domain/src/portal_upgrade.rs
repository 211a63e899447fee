//! What a partner's own upgrade request in the portal may do, as a decision over the partner.
//!
//! | the partner                                   | asks for            | becomes |
//! |-----------------------------------------------|---------------------|---------|
//! | free, nothing under way                       | gold or platinum    | [`PortalUpgrade::StartBilling`]: a subscription the partner pays in the browser |
//! | a start of the same tier under way, with its subscription | that tier | [`PortalUpgrade::ContinuePayment`]: the same payment again, no second subscription |
//! | a start of the same tier whose request died (lease over) | that tier | [`PortalUpgrade::StartBilling`]: resumed with the same idempotency key |
//! | a start under way for another tier, or still being prepared | anything | refused: [`UpgradeRefusal::InProgress`] |
//! | billed through Stripe, on a lower paid tier   | a higher one        | [`PortalUpgrade::SwitchBilled`]: prorated now (the two-way billing rule) |
//! | on that tier, or a higher one                 | —                   | refused: [`UpgradeRefusal::AlreadyOnTier`], [`UpgradeRefusal::OnHigherTier`] |
//! | on a paid tier invoiced by hand (no Stripe subscription) | a higher one | refused: [`UpgradeRefusal::InvoicedByHand`] |
//!
//! The tier itself is never granted here: the paid invoice's webhook grants it (`domain::billing_events`).

use super::billing_start::CLAIM_LEASE;
use super::partner::Partner;
use super::tier::Tier;
use jiff::Timestamp;

/// What an accepted upgrade does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalUpgrade {
    /// Start Stripe billing at the tier, first payment by the partner.
    StartBilling(Tier),
    /// The start under way already has its subscription: hand its open payment out again.
    ContinuePayment { tier: Tier, subscription_id: String },
    /// Move the Stripe subscription to the higher tier.
    SwitchBilled(Tier),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeRefusal {
    #[error("{0} is not a paid tier: choose gold or platinum (to leave a paid tier, cancel it)")]
    NotPaid(Tier),
    #[error("you are already on {}", .0.label())]
    AlreadyOnTier(Tier),
    #[error("you are on {}, above {}: a move down is a cancellation or a change at renewal, not an upgrade", .current.label(), .asked.label())]
    OnHigherTier { current: Tier, asked: Tier },
    #[error("an upgrade to {} is already under way since {since}; complete its payment, or wait a minute and try again", .tier.label())]
    InProgress { tier: Tier, since: Timestamp },
    #[error("your {} subscription is invoiced by Power100, not billed by card; your account manager can move it to {}", .current.label(), .asked.label())]
    InvoicedByHand { current: Tier, asked: Tier },
}

/// Decides what `partner` asking for `tier` at `now` does.
pub fn plan_portal_upgrade(partner: &Partner, tier: Tier, now: Timestamp) -> Result<PortalUpgrade, UpgradeRefusal> {
    if !tier.is_paid() {
        return Err(UpgradeRefusal::NotPaid(tier));
    }
    let current = partner.engagement_tier;
    if let Some(pending) = &partner.pending_billing {
        let abandoned = now.duration_since(pending.requested_at) > CLAIM_LEASE;
        return match (&pending.subscription_id, pending.tier == tier) {
            (Some(subscription_id), true) => Ok(PortalUpgrade::ContinuePayment {
                tier,
                subscription_id: subscription_id.clone(),
            }),
            (None, true) if abandoned => Ok(PortalUpgrade::StartBilling(tier)),
            _ => Err(UpgradeRefusal::InProgress {
                tier: pending.tier,
                since: pending.requested_at,
            }),
        };
    }
    if current == tier {
        return Err(UpgradeRefusal::AlreadyOnTier(tier));
    }
    if current > tier {
        return Err(UpgradeRefusal::OnHigherTier { current, asked: tier });
    }
    if partner.has_live_stripe_subscription() {
        return Ok(PortalUpgrade::SwitchBilled(tier));
    }
    if current.is_paid() {
        return Err(UpgradeRefusal::InvoicedByHand { current, asked: tier });
    }
    Ok(PortalUpgrade::StartBilling(tier))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing_start::{Collection, PendingBilling};
    use crate::partner::sample_partner;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    fn on(tier: Tier, billed: bool) -> Partner {
        let mut p = sample_partner(7_000, now());
        p.apply_tier(tier, now());
        if billed {
            p.stripe_customer_id = Some("cus_1".into());
            p.stripe_subscription_id = Some("sub_1".into());
            p.stripe_subscription_status = Some("active".into());
        }
        p
    }

    fn pending(tier: Tier, subscription: Option<&str>, seconds_ago: i64) -> Partner {
        let mut p = on(Tier::Free, false);
        p.pending_billing = Some(PendingBilling {
            request: None,
            tier,
            collection: Collection::ChargeAutomatically,
            requested_version: 3,
            requested_at: now() - jiff::SignedDuration::from_secs(seconds_ago),
            subscription_id: subscription.map(str::to_owned),
        });
        p
    }

    #[test]
    fn follows_the_table() {
        use PortalUpgrade::*;
        use Tier::*;
        assert_eq!(
            plan_portal_upgrade(&on(Free, false), Gold, now()),
            Ok(StartBilling(Gold))
        );
        assert_eq!(
            plan_portal_upgrade(&on(Gold, true), Platinum, now()),
            Ok(SwitchBilled(Platinum))
        );
        assert_eq!(
            plan_portal_upgrade(&pending(Gold, Some("sub_9"), 5), Gold, now()),
            Ok(ContinuePayment {
                tier: Gold,
                subscription_id: "sub_9".into()
            })
        );
        assert_eq!(
            plan_portal_upgrade(&pending(Gold, None, 600), Gold, now()),
            Ok(StartBilling(Gold))
        );
        assert!(matches!(
            plan_portal_upgrade(&pending(Gold, None, 5), Gold, now()),
            Err(UpgradeRefusal::InProgress { tier: Gold, .. })
        ));
        assert!(matches!(
            plan_portal_upgrade(&pending(Gold, Some("sub_9"), 5), Platinum, now()),
            Err(UpgradeRefusal::InProgress { tier: Gold, .. })
        ));
        assert_eq!(
            plan_portal_upgrade(&on(Gold, true), Gold, now()),
            Err(UpgradeRefusal::AlreadyOnTier(Gold))
        );
        assert_eq!(
            plan_portal_upgrade(&on(Platinum, true), Gold, now()),
            Err(UpgradeRefusal::OnHigherTier {
                current: Platinum,
                asked: Gold
            })
        );
        assert_eq!(
            plan_portal_upgrade(&on(Gold, false), Platinum, now()),
            Err(UpgradeRefusal::InvoicedByHand {
                current: Gold,
                asked: Platinum
            })
        );
        assert_eq!(
            plan_portal_upgrade(&on(Free, false), Free, now()),
            Err(UpgradeRefusal::NotPaid(Free))
        );
    }

    fn any_tier() -> impl Strategy<Value = Tier> {
        prop_oneof![Just(Tier::Free), Just(Tier::Gold), Just(Tier::Platinum)]
    }

    proptest! {
        /// An upgrade never lowers a tier, never asks Stripe for a tier the partner has, and a
        /// second subscription is never started while one is under way with its subscription.
        #[test]
        fn never_lowers_and_never_doubles(
            current in any_tier(),
            billed in any::<bool>(),
            asked in any_tier(),
            pending_tier in proptest::option::of(any_tier().prop_filter("paid", |t| t.is_paid())),
            with_subscription in any::<bool>(),
            seconds_ago in 0i64..600,
        ) {
            let mut p = on(current, billed && current.is_paid());
            if let Some(tier) = pending_tier {
                p = pending(tier, with_subscription.then_some("sub_9"), seconds_ago);
            }
            match plan_portal_upgrade(&p, asked, now()) {
                Ok(PortalUpgrade::StartBilling(tier)) => {
                    prop_assert_eq!(tier, asked);
                    prop_assert!(tier > p.engagement_tier);
                    prop_assert!(!p.has_live_stripe_subscription());
                    prop_assert!(p.pending_billing.as_ref().is_none_or(|b| b.subscription_id.is_none()));
                }
                Ok(PortalUpgrade::SwitchBilled(tier)) => {
                    prop_assert!(tier > p.engagement_tier);
                    prop_assert!(p.has_live_stripe_subscription());
                }
                Ok(PortalUpgrade::ContinuePayment { tier, .. }) => {
                    prop_assert_eq!(Some(tier), p.pending_billing.as_ref().map(|b| b.tier));
                }
                Err(_) => {}
            }
        }
    }
}
