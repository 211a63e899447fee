//! What an admin does to one invoice: mail it again (once per minute however often it is asked),
//! mark it paid outside Stripe (a bank transfer, a cheque), with the reason, optionally giving back
//! the tier that dunning took for it, and refund all or part of it.

use super::apply_change::{apply_change, conflict_backoff, partner_write, MAX_WRITE_ATTEMPTS};
use super::billing_events::apply_billing_event;
use super::error::not_found;
use super::error::UseCaseError;
use super::event_records::EventOutcome;
use super::invoices::invoice_record;
use crate::domain::billing::BillingEvent;
use crate::domain::billing_plan::BillingRules;
use crate::domain::billing_start::restored_tier_change;
use crate::domain::events::{DomainEvent, EventBody, InvoiceResendRequested};
use crate::domain::history_and_audit::{Actor, AuditAction, AuditEntry, HistoryEventType};
use crate::domain::invoice::{InvoiceRecord, InvoiceStatus};
use crate::domain::money::Cents;
use crate::domain::partner::{Note, Partner, PartnerId};
use crate::domain::rate_limit::window_of;
use crate::domain::refund::{plan_refund, refund_change, refundable, status_after_refunds, RefundRefusal};
use crate::ids::next_id;
use crate::store::refunds::{EarlierRequest, RefundCommit, RefundWrite, Reservation};
use crate::store::{PageRequest, ResendOutcome, ResendWrite, Store};
use crate::stripe::client::{StripeApi, StripeBilling};
use crate::stripe::webhook::{invoice_facts, EventSource};
use jiff::Timestamp;
use serde::Serialize;

async fn owner(store: &Store, record: &InvoiceRecord) -> Result<Partner, UseCaseError> {
    store
        .get_partner(&record.partner_id)
        .await?
        .ok_or_else(|| not_found(&record.partner_id))
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
    let record = invoice_record(store, invoice_id).await?;
    let partner = owner(store, &record).await?;
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
    let current = owner(store, &record).await?;
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
    let next = match plan_refund(&record, command.amount) {
        Ok(amount) => match store
            .reserve_refund(partner_id, invoice_id, amount, request.as_str(), now)
            .await?
        {
            Reservation::Reserved { .. } => Next::Ask {
                amount,
                reserved_now: true,
            },
            // The same Idempotency-Key again (a retry, or the same request at the same moment).
            Reservation::Earlier(earlier) => repeat(store, &record, command.amount, earlier).await?,
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
                Some(earlier) => repeat(store, &record, command.amount, earlier).await?,
                None => return Err(refusal(refused)),
            },
            None => return Err(refusal(refused)),
        },
    };
    let (amount, reserved_now) = match next {
        Next::Answered(refunded) => return Ok(refunded),
        Next::Ask { amount, reserved_now } => (amount, reserved_now),
    };
    let key = format!("refund-{invoice_id}-{}", request.as_str());
    let made = match stripe.invoice_payment_intent(invoice_id).await {
        Ok(Some(intent)) => match stripe
            .create_refund(&intent, amount, invoice_id, partner_id.as_str(), &key)
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
    };
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
        let partner = owner(store, record).await?;
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
