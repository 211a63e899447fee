//! Billing both ways, outbound: what Stripe must be told when a local change affects what a partner
//! pays. Pure: [`stripe_action_for`] compares a partner before and after a change.
//!
//! The rule table (a *billed* partner has a live Stripe subscription; others have a manually managed
//! tier and nothing is sent):
//!
//! | local action (billed partner)                              | Stripe                                              | order |
//! |------------------------------------------------------------|-----------------------------------------------------|-------|
//! | admin cancel `immediately`, PATCH to free, sweep expiry     | cancel the subscription now (`prorate` only when the admin asks) | local first, then Stripe |
//! | admin cancel `term_end`, `auto_renewal` turned off          | `cancel_at` = the term's end                        | local first, then Stripe |
//! | cancellation withdrawn, `auto_renewal` turned back on      | `cancel_at` cleared                                 | local first, then Stripe |
//! | admin pause for N months / resume                          | `pause_collection` (void) until the resume date / cleared | local first, then Stripe |
//! | gold <-> platinum, starting billing                        | new price / new subscription (`usecases::billing_start`, `usecases::tier_switch`) | Stripe first: money before the tier |
//! | bulk renew, term date edits                                | refused per partner: Stripe drives a billed term    | —     |
//!
//! Why two orders. A change that stops or lowers charging must take effect here at once, whatever
//! Stripe's state: it is committed with a [`StripeSync`] in the same transaction (the durable intent),
//! pushed to Stripe right away with an idempotency key derived from partner, version and action, and,
//! when Stripe cannot be reached or a crash cuts in, left visibly pending on the partner, found by the
//! pending index and retried by `stripe-reconcile` until Stripe confirms (its run fails, and its alarm
//! fires, while any stays unconfirmed). A change that raises charging (a paid tier, a dearer tier) goes
//! to Stripe first and is recorded only once Stripe accepted it, and the tier only once it is paid.

use super::dates::CalendarDate;
use super::partner::Partner;
use super::tier::Tier;
pub use crate::partner::billing_state::{StripeAction, StripeSync};

/// When a paid partner's Stripe billing must stop: its term's end when it does not renew.
fn stop_billing_on(partner: &Partner) -> Option<CalendarDate> {
    let renews = partner.auto_renewal && partner.subscription_status == super::partner::SubscriptionStatus::Active;
    if renews {
        None
    } else {
        partner.subscription_end_date
    }
}

/// What Stripe must do so that it bills `after` as the table now does, given it billed `before`;
/// `None` when the partner is not billed through Stripe or nothing that affects money changed.
pub fn stripe_action_for(before: &Partner, after: &Partner) -> Option<StripeAction> {
    if !before.has_live_stripe_subscription() {
        return None;
    }
    if after.engagement_tier == Tier::Free {
        return (before.engagement_tier != Tier::Free).then_some(StripeAction::CancelSubscription { prorate: false });
    }
    if before.paused_until != after.paused_until {
        return Some(StripeAction::PauseCollection {
            until: after.paused_until,
        });
    }
    let (was, now) = (stop_billing_on(before), stop_billing_on(after));
    (was != now).then_some(StripeAction::SetCancelAt { on: now })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner::{sample_partner, SubscriptionStatus};
    use jiff::civil::date;
    use jiff::Timestamp;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn billed(tier: Tier, auto_renewal: bool) -> Partner {
        let mut p = sample_partner(8_000, now());
        p.apply_tier(tier, now());
        p.subscription_start_date = Some(date(2026, 6, 1));
        p.subscription_end_date = Some(date(2027, 6, 1));
        p.subscription_status = SubscriptionStatus::Active;
        p.auto_renewal = auto_renewal;
        p.stripe_subscription_id = Some("sub_1".into());
        p.stripe_subscription_status = Some("active".into());
        p
    }

    #[test]
    fn the_rule_table() {
        let gold = billed(Tier::Gold, true);
        let mut free = gold.clone();
        free.apply_tier(Tier::Free, now());
        assert_eq!(
            stripe_action_for(&gold, &free),
            Some(StripeAction::CancelSubscription { prorate: false })
        );

        let mut at_term_end = gold.clone();
        at_term_end.subscription_status = SubscriptionStatus::Cancelled;
        at_term_end.auto_renewal = false;
        let stop = Some(StripeAction::SetCancelAt {
            on: Some(date(2027, 6, 1)),
        });
        assert_eq!(stripe_action_for(&gold, &at_term_end), stop);

        let mut no_renewal = gold.clone();
        no_renewal.auto_renewal = false;
        assert_eq!(stripe_action_for(&gold, &no_renewal), stop);
        assert_eq!(
            stripe_action_for(&no_renewal, &gold),
            Some(StripeAction::SetCancelAt { on: None })
        );
        assert_eq!(
            stripe_action_for(&at_term_end, &gold),
            Some(StripeAction::SetCancelAt { on: None })
        );

        let paused = crate::subscription::pause(&gold, 2, date(2026, 11, 24), now()).unwrap();
        assert_eq!(
            stripe_action_for(&gold, &paused),
            Some(StripeAction::PauseCollection {
                until: Some(date(2027, 1, 24))
            })
        );
        let resumed = crate::subscription::resume(&paused, date(2026, 12, 1), now()).unwrap();
        assert_eq!(
            stripe_action_for(&paused, &resumed),
            Some(StripeAction::PauseCollection { until: None })
        );

        let mut notes = gold.clone();
        notes.subscription_notes = crate::partner::Note::parse("call in May").ok();
        assert_eq!(stripe_action_for(&gold, &notes), None, "nothing that affects money");
    }

    #[test]
    fn manually_managed_partners_send_nothing() {
        let mut manual = billed(Tier::Gold, true);
        manual.stripe_subscription_id = None;
        let mut free = manual.clone();
        free.apply_tier(Tier::Free, now());
        assert_eq!(stripe_action_for(&manual, &free), None);

        let mut ended = billed(Tier::Gold, true);
        ended.stripe_subscription_status = Some("canceled".into());
        let mut free = ended.clone();
        free.apply_tier(Tier::Free, now());
        assert_eq!(stripe_action_for(&ended, &free), None, "Stripe already ended it");
    }

    fn sync(action: StripeAction, requested_version: u64) -> StripeSync {
        StripeSync {
            subscription_id: "sub_1".into(),
            action,
            requested_version,
            requested_at: now(),
            attempts: 0,
            last_error: None,
        }
    }

    #[test]
    fn keys_differ_by_action_and_version_only() {
        let partner = billed(Tier::Gold, true);
        let cancel = StripeAction::CancelSubscription { prorate: false };
        assert_eq!(sync(cancel, 4).idempotency_key(&partner.id), "sync:cancel:p1:v4");
        let mut retried = sync(cancel, 4);
        retried.attempts = 3;
        retried.requested_at = "2026-11-25T00:00:00Z".parse().unwrap();
        assert_eq!(
            retried.idempotency_key(&partner.id),
            "sync:cancel:p1:v4",
            "a retry sends the same key"
        );
        assert_ne!(sync(cancel, 5).idempotency_key(&partner.id), "sync:cancel:p1:v4");
    }

    fn any_tier() -> impl Strategy<Value = Tier> {
        prop::sample::select(Tier::ALL.to_vec())
    }

    fn any_action() -> impl Strategy<Value = StripeAction> {
        prop::sample::select(vec![
            StripeAction::CancelSubscription { prorate: false },
            StripeAction::CancelSubscription { prorate: true },
            StripeAction::SetCancelAt {
                on: Some(date(2027, 6, 1)),
            },
            StripeAction::SetCancelAt { on: None },
            StripeAction::PauseCollection {
                until: Some(date(2027, 1, 1)),
            },
            StripeAction::PauseCollection { until: None },
        ])
    }

    fn any_status() -> impl Strategy<Value = SubscriptionStatus> {
        prop::sample::select(vec![
            SubscriptionStatus::Active,
            SubscriptionStatus::Cancelled,
            SubscriptionStatus::Expired,
            SubscriptionStatus::Inactive,
        ])
    }

    #[test]
    fn a_partner_id_that_looks_like_an_action_makes_another_key() {
        let mut at_x = billed(Tier::Gold, true);
        at_x.id = crate::partner::PartnerId::parse("at-x").unwrap();
        let mut x = at_x.clone();
        x.id = crate::partner::PartnerId::parse("x").unwrap();
        let cancel = sync(StripeAction::CancelSubscription { prorate: false }, 4);
        let cancel_at = sync(
            StripeAction::SetCancelAt {
                on: Some(date(2027, 6, 1)),
            },
            4,
        );
        assert_ne!(cancel.idempotency_key(&at_x.id), cancel_at.idempotency_key(&x.id));
    }

    proptest! {
        /// Two syncs have the same key only when they are the same request: the same action kind,
        /// partner and version.
        #[test]
        fn keys_name_exactly_one_request(
            a in any_action(), b in any_action(),
            p in "[A-Za-z0-9_-]{1,12}", q in "[A-Za-z0-9_-]{1,12}",
            v in 0u64..50, w in 0u64..50,
        ) {
            let with_id = |id: &str| {
                let mut partner = billed(Tier::Gold, true);
                partner.id = crate::partner::PartnerId::parse(id).unwrap();
                partner
            };
            let (first, second) = (sync(a, v).idempotency_key(&with_id(&p).id), sync(b, w).idempotency_key(&with_id(&q).id));
            let same_request = a.key_name() == b.key_name() && p == q && v == w;
            prop_assert_eq!(first == second, same_request, "{} / {}", first, second);
        }

        /// Whatever the change, a billed partner that ends on the free tier has its subscription
        /// cancelled, and a paid partner that stops renewing gets its term's end as Stripe's stop.
        #[test]
        fn stripe_never_keeps_billing_what_the_table_stopped(
            from in any_tier(), to in any_tier(),
            renew_before in any::<bool>(), renew_after in any::<bool>(),
            status_before in any_status(), status_after in any_status(),
            live in any::<bool>(),
        ) {
            let mut before = billed(from, renew_before);
            before.subscription_status = status_before;
            if !live {
                before.stripe_subscription_status = Some("canceled".into());
            }
            let mut after = before.clone();
            after.apply_tier(to, now());
            after.auto_renewal = renew_after;
            after.subscription_status = status_after;
            let stops = !(renew_after && status_after == SubscriptionStatus::Active);
            let stopped = !(renew_before && status_before == SubscriptionStatus::Active);
            let expected = match (live, from, to) {
                (false, _, _) => None,
                // Nothing was billed for the free tier, and nothing is.
                (true, Tier::Free, Tier::Free) => None,
                (true, _, Tier::Free) => Some(StripeAction::CancelSubscription { prorate: false }),
                (true, _, _) => (stops != stopped)
                    .then_some(StripeAction::SetCancelAt { on: stops.then_some(date(2027, 6, 1)) }),
            };
            prop_assert_eq!(stripe_action_for(&before, &after), expected);
        }
    }
}
