//! Emailed (`send_invoice`) invoices left unpaid walk the same dunning ladder as failed card payments,
//! one step a week after their due date (`domain::billing::overdue_attempt`): a reminder, an urgent
//! notice, then the downgrade to free (whose Stripe cancellation follows through `stripe_sync`). The
//! daily sweep reads only the partners whose invoice is due (a sparse index), and each step is taken
//! once (`overdue_notices`, written in the step's own transaction). Paying the invoice leaves the
//! index (`payment_succeeded` clears the due date).

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use crate::domain::billing::{overdue_attempt, overdue_change};
use crate::domain::dates::CalendarDate;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::Partner;
use crate::store::Store;
use jiff::Timestamp;
use serde::Serialize;

/// What chasing overdue invoices did in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OverdueSummary {
    pub examined: u64,
    pub reminders: u64,
    pub downgrades: u64,
    pub errors: u64,
}

/// The step `partner` is due for on `today`, if it has not been taken.
fn due_step(partner: &Partner, today: CalendarDate) -> Option<u32> {
    let attempt = overdue_attempt(partner.payment_due_date?, today)?;
    (attempt > partner.overdue_notices.unwrap_or(0)).then_some(attempt)
}

/// Takes today's ladder step for every partner whose emailed invoice is overdue.
pub async fn chase_overdue_invoices(
    store: &Store,
    today: CalendarDate,
    page_size: u16,
    now: Timestamp,
) -> Result<OverdueSummary, UseCaseError> {
    let mut summary = OverdueSummary::default();
    let yesterday = today.yesterday().map_err(|e| UseCaseError::Internal(e.to_string()))?;
    let mut start = None;
    loop {
        let (partners, next) = store.unpaid_invoices_due(yesterday, start, page_size).await?;
        for partner in partners {
            summary.examined += 1;
            if due_step(&partner, today).is_none() {
                continue;
            }
            let outcome = apply_change(store, &partner.id, &Actor::System, None, now, |current| {
                Ok(due_step(current, today).map(|attempt| overdue_change(current, attempt, now)))
            })
            .await;
            match outcome {
                Ok(Outcome::Applied(applied)) if applied.after.engagement_tier.is_paid() => summary.reminders += 1,
                Ok(Outcome::Applied(_)) => summary.downgrades += 1,
                Ok(Outcome::Unchanged(_)) => {}
                Err(err) => {
                    tracing::error!(partner_id = %partner.id, error = %err, "overdue invoice not chased");
                    summary.errors += 1;
                }
            }
        }
        match next {
            Some(key) => start = Some(key),
            None => return Ok(summary),
        }
    }
}
