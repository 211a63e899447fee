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
