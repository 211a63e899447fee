//! Billing rules: what a paid, failed or cancelled Stripe subscription does to a partner. Pure
//! functions over plain data; the webhook parses Stripe's events into the facts below and stores
//! what these return.

use super::dates::{BusinessCalendar, CalendarDate};
use super::events::{EventBody, PaymentFailed, PaymentFailureDowngrade, TierChanged};
use super::history_and_audit::{Actor, AuditAction, HistoryEventType};
use super::money::Cents;
use super::partner::Note;
use super::partner::{Partner, PaymentStatus, SubscriptionStatus};
use super::partner_change::PartnerChange;
use super::stripe_subscription::StripeSubscriptionStatus;
use super::subscription::renew;
use super::tier::Tier;
use jiff::Timestamp;

/// The Stripe price of each paid tier (from configuration, never from the repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceCatalog {
    pub gold: String,
    pub platinum: String,
}

impl PriceCatalog {
    pub fn tier_of(&self, price_id: &str) -> Option<Tier> {
        if price_id == self.gold {
            Some(Tier::Gold)
        } else if price_id == self.platinum {
            Some(Tier::Platinum)
        } else {
            None
        }
    }

    pub fn price_of(&self, tier: Tier) -> Option<&str> {
        match tier {
            Tier::Free => None,
            Tier::Gold => Some(&self.gold),
            Tier::Platinum => Some(&self.platinum),
        }
    }
}

/// What a Stripe invoice says, reduced to what billing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFacts {
    pub invoice_id: String,
    pub number: Option<String>,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    /// Stripe's status: `draft`, `open`, `paid`, `uncollectible`, `void`.
    pub status: String,
    pub amount_due: Cents,
    pub amount_paid: Cents,
    /// How many times Stripe tried to collect it.
    pub attempt_count: u32,
    /// The service period the invoice bills.
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    /// The price of its subscription line, when it has one.
    pub price_id: Option<String>,
    pub paid_at: Option<Timestamp>,
    pub next_payment_attempt: Option<Timestamp>,
    pub hosted_invoice_url: Option<String>,
    pub invoice_pdf: Option<String>,
    pub created: Timestamp,
}

/// What a Stripe subscription says, reduced to what billing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionFacts {
    pub subscription_id: String,
    pub customer_id: String,
    /// Stripe's status.
    pub status: StripeSubscriptionStatus,
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<Timestamp>,
    pub price_id: Option<String>,
    /// Whether collection is paused (`pause_collection` set).
    #[doc(alias = "pause_collection")]
    pub collection_paused: bool,
}

/// Where an event stands among the events of one Stripe object: its `created` second, then, within
/// one second (Stripe often creates, finalizes and pays an invoice in the same second), how far along
/// the object's life it is. An event is applied to an object only when its order is higher than the
/// newest one applied.
pub fn event_order(created: Timestamp, stage: EventStage) -> i64 {
    created.as_second().saturating_mul(10).saturating_add(stage as i64)
}

/// How far along its object's life an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventStage {
    Issued = 1,
    Updated = 2,
    PaymentFailed = 3,
    Paid = 4,
    Deleted = 5,
}

/// The dunning ladder: what the n-th failed attempt to collect an invoice leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DunningStep {
    /// First failure: a friendly reminder.
    FriendlyReminder,
    /// Second failure: an urgent notice.
    UrgentNotice,
    /// Third failure or later: downgrade to free.
    Downgrade,
}

pub fn dunning_step(attempt_count: u32) -> DunningStep {
    match attempt_count {
        0 | 1 => DunningStep::FriendlyReminder,
        2 => DunningStep::UrgentNotice,
        _ => DunningStep::Downgrade,
    }
}

/// Whether an invoice bills an older period than the one the partner's payment status already
/// reflects: its late event updates the invoice's own record, never the partner.
pub fn is_older_period(partner: &Partner, invoice: &InvoiceFacts) -> bool {
    partner
        .stripe_invoice_period_start
        .is_some_and(|newest| invoice.period_start < newest)
}

/// A term rolled forward by a payment: the new term's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    pub start: CalendarDate,
    pub end: CalendarDate,
}

/// A paid invoice: the latest payment, the paid-through date, `current` unless a newer invoice's
/// outcome already decides the status, and, when the paid period runs past the term and auto-renewal
/// is on, the term rolled forward by 12 months (as often as it takes).
///
/// Every field only moves forward (latest payment, furthest paid day, term end covering the paid
/// period), so invoices paid in any order leave the partner in the same state.
pub fn payment_succeeded(
    partner: &Partner,
    invoice: &InvoiceFacts,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> (Partner, Option<Renewal>) {
    let mut next = partner.clone();
    let period_end = calendar.today(invoice.period_end);
    let paid_on = calendar.today(invoice.paid_at.unwrap_or(invoice.created));
    if next.last_payment_date.is_none_or(|last| paid_on >= last) {
        next.last_payment_date = Some(paid_on);
        next.last_payment_amount = Some(invoice.amount_paid);
    }
    next.paid_through = Some(next.paid_through.map_or(period_end, |d| d.max(period_end)));
    if !is_older_period(partner, invoice) {
        next.payment_status = Some(PaymentStatus::Current);
        next.payment_due_date = None;
        next.overdue_notices = None;
        next.stripe_invoice_period_start = Some(invoice.period_start);
    }
    let mut renewal = None;
    let renews = next.auto_renewal
        && next.engagement_tier.is_paid()
        && next.subscription_status != SubscriptionStatus::Cancelled;
    // At most three terms at once: a period years past the term is a data problem, not a renewal.
    for _ in 0..3 {
        match next.subscription_end_date {
            Some(end) if renews && end < period_end => match renew(&next, 12, now) {
                Ok(renewed) => {
                    let (Some(start), Some(end)) = (renewed.subscription_start_date, renewed.subscription_end_date)
                    else {
                        break;
                    };
                    renewal = Some(Renewal {
                        start: renewal.map_or(start, |r: Renewal| r.start),
                        end,
                    });
                    next = renewed;
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    next.updated_at = now;
    (next, renewal)
}

/// A failed attempt to collect an invoice, by the dunning ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentFailure {
    pub after: Partner,
    pub step: DunningStep,
    /// The partner was moved from a paid tier to free (the ladder's last step, on a paid tier).
    pub downgraded: bool,
}

/// A failed attempt to collect `invoice` (callers skip invoices older than the partner's newest, see
/// [`is_older_period`]).
pub fn payment_failed(partner: &Partner, invoice: &InvoiceFacts, now: Timestamp) -> PaymentFailure {
    let mut next = partner.clone();
    next.stripe_invoice_period_start = Some(invoice.period_start);
    dunning(next, dunning_step(invoice.attempt_count), now)
}

/// Days between the ladder's steps for an emailed (`send_invoice`) invoice left unpaid.
pub const OVERDUE_STEP_DAYS: i32 = 7;

/// The ladder's attempt an emailed invoice due on `due` has reached on `today`: the first the day
/// after its due date, the next every [`OVERDUE_STEP_DAYS`] days; `None` until it is overdue.
pub fn overdue_attempt(due: CalendarDate, today: CalendarDate) -> Option<u32> {
    let days_overdue = crate::dates::days_until(due, today);
    (days_overdue >= 1).then(|| 1 + u32::try_from((days_overdue - 1) / OVERDUE_STEP_DAYS).unwrap_or(u32::MAX))
}

/// An emailed invoice still unpaid at ladder `attempt`: the same steps as failed card payments.
pub fn invoice_overdue(partner: &Partner, attempt: u32, now: Timestamp) -> PaymentFailure {
    let mut failure = dunning(partner.clone(), dunning_step(attempt), now);
    failure.after.overdue_notices = Some(attempt);
    failure
}

/// The partner's change for ladder step `attempt`.
pub fn overdue_change(current: &Partner, attempt: u32, now: Timestamp) -> PartnerChange {
    let failure = invoice_overdue(current, attempt, now);
    let invoice_id = current.open_invoice_id.clone().unwrap_or_default();
    let amount_due_cents = current.engagement_tier.info().monthly_price_cents;
    let due = current.payment_due_date.map(|d| d.to_string()).unwrap_or_default();
    if failure.step == DunningStep::Downgrade && failure.downgraded {
        let note = Note::parse(&format!(
            "Invoice {invoice_id} due {due} unpaid after {attempt} notices"
        ))
        .ok();
        let events = vec![
            EventBody::PaymentFailureDowngrade(PaymentFailureDowngrade {
                invoice_id,
                attempts: attempt,
                amount_due_cents,
                downgraded_tier: current.engagement_tier,
                downgraded_tier_label: current.engagement_tier.label().to_owned(),
                pcr_before: current.final_pcr_score,
                pcr_after: failure.after.final_pcr_score,
                hosted_invoice_url: None,
            }),
            EventBody::TierChanged(TierChanged::between(
                current,
                &failure.after,
                HistoryEventType::PaymentFailureDowngrade,
                Actor::System,
                note.as_ref().map(ToString::to_string),
            )),
        ];
        return PartnerChange {
            after: failure.after,
            history: Some(HistoryEventType::PaymentFailureDowngrade),
            note,
            audit_action: AuditAction::PaymentFailureDowngrade,
            events,
            stripe_action: None,
        };
    }
    PartnerChange {
        events: vec![EventBody::PaymentFailed(PaymentFailed {
            invoice_id,
            attempt,
            amount_due_cents,
            tier: current.engagement_tier,
            tier_label: current.engagement_tier.label().to_owned(),
            next_attempt_at: None,
            hosted_invoice_url: None,
        })],
        after: failure.after,
        history: None,
        note: None,
        audit_action: AuditAction::PaymentFailed,
        stripe_action: None,
    }
}

/// One step of the dunning ladder.
fn dunning(mut next: Partner, step: DunningStep, now: Timestamp) -> PaymentFailure {
    let mut downgraded = false;
    match step {
        DunningStep::FriendlyReminder | DunningStep::UrgentNotice => {
            next.payment_status = Some(PaymentStatus::PastDue);
        }
        // The last step ends the subscription for non-payment: `expired` with payment `failed`, also
        // when Stripe's own cancellation got here first (so the outcome does not depend on which
        // of the two events arrives first).
        DunningStep::Downgrade => {
            next.payment_status = Some(PaymentStatus::Failed);
            downgraded = next.engagement_tier.is_paid();
            if downgraded {
                next.apply_tier(Tier::Free, now);
            }
            if next.subscription_end_date.is_some() {
                next.subscription_status = SubscriptionStatus::Expired;
                next.cancellation_date = None;
                next.cancellation_reason = None;
                next.cancelled_by = None;
            }
            next.auto_renewal = false;
        }
    }
    next.updated_at = now;
    PaymentFailure {
        after: next,
        step,
        downgraded,
    }
}

/// What a subscription event changes about the partner's subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionChange {
    /// Stripe ended the subscription: the partner is on the free tier now.
    Ended,
    /// Set to cancel at the end of the period: the tier stays until the term's end.
    CancelsAtTermEnd,
    /// A scheduled cancellation was taken back.
    CancellationWithdrawn,
    /// Only Stripe's status moved (or nothing the partner shows).
    StatusSynced,
}

/// A subscription event applied to the partner, with what it changed; `None` when the partner
/// already shows everything it says.
pub fn subscription_event(
    partner: &Partner,
    subscription: &SubscriptionFacts,
    deleted: bool,
    today: CalendarDate,
    now: Timestamp,
) -> Option<(Partner, SubscriptionChange)> {
    let mut next = partner.clone();
    next.stripe_subscription_status = Some(subscription.status.clone());
    let paid = next.engagement_tier.is_paid();
    let change = if deleted && paid {
        next.apply_tier(Tier::Free, now);
        next.subscription_status = SubscriptionStatus::Cancelled;
        next.cancellation_date = Some(today);
        next.cancelled_by = Some(crate::history_and_audit::Actor::Stripe);
        next.auto_renewal = false;
        SubscriptionChange::Ended
    } else if !deleted
        && paid
        && subscription.cancel_at_period_end
        && next.subscription_status == SubscriptionStatus::Active
    {
        next.subscription_status = SubscriptionStatus::Cancelled;
        next.cancellation_date = Some(today);
        next.cancelled_by = Some(crate::history_and_audit::Actor::Stripe);
        next.auto_renewal = false;
        SubscriptionChange::CancelsAtTermEnd
    } else if !deleted
        && paid
        && !subscription.cancel_at_period_end
        && subscription.status == StripeSubscriptionStatus::Active
        && next.subscription_status == SubscriptionStatus::Cancelled
    {
        next.subscription_status = SubscriptionStatus::Active;
        next.cancellation_date = None;
        next.cancellation_reason = None;
        next.cancelled_by = None;
        next.auto_renewal = true;
        SubscriptionChange::CancellationWithdrawn
    } else {
        SubscriptionChange::StatusSynced
    };
    if next == *partner {
        return None;
    }
    next.updated_at = now;
    Some((next, change))
}

/// What billing does with an event, by its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingEvent {
    InvoicePaid(InvoiceFacts),
    InvoicePaymentFailed(InvoiceFacts),
    /// Created or finalized: recorded as a pending invoice.
    InvoiceIssued(InvoiceFacts),
    SubscriptionUpdated(SubscriptionFacts),
    SubscriptionDeleted(SubscriptionFacts),
    /// A type billing does not act on.
    Ignored,
}

impl BillingEvent {
    /// The Stripe customer the event is about (`None` for the types billing ignores).
    pub fn customer_id(&self) -> Option<&str> {
        match self {
            BillingEvent::InvoicePaid(f) | BillingEvent::InvoicePaymentFailed(f) | BillingEvent::InvoiceIssued(f) => {
                Some(&f.customer_id)
            }
            BillingEvent::SubscriptionUpdated(f) | BillingEvent::SubscriptionDeleted(f) => Some(&f.customer_id),
            BillingEvent::Ignored => None,
        }
    }
}

/// The idempotency key of the partner's Stripe customer: the same for a retry of the same request,
/// another once the name or email sent changes (Stripe refuses a key reused with other parameters
/// for 24 hours, which would block a partner renamed after a first attempt that created a customer
/// but was not recorded).
pub fn customer_idempotency_key(partner: &Partner) -> String {
    // FNV-1a: stable across builds and Rust versions, unlike the standard library's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in partner
        .company_name
        .as_str()
        .bytes()
        .chain([0])
        .chain(partner.primary_email.as_str().bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("customer-{}-{hash:016x}", partner.id)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::partner::sample_partner;
    use jiff::civil::date;
    use proptest::prelude::*;

    pub(crate) fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_customer_key_follows_what_is_sent() {
        let partner = sample_partner(8_000, now());
        let key = customer_idempotency_key(&partner);
        assert!(key.starts_with(&format!("customer-{}-", partner.id)), "{key}");
        assert_eq!(customer_idempotency_key(&partner), key, "a retry repeats it");
        let mut renamed = partner.clone();
        renamed.company_name = crate::partner::CompanyName::parse("Renamed Co").unwrap();
        assert_ne!(customer_idempotency_key(&renamed), key);
        let mut moved = partner.clone();
        moved.primary_email = crate::partner::Email::parse("new@example.com").unwrap();
        assert_ne!(customer_idempotency_key(&moved), key);
    }

    pub(crate) fn gold(end: CalendarDate, auto_renewal: bool) -> Partner {
        let mut p = sample_partner(8_000, now());
        p.apply_tier(Tier::Gold, now());
        p.subscription_start_date = Some(crate::dates::add_months(end, -12).unwrap());
        p.subscription_end_date = Some(end);
        p.subscription_status = SubscriptionStatus::Active;
        p.auto_renewal = auto_renewal;
        p
    }

    pub(crate) fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    pub(crate) fn invoice(period_start: &str, period_end: &str, attempt_count: u32) -> InvoiceFacts {
        InvoiceFacts {
            invoice_id: "in_1".into(),
            number: Some("P100-0001".into()),
            customer_id: "cus_1".into(),
            subscription_id: Some("sub_1".into()),
            status: "paid".into(),
            amount_due: Cents(360_000),
            amount_paid: Cents(360_000),
            attempt_count,
            period_start: ts(period_start),
            period_end: ts(period_end),
            price_id: Some("price_gold".into()),
            paid_at: Some(ts(period_start)),
            next_payment_attempt: None,
            hosted_invoice_url: None,
            invoice_pdf: None,
            created: ts(period_start),
        }
    }

    #[test]
    fn an_unpaid_emailed_invoice_walks_the_ladder_a_week_at_a_time() {
        let due = date(2026, 12, 24);
        let day = |d: i64| due.checked_add(jiff::Span::new().days(d)).unwrap();
        assert_eq!(overdue_attempt(due, day(0)), None, "due, not overdue");
        assert_eq!(overdue_attempt(due, day(1)), Some(1));
        assert_eq!(overdue_attempt(due, day(7)), Some(1));
        assert_eq!(overdue_attempt(due, day(8)), Some(2));
        assert_eq!(overdue_attempt(due, day(15)), Some(3));
        let p = gold(date(2027, 12, 1), true);
        let reminded = invoice_overdue(&p, 1, now());
        assert_eq!(
            (
                reminded.step,
                reminded.after.payment_status,
                reminded.after.overdue_notices
            ),
            (DunningStep::FriendlyReminder, Some(PaymentStatus::PastDue), Some(1))
        );
        let downgraded = invoice_overdue(&p, 3, now());
        assert!(downgraded.downgraded);
        assert_eq!(downgraded.after.engagement_tier, Tier::Free);
    }

    #[test]
    fn the_dunning_ladder() {
        assert_eq!(dunning_step(1), DunningStep::FriendlyReminder);
        assert_eq!(dunning_step(2), DunningStep::UrgentNotice);
        assert_eq!(dunning_step(3), DunningStep::Downgrade);
        assert_eq!(dunning_step(7), DunningStep::Downgrade);
    }

    #[test]
    fn a_payment_inside_the_term_records_it_without_renewing() {
        let p = gold(date(2027, 6, 1), true);
        let (after, renewal) = payment_succeeded(
            &p,
            &invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 1),
            &BusinessCalendar::utc(),
            now(),
        );
        assert_eq!(renewal, None);
        assert_eq!(after.payment_status, Some(PaymentStatus::Current));
        assert_eq!(after.last_payment_amount, Some(Cents(360_000)));
        assert_eq!(after.last_payment_date, Some(date(2026, 11, 24)));
        assert_eq!(after.paid_through, Some(date(2026, 12, 24)));
        assert_eq!(after.subscription_end_date, Some(date(2027, 6, 1)));
    }

    #[test]
    fn a_payment_past_the_term_rolls_it_forward_when_auto_renewing() {
        let p = gold(date(2026, 12, 1), true);
        let paid = invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 1);
        let (after, renewal) = payment_succeeded(&p, &paid, &BusinessCalendar::utc(), now());
        assert_eq!(
            renewal,
            Some(Renewal {
                start: date(2026, 12, 1),
                end: date(2027, 12, 1)
            })
        );
        assert_eq!(after.subscription_end_date, Some(date(2027, 12, 1)));
        // Without auto-renewal the term stays; the sweep expires it.
        let (after, renewal) =
            payment_succeeded(&gold(date(2026, 12, 1), false), &paid, &BusinessCalendar::utc(), now());
        assert_eq!((renewal, after.subscription_end_date), (None, Some(date(2026, 12, 1))));
    }

    #[test]
    fn failures_walk_the_ladder_and_the_third_downgrades() {
        let p = gold(date(2027, 6, 1), true);
        let first = payment_failed(&p, &invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 1), now());
        assert_eq!(first.step, DunningStep::FriendlyReminder);
        assert_eq!(first.after.payment_status, Some(PaymentStatus::PastDue));
        assert_eq!(first.after.engagement_tier, Tier::Gold);
        let third = payment_failed(
            &first.after,
            &invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 3),
            now(),
        );
        assert!(third.downgraded);
        assert_eq!(third.after.engagement_tier, Tier::Free);
        assert_eq!(third.after.payment_status, Some(PaymentStatus::Failed));
        assert_eq!(third.after.subscription_status, SubscriptionStatus::Expired);
        assert_eq!(third.after.final_pcr_score, p.pcr_at(Tier::Free));
        // A fourth attempt on a free partner downgrades nothing.
        let fourth = payment_failed(
            &third.after,
            &invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 4),
            now(),
        );
        assert!(!fourth.downgraded);
    }

    #[test]
    fn an_older_invoice_does_not_move_the_partner() {
        let mut p = gold(date(2027, 6, 1), true);
        p.stripe_invoice_period_start = Some(ts("2026-11-24T12:00:00Z"));
        assert!(is_older_period(
            &p,
            &invoice("2026-10-24T12:00:00Z", "2026-11-24T12:00:00Z", 1)
        ));
        assert!(!is_older_period(
            &p,
            &invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 1)
        ));
    }

    pub(crate) fn subscription(status: &str, cancel_at_period_end: bool) -> SubscriptionFacts {
        SubscriptionFacts {
            subscription_id: "sub_1".into(),
            customer_id: "cus_1".into(),
            status: status.into(),
            cancel_at_period_end,
            current_period_end: None,
            price_id: Some("price_gold".into()),
            collection_paused: false,
        }
    }

    #[test]
    fn subscription_events() {
        let today = date(2026, 11, 24);
        let p = gold(date(2027, 6, 1), true);
        let (ended, change) = subscription_event(&p, &subscription("canceled", false), true, today, now()).unwrap();
        assert_eq!(change, SubscriptionChange::Ended);
        assert_eq!(
            (ended.engagement_tier, ended.subscription_status),
            (Tier::Free, SubscriptionStatus::Cancelled)
        );
        let (later, change) = subscription_event(&p, &subscription("active", true), false, today, now()).unwrap();
        assert_eq!(change, SubscriptionChange::CancelsAtTermEnd);
        assert_eq!(later.engagement_tier, Tier::Gold);
        let (back, change) = subscription_event(&later, &subscription("active", false), false, today, now()).unwrap();
        assert_eq!(change, SubscriptionChange::CancellationWithdrawn);
        assert_eq!(back.subscription_status, SubscriptionStatus::Active);
        // Nothing new: nothing to write.
        let mut synced = p.clone();
        synced.stripe_subscription_status = Some("active".into());
        assert_eq!(
            subscription_event(&synced, &subscription("active", false), false, today, now()),
            None
        );
    }

    proptest! {
        /// Whatever the attempt count and starting tier, a failure never raises a tier, and only the
        /// ladder's last step lowers one (to free).
        #[test]
        fn failures_never_raise_a_tier(attempts in 0u32..20, tier_index in 0usize..3) {
            let mut p = gold(date(2027, 6, 1), true);
            p.apply_tier(Tier::ALL[tier_index], now());
            let failure = payment_failed(&p, &invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", attempts), now());
            prop_assert!(failure.after.engagement_tier <= p.engagement_tier);
            prop_assert_eq!(failure.downgraded, attempts >= 3 && p.engagement_tier.is_paid());
            prop_assert_eq!(failure.after.engagement_tier != p.engagement_tier, failure.downgraded);
        }

        /// Monthly invoices paid in any order leave the partner exactly as paying them in order does.
        #[test]
        fn payments_in_any_order_end_the_same(order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle()) {
            let p = gold(date(2027, 2, 1), true);
            let month = |i: usize| {
                let start = now().checked_add(jiff::SignedDuration::from_hours(24 * 30 * i as i64)).unwrap();
                let mut paid = invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 1);
                paid.invoice_id = format!("in_{i}");
                paid.period_start = start;
                paid.period_end = start.checked_add(jiff::SignedDuration::from_hours(24 * 30)).unwrap();
                paid.paid_at = Some(start);
                paid.amount_paid = Cents(360_000 + i as i64);
                paid
            };
            let apply = |indexes: &[usize]| {
                indexes.iter().fold(p.clone(), |acc, &i| payment_succeeded(&acc, &month(i), &BusinessCalendar::utc(), now()).0)
            };
            prop_assert_eq!(apply(&order), apply(&[0, 1, 2, 3, 4, 5]));
        }

        /// A paid period always ends up covered: paid-through is at least its end, and an
        /// auto-renewing term ends no earlier than the period (unless it is more than three terms away).
        #[test]
        fn a_paid_period_is_covered(days_to_end in -300i64..400, period_days in 1i64..200) {
            let end = date(2026, 11, 24).checked_add(jiff::Span::new().days(days_to_end)).unwrap();
            let p = gold(end, true);
            let start = now();
            let period_end = start.checked_add(jiff::SignedDuration::from_hours(24 * period_days)).unwrap();
            let mut paid = invoice("2026-11-24T12:00:00Z", "2026-12-24T12:00:00Z", 1);
            paid.period_start = start;
            paid.period_end = period_end;
            let (after, _) = payment_succeeded(&p, &paid, &BusinessCalendar::utc(), now());
            let covered = BusinessCalendar::utc().today(period_end);
            prop_assert!(after.paid_through.unwrap() >= covered);
            prop_assert!(after.subscription_end_date.unwrap() >= covered);
        }
    }
}
