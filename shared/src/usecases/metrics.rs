//! The admin's business figures for a window: MRR and ARR by tier and the paid partners behind
//! them, the window's movements and renewal and churn rates, and payment success, dunning recovery
//! and revenue collected to the cent. All from the counters the writes keep (`domain::counters`):
//! the window's business days and the paid seats, two queries side by side, plus one `COUNT` of the
//! window's invoices still failed (the invoice index by status and date: it reads only those).
//! Three requests whatever the window's length or the history's.

use super::error::UseCaseError;
use crate::domain::counters::{field, CounterItem, Counts};
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::invoice::InvoiceStatus;
use crate::domain::metrics::{
    collections_from_counts, targets, Collections, Movements, PaidSeats, Rate, Revenue, SuccessFigures,
};
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
    let (counts, failed) = window_counts(store, start, end, from, to).await?;
    let seats = counts.paid_seats();
    let moved = counts.movements_between(from, to);
    let collections = window_collections(&counts, failed, from, to);
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

/// The counters of business days `from`..=`to` with the paid seats, and the invoices created from
/// `start` to before `end` (the same days' instants) still failed: three requests side by side.
async fn window_counts(
    store: &Store,
    start: jiff::Timestamp,
    end: jiff::Timestamp,
    from: CalendarDate,
    to: CalendarDate,
) -> Result<(Counts, i64), UseCaseError> {
    let failed = InvoiceFilter {
        status: Some(InvoiceStatus::Failed),
        from: Some(start),
        before: Some(end),
        ..InvoiceFilter::default()
    };
    let (counts, failed) =
        futures::future::try_join(store.metrics_counters(from, to), store.invoice_count(&failed)).await?;
    Ok((counts, i64::try_from(failed).unwrap_or(i64::MAX)))
}

fn day_sum(counts: &Counts, from: CalendarDate, to: CalendarDate, name: &str) -> i64 {
    counts.sum_where(|item, f| matches!(item, CounterItem::Day(d) if *d >= from && *d <= to) && f == name)
}

fn window_collections(counts: &Counts, failed: i64, from: CalendarDate, to: CalendarDate) -> Collections {
    let day = |name: &str| day_sum(counts, from, to, name);
    collections_from_counts(
        day(field::PAID),
        day(field::RECOVERED),
        failed,
        Cents(day(field::COLLECTED_CENTS)),
        Cents(day(field::REFUNDED_CENTS)),
    )
}

/// The spec's success metrics as of `now` (the sweep reports them each day, and alarms watch them):
/// renewal rate and payment success over the last [`targets::WINDOW_DAYS`] business days, payments
/// recorded late yesterday and today, and the missed reminders today's sweep found.
pub async fn success_figures(
    store: &Store,
    calendar: &BusinessCalendar,
    now: jiff::Timestamp,
    reminders_missed: u64,
) -> Result<SuccessFigures, UseCaseError> {
    let today = calendar.today(now);
    let internal = |e: jiff::Error| UseCaseError::Internal(e.to_string());
    let from = today
        .checked_sub(jiff::Span::new().days(targets::WINDOW_DAYS - 1))
        .map_err(internal)?;
    let start = calendar.start_of(from).map_err(internal)?;
    let end = calendar
        .start_of(today.tomorrow().map_err(internal)?)
        .map_err(internal)?;
    let (counts, failed) = window_counts(store, start, end, from, today).await?;
    let moved = counts.movements_between(from, today);
    let yesterday = today.yesterday().map_err(internal)?;
    Ok(SuccessFigures {
        renewal_rate: Rate::of(moved.renewed, moved.came_due),
        payment_success: window_collections(&counts, failed, from, today).payment_success,
        invoices_recorded_late: day_sum(&counts, yesterday, today, field::RECORDED_LATE),
        reminders_missed,
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
