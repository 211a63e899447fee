//! Billing in the table: which partner a Stripe customer is, which Stripe events were handled,
//! the invoices, and the one transaction that applies a Stripe event with all its effects.

use super::items::{conditional_put, conditional_put_named, number_attr, string_attr, to_item, Item};
use super::keys::*;
use super::{conflicted, failed_condition, PartnerWrite, Store, StoreError};
use crate::domain::counters::Counts;
use crate::domain::invoice::{InvoiceRecord, InvoiceStatus};
use crate::domain::partner::PartnerId;
use aws_sdk_dynamodb::types::TransactWriteItem;
use jiff::Timestamp;
use std::collections::HashMap;
use ulid::Ulid;

/// How long a handled Stripe event's id is remembered (Stripe retries for three days).
const STRIPE_EVENT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// What was done with a recorded Stripe event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedOutcome {
    Applied,
    /// Older than what the partner reflects.
    Stale,
    /// Of a type billing acts on, without a field it needs.
    Unusable,
}

impl RecordedOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordedOutcome::Applied => "applied",
            RecordedOutcome::Stale => "stale",
            RecordedOutcome::Unusable => "unusable",
        }
    }

    pub fn parse(text: &str) -> Option<RecordedOutcome> {
        [
            RecordedOutcome::Applied,
            RecordedOutcome::Stale,
            RecordedOutcome::Unusable,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == text)
    }
}

/// What became of a Stripe event, kept under its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeEventRecord {
    pub event_id: String,
    pub event_type: String,
    pub created: Timestamp,
    pub outcome: RecordedOutcome,
    pub partner_id: Option<PartnerId>,
}

/// Everything one Stripe event (or a billing start) writes, all or nothing.
#[derive(Debug, Clone, Default)]
pub struct BillingWrite {
    /// The event's id record: the transaction fails when it exists (a redelivery).
    pub stripe_event: Option<StripeEventRecord>,
    /// The invoice, written only when this event is newer than the one it reflects.
    pub invoice: Option<InvoiceRecord>,
    /// Stripe customer id -> partner, written only when free or already this partner's.
    pub customer_link: Option<(String, PartnerId)>,
    pub partner: Option<PartnerWrite>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingCommit {
    Committed,
    /// The event was handled before.
    DuplicateEvent,
    /// The invoice already reflects a newer event.
    StaleInvoice,
    /// The partner changed since it was read.
    VersionConflict,
    /// The Stripe customer belongs to another partner.
    CustomerTaken,
}

fn stripe_event_item(record: &StripeEventRecord, now: Timestamp) -> Item {
    let mut item = HashMap::from([
        (PK.to_owned(), string_attr(stripe_event_pk(&record.event_id))),
        (SK.to_owned(), string_attr(STRIPE_EVENT_SK)),
        ("entity".to_owned(), string_attr("stripe_event")),
        ("event_type".to_owned(), string_attr(&record.event_type)),
        ("created".to_owned(), string_attr(record.created.to_string())),
        ("outcome".to_owned(), string_attr(record.outcome.as_str())),
        ("handled_at".to_owned(), string_attr(now.to_string())),
        (
            EXPIRES_AT.to_owned(),
            number_attr(now.as_second() + STRIPE_EVENT_RETENTION_SECONDS),
        ),
    ]);
    if let Some(id) = &record.partner_id {
        item.insert("partner_id".to_owned(), string_attr(id.as_str()));
    }
    item
}

fn invoice_item(invoice: &InvoiceRecord) -> Result<Item, StoreError> {
    let mut item = to_item(invoice)?;
    item.insert(PK.into(), string_attr(partner_pk(&invoice.partner_id)));
    item.insert(SK.into(), string_attr(invoice_sk(&invoice.stripe_invoice_id)));
    item.insert("entity".into(), string_attr("invoice"));
    if invoice.status == InvoiceStatus::Paid {
        item.insert(
            "refundable_cents".into(),
            number_attr(invoice.amount_paid_cents.get() - invoice.amount_refunded_cents.get()),
        );
    }
    item.insert(
        "gsi5pk".into(),
        string_attr(invoices_by_status_pk(invoice.status.as_str())),
    );
    let by_date = format!("{}#{}", invoice.created_at, invoice.stripe_invoice_id);
    item.insert("gsi5sk".into(), string_attr(&by_date));
    item.insert("gsi8pk".into(), string_attr(INVOICES_BY_DATE_PK));
    item.insert("gsi8sk".into(), string_attr(by_date));
    item.insert(
        "gsi9pk".into(),
        string_attr(invoice_by_id_pk(&invoice.stripe_invoice_id)),
    );
    item.insert("gsi9sk".into(), string_attr(INVOICE_BY_ID_SK));
    Ok(item)
}

/// The invoice's put: newer than what the invoice reflects; and a payment is recorded once,
/// whichever of Stripe's events for it (`invoice.paid`, `invoice.payment_succeeded`) comes first.
/// Once paid, an invoice's record is final here (refunds update it in place, see `store::refunds`):
/// no later event rewrites it.
fn invoice_put(table: &str, invoice: &InvoiceRecord, fresh: &str) -> Result<TransactWriteItem, StoreError> {
    let values = HashMap::from([
        (":order".to_owned(), number_attr(invoice.stripe_event_order)),
        (":paid".to_owned(), string_attr(InvoiceStatus::Paid.as_str())),
        (":refunded".to_owned(), string_attr(InvoiceStatus::Refunded.as_str())),
        (
            ":partial".to_owned(),
            string_attr(InvoiceStatus::PartiallyRefunded.as_str()),
        ),
    ]);
    let condition =
        format!("{fresh} OR (stripe_event_order < :order AND NOT (#status IN (:paid, :refunded, :partial)))");
    conditional_put_named(
        table,
        invoice_item(invoice)?,
        &condition,
        Some(values),
        Some(("#status", "status")),
    )
}

/// The put linking Stripe customer `customer_id` to `partner_id`: only when free or already this
/// partner's.
fn customer_link_put(
    table: &str,
    customer_id: &str,
    partner_id: &PartnerId,
    fresh: &str,
) -> Result<TransactWriteItem, StoreError> {
    let item = HashMap::from([
        (PK.to_owned(), string_attr(customer_pk(customer_id))),
        (SK.to_owned(), string_attr(CUSTOMER_SK)),
        ("entity".to_owned(), string_attr("stripe_customer")),
        ("partner_id".to_owned(), string_attr(partner_id.as_str())),
    ]);
    let values = HashMap::from([(":partner_id".to_owned(), string_attr(partner_id.as_str()))]);
    conditional_put(
        table,
        item,
        &format!("{fresh} OR partner_id = :partner_id"),
        Some(values),
    )
}

impl Store {
    /// The partner a Stripe customer belongs to (strongly consistent), if it is one of ours.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn partner_for_customer(&self, customer_id: &str) -> Result<Option<PartnerId>, StoreError> {
        let id = self
            .get_item(customer_pk(customer_id), CUSTOMER_SK)
            .await?
            .and_then(|item| item.get("partner_id")?.as_s().ok().cloned())
            .map(|id| PartnerId::parse(&id).map_err(|e| StoreError::Corrupt(format!("customer link: {e}"))))
            .transpose()?;
        Ok(id)
    }

    /// Writes a billing change atomically. `token` makes an SDK retry of a committed write a no-op.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn commit_billing(
        &self,
        write: BillingWrite,
        token: Ulid,
        now: Timestamp,
    ) -> Result<BillingCommit, StoreError> {
        let fresh = format!("attribute_not_exists({PK})");
        let mut items = Vec::new();
        let (mut event_at, mut invoice_at, mut link_at) = (None, None, None);
        if let Some(record) = &write.stripe_event {
            event_at = Some(items.len());
            items.push(conditional_put(
                &self.table,
                stripe_event_item(record, now),
                &fresh,
                None,
            )?);
        }
        // The time we record it, beside Stripe's (a late record is alarmed on).
        let invoice = write.invoice.as_ref().map(|invoice| InvoiceRecord {
            recorded_at: Some(now),
            ..invoice.clone()
        });
        if let Some(invoice) = &invoice {
            invoice_at = Some(items.len());
            items.push(invoice_put(&self.table, invoice, &fresh)?);
        }
        if let Some((customer_id, partner_id)) = &write.customer_link {
            link_at = Some(items.len());
            items.push(customer_link_put(&self.table, customer_id, partner_id, &fresh)?);
        }
        let profile_at = items.len();
        let mut counts = Counts::default();
        if let Some(partner) = &write.partner {
            let (partner_items, partner_counts) = self.partner_write_items(partner)?;
            items.extend(partner_items);
            counts = partner_counts;
        }
        // The invoice put commits only over an unpaid record (its condition): once paid, it
        // counts once, on the day Stripe created it.
        if let Some(invoice) = &invoice {
            counts = counts.plus(&Counts::of_invoice(invoice, &self.calendar));
        }
        items.extend(super::metrics::counter_updates(&self.table, &counts)?);
        if items.is_empty() {
            return Ok(BillingCommit::Committed);
        }
        let failed = |codes: &[Option<String>], at: Option<usize>| at.is_some_and(|i| failed_condition(codes, i));
        Ok(match self.transact_through_conflicts(items, token).await? {
            None => BillingCommit::Committed,
            Some(codes) if failed(&codes, event_at) => BillingCommit::DuplicateEvent,
            Some(codes) if failed(&codes, invoice_at) => BillingCommit::StaleInvoice,
            Some(codes) if failed(&codes, link_at) => BillingCommit::CustomerTaken,
            Some(codes) if write.partner.is_some() && (failed_condition(&codes, profile_at) || conflicted(&codes)) => {
                BillingCommit::VersionConflict
            }
            Some(codes) => return Err(StoreError::Dynamo(format!("transaction cancelled: {codes:?}"))),
        })
    }

    /// Records that Stripe customer `customer_id` is partner `partner_id` (before anything is billed,
    /// so that the customer's first webhooks find the partner).
    pub async fn link_customer(
        &self,
        customer_id: &str,
        partner_id: &PartnerId,
        now: Timestamp,
    ) -> Result<BillingCommit, StoreError> {
        let write = BillingWrite {
            customer_link: Some((customer_id.to_owned(), partner_id.clone())),
            ..BillingWrite::default()
        };
        self.commit_billing(write, Ulid::new(), now).await
    }

    /// What the table says about a Stripe event, if it was handled: its outcome.
    pub async fn stripe_event_outcome(&self, event_id: &str) -> Result<Option<RecordedOutcome>, StoreError> {
        let item = self.get_item(stripe_event_pk(event_id), STRIPE_EVENT_SK).await?;
        let Some(text) = item.as_ref().and_then(|item| item.get("outcome")?.as_s().ok()) else {
            return Ok(None);
        };
        RecordedOutcome::parse(text)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("Stripe event {event_id}: unknown outcome {text:?}")))
    }
}
