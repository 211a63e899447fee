//! Emailed (`send_invoice`) invoices left unpaid walk the same dunning ladder as failed card payments,
//! one step a week after their due date (`domain::billing::overdue_attempt`): a reminder, an urgent
//! notice, then the downgrade to free (whose Stripe cancellation follows through `stripe_sync`). The
//! daily sweep reads only the partners whose invoice is due (a sparse index), and each step is taken
//! once (`overdue_notices`, written in the step's own transaction). Paying the invoice leaves the
//! index (`payment_succeeded` clears the due date).

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use crate::domain::billing::{invoice_overdue, overdue_attempt, DunningStep};
use crate::domain::dates::CalendarDate;
use crate::domain::events::{EventBody, PaymentFailed, PaymentFailureDowngrade, TierChanged};
use crate::domain::history_and_audit::{Actor, AuditAction, HistoryEventType};
use crate::domain::partner::{Note, Partner};
use crate::domain::partner_change::PartnerChange;
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

/// The partner's change for ladder step `attempt`.
fn overdue_change(current: &Partner, attempt: u32, now: Timestamp) -> PartnerChange {
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
