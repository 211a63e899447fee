//! What an admin does to one invoice: mail it again (once per minute however often it is asked),
//! and mark it paid outside Stripe (a bank transfer, a cheque), with the reason, optionally giving
//! back the tier that dunning took for it.

use super::apply_change::apply_change;
use super::error::UseCaseError;
use super::partners::not_found;
use super::stripe_events::{apply_stripe_event, BillingRules, EventOutcome};
use crate::domain::billing_start::{grant_billed_tier, BilledSubscription};
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry, HistoryEventType};
use crate::domain::invoice::{InvoiceRecord, InvoiceStatus};
use crate::domain::partner::{Note, Partner, PartnerId, PaymentStatus};
use crate::domain::partner_change::PartnerChange;
use crate::domain::rate_limit::window_of;
use crate::domain::tier_change::{plan_tier_change, TierChangeRequest};
use crate::events::{DomainEvent, EventBody, InvoiceResendRequested, TierChanged};
use crate::ids::next_id;
use crate::store::{PageRequest, ResendOutcome, ResendWrite, Store};
use crate::stripe::client::{StripeApi, StripeBilling};
use crate::stripe::webhook::StripeEvent;
use jiff::Timestamp;
use serde::Serialize;

async fn known_invoice(store: &Store, invoice_id: &str) -> Result<InvoiceRecord, UseCaseError> {
    let valid =
        (1..=100).contains(&invoice_id.len()) && invoice_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let unknown = || UseCaseError::NotFound(format!("invoice {invoice_id} does not exist"));
    if !valid {
        return Err(unknown());
    }
    store.invoice_by_id(invoice_id).await?.ok_or_else(unknown)
}

async fn owner(store: &Store, record: &InvoiceRecord) -> Result<Partner, UseCaseError> {
    store
        .get_partner(&record.partner_id)
        .await?
        .ok_or_else(|| not_found(&record.partner_id))
}

fn audit(partner: &Partner, actor: &Actor, action: AuditAction, reason: Option<Note>, now: Timestamp) -> AuditEntry {
    AuditEntry {
        id: next_id().to_string(),
        partner_id: partner.id.clone(),
        action,
        actor: actor.clone(),
        reason,
        changes: vec![],
        version: partner.version,
        at: now,
    }
}

/// Queues the invoice email again (`InvoiceResendRequested`); within the same minute, a repeated
/// request queues nothing more.
#[tracing::instrument(skip(store), err(Display))]
pub async fn resend_invoice(
    store: &Store,
    invoice_id: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<ResendOutcome, UseCaseError> {
    let record = known_invoice(store, invoice_id).await?;
    let partner = owner(store, &record).await?;
    let body = InvoiceResendRequested {
        invoice_id: record.stripe_invoice_id.clone(),
        invoice_number: record.invoice_number.clone(),
        amount_cents: record.amount_cents,
        status: match record.status {
            InvoiceStatus::Pending | InvoiceStatus::Failed => "open",
            InvoiceStatus::Paid | InvoiceStatus::Refunded => "paid",
        }
        .to_owned(),
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
            audit(&partner, actor, AuditAction::InvoiceResendRequested, None, now),
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
    let record = known_invoice(store, &command.invoice_id).await?;
    if record.status == InvoiceStatus::Paid || record.status == InvoiceStatus::Refunded {
        return Err(UseCaseError::Conflict {
            detail: format!("invoice {} is already paid", record.stripe_invoice_id),
            current_version: None,
        });
    }
    let partner = owner(store, &record).await?;
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
    let event = StripeEvent {
        id: format!("mark_paid_{}", record.stripe_invoice_id),
        event_type: "invoice.paid".into(),
        created: now,
        api_version: None,
        object: invoice,
        typed: false,
    };
    match apply_stripe_event(store, rules, &event, now).await? {
        EventOutcome::Applied { .. } | EventOutcome::Duplicate | EventOutcome::Stale { .. } => {}
        other => {
            return Err(UseCaseError::Internal(format!(
                "Stripe marked invoice {} paid, but it could not be recorded: {other:?}",
                record.stripe_invoice_id
            )))
        }
    }
    let current = owner(store, &record).await?;
    store
        .record_audit_entry(&audit(
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
        let request = TierChangeRequest {
            tier,
            start: None,
            end: None,
            reason: Note::parse(&note).ok(),
        };
        // Stripe still bills the tier (dunning took it here only): it comes back here only, with the
        // term a paid subscription has.
        let today = rules.calendar.today(now);
        let actor = &command.actor;
        apply_change(store, &current.id, actor, None, now, |partner| {
            if partner.engagement_tier.is_paid() {
                return Ok(None);
            }
            let after = match (&partner.stripe_customer_id, &partner.stripe_subscription_id) {
                (Some(customer_id), Some(subscription_id)) => {
                    let subscription = BilledSubscription {
                        customer_id: customer_id.clone(),
                        subscription_id: subscription_id.clone(),
                        status: partner
                            .stripe_subscription_status
                            .clone()
                            .unwrap_or_else(|| "active".into()),
                    };
                    // Granted as a paid first invoice grants it: the term from today, the same ids.
                    let mut unbilled = partner.clone();
                    unbilled.stripe_subscription_id = None;
                    grant_billed_tier(&unbilled, tier, &subscription, PaymentStatus::Current, today, now)
                }
                _ => plan_tier_change(partner, &request, today, now)
                    .ok()
                    .flatten()
                    .map(|plan| plan.after),
            }
            .ok_or_else(|| UseCaseError::Internal("the restored tier's term could not be planned".into()))?;
            let body = TierChanged::between(
                partner,
                &after,
                HistoryEventType::Reactivation,
                actor.clone(),
                Some(note.clone()),
            );
            Ok(Some(PartnerChange {
                stripe_action: None,
                after,
                history: Some(HistoryEventType::Reactivation),
                note: request.reason.clone(),
                audit_action: AuditAction::TierChanged,
                events: vec![EventBody::TierChanged(body)],
            }))
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
