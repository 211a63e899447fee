//! State transitions of a paid subscription after it is set: expiry, grace, renewal, cancellation,
//! settings. Each takes the current partner and returns the next state; nothing here does I/O.

use super::dates::{add_months, CalendarDate};
use super::history_and_audit::Actor;
use super::lifecycle::ExpiryReason;
use super::partner::{Note, Partner, PaymentStatus, SubscriptionStatus};
use super::tier::Tier;
use jiff::Timestamp;
use serde::Deserialize;

/// Renewals run from 1 to 36 months (12 is the commitment).
pub const MAX_RENEWAL_MONTHS: u8 = 36;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("partner {0} is on the free tier: there is no paid subscription to {1}")]
    NotSubscribed(String, &'static str),
    #[error("the subscription of partner {0} is already cancelled")]
    AlreadyCancelled(String),
    #[error("the renewed term's end date is out of range")]
    OutOfRange,
    #[error("partner {0} is already paused")]
    AlreadyPaused(String),
    #[error("the subscription of partner {0} is not cancelled: there is no cancellation to withdraw")]
    NotCancelled(String),
    #[error("partner {0} is not paused")]
    NotPaused(String),
    /// Only who cancelled may take it back: an admin's or Stripe's cancellation is theirs.
    #[error("the subscription of partner {partner} was cancelled by {}: only they can withdraw it; contact your Power100 account manager", .by.who())]
    CancelledByOther { partner: String, by: CancelledBy },
    #[error("a pause lasts 1 to {MAX_PAUSE_MONTHS} months")]
    PauseLength,
    /// Stripe's paid invoices renew a billed term; a renewal by hand would grant months nobody paid.
    #[error("partner {0} is billed through Stripe: its term renews as Stripe's invoices are paid, not by hand")]
    BilledByStripe(String),
}

/// When a cancellation takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelEffective {
    /// Downgrade to free now.
    Immediately,
    /// Keep the tier through the end date; the sweep then expires it without renewal notices.
    TermEnd,
}

/// A paid term's tier and end date, or the error for a partner without one.
fn paid_term(partner: &Partner, action: &'static str) -> Result<(Tier, CalendarDate), SubscriptionError> {
    match (partner.engagement_tier.is_paid(), partner.subscription_end_date) {
        (true, Some(end)) => Ok((partner.engagement_tier, end)),
        _ => Err(SubscriptionError::NotSubscribed(partner.id.to_string(), action)),
    }
}

/// The term ended without renewal: free tier, status `expired`, the ended term's dates kept for the record.
pub fn expire(partner: &Partner, reason: ExpiryReason, now: Timestamp) -> Partner {
    let mut next = partner.clone();
    next.apply_tier(Tier::Free, now);
    next.subscription_status = SubscriptionStatus::Expired;
    if reason == ExpiryReason::UnpaidAfterGrace {
        next.payment_status = Some(PaymentStatus::Failed);
    }
    next.updated_at = now;
    next
}

/// The longest pause an admin may give.
pub const MAX_PAUSE_MONTHS: u8 = 6;

/// Pauses collection for `months` from `today`: the tier stays, the term's end moves by the span.
pub fn pause(partner: &Partner, months: u8, today: CalendarDate, now: Timestamp) -> Result<Partner, SubscriptionError> {
    let (_, end) = paid_term(partner, "pause")?;
    if partner.paused_until.is_some_and(|until| until > today) {
        return Err(SubscriptionError::AlreadyPaused(partner.id.to_string()));
    }
    if !(1..=MAX_PAUSE_MONTHS).contains(&months) {
        return Err(SubscriptionError::PauseLength);
    }
    let until = add_months(today, i32::from(months)).ok_or(SubscriptionError::OutOfRange)?;
    let span = until - today;
    let mut next = partner.clone();
    next.paused_until = Some(until);
    next.subscription_end_date = Some(end.checked_add(span).map_err(|_| SubscriptionError::OutOfRange)?);
    next.updated_at = now;
    Ok(next)
}

/// Resumes collection on `today`: a pause ended early gives back the span not used, so the term's
/// end moves back by it.
pub fn resume(partner: &Partner, today: CalendarDate, now: Timestamp) -> Result<Partner, SubscriptionError> {
    let until = partner
        .paused_until
        .ok_or_else(|| SubscriptionError::NotPaused(partner.id.to_string()))?;
    let mut next = partner.clone();
    next.paused_until = None;
    next.pause_confirmed_at = None;
    if until > today {
        let unused = until - today;
        next.subscription_end_date = partner
            .subscription_end_date
            .map(|end| end.checked_sub(unused))
            .transpose()
            .map_err(|_| SubscriptionError::OutOfRange)?;
    }
    next.updated_at = now;
    Ok(next)
}

/// A renewal an admin makes: refused for a Stripe-billed partner, whose paid invoices renew it.
pub fn renew_by_hand(partner: &Partner, months: u8, now: Timestamp) -> Result<Partner, SubscriptionError> {
    if partner.has_live_stripe_subscription() {
        return Err(SubscriptionError::BilledByStripe(partner.id.to_string()));
    }
    renew(partner, months, now)
}

/// A new term of `months` that starts where the current one ends; reactivates a cancelled term.
pub fn renew(partner: &Partner, months: u8, now: Timestamp) -> Result<Partner, SubscriptionError> {
    let (_, end) = paid_term(partner, "renew")?;
    let new_end = add_months(end, i32::from(months)).ok_or(SubscriptionError::OutOfRange)?;
    let mut next = partner.clone();
    next.subscription_start_date = Some(end);
    next.subscription_end_date = Some(new_end);
    next.subscription_status = SubscriptionStatus::Active;
    next.cancellation_date = None;
    next.cancellation_reason = None;
    next.cancelled_by = None;
    if next.payment_status == Some(PaymentStatus::PastDue) {
        next.payment_status = Some(PaymentStatus::Current);
    }
    next.updated_at = now;
    Ok(next)
}

/// Cancels the paid subscription, now or at the end of its term.
pub fn cancel(
    partner: &Partner,
    effective: CancelEffective,
    reason: Option<Note>,
    by: &Actor,
    today: CalendarDate,
    now: Timestamp,
) -> Result<Partner, SubscriptionError> {
    paid_term(partner, "cancel")?;
    if effective == CancelEffective::TermEnd && partner.subscription_status == SubscriptionStatus::Cancelled {
        return Err(SubscriptionError::AlreadyCancelled(partner.id.to_string()));
    }
    let mut next = partner.clone();
    if effective == CancelEffective::Immediately {
        next.apply_tier(Tier::Free, now);
    }
    next.subscription_status = SubscriptionStatus::Cancelled;
    next.cancellation_date = Some(today);
    next.cancellation_reason = reason;
    next.cancelled_by = Some(by.clone());
    next.auto_renewal = false;
    next.updated_at = now;
    Ok(next)
}

/// Who cancelled a term, as a partner is told (never an admin's own id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// The partner, in the portal: it may withdraw the cancellation itself.
    Partner,
    /// Power100 (an admin, or a scheduled job), or unknown for a cancellation recorded before this
    /// was kept.
    Power100,
    /// In Stripe (its dashboard, or Stripe's own customer portal).
    Stripe,
}

impl CancelledBy {
    /// Who, in a sentence.
    pub const fn who(self) -> &'static str {
        match self {
            CancelledBy::Partner => "you",
            CancelledBy::Power100 => "Power100",
            CancelledBy::Stripe => "Stripe (billing)",
        }
    }

    pub fn of(partner: &Partner) -> Option<CancelledBy> {
        (partner.subscription_status == SubscriptionStatus::Cancelled).then_some(match &partner.cancelled_by {
            Some(Actor::Partner(_)) => CancelledBy::Partner,
            Some(Actor::Stripe) => CancelledBy::Stripe,
            Some(Actor::Admin(_) | Actor::System) | None => CancelledBy::Power100,
        })
    }
}

/// A partner withdrawing its cancellation: only one it made itself in the portal.
pub fn withdraw_own_cancellation(partner: &Partner, now: Timestamp) -> Result<Partner, SubscriptionError> {
    match CancelledBy::of(partner) {
        Some(CancelledBy::Partner) | None => withdraw_cancellation(partner, now),
        Some(by) => Err(SubscriptionError::CancelledByOther {
            partner: partner.id.to_string(),
            by,
        }),
    }
}

/// Withdraws a cancellation at term end before the end: the term is active again and renews.
pub fn withdraw_cancellation(partner: &Partner, now: Timestamp) -> Result<Partner, SubscriptionError> {
    paid_term(partner, "withdraw a cancellation of")?;
    if partner.subscription_status != SubscriptionStatus::Cancelled {
        return Err(SubscriptionError::NotCancelled(partner.id.to_string()));
    }
    let change = SettingsChange {
        auto_renewal: Some(true),
        subscription_notes: None,
    };
    change_settings(partner, &change, now).ok_or_else(|| SubscriptionError::NotCancelled(partner.id.to_string()))
}

/// Subscription settings an admin edits; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsChange {
    pub auto_renewal: Option<bool>,
    /// `Some(None)` clears the notes.
    pub subscription_notes: Option<Option<Note>>,
}

/// The partner with the settings applied; `None` when nothing differs. Turning auto-renewal back on
/// withdraws a cancellation at term end: the paid term is active again.
pub fn change_settings(partner: &Partner, change: &SettingsChange, now: Timestamp) -> Option<Partner> {
    let mut next = partner.clone();
    if let Some(auto) = change.auto_renewal {
        next.auto_renewal = auto;
        if auto && partner.engagement_tier.is_paid() && partner.subscription_status == SubscriptionStatus::Cancelled {
            next.subscription_status = SubscriptionStatus::Active;
            next.cancellation_date = None;
            next.cancellation_reason = None;
            next.cancelled_by = None;
        }
    }
    if let Some(notes) = &change.subscription_notes {
        next.subscription_notes = notes.clone();
    }
    if next == *partner {
        return None;
    }
    next.updated_at = now;
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn gold(end: CalendarDate) -> Partner {
        let mut p = crate::partner::sample_partner(8_000, now());
        p.apply_tier(Tier::Gold, now());
        p.subscription_status = SubscriptionStatus::Active;
        p.subscription_start_date = Some(date(2025, 12, 1));
        p.subscription_end_date = Some(end);
        p
    }

    #[test]
    fn a_cancellation_at_term_end_can_be_withdrawn_once() {
        let today = date(2026, 11, 24);
        let p = gold(date(2027, 3, 1));
        let cancelled = cancel(&p, CancelEffective::TermEnd, None, &Actor::System, today, now()).unwrap();
        let back = withdraw_cancellation(&cancelled, now()).unwrap();
        assert_eq!(back.subscription_status, SubscriptionStatus::Active);
        assert!(back.auto_renewal);
        assert_eq!(back.cancellation_date, None);
        assert_eq!(back.engagement_tier, Tier::Gold);
        assert_eq!(
            withdraw_cancellation(&back, now()),
            Err(SubscriptionError::NotCancelled(p.id.to_string()))
        );
        let ended = cancel(&p, CancelEffective::Immediately, None, &Actor::System, today, now()).unwrap();
        assert!(matches!(
            withdraw_cancellation(&ended, now()),
            Err(SubscriptionError::NotSubscribed(..))
        ));
    }

    #[test]
    fn expiry_moves_to_free_and_keeps_the_record() {
        let p = gold(date(2026, 11, 20));
        let e = expire(&p, ExpiryReason::UnpaidAfterGrace, now());
        assert_eq!(
            (e.engagement_tier, e.subscription_status),
            (Tier::Free, SubscriptionStatus::Expired)
        );
        assert_eq!(e.final_pcr_score.hundredths(), 7_000);
        assert_eq!(e.last_paid_tier, Some(Tier::Gold));
        assert_eq!(e.subscription_end_date, Some(date(2026, 11, 20)));
        assert_eq!(e.payment_status, Some(PaymentStatus::Failed));
        assert_eq!(expire(&p, ExpiryReason::NotRenewing, now()).payment_status, None);
    }

    #[test]
    fn renewal_starts_where_the_term_ends() {
        let mut p = gold(date(2026, 11, 20));
        p.payment_status = Some(PaymentStatus::PastDue);
        p.subscription_status = SubscriptionStatus::Cancelled;
        p.cancellation_reason = Note::parse_optional(Some("budget")).unwrap();
        let r = renew(&p, 12, now()).unwrap();
        assert_eq!(
            (r.subscription_start_date, r.subscription_end_date),
            (Some(date(2026, 11, 20)), Some(date(2027, 11, 20)))
        );
        assert_eq!(r.subscription_status, SubscriptionStatus::Active);
        assert_eq!(
            (r.cancellation_reason, r.payment_status),
            (None, Some(PaymentStatus::Current))
        );
        let mut free = p.clone();
        free.apply_tier(Tier::Free, now());
        assert!(matches!(
            renew(&free, 12, now()),
            Err(SubscriptionError::NotSubscribed(..))
        ));
    }

    #[test]
    fn cancellation_both_ways() {
        let p = gold(date(2027, 1, 31));
        let today = date(2026, 11, 24);
        let now_ = cancel(&p, CancelEffective::Immediately, None, &Actor::System, today, now()).unwrap();
        assert_eq!(
            (now_.engagement_tier, now_.subscription_status),
            (Tier::Free, SubscriptionStatus::Cancelled)
        );
        assert_eq!(now_.cancellation_date, Some(today));
        assert_eq!(now_.final_pcr_score.hundredths(), 7_000);
        let later = cancel(&p, CancelEffective::TermEnd, None, &Actor::System, today, now()).unwrap();
        assert_eq!(
            (later.engagement_tier, later.subscription_status),
            (Tier::Gold, SubscriptionStatus::Cancelled)
        );
        assert!(!later.auto_renewal);
        assert!(matches!(
            cancel(&later, CancelEffective::TermEnd, None, &Actor::System, today, now()),
            Err(SubscriptionError::AlreadyCancelled(_))
        ));
        assert!(cancel(&later, CancelEffective::Immediately, None, &Actor::System, today, now()).is_ok());
        assert!(matches!(
            cancel(&now_, CancelEffective::Immediately, None, &Actor::System, today, now()),
            Err(SubscriptionError::NotSubscribed(..))
        ));
    }

    #[test]
    fn settings_change_only_what_is_given() {
        let p = gold(date(2027, 1, 31));
        assert_eq!(change_settings(&p, &SettingsChange::default(), now()), None);
        let c = change_settings(
            &p,
            &SettingsChange {
                auto_renewal: Some(false),
                subscription_notes: None,
            },
            now(),
        )
        .unwrap();
        assert!(!c.auto_renewal);
        assert_eq!(c.subscription_notes, None);
    }
}
