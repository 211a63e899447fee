//! Tier changes: what an admin asks for, what it means for the subscription and the PCR, and which
//! history event it is.

use super::dates::{add_months, CalendarDate};
use super::events::{EventBody, TierChanged};
use super::history_and_audit::{Actor, AuditAction, HistoryEventType};
use super::partner::{Note, Partner, SubscriptionStatus};
use super::partner_change::PartnerChange;
use super::pcr::{PcrDelta, PcrScore};
use super::tier::{Multiplier, Tier};
use jiff::Timestamp;
use serde::Serialize;

/// A parsed tier-change request. Absent dates take defaults (see [`plan_tier_change`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TierChangeRequest {
    pub tier: Tier,
    pub start: Option<CalendarDate>,
    pub end: Option<CalendarDate>,
    pub reason: Option<Note>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierChangeError {
    #[error("subscription_end_date {end} must be after subscription_start_date {start}")]
    EndNotAfterStart { start: CalendarDate, end: CalendarDate },
    #[error("subscription_end_date cannot be computed from subscription_start_date {0}")]
    EndOutOfRange(CalendarDate),
    /// A paid tier and its term follow the partner's Stripe subscription.
    #[error("partner {partner} is billed through Stripe subscription {subscription}: its paid tier and term follow Stripe; switch tiers through billing, or move it to free to cancel the subscription")]
    BilledByStripe { partner: String, subscription: String },
}

/// A change that the rules accept, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedTierChange {
    pub before: Partner,
    pub after: Partner,
    pub event_type: HistoryEventType,
}

impl PlannedTierChange {
    pub fn pcr_delta(&self) -> PcrDelta {
        self.before.final_pcr_score.delta_to(self.after.final_pcr_score)
    }

    /// The change an admin's request `reason` makes, recorded with its history and `TierChanged`.
    pub fn into_change(self, actor: &Actor, reason: Option<&Note>) -> PartnerChange {
        let body = TierChanged::between(
            &self.before,
            &self.after,
            self.event_type,
            actor.clone(),
            reason.map(ToString::to_string),
        );
        PartnerChange {
            stripe_action: None,
            after: self.after,
            history: Some(self.event_type),
            note: reason.cloned(),
            audit_action: AuditAction::TierChanged,
            events: vec![EventBody::TierChanged(body)],
        }
    }
}

/// Decides what a tier change does to `current`.
///
/// - Free: clears both dates, status `inactive`.
/// - Paid, same tier as now: absent dates keep the current term; a new start alone starts a new
///   term of the tier's commitment.
/// - Paid, another tier: start defaults to `today`, end to start + the commitment (12 months).
/// - The end must be after the start. A paid tier becomes `active`.
///
/// Returns `Ok(None)` when the request changes nothing.
pub fn plan_tier_change(
    current: &Partner,
    request: &TierChangeRequest,
    today: CalendarDate,
    now: Timestamp,
) -> Result<Option<PlannedTierChange>, TierChangeError> {
    if request.tier.is_paid() && current.has_live_stripe_subscription() {
        return Err(TierChangeError::BilledByStripe {
            partner: current.id.to_string(),
            subscription: current.stripe_subscription_id.clone().unwrap_or_default(),
        });
    }
    let mut after = current.clone();
    after.apply_tier(request.tier, now);
    if request.tier.is_paid() {
        let same_tier = request.tier == current.engagement_tier;
        let current_term = current.subscription_start_date.zip(current.subscription_end_date);
        let (start, end) = match (request.start, request.end, same_tier.then_some(current_term).flatten()) {
            (None, None, Some(term)) => term,
            (None, Some(end), Some((start, _))) => (start, end),
            (start, end, _) => {
                let start = start.unwrap_or(today);
                let months = request.tier.info().commitment_months as i32;
                let end = match end {
                    Some(end) => end,
                    None => add_months(start, months).ok_or(TierChangeError::EndOutOfRange(start))?,
                };
                (start, end)
            }
        };
        if end <= start {
            return Err(TierChangeError::EndNotAfterStart { start, end });
        }
        after.subscription_start_date = Some(start);
        after.subscription_end_date = Some(end);
        after.subscription_status = SubscriptionStatus::Active;
    } else {
        after.subscription_start_date = None;
        after.subscription_end_date = None;
        after.subscription_status = SubscriptionStatus::Inactive;
    }

    let event_type = match request.tier.cmp(&current.engagement_tier) {
        std::cmp::Ordering::Greater => HistoryEventType::Upgrade,
        std::cmp::Ordering::Less => HistoryEventType::Downgrade,
        std::cmp::Ordering::Equal => {
            let dates_changed = after.subscription_start_date != current.subscription_start_date
                || after.subscription_end_date != current.subscription_end_date;
            if dates_changed {
                HistoryEventType::DatesChanged
            } else if after.subscription_status != current.subscription_status {
                HistoryEventType::Reactivation
            } else {
                return Ok(None);
            }
        }
    };
    after.updated_at = now;
    Ok(Some(PlannedTierChange {
        before: current.clone(),
        after,
        event_type,
    }))
}

/// One side of a tier preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierSide {
    pub tier: Tier,
    pub label: &'static str,
    pub multiplier: Multiplier,
    pub final_pcr_score: PcrScore,
}

/// What a tier change would do to a partner's PCR; changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierPreview {
    pub current: TierSide,
    pub proposed: TierSide,
    pub pcr_delta: PcrDelta,
    /// The delta as the confirmation modal words it: `+4 points`.
    pub pcr_delta_text: String,
}

pub fn preview_tier_change(partner: &Partner, tier: Tier) -> TierPreview {
    let side = |tier: Tier| TierSide {
        tier,
        label: tier.label(),
        multiplier: tier.multiplier(),
        final_pcr_score: partner.pcr_at(tier),
    };
    let (current, proposed) = (side(partner.engagement_tier), side(tier));
    let pcr_delta = current.final_pcr_score.delta_to(proposed.final_pcr_score);
    TierPreview {
        current,
        proposed,
        pcr_delta,
        pcr_delta_text: pcr_delta.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const TODAY: CalendarDate = date(2026, 11, 24);

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn partner(base: i64) -> Partner {
        crate::partner::sample_partner(base * 100, now())
    }

    fn request(tier: Tier, start: Option<CalendarDate>, end: Option<CalendarDate>) -> TierChangeRequest {
        TierChangeRequest {
            tier,
            start,
            end,
            reason: None,
        }
    }

    fn apply(p: &Partner, r: TierChangeRequest) -> PlannedTierChange {
        plan_tier_change(p, &r, TODAY, now()).unwrap().unwrap()
    }

    #[test]
    fn paid_tier_defaults_to_a_twelve_month_term_from_today() {
        let change = apply(&partner(80), request(Tier::Gold, None, None));
        assert_eq!(change.after.subscription_start_date, Some(TODAY));
        assert_eq!(change.after.subscription_end_date, Some(date(2027, 11, 24)));
        assert_eq!(change.after.subscription_status, SubscriptionStatus::Active);
        assert_eq!(change.after.final_pcr_score.hundredths(), 7_400);
        assert_eq!(change.pcr_delta().hundredths(), 400);
        assert_eq!(change.event_type, HistoryEventType::Upgrade);
    }

    #[test]
    fn a_start_alone_gets_the_commitment_added() {
        let change = apply(&partner(80), request(Tier::Platinum, Some(date(2028, 2, 29)), None));
        assert_eq!(change.after.subscription_end_date, Some(date(2029, 2, 28)));
    }

    #[test]
    fn end_must_be_after_start() {
        let p = partner(80);
        for (start, end) in [
            (date(2026, 12, 1), date(2026, 12, 1)),
            (date(2026, 12, 1), date(2026, 11, 30)),
        ] {
            let err = plan_tier_change(&p, &request(Tier::Gold, Some(start), Some(end)), TODAY, now());
            assert_eq!(err, Err(TierChangeError::EndNotAfterStart { start, end }));
        }
        // An end before today with no start: the default start (today) is after it.
        let err = plan_tier_change(&p, &request(Tier::Gold, None, Some(date(2026, 1, 1))), TODAY, now());
        assert!(matches!(err, Err(TierChangeError::EndNotAfterStart { .. })));
    }

    #[test]
    fn free_clears_dates_and_deactivates() {
        let gold = apply(&partner(80), request(Tier::Gold, None, None)).after;
        let change = apply(&gold, request(Tier::Free, Some(date(2026, 1, 1)), None));
        assert_eq!(change.after.subscription_start_date, None);
        assert_eq!(change.after.subscription_end_date, None);
        assert_eq!(change.after.subscription_status, SubscriptionStatus::Inactive);
        assert_eq!(change.after.final_pcr_score.hundredths(), 7_000);
        assert_eq!(change.event_type, HistoryEventType::Downgrade);
    }

    #[test]
    fn same_tier_keeps_the_term_unless_dates_are_given() {
        let gold = apply(&partner(80), request(Tier::Gold, Some(date(2026, 6, 1)), None)).after;
        assert_eq!(
            plan_tier_change(&gold, &request(Tier::Gold, None, None), TODAY, now()),
            Ok(None)
        );
        let moved = apply(&gold, request(Tier::Gold, None, Some(date(2027, 12, 31))));
        assert_eq!(moved.event_type, HistoryEventType::DatesChanged);
        assert_eq!(moved.after.subscription_start_date, Some(date(2026, 6, 1)));
        assert_eq!(moved.after.subscription_end_date, Some(date(2027, 12, 31)));
        assert_eq!(
            plan_tier_change(&partner(80), &request(Tier::Free, None, None), TODAY, now()),
            Ok(None)
        );
    }

    #[test]
    fn platinum_to_gold_is_a_downgrade_with_a_new_term() {
        let platinum = apply(&partner(80), request(Tier::Platinum, Some(date(2026, 1, 1)), None)).after;
        let change = apply(&platinum, request(Tier::Gold, None, None));
        assert_eq!(change.event_type, HistoryEventType::Downgrade);
        assert_eq!(change.after.subscription_start_date, Some(TODAY));
        assert_eq!(change.pcr_delta().hundredths(), -1_000);
    }

    #[test]
    fn preview_shows_both_sides() {
        let preview = preview_tier_change(&partner(65), Tier::Gold);
        assert_eq!(preview.current.final_pcr_score.hundredths(), 5_800);
        assert_eq!(preview.proposed.final_pcr_score.hundredths(), 6_200);
        assert_eq!(preview.pcr_delta_text, "+4 points");
        assert_eq!(preview.proposed.label, "Power Gold");
    }

    fn any_tier() -> impl Strategy<Value = Tier> {
        prop_oneof![Just(Tier::Free), Just(Tier::Gold), Just(Tier::Platinum)]
    }

    fn any_date() -> impl Strategy<Value = Option<CalendarDate>> {
        proptest::option::of((2024i16..2030, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d)))
    }

    /// The term a request must leave, stated apart from the planner: a paid tier keeps the current
    /// term's missing sides when the tier stays, else starts today; a given start alone gets the
    /// 12-month commitment; the free tier has no term.
    fn expected_term(
        current: &Partner,
        to: Tier,
        start: Option<CalendarDate>,
        end: Option<CalendarDate>,
    ) -> Option<(CalendarDate, CalendarDate)> {
        if !to.is_paid() {
            return None;
        }
        let kept = (to == current.engagement_tier)
            .then(|| current.subscription_start_date.zip(current.subscription_end_date))
            .flatten();
        let twelve_months_from = |day: CalendarDate| crate::dates::add_months(day, 12).unwrap();
        Some(match (start, end, kept) {
            (None, None, Some(term)) => term,
            (None, Some(end), Some((kept_start, _))) => (kept_start, end),
            (start, end, _) => {
                let start = start.unwrap_or(TODAY);
                (start, end.unwrap_or_else(|| twelve_months_from(start)))
            }
        })
    }

    proptest! {
        /// Every request, from every tier, gets the outcome a model of the rule expects: the
        /// refusal of an empty term, no change, or a change of the expected kind whose partner is
        /// consistent (tier, PCR, multiplier, a whole term exactly when paid).
        #[test]
        fn accepted_changes_keep_the_subscription_consistent(
            from in any_tier(), to in any_tier(), held_since in any_date(),
            start in any_date(), end in any_date(), base in 0i64..=100,
        ) {
            let p = match from {
                Tier::Free => partner(base),
                paid => apply(&partner(base), request(paid, held_since, None)).after,
            };
            prop_assert_eq!(p.engagement_tier, from);
            let outcome = plan_tier_change(&p, &request(to, start, end), TODAY, now());
            let term = expected_term(&p, to, start, end);
            let current_term = p.subscription_start_date.zip(p.subscription_end_date);
            let expected_type = match to.cmp(&from) {
                std::cmp::Ordering::Greater => Some(HistoryEventType::Upgrade),
                std::cmp::Ordering::Less => Some(HistoryEventType::Downgrade),
                std::cmp::Ordering::Equal if term != current_term => Some(HistoryEventType::DatesChanged),
                std::cmp::Ordering::Equal => None,
            };
            match (term, outcome) {
                (Some((s, e)), outcome) if e <= s => {
                    prop_assert_eq!(outcome, Err(TierChangeError::EndNotAfterStart { start: s, end: e }));
                }
                (term, Ok(None)) => {
                    prop_assert_eq!(expected_type, None, "no change only when nothing changes");
                    prop_assert_eq!(term, current_term);
                }
                (term, Ok(Some(change))) => {
                    let a = &change.after;
                    prop_assert_eq!(Some(change.event_type), expected_type);
                    prop_assert_eq!(a.engagement_tier, to);
                    prop_assert_eq!(a.final_pcr_score, a.pcr_at(to));
                    prop_assert_eq!(a.payment_multiplier, to.multiplier());
                    prop_assert_eq!(a.subscription_start_date.zip(a.subscription_end_date), term);
                    prop_assert_eq!(a.subscription_start_date.is_some(), a.subscription_end_date.is_some(), "half a term");
                    let status = if to.is_paid() { SubscriptionStatus::Active } else { SubscriptionStatus::Inactive };
                    prop_assert_eq!(a.subscription_status, status);
                }
                (term, Err(refused)) => prop_assert!(false, "{term:?} refused: {refused}"),
            }
        }
    }
}
