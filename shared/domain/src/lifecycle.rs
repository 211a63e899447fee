//! The subscription lifecycle after a term is set: renewal notices, renewal, expiry. Pure functions
//! over a partner and "today"; the daily sweep applies what they decide, and the notices say the same
//! ([`renewal_plan`]: one answer to "what happens at this term's end" for both).
//!
//! Each notice stage is its own fact (a marker per partner, term end and stage), not one
//! `renewal_notification_sent` flag that cannot carry two reminders.
//!
//! "Renews automatically" is true for a manually billed term too: at its end the sweep requests
//! Stripe billing for the next 12 months by emailed invoice (`send_invoice`, the admin's billing
//! start), which stripe-reconcile carries out; from then on the term is Stripe's like any billed one,
//! and the partner pays within the invoice's terms. A term whose billing could not start within the
//! grace period (Stripe refused it every day) expires.
//!
//! A term billed through Stripe is Stripe's to end: while Stripe still collects (Smart Retries, the
//! dunning ladder's last step, an emailed invoice's days to pay) the sweep never expires it; the
//! webhooks end it (`customer.subscription.deleted`, the third failed attempt). The sweep only
//! watches: such a term past its end by more than [`DEFAULT_BILLED_OVERDUE_DAYS`] with nothing paid
//! raises an alarm ([`billed_term_overdue`]).

use super::dates::{days_until, CalendarDate};
use super::partner::{BillingMode, Partner, SubscriptionStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Days past its end that an auto-renewing manual term keeps its tier while its renewal billing is
/// requested (again each day Stripe refused it), by default; after them it expires.
pub const DEFAULT_GRACE_DAYS: i32 = 7;

/// Days past its end after which a Stripe-billed term with nothing paid raises an alarm (Stripe has
/// not ended it, and nothing paid for it: a lost webhook or a stuck subscription, for a person).
pub const DEFAULT_BILLED_OVERDUE_DAYS: i32 = 45;

/// How far ahead the sweep looks for terms that need a notice.
pub const NOTICE_HORIZON_DAYS: i32 = 30;

/// Which renewal notice is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeStage {
    /// 30 >= days left > 7
    ThirtyDay,
    /// 7 >= days left >= 0
    SevenDay,
}

impl NoticeStage {
    pub const fn days(self) -> u8 {
        match self {
            NoticeStage::ThirtyDay => 30,
            NoticeStage::SevenDay => 7,
        }
    }

    pub fn from_days(days: u8) -> Option<NoticeStage> {
        match days {
            30 => Some(NoticeStage::ThirtyDay),
            7 => Some(NoticeStage::SevenDay),
            _ => None,
        }
    }
}

impl fmt::Display for NoticeStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.days())
    }
}

impl Serialize for NoticeStage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.days())
    }
}

impl<'de> Deserialize<'de> for NoticeStage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let days = u8::deserialize(d)?;
        NoticeStage::from_days(days).ok_or_else(|| serde::de::Error::custom(format!("unknown notice stage {days}")))
    }
}

/// Why a term expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryReason {
    /// `auto_renewal = false`: it ends with its end date.
    NotRenewing,
    /// Cancelled effective at term end.
    CancelledAtTermEnd,
    /// Auto-renewing, but its renewal billing could not be started within the grace period.
    UnpaidAfterGrace,
}

impl ExpiryReason {
    /// The history note that says why.
    pub fn note(self, end: CalendarDate, grace_days: i32) -> String {
        match self {
            ExpiryReason::NotRenewing => format!("Term ended {end}; auto-renewal is off"),
            ExpiryReason::CancelledAtTermEnd => format!("Term ended {end}; cancelled effective at term end"),
            ExpiryReason::UnpaidAfterGrace => {
                format!("Term ended {end}; its renewal billing could not be started within the {grace_days}-day grace period")
            }
        }
    }
}

/// What the sweep should do for one partner today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepDecision {
    /// Nothing is due.
    Nothing,
    /// Send this notice (once per partner, term end and stage).
    Notice { stage: NoticeStage, days_left: i32 },
    /// An auto-renewing manual term past its end: request its renewal's Stripe billing (the next 12
    /// months by emailed invoice; stripe-reconcile starts it).
    StartRenewalBilling { days_past_end: i32 },
    /// Downgrade to free with status `expired`.
    Expire(ExpiryReason),
    /// A Stripe-billed term past its end, or one whose billing start is under way: Stripe decides
    /// (renewal paid, or its subscription ended); the sweep changes nothing.
    AwaitStripe { days_past_end: i32 },
}

/// What happens at a term's end, by how the partner is billed (billing, collection, auto-renewal):
/// the renewal notices say it and the sweep does it (a test holds the two together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalPlan {
    /// Billed through Stripe, charged automatically: Stripe keeps charging the card on file monthly.
    CardCharged,
    /// Billed through Stripe by emailed invoice: Stripe keeps emailing each month's invoice.
    InvoiceEmailed,
    /// Billed by hand, auto-renewing: on the day after the term's end we start billing the next 12
    /// months by emailed Stripe invoice.
    InvoicingStarts,
    /// Not renewing (auto-renewal off, or cancelled at the term's end): the tier ends with the term.
    Ends,
}

/// What happens at `partner`'s term end (see [`RenewalPlan`]).
pub fn renewal_plan(partner: &Partner) -> RenewalPlan {
    use super::billing_start::Collection;
    let renewing = partner.auto_renewal && partner.subscription_status != SubscriptionStatus::Cancelled;
    match (renewing, partner.billing_mode()) {
        (false, _) => RenewalPlan::Ends,
        (true, BillingMode::Stripe) => match partner.collection {
            Some(Collection::SendInvoice) => RenewalPlan::InvoiceEmailed,
            Some(Collection::ChargeAutomatically) | None => RenewalPlan::CardCharged,
        },
        (true, BillingMode::Manual) => RenewalPlan::InvoicingStarts,
    }
}

/// The notice stage for a number of days left, if any: 30 >= d > 7 is the 30-day notice,
/// 7 >= d >= 0 the 7-day notice. A term that enters the window late gets only the stage it is in.
pub fn notice_stage(days_left: i32) -> Option<NoticeStage> {
    match days_left {
        8..=NOTICE_HORIZON_DAYS => Some(NoticeStage::ThirtyDay),
        0..=7 => Some(NoticeStage::SevenDay),
        _ => None,
    }
}

/// Decides what is due for `partner` on `today`.
pub fn sweep_decision(partner: &Partner, today: CalendarDate, grace_days: i32) -> SweepDecision {
    let (true, Some(end)) = (partner.engagement_tier.is_paid(), partner.subscription_end_date) else {
        return SweepDecision::Nothing;
    };
    let days_left = days_until(today, end);
    if days_left < 0 && partner.billing_mode() == BillingMode::Stripe {
        return SweepDecision::AwaitStripe {
            days_past_end: -days_left,
        };
    }
    match partner.subscription_status {
        SubscriptionStatus::Active if days_left >= 0 => match notice_stage(days_left) {
            Some(stage) => SweepDecision::Notice { stage, days_left },
            None => SweepDecision::Nothing,
        },
        SubscriptionStatus::Active if !partner.auto_renewal => SweepDecision::Expire(ExpiryReason::NotRenewing),
        // Its renewal billing was requested: stripe-reconcile starts it (and alarms while it cannot).
        SubscriptionStatus::Active if partner.pending_billing.is_some() => SweepDecision::AwaitStripe {
            days_past_end: -days_left,
        },
        SubscriptionStatus::Active if -days_left <= grace_days => SweepDecision::StartRenewalBilling {
            days_past_end: -days_left,
        },
        SubscriptionStatus::Active => SweepDecision::Expire(ExpiryReason::UnpaidAfterGrace),
        SubscriptionStatus::Cancelled if days_left < 0 => SweepDecision::Expire(ExpiryReason::CancelledAtTermEnd),
        SubscriptionStatus::Cancelled | SubscriptionStatus::Inactive | SubscriptionStatus::Expired => {
            SweepDecision::Nothing
        }
    }
}

/// Whether a Stripe-billed term is past its end by more than `overdue_days` with nothing paid for
/// today (the sweep's safety net: it alarms, it never downgrades).
pub fn billed_term_overdue(partner: &Partner, today: CalendarDate, overdue_days: i32) -> bool {
    let unpaid = partner.paid_through.is_none_or(|paid| paid < today);
    matches!(
        sweep_decision(partner, today, DEFAULT_GRACE_DAYS),
        SweepDecision::AwaitStripe { days_past_end } if days_past_end > overdue_days && unpaid
    )
}

/// `urgent` when 7 days or fewer are left, as the dashboard marks it.
pub fn is_urgent(days_left: i32) -> bool {
    days_left <= 7
}

/// How the dashboard marks a subscription row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Normal,
    /// 7 days or fewer left.
    Urgent,
    /// The end date has passed.
    Ended,
}

impl Urgency {
    /// The mark of a term with `days_left` (none without a term).
    pub fn of(days_left: Option<i32>) -> Urgency {
        match days_left {
            Some(days) if days < 0 => Urgency::Ended,
            Some(days) if is_urgent(days) => Urgency::Urgent,
            _ => Urgency::Normal,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::Ended => "ended",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner::PaymentStatus;
    use crate::tier::Tier;
    use jiff::civil::date;
    use jiff::Span;
    use proptest::prelude::*;

    const TODAY: CalendarDate = date(2026, 11, 24);

    #[test]
    fn urgency_marks_the_last_week_and_ended_terms() {
        assert_eq!(Urgency::of(None), Urgency::Normal);
        assert_eq!(Urgency::of(Some(8)), Urgency::Normal);
        assert_eq!(Urgency::of(Some(7)), Urgency::Urgent);
        assert_eq!(Urgency::of(Some(0)), Urgency::Urgent);
        assert_eq!(Urgency::of(Some(-1)), Urgency::Ended);
        assert_eq!(serde_json::to_value(Urgency::Ended).unwrap(), "ended");
    }

    fn partner(tier: Tier, status: SubscriptionStatus, days_left: i64, auto_renewal: bool) -> Partner {
        let now = "2026-11-24T12:00:00Z".parse().unwrap();
        let mut p = crate::partner::sample_partner(8_000, now);
        p.engagement_tier = tier;
        p.subscription_status = status;
        p.auto_renewal = auto_renewal;
        let end = TODAY.checked_add(Span::new().days(days_left)).unwrap();
        p.subscription_end_date = Some(end);
        p.subscription_start_date = Some(end.checked_sub(Span::new().years(1)).unwrap());
        p
    }

    fn decide(days_left: i64, auto_renewal: bool) -> SweepDecision {
        sweep_decision(
            &partner(Tier::Gold, SubscriptionStatus::Active, days_left, auto_renewal),
            TODAY,
            DEFAULT_GRACE_DAYS,
        )
    }

    #[test]
    fn every_stage_boundary() {
        use NoticeStage::*;
        use SweepDecision::*;
        assert_eq!(decide(31, false), Nothing);
        assert_eq!(
            decide(30, false),
            Notice {
                stage: ThirtyDay,
                days_left: 30
            }
        );
        assert_eq!(
            decide(8, false),
            Notice {
                stage: ThirtyDay,
                days_left: 8
            }
        );
        assert_eq!(
            decide(7, false),
            Notice {
                stage: SevenDay,
                days_left: 7
            }
        );
        assert_eq!(
            decide(0, false),
            Notice {
                stage: SevenDay,
                days_left: 0
            }
        );
        assert_eq!(
            decide(-1, false),
            Expire(ExpiryReason::NotRenewing),
            "expires the day after its end date"
        );
    }

    /// How a partner is billed, for the table below.
    #[derive(Debug, Clone, Copy)]
    enum Billing {
        Manual,
        /// Stripe charges the card on file.
        StripeCard,
        /// Stripe emails an invoice with 30 days to pay.
        StripeInvoice,
    }

    fn billed(billing: Billing, status: SubscriptionStatus, days_left: i64, auto: bool, failed: u32) -> Partner {
        let mut p = partner(Tier::Gold, status, days_left, auto);
        if !matches!(billing, Billing::Manual) {
            p.stripe_customer_id = Some("cus_1".into());
            p.stripe_subscription_id = Some("sub_1".into());
            p.stripe_subscription_status = Some(if failed > 0 { "past_due" } else { "active" }.into());
        }
        if let Billing::StripeInvoice = billing {
            p.open_invoice_id = Some("in_1".into());
            p.payment_due_date = TODAY.checked_add(Span::new().days(30 + days_left)).ok();
            p.payment_status = Some(PaymentStatus::AwaitingPayment);
        } else if failed > 0 {
            p.payment_status = Some(PaymentStatus::PastDue);
        }
        p
    }

    /// (billing, auto-renewal, status, days past the end, failed attempts so far) -> decision: a
    /// Stripe-billed term past its end is Stripe's, whatever its collection, renewal setting or
    /// failures; a manual auto-renewing one has its renewal billing requested, within the grace
    /// period, and expires only after it.
    #[test]
    fn the_sweep_decides_by_how_a_term_is_billed() {
        use Billing::*;
        use SubscriptionStatus::{Active, Cancelled};
        use SweepDecision::*;
        let table: Vec<(Billing, bool, SubscriptionStatus, i64, u32, SweepDecision)> = vec![
            (Manual, true, Active, 1, 0, StartRenewalBilling { days_past_end: 1 }),
            (Manual, true, Active, 3, 0, StartRenewalBilling { days_past_end: 3 }),
            (Manual, true, Active, 8, 0, Expire(ExpiryReason::UnpaidAfterGrace)),
            (Manual, false, Active, 1, 0, Expire(ExpiryReason::NotRenewing)),
            (Manual, true, Cancelled, 1, 0, Expire(ExpiryReason::CancelledAtTermEnd)),
            (StripeCard, true, Active, 1, 1, AwaitStripe { days_past_end: 1 }),
            (StripeCard, true, Active, 8, 2, AwaitStripe { days_past_end: 8 }),
            (StripeCard, true, Active, 20, 2, AwaitStripe { days_past_end: 20 }),
            (StripeCard, true, Active, 60, 2, AwaitStripe { days_past_end: 60 }),
            (StripeCard, false, Active, 8, 0, AwaitStripe { days_past_end: 8 }),
            (StripeCard, true, Cancelled, 8, 0, AwaitStripe { days_past_end: 8 }),
            (StripeInvoice, true, Active, 8, 0, AwaitStripe { days_past_end: 8 }),
            (StripeInvoice, true, Active, 29, 0, AwaitStripe { days_past_end: 29 }),
            (StripeInvoice, false, Active, 31, 0, AwaitStripe { days_past_end: 31 }),
        ];
        for (billing, auto, status, past, failed, expected) in table {
            let p = billed(billing, status, -past, auto, failed);
            assert_eq!(
                sweep_decision(&p, TODAY, DEFAULT_GRACE_DAYS),
                expected,
                "{billing:?}, auto-renewal {auto}, {status:?}, {past} days past the end, {failed} failed"
            );
        }
        // Before the end, every kind gets its notices.
        for billing in [Manual, StripeCard, StripeInvoice] {
            assert_eq!(
                sweep_decision(&billed(billing, Active, 7, true, 0), TODAY, DEFAULT_GRACE_DAYS),
                Notice {
                    stage: NoticeStage::SevenDay,
                    days_left: 7
                },
                "{billing:?}"
            );
        }
    }

    #[test]
    fn a_billed_term_long_past_its_end_with_nothing_paid_is_overdue() {
        let days = DEFAULT_BILLED_OVERDUE_DAYS;
        let stripe = |past: i64| billed(Billing::StripeCard, SubscriptionStatus::Active, -past, true, 3);
        assert!(!billed_term_overdue(&stripe(45), TODAY, days), "45 days: not yet");
        assert!(billed_term_overdue(&stripe(46), TODAY, days));
        assert!(!billed_term_overdue(&stripe(46), TODAY, 60), "configurable");
        let mut paid = stripe(46);
        paid.paid_through = Some(TODAY);
        assert!(!billed_term_overdue(&paid, TODAY, days), "paid for today");
        let manual = billed(Billing::Manual, SubscriptionStatus::Active, -46, true, 0);
        assert!(
            !billed_term_overdue(&manual, TODAY, days),
            "a manual term expires instead"
        );
    }

    #[test]
    fn an_auto_renewing_manual_term_requests_its_renewal_billing_then_waits_for_it() {
        use SweepDecision::*;
        assert_eq!(decide(-1, true), StartRenewalBilling { days_past_end: 1 });
        assert_eq!(
            decide(-7, true),
            StartRenewalBilling { days_past_end: 7 },
            "grace edge: 7 days past is still requested (Stripe refused it until then)"
        );
        // Once requested (the claim), the sweep waits for stripe-reconcile to start it, even past
        // the grace: the claim is pending work, alarmed while it stays.
        let mut requested = partner(Tier::Gold, SubscriptionStatus::Active, -1, true);
        let claim = super::super::billing_start::claim_billing_start(
            &requested,
            Tier::Gold,
            super::super::billing_start::Collection::SendInvoice,
            super::super::billing_start::StartRequest {
                first_payment: super::super::billing_start::FirstPayment::SavedMethod,
                cancel_at: None,
            },
            "2026-11-24T12:00:00Z".parse().unwrap(),
        );
        let Ok(super::super::billing_start::Claim::New(claimed)) = claim else {
            panic!("a renewal's claim: {claim:?}");
        };
        requested = claimed;
        assert_eq!(
            sweep_decision(&requested, TODAY, DEFAULT_GRACE_DAYS),
            AwaitStripe { days_past_end: 1 }
        );
        let later = TODAY.checked_add(Span::new().days(20)).unwrap();
        assert_eq!(
            sweep_decision(&requested, later, DEFAULT_GRACE_DAYS),
            AwaitStripe { days_past_end: 21 }
        );
        assert_eq!(decide(-8, true), Expire(ExpiryReason::UnpaidAfterGrace));
        assert_eq!(decide(-400, true), Expire(ExpiryReason::UnpaidAfterGrace));
        assert_eq!(
            decide(5, true),
            Notice {
                stage: NoticeStage::SevenDay,
                days_left: 5
            },
            "auto-renewing terms are reminded too"
        );
    }

    #[test]
    fn late_entry_gets_only_the_stage_it_is_in() {
        assert_eq!(notice_stage(5), Some(NoticeStage::SevenDay));
        assert_eq!(notice_stage(12), Some(NoticeStage::ThirtyDay));
        assert_eq!(notice_stage(31), None);
        assert_eq!(notice_stage(-1), None);
    }

    #[test]
    fn free_and_cancelled_partners() {
        let free = partner(Tier::Free, SubscriptionStatus::Inactive, 5, false);
        assert_eq!(sweep_decision(&free, TODAY, 7), SweepDecision::Nothing);
        let expired = partner(Tier::Free, SubscriptionStatus::Expired, -3, false);
        assert_eq!(sweep_decision(&expired, TODAY, 7), SweepDecision::Nothing);
        let cancelled_pending = partner(Tier::Platinum, SubscriptionStatus::Cancelled, 5, true);
        assert_eq!(
            sweep_decision(&cancelled_pending, TODAY, 7),
            SweepDecision::Nothing,
            "no renewal notices after a cancellation"
        );
        let cancelled_today = partner(Tier::Platinum, SubscriptionStatus::Cancelled, 0, true);
        assert_eq!(
            sweep_decision(&cancelled_today, TODAY, 7),
            SweepDecision::Nothing,
            "keeps the tier through its end date"
        );
        let cancelled_ended = partner(Tier::Platinum, SubscriptionStatus::Cancelled, -1, true);
        assert_eq!(
            sweep_decision(&cancelled_ended, TODAY, 7),
            SweepDecision::Expire(ExpiryReason::CancelledAtTermEnd)
        );
    }

    #[test]
    fn grace_is_configurable() {
        let p = partner(Tier::Gold, SubscriptionStatus::Active, -3, true);
        assert_eq!(
            sweep_decision(&p, TODAY, 2),
            SweepDecision::Expire(ExpiryReason::UnpaidAfterGrace)
        );
        assert_eq!(
            sweep_decision(&p, TODAY, 0),
            SweepDecision::Expire(ExpiryReason::UnpaidAfterGrace)
        );
        assert!(ExpiryReason::UnpaidAfterGrace
            .note(date(2026, 11, 21), 2)
            .contains("2-day grace"));
    }

    proptest! {
        #[test]
        fn decisions_follow_days_left(days in -500i64..500, auto in any::<bool>(), grace in 0i32..30, stripe in any::<bool>()) {
            let billing = if stripe { Billing::StripeCard } else { Billing::Manual };
            let p = billed(billing, SubscriptionStatus::Active, days, auto, 0);
            match sweep_decision(&p, TODAY, grace) {
                SweepDecision::AwaitStripe { days_past_end } => {
                    prop_assert!(stripe && days < 0 && i64::from(days_past_end) == -days);
                }
                _ if stripe && days < 0 => prop_assert!(false, "a Stripe-billed term past its end is Stripe's"),
                SweepDecision::Nothing => prop_assert!(days > 30),
                SweepDecision::Notice { stage, days_left } => {
                    prop_assert_eq!(i64::from(days_left), days);
                    prop_assert!((0..=30).contains(&days));
                    prop_assert_eq!(stage == NoticeStage::SevenDay, days <= 7);
                }
                SweepDecision::StartRenewalBilling { days_past_end } => prop_assert!(auto && days < 0 && i64::from(days_past_end) == -days && days_past_end <= grace),
                SweepDecision::Expire(reason) => {
                    prop_assert!(days < 0);
                    prop_assert_eq!(reason == ExpiryReason::NotRenewing, !auto);
                }
            }
        }
    }
}
