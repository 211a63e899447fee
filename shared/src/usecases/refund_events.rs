//! Refunds Stripe reports (`refund.created`, `refund.updated`, `refund.failed`, `charge.refunded`):
//! they keep the invoice record true when a refund is made or fails in Stripe's dashboard, and
//! confirm the ones made here. Each refund is recorded once by its id (whichever of the API and the
//! webhook comes first), and a failed one is reversed once.

use super::error::UseCaseError;
use super::event_records::{record_applied, seen_before, EventOutcome};
use super::invoice_refunds::record_refund;
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry};
use crate::domain::invoice::InvoiceRecord;
use crate::domain::refund::{status_after_refunds, RefundFacts};
use crate::store::Store;
use crate::stripe::client::StripeApi;
use crate::stripe::webhook::EventSource;
use jiff::Timestamp;

/// The invoice a refund is about: named by its metadata or charge, else found through Stripe by
/// the PaymentIntent it refunds.
async fn invoice_of(
    store: &Store,
    stripe: Option<&StripeApi>,
    refund: &RefundFacts,
) -> Result<Option<InvoiceRecord>, UseCaseError> {
    let invoice_id = match (&refund.invoice_id, &refund.payment_intent, stripe) {
        (Some(id), _, _) => Some(id.clone()),
        (None, Some(intent), Some(stripe)) => stripe.invoice_of_payment_intent(intent).await?,
        _ => None,
    };
    let Some(invoice_id) = invoice_id else {
        return Ok(None);
    };
    let Some(found) = store.invoice_by_id(&invoice_id).await? else {
        return Ok(None);
    };
    Ok(Some(
        store
            .partner_invoice(&found.partner_id, &found.stripe_invoice_id)
            .await?
            .unwrap_or(found),
    ))
}

/// Applies a verified refund event once.
#[tracing::instrument(skip_all, fields(stripe_event_id = %source.id, event_type = %source.event_type), err(Display))]
pub async fn apply_refund_event(
    store: &Store,
    stripe: Option<&StripeApi>,
    source: &EventSource,
    refunds: &[RefundFacts],
    now: Timestamp,
) -> Result<EventOutcome, UseCaseError> {
    if seen_before(store, source).await? {
        return Ok(EventOutcome::Duplicate);
    }
    if refunds.is_empty() {
        return Ok(EventOutcome::Ignored);
    }
    let mut partner = None;
    for refund in refunds {
        let Some(record) = invoice_of(store, stripe, refund).await? else {
            continue;
        };
        if refund.failed() {
            let reversed = store
                .reverse_refund(
                    &record.partner_id,
                    &record.stripe_invoice_id,
                    &refund.refund_id,
                    refund.amount,
                    record.created_at,
                )
                .await?;
            if let Some(total) = reversed {
                let status = status_after_refunds(record.amount_paid_cents, total);
                store
                    .settle_refund_status(&record.partner_id, &record.stripe_invoice_id, total, status)
                    .await?;
                if let Some(owner) = store.get_partner(&record.partner_id).await? {
                    store
                        .record_audit_entry(&AuditEntry::standalone(
                            crate::ids::next_id().to_string(),
                            &owner,
                            &Actor::Stripe,
                            AuditAction::RefundFailed,
                            None,
                            now,
                        ))
                        .await?;
                }
            }
        } else {
            record_refund(
                store,
                &record,
                &refund.refund_id,
                refund.amount,
                None,
                None,
                &Actor::Stripe,
                now,
            )
            .await?;
        }
        partner = Some(record.partner_id.clone());
    }
    let Some(partner_id) = partner else {
        return Ok(EventOutcome::NotOurs);
    };
    record_applied(store, source, partner_id, now).await
}
