//! Refunds of a paid invoice, as decisions over its amounts: how much a request may give back, and
//! the invoice's status once money was given back. Money is integer cents; a refund never exceeds
//! what was paid and not yet refunded.

use super::events::{EventBody, PaymentRefunded};
use super::history_and_audit::{Actor, AuditAction, HistoryEventType};
use super::invoice::{InvoiceRecord, InvoiceStatus};
use super::money::Cents;
use super::partner::{Note, Partner};
use super::partner_change::PartnerChange;
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundRefusal {
    #[error("invoice {0} was not paid: there is nothing to refund")]
    NotPaid(String),
    #[error("invoice {0} is refunded in full already")]
    NothingLeft(String),
    #[error("a refund must be at least $0.01")]
    NotPositive,
    #[error("{asked} is more than what is left to refund on this invoice: {refundable}")]
    TooLarge { asked: Cents, refundable: Cents },
}

/// What a Stripe refund event says about one refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFacts {
    pub refund_id: String,
    pub amount: Cents,
    /// Stripe's status: `succeeded`, `pending`, `requires_action`, `failed`, `canceled`.
    pub status: String,
    /// The invoice, when the refund's metadata (ours) or its charge names it.
    pub invoice_id: Option<String>,
    pub payment_intent: Option<String>,
}

impl RefundFacts {
    /// Whether the money did not go back (and a recorded refund is to be reversed).
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "failed" | "canceled")
    }
}

/// What is left to refund on an invoice.
pub fn refundable(invoice: &InvoiceRecord) -> Cents {
    Cents(invoice.amount_paid_cents.get() - invoice.amount_refunded_cents.get()).max(Cents::ZERO)
}

/// The amount a refund of `asked` (everything left when `None`) gives back on `invoice`.
pub fn plan_refund(invoice: &InvoiceRecord, asked: Option<Cents>) -> Result<Cents, RefundRefusal> {
    if !invoice.status.was_paid() {
        return Err(RefundRefusal::NotPaid(invoice.stripe_invoice_id.clone()));
    }
    let left = refundable(invoice);
    if left == Cents::ZERO {
        return Err(RefundRefusal::NothingLeft(invoice.stripe_invoice_id.clone()));
    }
    match asked {
        None => Ok(left),
        Some(amount) if amount.get() <= 0 => Err(RefundRefusal::NotPositive),
        Some(amount) if amount > left => Err(RefundRefusal::TooLarge {
            asked: amount,
            refundable: left,
        }),
        Some(amount) => Ok(amount),
    }
}

/// The status of an invoice that was paid `paid` and refunded `refunded` in total.
pub fn status_after_refunds(paid: Cents, refunded: Cents) -> InvoiceStatus {
    if refunded.get() <= 0 {
        InvoiceStatus::Paid
    } else if refunded >= paid {
        InvoiceStatus::Refunded
    } else {
        InvoiceStatus::PartiallyRefunded
    }
}

/// The partner's record of a refund of `amount` (`total` refunded of the invoice so far): history
/// `refund`, `PaymentRefunded`; the partner itself is unchanged.
#[allow(clippy::too_many_arguments)]
pub fn refund_change(
    partner: &Partner,
    record: &InvoiceRecord,
    refund_id: &str,
    amount: Cents,
    total: Cents,
    reason: Option<&Note>,
    actor: &Actor,
    now: Timestamp,
) -> PartnerChange {
    let number = record.invoice_number.as_deref().unwrap_or(&record.stripe_invoice_id);
    let note = match reason {
        Some(reason) => format!("Refunded {amount} of invoice {number}: {reason}"),
        None => format!("Refunded {amount} of invoice {number} in Stripe"),
    };
    let mut after = partner.clone();
    after.updated_at = now;
    let body = PaymentRefunded {
        invoice_id: record.stripe_invoice_id.clone(),
        invoice_number: record.invoice_number.clone(),
        refund_id: refund_id.to_owned(),
        amount_refunded_cents: amount,
        total_refunded_cents: total,
        amount_paid_cents: record.amount_paid_cents,
        reason: reason.map(ToString::to_string),
        refunded_by: actor.clone(),
    };
    PartnerChange {
        after,
        history: Some(HistoryEventType::Refund),
        note: Note::parse(&note).ok(),
        audit_action: AuditAction::RefundIssued,
        events: vec![EventBody::PaymentRefunded(body)],
        stripe_action: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner::PartnerId;
    use proptest::prelude::*;

    fn paid(amount: i64, refunded: i64) -> InvoiceRecord {
        let day = jiff::civil::date(2026, 11, 1);
        InvoiceRecord {
            partner_id: PartnerId::parse("p1").unwrap(),
            company_name: None,
            stripe_invoice_id: "in_1".into(),
            invoice_number: None,
            amount_cents: Cents(amount),
            amount_paid_cents: Cents(amount),
            amount_refunded_cents: Cents(refunded),
            tier: None,
            period_start: day,
            period_end: day,
            status: status_after_refunds(Cents(amount), Cents(refunded)),
            attempt_count: 1,
            paid_at: None,
            invoice_url: None,
            pdf_url: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            stripe_event_order: 0,
            recorded_at: None,
        }
    }

    #[test]
    fn refunds_give_back_at_most_what_is_left() {
        assert_eq!(plan_refund(&paid(360_000, 0), None), Ok(Cents(360_000)));
        assert_eq!(plan_refund(&paid(360_000, 100_000), None), Ok(Cents(260_000)));
        assert_eq!(
            plan_refund(&paid(360_000, 100_000), Some(Cents(260_001))),
            Err(RefundRefusal::TooLarge {
                asked: Cents(260_001),
                refundable: Cents(260_000)
            })
        );
        assert_eq!(
            plan_refund(&paid(360_000, 0), Some(Cents::ZERO)),
            Err(RefundRefusal::NotPositive)
        );
        assert!(matches!(
            plan_refund(&paid(360_000, 360_000), None),
            Err(RefundRefusal::NothingLeft(_))
        ));
        let mut open = paid(360_000, 0);
        open.status = InvoiceStatus::Pending;
        assert!(matches!(plan_refund(&open, None), Err(RefundRefusal::NotPaid(_))));
        assert_eq!(
            status_after_refunds(Cents(100), Cents(1)),
            InvoiceStatus::PartiallyRefunded
        );
        assert_eq!(status_after_refunds(Cents(100), Cents(100)), InvoiceStatus::Refunded);
    }

    /// The status an invoice paid `paid` must show once `refunded` went back, stated on its own:
    /// nothing refunded is paid, part is partially refunded, all is refunded.
    fn expected_status(paid: i64, refunded: i64) -> InvoiceStatus {
        match refunded {
            0 => InvoiceStatus::Paid,
            r if r == paid => InvoiceStatus::Refunded,
            _ => InvoiceStatus::PartiallyRefunded,
        }
    }

    /// What an admin asks to refund.
    #[derive(Debug, Clone)]
    enum Ask {
        /// No amount: everything left.
        Rest,
        Amount(i64),
        /// Exactly what is left, as an amount (or one cent more).
        LeftPlus(i64),
    }

    proptest! {
        /// Whatever sequence of refunds is asked, each is granted or refused as a model of the
        /// invoice's amounts says, what is given back never exceeds what was paid, and the status
        /// says whether nothing, part or all was refunded.
        #[test]
        fn a_sequence_of_refunds_never_exceeds_the_payment(
            amount in 1i64..10_000_000,
            asks in proptest::collection::vec(
                prop_oneof![
                    Just(Ask::Rest),
                    (-100i64..5_000_000).prop_map(Ask::Amount),
                    (0i64..=1).prop_map(Ask::LeftPlus),
                ],
                0..12,
            ),
        ) {
            let mut invoice = paid(amount, 0);
            let mut refunded = 0i64;
            for ask in asks {
                let left = amount - refunded;
                let asked = match ask {
                    Ask::Rest => None,
                    Ask::Amount(a) => Some(a),
                    Ask::LeftPlus(more) => Some(left + more),
                };
                let expected = match asked {
                    _ if left == 0 => Err(RefundRefusal::NothingLeft("in_1".into())),
                    None => Ok(Cents(left)),
                    Some(a) if a <= 0 => Err(RefundRefusal::NotPositive),
                    Some(a) if a > left => Err(RefundRefusal::TooLarge { asked: Cents(a), refundable: Cents(left) }),
                    Some(a) => Ok(Cents(a)),
                };
                let planned = plan_refund(&invoice, asked.map(Cents));
                prop_assert_eq!(&planned, &expected);
                if let Ok(refund) = planned {
                    refunded += refund.get();
                    invoice.amount_refunded_cents = Cents(refunded);
                    invoice.status = status_after_refunds(invoice.amount_paid_cents, invoice.amount_refunded_cents);
                }
                prop_assert!(refunded <= amount);
                prop_assert_eq!(invoice.status, expected_status(amount, refunded));
                prop_assert_eq!(refundable(&invoice), Cents(amount - refunded));
            }
        }
    }
}
