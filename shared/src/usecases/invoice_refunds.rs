//! Refunding all or part of an invoice, exactly once per request, and recording a refund (made here
//! or reported by Stripe) once by its id.

use super::apply_change::{conflict_backoff, partner_write, MAX_WRITE_ATTEMPTS};
use super::error::UseCaseError;
use super::invoices::{invoice_owner, invoice_record};
use crate::domain::history_and_audit::Actor;
use crate::domain::invoice::{InvoiceRecord, InvoiceStatus};
use crate::domain::money::Cents;
use crate::domain::partner::{Note, PartnerId};
use crate::domain::refund::{plan_refund, refund_change, refundable, status_after_refunds, RefundRefusal};
use crate::ids::next_id;
use crate::store::refunds::{EarlierRequest, RefundCommit, RefundWrite, Reservation};
use crate::store::Store;
use crate::stripe::client::{RefundState, StripeApi};
use jiff::Timestamp;
use serde::Serialize;

/// What an admin asked for.
#[derive(Debug, Clone)]
pub struct RefundCommand {
    pub invoice_id: String,
    /// Everything left to refund when `None`.
    pub amount: Option<Cents>,
    pub reason: Note,
    pub actor: Actor,
    /// The caller's `Idempotency-Key`: a retried request with it is the same refund. Without it,
    /// every request is a refund of its own.
    pub idempotency_key: Option<RefundRequestId>,
}

/// A refund request's id: the caller's idempotency key (1 to 64 of `A-Z a-z 0-9 _ -`), or a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequestId(String);

impl RefundRequestId {
    pub fn parse(text: &str) -> Result<RefundRequestId, String> {
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(RefundRequestId(text.to_owned()))
        } else {
            Err("must be 1 to 64 letters, digits, '_' or '-'".into())
        }
    }

    fn new() -> RefundRequestId {
        RefundRequestId(next_id().to_string().to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a refund did.
#[derive(Debug, Clone, Serialize)]
pub struct Refunded {
    pub invoice_id: String,
    pub partner_id: PartnerId,
    pub refund_id: String,
    /// Stripe's status of the refund (`succeeded`, or `pending` while the bank works on it).
    pub refund_status: String,
    pub amount_cents: Cents,
    pub amount: String,
    pub total_refunded_cents: Cents,
    pub invoice_status: InvoiceStatus,
}

fn refusal(refusal: RefundRefusal) -> UseCaseError {
    match refusal {
        RefundRefusal::TooLarge { .. } | RefundRefusal::NotPositive => UseCaseError::invalid("amount_cents", refusal),
        other => UseCaseError::Conflict {
            detail: other.to_string(),
            current_version: None,
        },
    }
}

/// Refunds all or part of a paid invoice through Stripe.
///
/// What is left to refund is reserved on the invoice first, under the request's own id (one
/// conditional update), so two concurrent refunds can never give back more than was paid; Stripe is
/// asked with the key `refund-<invoice>-<request id>`: a retry of the same request (the same
/// `Idempotency-Key`) repeats it and reserves nothing again, and no two requests ever share it (a
/// key built from amounts, which repeat, once made two refunds one). Stripe refusing or not
/// answering gives this request's reservation back. The refund is then recorded once, with the
/// partner's history `refund`, the audit entry (the admin and the reason) and `PaymentRefunded`.
#[tracing::instrument(skip_all, fields(invoice_id = %command.invoice_id), err(Display))]
pub async fn refund_invoice(
    store: &Store,
    stripe: &StripeApi,
    command: RefundCommand,
    now: Timestamp,
) -> Result<Refunded, UseCaseError> {
    let found = invoice_record(store, &command.invoice_id).await?;
    let record = store
        .partner_invoice(&found.partner_id, &found.stripe_invoice_id)
        .await?
        .unwrap_or(found);
    let request = command.idempotency_key.clone().unwrap_or_else(RefundRequestId::new);
    let (partner_id, invoice_id) = (&record.partner_id, record.stripe_invoice_id.as_str());
    let next = reserve(store, &record, &command, &request, now).await?;
    let (amount, reserved_now) = match next {
        Next::Answered(refunded) => return Ok(refunded),
        Next::Ask { amount, reserved_now } => (amount, reserved_now),
    };
    let key = format!("refund-{invoice_id}-{}", request.as_str());
    let made = ask_stripe(stripe, &record, amount, &key).await;
    let refund = match made {
        Ok(refund) => refund,
        Err(err) => {
            // Nothing was refunded: this request's reservation goes back (an earlier attempt's stays
            // with that attempt).
            if reserved_now {
                store
                    .release_refund(partner_id, invoice_id, amount, request.as_str())
                    .await?;
            }
            return Err(err);
        }
    };
    let total = record_refund(
        store,
        &record,
        &refund.id,
        amount,
        Some(request.as_str()),
        Some(&command.reason),
        &command.actor,
        now,
    )
    .await?;
    let status = status_after_refunds(record.amount_paid_cents, total);
    Ok(Refunded {
        invoice_id: record.stripe_invoice_id.clone(),
        partner_id: record.partner_id.clone(),
        refund_id: refund.id,
        refund_status: refund.status,
        amount_cents: amount,
        amount: amount.to_string(),
        total_refunded_cents: total,
        invoice_status: status,
    })
}

/// What is left to refund reserved for this request (`request`), or the answer of an earlier one
/// with the same key; refused when too little is left.
async fn reserve(
    store: &Store,
    record: &InvoiceRecord,
    command: &RefundCommand,
    request: &RefundRequestId,
    now: Timestamp,
) -> Result<Next, UseCaseError> {
    let (partner_id, invoice_id) = (&record.partner_id, record.stripe_invoice_id.as_str());
    Ok(match plan_refund(record, command.amount) {
        Ok(amount) => match store
            .reserve_refund(partner_id, invoice_id, amount, request.as_str(), now)
            .await?
        {
            Reservation::Reserved { .. } => Next::Ask {
                amount,
                reserved_now: true,
            },
            // The same Idempotency-Key again (a retry, or the same request at the same moment).
            Reservation::Earlier(earlier) => repeat(store, record, command.amount, earlier).await?,
            Reservation::NotEnough => {
                let now_left = store
                    .partner_invoice(partner_id, invoice_id)
                    .await?
                    .map(|r| refundable(&r))
                    .unwrap_or(Cents::ZERO);
                return Err(refusal(RefundRefusal::TooLarge {
                    asked: amount,
                    refundable: now_left,
                }));
            }
        },
        // Nothing (or too little) left: a retry of the refund that took it is answered all the same.
        Err(refused) => match &command.idempotency_key {
            Some(key) => match store.refund_request(partner_id, invoice_id, key.as_str()).await? {
                Some(earlier) => repeat(store, record, command.amount, earlier).await?,
                None => return Err(refusal(refused)),
            },
            None => return Err(refusal(refused)),
        },
    })
}

/// Stripe asked to refund `amount` of the invoice's card payment under `key`; a refund Stripe
/// reports failed or cancelled, or an invoice not paid through Stripe, is refused.
async fn ask_stripe(
    stripe: &StripeApi,
    record: &InvoiceRecord,
    amount: Cents,
    key: &str,
) -> Result<RefundState, UseCaseError> {
    let (partner_id, invoice_id) = (&record.partner_id, record.stripe_invoice_id.as_str());
    match stripe.invoice_payment_intent(invoice_id).await {
        Ok(Some(intent)) => match stripe
            .create_refund(&intent, amount, invoice_id, partner_id.as_str(), key)
            .await
        {
            Ok(refund) if refund.status == "failed" || refund.status == "canceled" => Err(UseCaseError::StripeRefused(
                format!("Stripe's refund {} {}", refund.id, refund.status),
            )),
            made => made.map_err(UseCaseError::from),
        },
        // Paid outside Stripe (marked paid, or by bank transfer): nothing Stripe can give back.
        Ok(None) => Err(UseCaseError::Conflict {
            detail: format!(
                "invoice {invoice_id} was not paid through Stripe (marked paid, or paid outside Stripe): \
                 there is no card payment to refund; refund it the way it was paid"
            ),
            current_version: None,
        }),
        Err(err) => Err(err.into()),
    }
}

/// How a refund request goes on once what it stands on is known.
enum Next {
    /// Ask Stripe for `amount`; `reserved_now` when this attempt made the reservation.
    Ask { amount: Cents, reserved_now: bool },
    /// A repeat of a request whose refund is recorded: its answer.
    Answered(Refunded),
}

/// A repeat of an earlier request with the same Idempotency-Key: the same amount, nothing reserved
/// again; one already recorded is answered from the record, without asking Stripe (after 24 hours
/// Stripe forgets a key, and asking again would make a second refund). Another amount is refused.
async fn repeat(
    store: &Store,
    record: &InvoiceRecord,
    asked: Option<Cents>,
    earlier: EarlierRequest,
) -> Result<Next, UseCaseError> {
    let invoice_id = &record.stripe_invoice_id;
    if asked.is_some_and(|asked| asked != earlier.amount) {
        return Err(UseCaseError::Conflict {
            detail: format!(
                "this Idempotency-Key was used for a refund of {} on invoice {invoice_id}; use a new key for another refund",
                earlier.amount
            ),
            current_version: None,
        });
    }
    let Some(refund_id) = earlier.refund_id else {
        return Ok(Next::Ask {
            amount: earlier.amount,
            reserved_now: false,
        });
    };
    let current = store
        .partner_invoice(&record.partner_id, invoice_id)
        .await?
        .unwrap_or_else(|| record.clone());
    Ok(Next::Answered(Refunded {
        invoice_id: invoice_id.clone(),
        partner_id: record.partner_id.clone(),
        refund_id,
        refund_status: "recorded".into(),
        amount_cents: earlier.amount,
        amount: earlier.amount.to_string(),
        total_refunded_cents: current.amount_refunded_cents,
        invoice_status: current.status,
    }))
}

/// Records refund `refund_id` of `amount` on `record` once (retrying on a partner that moved), then
/// settles the invoice's status; the invoice's total refunded after it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_refund(
    store: &Store,
    record: &InvoiceRecord,
    refund_id: &str,
    amount: Cents,
    reserved_by: Option<&str>,
    reason: Option<&Note>,
    actor: &Actor,
    now: Timestamp,
) -> Result<Cents, UseCaseError> {
    let mut reserved_by = reserved_by;
    for attempt in 0..MAX_WRITE_ATTEMPTS {
        let partner = invoice_owner(store, record).await?;
        let current = store
            .partner_invoice(&record.partner_id, &record.stripe_invoice_id)
            .await?
            .unwrap_or_else(|| record.clone());
        let total = Cents(current.amount_refunded_cents.get() + amount.get());
        let change = refund_change(&partner, record, refund_id, amount, total, reason, actor, now);
        let (mut write, _) = partner_write(&partner, change, actor, now);
        if let Some((_, entry)) = write.history.as_mut() {
            entry.amount_paid = Some(Cents(-amount.get()));
        }
        if let Some(reason) = reason {
            write.audit.1.reason = Some(reason.clone());
        }
        let refund = RefundWrite {
            partner_id: record.partner_id.clone(),
            invoice_id: record.stripe_invoice_id.clone(),
            refund_id: refund_id.to_owned(),
            amount,
            reserved_by: reserved_by.map(str::to_owned),
            invoice_created: record.created_at,
            partner: write,
        };
        match store.commit_refund(refund, next_id()).await? {
            RefundCommit::Committed => {
                let status = status_after_refunds(record.amount_paid_cents, total);
                store
                    .settle_refund_status(&record.partner_id, &record.stripe_invoice_id, total, status)
                    .await?;
                return Ok(total);
            }
            RefundCommit::AlreadyRecorded => {
                // Stripe's webhook recorded it first and took the amount off what is left itself:
                // this request's reservation is one too many (nothing, if this request recorded it).
                if let Some(request) = reserved_by {
                    store
                        .release_refund(&record.partner_id, &record.stripe_invoice_id, amount, request)
                        .await?;
                }
                return Ok(current.amount_refunded_cents);
            }
            RefundCommit::ReservationGone => reserved_by = None,
            RefundCommit::VersionConflict => conflict_backoff(attempt).await,
        }
    }
    Err(UseCaseError::Conflict {
        detail: format!(
            "partner {} kept changing while refund {refund_id} was recorded; Stripe made it, send the request again to record it",
            record.partner_id
        ),
        current_version: None,
    })
}
