//! What an admin does to one invoice: mail it again (once per minute however often it is asked),
//! mark it paid outside Stripe (a bank transfer, a cheque), with the reason, optionally giving back
//! the tier that dunning took for it, and refund all or part of it (`invoice_refunds`).

use super::apply_change::apply_change;
use super::billing_events::apply_billing_event;
use super::error::UseCaseError;
use super::event_records::EventOutcome;
pub use super::invoice_refunds::{refund_invoice, RefundCommand, RefundRequestId, Refunded};
use super::invoices::{invoice_owner, invoice_record};
use crate::domain::billing::BillingEvent;
use crate::domain::billing_events::BillingRules;
use crate::domain::billing_start::restored_tier_change;
use crate::domain::events::{DomainEvent, EventBody, InvoiceResendRequested};
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry, HistoryEventType};
use crate::domain::partner::{Note, Partner, PartnerId};
use crate::domain::rate_limit::window_of;
use crate::ids::next_id;
use crate::store::{PageRequest, ResendOutcome, ResendWrite, Store};
use crate::stripe::client::{StripeApi, StripeBilling};
use crate::stripe::webhook::{invoice_facts, EventSource};
use jiff::Timestamp;
use serde::Serialize;

/// Queues the invoice email again (`InvoiceResendRequested`); within the same minute, a repeated
/// request queues nothing more.
#[tracing::instrument(skip(store), err(Display))]
pub async fn resend_invoice(
    store: &Store,
    invoice_id: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<ResendOutcome, UseCaseError> {
    let record = invoice_record(store, invoice_id).await?;
    let partner = invoice_owner(store, &record).await?;
    let body = InvoiceResendRequested {
        invoice_id: record.stripe_invoice_id.clone(),
        invoice_number: record.invoice_number.clone(),
        amount_cents: record.amount_cents,
        status: if record.status.was_paid() { "paid" } else { "open" }.to_owned(),
        period_start: record.period_start,
        period_end: record.period_end,
        hosted_invoice_url: record.invoice_url.clone(),
        invoice_pdf_url: record.pdf_url.clone(),
        requested_by: actor.clone(),
    };
    let event_id = next_id();
    let write = ResendWrite {
        partner_id: partner.id.clone(),
        invoice_id: record.stripe_invoice_id.clone(),
        window_start: window_of(now).start,
        audit: (
            next_id(),
            AuditEntry::standalone(
                crate::ids::next_id().to_string(),
                &partner,
                actor,
                AuditAction::InvoiceResendRequested,
                None,
                now,
            ),
        ),
        event: (
            event_id,
            DomainEvent::about(event_id, &partner, now, EventBody::InvoiceResendRequested(body)),
        ),
    };
    Ok(store.record_invoice_resend(write).await?)
}

/// What marking an invoice paid did.
#[derive(Debug, Clone, Serialize)]
pub struct MarkedPaid {
    pub invoice_id: String,
    pub partner_id: PartnerId,
    /// Whether the partner's tier, taken by dunning for this invoice, was given back.
    pub tier_restored: bool,
}

/// What an admin asked for.
#[derive(Debug, Clone)]
pub struct MarkPaidCommand {
    pub invoice_id: String,
    pub reason: Note,
    /// Give back the paid tier dunning took when this invoice went unpaid.
    pub restore_tier: bool,
    pub actor: Actor,
}

/// Whether dunning downgraded `partner` (its newest history entry is that downgrade).
async fn downgraded_by_dunning(store: &Store, partner: &Partner) -> Result<bool, UseCaseError> {
    let newest = store
        .partner_history(&partner.id, None, &PageRequest { limit: 1, cursor: None })
        .await?;
    Ok(!partner.engagement_tier.is_paid()
        && partner.last_paid_tier.is_some()
        && newest.items.first().map(|h| h.event_type) == Some(HistoryEventType::PaymentFailureDowngrade))
}

/// Marks the invoice paid in Stripe (`paid_out_of_band`, idempotent per invoice), then here as
/// Stripe's `invoice.paid` would (payment status, term), audited with the admin and the reason.
#[tracing::instrument(skip_all, fields(invoice_id = %command.invoice_id), err(Display))]
pub async fn mark_invoice_paid(
    store: &Store,
    billing: &StripeBilling,
    rules: &BillingRules<'_>,
    command: MarkPaidCommand,
    now: Timestamp,
) -> Result<MarkedPaid, UseCaseError> {
    let record = invoice_record(store, &command.invoice_id).await?;
    if record.status.was_paid() {
        return Err(UseCaseError::Conflict {
            detail: format!("invoice {} is already paid", record.stripe_invoice_id),
            current_version: None,
        });
    }
    let partner = invoice_owner(store, &record).await?;
    let dunned = command.restore_tier && downgraded_by_dunning(store, &partner).await?;
    let stripe: &StripeApi = &billing.stripe;
    let invoice = stripe
        .pay_invoice_out_of_band(
            &record.stripe_invoice_id,
            &format!("mark-paid-{}", record.stripe_invoice_id),
        )
        .await?;
    // Applied as Stripe's own `invoice.paid` is: the same rules, recorded once under its own id
    // (Stripe's event for it, arriving later, finds the invoice paid already).
    let paid = BillingEvent::InvoicePaid(invoice_facts(&invoice).map_err(|why| {
        UseCaseError::Internal(format!(
            "Stripe marked invoice {} paid, but its answer could not be read: {why}",
            record.stripe_invoice_id
        ))
    })?);
    let source = EventSource::marked_paid(&record.stripe_invoice_id, now);
    match apply_billing_event(store, rules, &source, &paid, now).await? {
        EventOutcome::Applied { .. } | EventOutcome::Duplicate | EventOutcome::Stale { .. } => {}
        other => {
            return Err(UseCaseError::Internal(format!(
                "Stripe marked invoice {} paid, but it could not be recorded: {other:?}",
                record.stripe_invoice_id
            )))
        }
    }
    let current = invoice_owner(store, &record).await?;
    store
        .record_audit_entry(&AuditEntry::standalone(
            crate::ids::next_id().to_string(),
            &current,
            &command.actor,
            AuditAction::InvoiceMarkedPaid,
            Some(command.reason.clone()),
            now,
        ))
        .await?;
    let mut tier_restored = false;
    if let (true, Some(tier)) = (dunned, current.last_paid_tier) {
        let note = format!(
            "Restored after invoice {} was marked paid: {}",
            record.stripe_invoice_id, command.reason
        );
        // Stripe still bills the tier (dunning took it here only): it comes back here only, with the
        // term a paid subscription has.
        let today = rules.calendar.today(now);
        let actor = &command.actor;
        apply_change(store, &current.id, actor, None, now, |partner| {
            restored_tier_change(partner, tier, &note, actor, today, now)
                .map_err(|unplanned| UseCaseError::Internal(unplanned.to_string()))
        })
        .await?;
        tier_restored = true;
    }
    Ok(MarkedPaid {
        invoice_id: record.stripe_invoice_id,
        partner_id: record.partner_id,
        tier_restored,
    })
}
