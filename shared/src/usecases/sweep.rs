//! The daily expiry sweep: renewal notices at 30 and 7 days, renewal billing requested for
//! auto-renewing manual terms at their end, expiry to free. It reads only the terms that are due, through the due index, page by page, so its
//! cost follows the number due rather than the number of partners. Running it twice, or again after
//! a crash halfway, sends nothing twice and misses nothing: notices are recorded with a conditional
//! marker, and every change is re-decided on a consistent read inside its own transaction. It also
//! walks emailed invoices left unpaid down the dunning ladder (`overdue_invoices`).

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use super::notices::record_sweep_notice;
use super::overdue_invoices::chase_overdue_invoices;
use crate::domain::billing_start::{claim_billing_start, Claim, Collection, FirstPayment, StartRequest};
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::history_and_audit::{Actor, AuditAction};
use crate::domain::lifecycle::{
    billed_term_overdue, sweep_decision, NoticeStage, SweepDecision, DEFAULT_BILLED_OVERDUE_DAYS, DEFAULT_GRACE_DAYS,
    NOTICE_HORIZON_DAYS,
};
use crate::domain::partner::{Partner, SubscriptionStatus};
use crate::domain::partner_change::PartnerChange;
use crate::domain::subscription_changes::expiry_change;
use crate::store::{NoticeOutcome, Store, StoreError};
use futures::stream::{self, StreamExt};
use jiff::{Span, Timestamp};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub grace_days: i32,
    /// Days past its end after which a Stripe-billed term with nothing paid is reported (alarmed).
    pub billed_overdue_days: i32,
    pub page_size: u16,
    /// Partners handled at once within a page.
    pub concurrency: usize,
}

impl Default for SweepSettings {
    fn default() -> Self {
        SweepSettings {
            grace_days: DEFAULT_GRACE_DAYS,
            billed_overdue_days: DEFAULT_BILLED_OVERDUE_DAYS,
            page_size: 100,
            concurrency: 8,
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepSummary {
    pub today: Option<CalendarDate>,
    /// Due terms read from the index.
    pub examined: u64,
    pub notices_30: u64,
    pub notices_7: u64,
    pub expired: u64,
    /// Auto-renewing manual terms at their end whose renewal billing (the next 12 months by emailed
    /// invoice) was requested; stripe-reconcile starts it.
    pub renewal_billing_requested: u64,
    /// Stripe-billed terms past their end, left to Stripe (its retries, its dunning, its deletion).
    pub awaiting_stripe: u64,
    /// Of those, the ones past their end by more than `billed_overdue_days` with nothing paid: each is
    /// logged with its partner, and the count is alarmed on.
    pub billed_overdue: u64,
    /// Emailed invoices past due: reminders and urgent notices sent, partners downgraded.
    pub invoice_reminders: u64,
    pub invoice_downgrades: u64,
    /// Terms whose 30- or 7-day mark passed without their reminder (found as their next notice went
    /// out; alarmed on: `RemindersMissed`).
    pub reminders_missed: u64,
    /// Partners whose handling failed (logged one by one); a re-run picks them up.
    pub errors: u64,
    pub duration_ms: u64,
}

enum Effect {
    Nothing,
    /// A notice went out; `missed`: a reminder of this term was missed on the way.
    Notice {
        stage: NoticeStage,
        missed: bool,
    },
    RenewalBillingRequested,
    Expired,
    AwaitStripe {
        overdue: bool,
    },
}

/// Runs the sweep for the business day of `now`.
#[tracing::instrument(skip_all, fields(now = %now))]
pub async fn run_expiry_sweep(
    store: &Store,
    calendar: &BusinessCalendar,
    settings: &SweepSettings,
    now: Timestamp,
) -> Result<SweepSummary, UseCaseError> {
    let started = Instant::now();
    let today = calendar.today(now);
    let mut summary = SweepSummary {
        today: Some(today),
        ..SweepSummary::default()
    };
    let horizon = today
        .checked_add(Span::new().days(i64::from(NOTICE_HORIZON_DAYS)))
        .map_err(|e| UseCaseError::Internal(e.to_string()))?;
    let yesterday = today.yesterday().map_err(|e| UseCaseError::Internal(e.to_string()))?;
    // Active terms ending within the notice horizon (or already ended); cancelled terms that ended.
    for (status, until) in [
        (SubscriptionStatus::Active, horizon),
        (SubscriptionStatus::Cancelled, yesterday),
    ] {
        let mut start = None;
        loop {
            let (partners, next) = store.due_terms(status, until, start, settings.page_size).await?;
            summary.examined += partners.len() as u64;
            let effects: Vec<Result<Effect, UseCaseError>> = stream::iter(partners)
                .map(|partner| sweep_partner(store, partner, today, settings, now))
                .buffer_unordered(settings.concurrency.max(1))
                .collect()
                .await;
            for effect in effects {
                match effect {
                    Ok(Effect::Notice { stage, missed }) => {
                        match stage {
                            NoticeStage::ThirtyDay => summary.notices_30 += 1,
                            NoticeStage::SevenDay => summary.notices_7 += 1,
                        }
                        summary.reminders_missed += u64::from(missed);
                    }
                    Ok(Effect::RenewalBillingRequested) => summary.renewal_billing_requested += 1,
                    Ok(Effect::Expired) => summary.expired += 1,
                    Ok(Effect::AwaitStripe { overdue }) => {
                        summary.awaiting_stripe += 1;
                        summary.billed_overdue += u64::from(overdue);
                    }
                    Ok(Effect::Nothing) => {}
                    Err(_) => summary.errors += 1,
                }
            }
            match next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
    }
    let overdue = chase_overdue_invoices(store, today, settings.page_size, now).await?;
    summary.examined += overdue.examined;
    summary.invoice_reminders = overdue.reminders;
    summary.invoice_downgrades = overdue.downgrades;
    summary.errors += overdue.errors;
    summary.duration_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}

#[tracing::instrument(skip_all, fields(partner_id = %partner.id))]
async fn sweep_partner(
    store: &Store,
    partner: Partner,
    today: CalendarDate,
    settings: &SweepSettings,
    now: Timestamp,
) -> Result<Effect, UseCaseError> {
    let result = handle_partner(store, &partner, today, settings, now).await;
    if let Err(err) = &result {
        tracing::error!(partner_id = %partner.id, error = %err, "sweep could not handle partner");
    }
    result
}

async fn handle_partner(
    store: &Store,
    partner: &Partner,
    today: CalendarDate,
    settings: &SweepSettings,
    now: Timestamp,
) -> Result<Effect, UseCaseError> {
    let grace_days = settings.grace_days;
    match sweep_decision(partner, today, grace_days) {
        SweepDecision::Nothing => Ok(Effect::Nothing),
        SweepDecision::AwaitStripe { days_past_end } => {
            let overdue = billed_term_overdue(partner, today, settings.billed_overdue_days);
            if overdue {
                tracing::warn!(
                    partner_id = %partner.id,
                    days_past_end,
                    "a Stripe-billed term is past its end with nothing paid and Stripe has not ended it"
                );
            }
            Ok(Effect::AwaitStripe { overdue })
        }
        SweepDecision::Notice { stage, days_left } => {
            // The index read may be stale: on a version conflict, decide again on a consistent read.
            let mut current = partner.clone();
            for _ in 0..2 {
                match record_sweep_notice(store, &current, stage, days_left, now).await {
                    Ok((NoticeOutcome::Recorded, missed)) => return Ok(Effect::Notice { stage, missed }),
                    Ok((_, _)) => return Ok(Effect::Nothing),
                    Err(StoreError::VersionConflict) => {
                        let Some(fresh) = store.get_partner(&partner.id).await? else {
                            return Ok(Effect::Nothing);
                        };
                        if sweep_decision(&fresh, today, grace_days) != (SweepDecision::Notice { stage, days_left }) {
                            return Ok(Effect::Nothing);
                        }
                        current = fresh;
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            Err(StoreError::VersionConflict.into())
        }
        SweepDecision::StartRenewalBilling { .. } => {
            // The claim a billing start writes, for the same tier by emailed invoice and renewing:
            // stripe-reconcile finds it (the pending index) and starts it with the same request.
            let outcome = apply_change(store, &partner.id, &Actor::System, None, now, |current| {
                let SweepDecision::StartRenewalBilling { .. } = sweep_decision(current, today, grace_days) else {
                    return Ok(None);
                };
                let request = StartRequest {
                    first_payment: FirstPayment::SavedMethod,
                    cancel_at: None,
                };
                match claim_billing_start(current, current.engagement_tier, Collection::SendInvoice, request, now) {
                    Ok(Claim::New(after)) => {
                        Ok(Some(PartnerChange::audited(after, AuditAction::BillingStartRequested)))
                    }
                    Ok(Claim::Resume(_)) | Err(_) => Ok(None),
                }
            })
            .await?;
            Ok(match outcome {
                Outcome::Applied(_) => Effect::RenewalBillingRequested,
                Outcome::Unchanged(_) => Effect::Nothing,
            })
        }
        SweepDecision::Expire(_) => {
            let outcome = apply_change(store, &partner.id, &Actor::System, None, now, |current| {
                Ok(expiry_change(current, today, grace_days, now))
            })
            .await?;
            Ok(match outcome {
                Outcome::Applied(_) => Effect::Expired,
                Outcome::Unchanged(_) => Effect::Nothing,
            })
        }
    }
}
