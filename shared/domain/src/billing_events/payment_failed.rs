//! A failed attempt to collect an invoice: the dunning ladder's step (a reminder, an urgent notice,
//! the downgrade to free).

use super::BillingPlan;
use crate::billing::{is_older_period, payment_failed, DunningStep, InvoiceFacts};
use crate::events::{EventBody, PaymentFailed, PaymentFailureDowngrade, TierChanged};
use crate::history_and_audit::{Actor, AuditAction, HistoryEventType};
use crate::invoice::InvoiceRecord;
use crate::partner::{Note, Partner};
use crate::partner_change::PartnerChange;
use jiff::Timestamp;

/// The plan of a failed payment of `invoice` (its record); an older period's failure updates only
/// the invoice.
pub(super) fn plan(partner: &Partner, facts: &InvoiceFacts, invoice: InvoiceRecord, now: Timestamp) -> BillingPlan {
    if is_older_period(partner, facts) {
        return BillingPlan {
            invoice: Some(invoice),
            change: None,
            amount_paid: None,
        };
    }
    let failure = payment_failed(partner, facts, now);
    let tier = invoice.tier.unwrap_or(partner.engagement_tier);
    let (history, note, audit_action, events) = match failure.step {
        DunningStep::Downgrade if failure.downgraded => {
            let note = Note::parse(&format!("Failed after {} attempts", facts.attempt_count)).ok();
            let events = vec![
                EventBody::PaymentFailureDowngrade(PaymentFailureDowngrade {
                    invoice_id: facts.invoice_id.clone(),
                    attempts: facts.attempt_count,
                    amount_due_cents: facts.amount_due,
                    downgraded_tier: partner.engagement_tier,
                    downgraded_tier_label: partner.engagement_tier.label().to_owned(),
                    pcr_before: partner.final_pcr_score,
                    pcr_after: failure.after.final_pcr_score,
                    hosted_invoice_url: facts.hosted_invoice_url.clone(),
                }),
                EventBody::TierChanged(TierChanged::between(
                    partner,
                    &failure.after,
                    HistoryEventType::PaymentFailureDowngrade,
                    Actor::Stripe,
                    note.as_ref().map(ToString::to_string),
                )),
            ];
            (
                Some(HistoryEventType::PaymentFailureDowngrade),
                note,
                AuditAction::PaymentFailureDowngrade,
                events,
            )
        }
        DunningStep::Downgrade => (None, None, AuditAction::PaymentFailed, vec![]),
        DunningStep::FriendlyReminder | DunningStep::UrgentNotice => (
            None,
            None,
            AuditAction::PaymentFailed,
            vec![EventBody::PaymentFailed(PaymentFailed {
                invoice_id: facts.invoice_id.clone(),
                attempt: facts.attempt_count.max(1),
                amount_due_cents: facts.amount_due,
                tier,
                tier_label: tier.label().to_owned(),
                next_attempt_at: facts.next_payment_attempt,
                hosted_invoice_url: facts.hosted_invoice_url.clone(),
            })],
        ),
    };
    BillingPlan {
        invoice: Some(invoice),
        change: Some(PartnerChange {
            stripe_action: None,
            after: failure.after,
            history,
            note,
            audit_action,
            events,
        }),
        amount_paid: None,
    }
}
