//! The admin's business figures for a window: MRR and ARR by tier and the paid partners behind
//! them (the running paid-seat count: one read), the window's movements and renewal and churn rates
//! (its history entries, month by month), and payment success, dunning recovery and revenue
//! collected to the cent (its invoices, by date). Reads are O(1) + O(window), never a scan of every
//! partner.

use super::error::UseCaseError;
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::metrics::{collections, movements, Collections, Movements, PaidSeats, Rate, Revenue};
use crate::store::{InvoiceFilter, Store};
use serde::Serialize;

/// The most invoices one window reads (about 80 months of 1,000 paid partners).
const MAX_WINDOW_INVOICES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    pub from: CalendarDate,
    pub to: CalendarDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusinessMetrics {
    pub window: Window,
    /// Now, at the tiers' list prices.
    pub mrr: Revenue,
    pub arr: Revenue,
    pub active_paid_partners: PaidSeats,
    pub movements: Movements,
    /// Renewed over came due in the window.
    pub renewal_rate: Rate,
    /// Churned over the paid partners at the window's start (now, less new, plus churned).
    pub churn_rate: Rate,
    /// Over the invoices created in the window.
    pub collections: Collections,
}

/// The figures for `from`..=`to` (business days).
#[tracing::instrument(skip(store, calendar), err(Display))]
pub async fn business_metrics(
    store: &Store,
    calendar: &BusinessCalendar,
    from: CalendarDate,
    to: CalendarDate,
) -> Result<BusinessMetrics, UseCaseError> {
    let start = calendar.start_of(from).map_err(|e| UseCaseError::invalid("from", e))?;
    let end = to
        .tomorrow()
        .ok()
        .and_then(|d| calendar.start_of(d).ok())
        .ok_or_else(|| UseCaseError::invalid("to", "is out of range"))?;
    let seats = store.paid_seats().await?;
    let history = store.history_between(start, end).await?;
    let filter = InvoiceFilter {
        from: Some(start),
        before: Some(end),
        ..InvoiceFilter::default()
    };
    let invoices = store.invoices_all(&filter, MAX_WINDOW_INVOICES).await?;
    let moved = movements(&history);
    let mrr = Revenue::monthly(seats);
    let at_start = seats.total() - moved.new + moved.churned;
    Ok(BusinessMetrics {
        window: Window { from, to },
        mrr,
        arr: mrr.annual(),
        active_paid_partners: seats,
        movements: moved,
        renewal_rate: Rate::of(moved.renewed, moved.came_due),
        churn_rate: Rate::of(moved.churned, at_start.max(0)),
        collections: collections(&invoices),
    })
}

/// Writes MRR and paid partners by tier as EMF log lines (after each sweep): one read.
pub async fn report_mrr(store: &Store, now: jiff::Timestamp) -> Result<PaidSeats, UseCaseError> {
    let seats = store.paid_seats().await?;
    for line in crate::emf::mrr_lines(seats, now) {
        crate::emf::emit(&line);
    }
    Ok(seats)
}

#[cfg(test)]
mod tests {
    use crate::domain::billing_start::{grant_billed_tier, BilledSubscription};
    use crate::domain::history_and_audit::{Actor, AuditAction};
    use crate::domain::lifecycle::ExpiryReason;
    use crate::domain::metrics::PaidSeats;
    use crate::domain::partner::{sample_partner, Partner, PaymentStatus};
    use crate::domain::partner_change::PartnerChange;
    use crate::domain::subscription::{self, CancelEffective};
    use crate::domain::tier::Tier;
    use crate::domain::tier_change::{plan_tier_change, TierChangeRequest};
    use crate::usecases::apply_change::partner_write;
    use jiff::Timestamp;
    use proptest::prelude::*;

    /// What admins, Stripe's webhooks and the sweep do to partners.
    #[derive(Debug, Clone)]
    enum Operation {
        /// An admin creates a partner (free).
        Create,
        /// An admin sets a tier by hand.
        AdminTier(usize, Tier),
        /// An admin cancels now.
        CancelNow(usize),
        /// A first paid invoice grants a tier (webhook).
        PaidInvoice(usize, Tier),
        /// The sweep (or dunning) expires a term.
        Expire(usize),
    }

    fn operation() -> impl Strategy<Value = Operation> {
        let tier = prop_oneof![Just(Tier::Free), Just(Tier::Gold), Just(Tier::Platinum)];
        prop_oneof![
            Just(Operation::Create),
            (0usize..8, tier.clone()).prop_map(|(i, t)| Operation::AdminTier(i, t)),
            (0usize..8).prop_map(Operation::CancelNow),
            (0usize..8, tier.prop_filter("paid", |t| t.is_paid())).prop_map(|(i, t)| Operation::PaidInvoice(i, t)),
            (0usize..8).prop_map(Operation::Expire),
        ]
    }

    fn now() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    /// The partner `operation` leaves `before` in, when it changes anything.
    fn apply(before: &Partner, operation: &Operation) -> Option<Partner> {
        let today = jiff::civil::date(2026, 11, 25);
        match operation {
            Operation::Create => None,
            Operation::AdminTier(_, tier) => {
                let request = TierChangeRequest {
                    tier: *tier,
                    start: None,
                    end: None,
                    reason: None,
                };
                plan_tier_change(before, &request, today, now())
                    .ok()
                    .flatten()
                    .map(|p| p.after)
            }
            Operation::CancelNow(_) => {
                subscription::cancel(before, CancelEffective::Immediately, None, today, now()).ok()
            }
            Operation::PaidInvoice(_, tier) => {
                let mut unbilled = before.clone();
                unbilled.stripe_subscription_id = None;
                let subscription = BilledSubscription {
                    customer_id: "cus_1".into(),
                    subscription_id: "sub_1".into(),
                    status: "active".into(),
                };
                grant_billed_tier(&unbilled, *tier, &subscription, PaymentStatus::Current, today, now())
            }
            Operation::Expire(_) => before
                .engagement_tier
                .is_paid()
                .then(|| subscription::expire(before, ExpiryReason::UnpaidAfterGrace, now())),
        }
    }

    proptest! {
        /// The running count, moved by each write's own change (as `partner_write` computes it for
        /// the transaction), always equals a recount of every partner from scratch.
        #[test]
        fn the_running_seat_count_equals_a_recount(operations in proptest::collection::vec(operation(), 1..60)) {
            let mut partners: Vec<Partner> = Vec::new();
            let mut running = PaidSeats::default();
            for operation in &operations {
                let target = match operation {
                    Operation::Create => None,
                    Operation::AdminTier(i, _)
                    | Operation::CancelNow(i)
                    | Operation::PaidInvoice(i, _)
                    | Operation::Expire(i) => (!partners.is_empty()).then(|| i % partners.len()),
                };
                match (operation, target) {
                    (Operation::Create, _) => {
                        let partner = sample_partner(7_500, now());
                        running = running.plus(PaidSeats::change(None, &partner));
                        partners.push(partner);
                    }
                    (_, Some(index)) => {
                        let before = partners[index].clone();
                        if let Some(after) = apply(&before, operation) {
                            let change = PartnerChange::audited(after, AuditAction::TierChanged);
                            let (write, _) = partner_write(&before, change, &Actor::System, now());
                            running = running.plus(write.seats);
                            partners[index] = write.partner;
                        }
                    }
                    (_, None) => {}
                }
                prop_assert_eq!(running, PaidSeats::count(&partners));
            }
        }
    }
}
