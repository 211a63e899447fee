//! Switching a Stripe-billed partner between paid tiers. Stripe first: the tier follows only what
//! Stripe accepted, and a dearer tier only what was paid.
//!
//! - Upgrade (gold -> platinum): the subscription item moves to the new price at once, the prorated
//!   difference is invoiced and collected now (`pending_if_incomplete`: Stripe holds the change back
//!   until that invoice is paid); the partner gets the tier when Stripe answers with it applied.
//! - Downgrade (platinum -> gold): the item moves to the new price without proration, so the next
//!   period bills it; the partner keeps the paid-for tier until the current period ends, shown as a
//!   scheduled change, and the first paid invoice at the new price applies it.

use super::dates::CalendarDate;
use super::events::{EventBody, TierChanged};
use super::history_and_audit::{Actor, AuditAction, HistoryEventType};
use super::partner::{Note, Partner};
use super::partner_change::PartnerChange;
use super::tier::Tier;
pub use crate::partner::billing_state::ScheduledTierChange;
use jiff::Timestamp;

/// What switching a billed partner to another paid tier is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierSwitch {
    /// Dearer: at once, prorated, paid now.
    Upgrade(Tier),
    /// Cheaper: from the next period.
    Downgrade(Tier),
    /// Back to the tier it has, dropping a scheduled downgrade.
    KeepCurrent(Tier),
}

/// What moving billed `partner` to paid `tier` is; `None` when nothing changes.
pub fn plan_tier_switch(partner: &Partner, tier: Tier) -> Option<TierSwitch> {
    match tier.cmp(&partner.engagement_tier) {
        std::cmp::Ordering::Greater => Some(TierSwitch::Upgrade(tier)),
        std::cmp::Ordering::Less => match partner.scheduled_tier_change {
            Some(scheduled) if scheduled.tier == tier => None,
            _ => Some(TierSwitch::Downgrade(tier)),
        },
        std::cmp::Ordering::Equal => partner
            .scheduled_tier_change
            .is_some()
            .then_some(TierSwitch::KeepCurrent(tier)),
    }
}

/// The partner once Stripe applied an upgrade: the new tier, same term.
pub fn upgraded(partner: &Partner, tier: Tier, now: Timestamp) -> Partner {
    let mut after = partner.clone();
    after.apply_tier(tier, now);
    after.last_paid_tier = Some(tier);
    after.scheduled_tier_change = None;
    after.updated_at = now;
    after
}

/// The partner with a change to `tier` scheduled for `effective` (or a scheduled change dropped).
pub fn scheduled(partner: &Partner, change: Option<ScheduledTierChange>, now: Timestamp) -> Partner {
    let mut after = partner.clone();
    after.scheduled_tier_change = change;
    after.updated_at = now;
    after
}

/// The partner once its scheduled change is due: `invoice_tier` is the tier a paid invoice bills.
pub fn apply_scheduled_change(partner: &Partner, invoice_tier: Option<Tier>, now: Timestamp) -> Option<Partner> {
    let change = partner.scheduled_tier_change?;
    if invoice_tier != Some(change.tier) {
        return None;
    }
    let mut after = partner.clone();
    after.apply_tier(change.tier, now);
    after.last_paid_tier = Some(change.tier);
    after.scheduled_tier_change = None;
    after.updated_at = now;
    Some(after)
}

/// The change a tier switch Stripe accepted makes here: an upgrade at once (its prorated difference
/// paid), a downgrade scheduled for `effective` (the end of the period paid at the higher tier), or
/// a scheduled change withdrawn; `None` when the partner already stands there.
pub fn switch_change(
    current: &Partner,
    switch: TierSwitch,
    effective: CalendarDate,
    actor: &Actor,
    now: Timestamp,
) -> Option<PartnerChange> {
    let (after, history, note) = match switch {
        TierSwitch::Upgrade(tier) if current.engagement_tier != tier => (
            upgraded(current, tier, now),
            Some(HistoryEventType::Upgrade),
            format!(
                "Switched to {} in Stripe: prorated difference invoiced and paid",
                tier.label()
            ),
        ),
        TierSwitch::Downgrade(tier) => {
            let change = ScheduledTierChange { tier, effective };
            (
                scheduled(current, Some(change), now),
                None,
                format!(
                    "{} from {effective}, when the period paid at {} ends",
                    tier.label(),
                    current.engagement_tier.label()
                ),
            )
        }
        TierSwitch::KeepCurrent(tier) if current.scheduled_tier_change.is_some() => (
            scheduled(current, None, now),
            None,
            format!("Scheduled change withdrawn: {} stays", tier.label()),
        ),
        _ => return None,
    };
    let events = history
        .map(|event_type| {
            EventBody::TierChanged(TierChanged::between(
                current,
                &after,
                event_type,
                actor.clone(),
                Some(note.clone()),
            ))
        })
        .into_iter()
        .collect();
    Some(PartnerChange {
        after,
        history,
        note: Note::parse(&note).ok(),
        audit_action: AuditAction::TierChanged,
        events,
        stripe_action: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner::sample_partner;
    use jiff::civil::date;

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn on(tier: Tier) -> Partner {
        let mut p = sample_partner(8_000, now());
        p.apply_tier(tier, now());
        p
    }

    #[test]
    fn up_now_down_later() {
        assert_eq!(
            plan_tier_switch(&on(Tier::Gold), Tier::Platinum),
            Some(TierSwitch::Upgrade(Tier::Platinum))
        );
        let platinum = on(Tier::Platinum);
        assert_eq!(
            plan_tier_switch(&platinum, Tier::Gold),
            Some(TierSwitch::Downgrade(Tier::Gold))
        );
        assert_eq!(plan_tier_switch(&platinum, Tier::Platinum), None);

        let change = ScheduledTierChange {
            tier: Tier::Gold,
            effective: date(2026, 12, 24),
        };
        let waiting = scheduled(&platinum, Some(change), now());
        assert_eq!(waiting.engagement_tier, Tier::Platinum, "keeps what was paid for");
        assert_eq!(plan_tier_switch(&waiting, Tier::Gold), None, "already scheduled");
        assert_eq!(
            plan_tier_switch(&waiting, Tier::Platinum),
            Some(TierSwitch::KeepCurrent(Tier::Platinum))
        );

        assert_eq!(
            apply_scheduled_change(&waiting, Some(Tier::Platinum), now()),
            None,
            "a platinum invoice"
        );
        let applied = apply_scheduled_change(&waiting, Some(Tier::Gold), now()).unwrap();
        assert_eq!(applied.engagement_tier, Tier::Gold);
        assert_eq!(applied.scheduled_tier_change, None);

        let up = upgraded(&on(Tier::Gold), Tier::Platinum, now());
        assert_eq!(
            (up.engagement_tier, up.last_paid_tier),
            (Tier::Platinum, Some(Tier::Platinum))
        );
    }
}
