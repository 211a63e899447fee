//! The admin's business figures for a window: MRR and ARR by tier and the paid partners behind
//! them, the window's movements and renewal and churn rates, and payment success, dunning recovery
//! and revenue collected to the cent. All from the counters the writes keep (`domain::counters`):
//! the window's business days and the paid seats, two queries side by side, plus one `COUNT` of the
//! window's invoices still failed (the invoice index by status and date: it reads only those).
//! Three requests whatever the window's length or the history's.

use super::error::UseCaseError;
use crate::domain::counters::{field, CounterItem};
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::invoice::InvoiceStatus;
use crate::domain::metrics::{collections_from_counts, Collections, Movements, PaidSeats, Rate, Revenue};
use crate::domain::money::Cents;
use crate::store::{InvoiceFilter, Store};
use serde::Serialize;

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
    let failed = InvoiceFilter {
        status: Some(InvoiceStatus::Failed),
        from: Some(start),
        before: Some(end),
        ..InvoiceFilter::default()
    };
    let (counts, failed) =
        futures::future::try_join(store.metrics_counters(from, to), store.invoice_count(&failed)).await?;
    let seats = counts.paid_seats();
    let moved = counts.movements_between(from, to);
    let day = |name: &str| {
        counts.sum_where(|item, f| matches!(item, CounterItem::Day(d) if *d >= from && *d <= to) && f == name)
    };
    let collections = collections_from_counts(
        day(field::PAID),
        day(field::RECOVERED),
        i64::try_from(failed).unwrap_or(i64::MAX),
        Cents(day(field::COLLECTED_CENTS)),
        Cents(day(field::REFUNDED_CENTS)),
    );
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
        collections,
    })
}

/// Writes MRR and paid partners by tier as EMF log lines (after each sweep): one query.
pub async fn report_mrr(store: &Store, now: jiff::Timestamp) -> Result<PaidSeats, UseCaseError> {
    let seats = store.paid_seats().await?;
    for line in crate::emf::mrr_lines(seats, now) {
        crate::emf::emit(&line);
    }
    Ok(seats)
}
