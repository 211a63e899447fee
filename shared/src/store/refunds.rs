//! Refunds on an invoice record: what is left to refund is reserved before Stripe is asked (one
//! conditional update, so that concurrent refunds can never give back more than was paid), released
//! when Stripe refuses, and each refund Stripe made is recorded once (by its id) in the same
//! transaction as the partner's history, audit and outbox event.
//!
//! Each refund request has an id of its own (the admin's `Idempotency-Key`, else a new ULID): its
//! reservation is the invoice's attribute `refund_reserved_<request>` (the amount and when) until the
//! refund is recorded, when it becomes `refund_done_<request>` (the refund's id). The request id is
//! Stripe's idempotency key, so two requests are never one refund at Stripe, and a retried request
//! (the same key) is never two.

use super::items::{number_attr, string_attr};
use super::keys::*;
use super::{
    conflicted, dynamo_error, failed_condition, update_applied, update_condition_failed, PartnerWrite, Store,
    StoreError,
};
use crate::domain::counters::Counts;
use crate::domain::invoice::InvoiceStatus;
use crate::domain::money::Cents;
use crate::domain::partner::PartnerId;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use std::collections::HashMap;
use ulid::Ulid;

/// Whether a reservation was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Reserved; `left` is what stays refundable after it.
    Reserved { left: Cents },
    /// This request reserved before (an earlier attempt, in flight, interrupted or done): nothing is
    /// reserved again.
    Earlier(EarlierRequest),
    /// Less than asked is left (another refund took it), or the invoice is not paid.
    NotEnough,
}

/// A refund request seen before on an invoice: what it reserved, and its refund once recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierRequest {
    pub amount: Cents,
    pub refund_id: Option<String>,
}

/// The invoice attribute that holds request `request`'s reservation.
fn reserved_attribute(request: &str) -> String {
    format!("refund_reserved_{request}")
}

/// The invoice attribute that names the refund request `request` recorded.
fn done_attribute(request: &str) -> String {
    format!("refund_done_{request}")
}

/// One reservation an invoice holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldReservation {
    pub request: String,
    pub amount: Cents,
    pub at: jiff::Timestamp,
}

/// An invoice's reservations, found through the index of reservations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldReservations {
    pub partner_id: PartnerId,
    pub invoice_id: String,
    /// The index key it was found under (the newest reservation's time).
    pub index_key: String,
    pub reservations: Vec<HeldReservation>,
}

/// A refund Stripe made, to record with the partner's change.
#[derive(Debug, Clone)]
pub struct RefundWrite {
    pub partner_id: PartnerId,
    pub invoice_id: String,
    pub refund_id: String,
    pub amount: Cents,
    /// The request whose reservation holds the amount (a refund made in Stripe's dashboard has
    /// none, and takes its amount off what is left when it is recorded).
    pub reserved_by: Option<String>,
    /// When Stripe created the invoice: the business day whose refunded counter it moves.
    pub invoice_created: jiff::Timestamp,
    pub partner: PartnerWrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundCommit {
    Committed,
    /// This refund id is recorded already.
    AlreadyRecorded,
    /// The request's reservation is gone (released as stale): record it as unreserved instead.
    ReservationGone,
    VersionConflict,
}

fn invoice_key(partner_id: &PartnerId, invoice_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), string_attr(partner_pk(partner_id))),
        (SK.to_owned(), string_attr(invoice_sk(invoice_id))),
    ])
}

fn cents(item: &HashMap<String, AttributeValue>, name: &str) -> Option<Cents> {
    item.get(name)?.as_n().ok()?.parse().ok().map(Cents)
}

impl Store {
    /// Takes `amount` off what is left to refund on the invoice, unless less than that is left.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn reserve_refund(
        &self,
        partner_id: &PartnerId,
        invoice_id: &str,
        amount: Cents,
        request: &str,
        now: jiff::Timestamp,
    ) -> Result<Reservation, StoreError> {
        let reservation = AttributeValue::M(HashMap::from([
            ("amount".to_owned(), number_attr(amount.get())),
            ("at".to_owned(), string_attr(now.to_string())),
        ]));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invoice_key(partner_id, invoice_id)))
            .update_expression(
                "SET refundable_cents = if_not_exists(refundable_cents, amount_paid_cents) - :amount, \
                 #reserved = :reservation, gsi6pk = :reserved_pk, gsi6sk = :reserved_sk",
            )
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(#reserved) AND attribute_not_exists(#done) \
                 AND #status IN (:paid, :partial) AND (refundable_cents >= :amount \
                 OR (attribute_not_exists(refundable_cents) AND amount_paid_cents >= :amount))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#reserved", reserved_attribute(request))
            .expression_attribute_names("#done", done_attribute(request))
            .expression_attribute_values(":reservation", reservation)
            // The newest reservation's time keys the invoice in the index of reservations the
            // reconciliation releases once they are stale (a refund whose Lambda died halfway).
            .expression_attribute_values(":reserved_pk", string_attr(REFUND_RESERVED_PK))
            .expression_attribute_values(
                ":reserved_sk",
                string_attr(format!("{}#{invoice_id}", timestamp_key(now))),
            )
            .expression_attribute_values(":amount", number_attr(amount.get()))
            .expression_attribute_values(":paid", string_attr(InvoiceStatus::Paid.as_str()))
            .expression_attribute_values(":partial", string_attr(InvoiceStatus::PartiallyRefunded.as_str()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Reservation::Reserved {
                left: output
                    .attributes
                    .as_ref()
                    .and_then(|a| cents(a, "refundable_cents"))
                    .unwrap_or(Cents::ZERO),
            }),
            Err(err) if update_condition_failed(&err) => {
                Ok(match self.refund_request(partner_id, invoice_id, request).await? {
                    Some(earlier) => Reservation::Earlier(earlier),
                    None => Reservation::NotEnough,
                })
            }
            Err(err) => Err(dynamo_error(err)),
        }
    }

    /// Request `request` on the invoice, if it was made before (reserved, or recorded).
    pub async fn refund_request(
        &self,
        partner_id: &PartnerId,
        invoice_id: &str,
        request: &str,
    ) -> Result<Option<EarlierRequest>, StoreError> {
        let item = self
            .get_item(partner_pk(partner_id), &invoice_sk(invoice_id))
            .await?
            .unwrap_or_default();
        let read = |attribute: String| {
            let held = item.get(&attribute)?.as_m().ok()?;
            Some(EarlierRequest {
                amount: cents(held, "amount")?,
                refund_id: held.get("refund_id").and_then(|v| v.as_s().ok()).cloned(),
            })
        };
        Ok(read(done_attribute(request)).or_else(|| read(reserved_attribute(request))))
    }

    /// Gives request `request`'s reservation back (Stripe refused or could not be reached, or the
    /// refund was recorded without it), once; nothing when it was released or recorded already.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn release_refund(
        &self,
        partner_id: &PartnerId,
        invoice_id: &str,
        amount: Cents,
        request: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invoice_key(partner_id, invoice_id)))
            .update_expression("SET refundable_cents = refundable_cents + :amount REMOVE #reserved")
            .condition_expression("attribute_exists(refundable_cents) AND #reserved.amount = :amount")
            .expression_attribute_names("#reserved", reserved_attribute(request))
            .expression_attribute_values(":amount", number_attr(amount.get()))
            .send()
            .await;
        update_applied(result).map(|_| ())
    }

    /// Records a refund Stripe made, once per refund id, with the partner's change.
    #[tracing::instrument(skip_all, fields(invoice_id = %write.invoice_id, refund_id = %write.refund_id), err(Display))]
    pub async fn commit_refund(&self, write: RefundWrite, token: Ulid) -> Result<RefundCommit, StoreError> {
        let mut expression = String::from(
            "SET amount_refunded_cents = if_not_exists(amount_refunded_cents, :zero) + :amount, \
             refund_ids = list_append(if_not_exists(refund_ids, :empty), :refund)",
        );
        let mut condition = String::from("attribute_exists(pk) AND NOT contains(refund_ids, :refund_id)");
        let mut names = HashMap::new();
        let mut values = HashMap::from([
            (":zero".to_owned(), number_attr(0)),
            (":amount".to_owned(), number_attr(write.amount.get())),
            (":empty".to_owned(), AttributeValue::L(vec![])),
            (
                ":refund".to_owned(),
                AttributeValue::L(vec![string_attr(&write.refund_id)]),
            ),
            (":refund_id".to_owned(), string_attr(&write.refund_id)),
        ]);
        match &write.reserved_by {
            None => {
                expression.push_str(", refundable_cents = if_not_exists(refundable_cents, amount_paid_cents) - :amount")
            }
            Some(request) => {
                // The reservation becomes the request's record: its amount and its refund.
                expression.push_str(", #done = :done REMOVE #reserved");
                condition.push_str(" AND attribute_exists(#reserved)");
                names.insert("#done".to_owned(), done_attribute(request));
                names.insert("#reserved".to_owned(), reserved_attribute(request));
                let done = HashMap::from([
                    ("amount".to_owned(), number_attr(write.amount.get())),
                    ("refund_id".to_owned(), string_attr(&write.refund_id)),
                ]);
                values.insert(":done".to_owned(), AttributeValue::M(done));
            }
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(invoice_key(&write.partner_id, &write.invoice_id)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        let (partner_items, counts) = self.partner_write_items(&write.partner)?;
        items.extend(partner_items);
        let refunded = Counts::of_refund(
            &write.partner_id,
            write.invoice_created,
            write.amount.get(),
            &self.calendar,
        );
        items.extend(super::metrics::counter_updates(&self.table, &counts.plus(&refunded))?);
        let reserved = write.reserved_by.is_some();
        Ok(match self.transact(items, token).await? {
            None => RefundCommit::Committed,
            Some(codes) if failed_condition(&codes, 0) && reserved => {
                // Recorded already, or the reservation it counted on is gone: the invoice says which.
                let item = self
                    .get_item(partner_pk(&write.partner_id), &invoice_sk(&write.invoice_id))
                    .await?
                    .unwrap_or_default();
                let recorded = item
                    .get("refund_ids")
                    .and_then(|v| v.as_l().ok())
                    .is_some_and(|ids| ids.iter().any(|id| id.as_s().ok() == Some(&write.refund_id)));
                if recorded {
                    RefundCommit::AlreadyRecorded
                } else {
                    RefundCommit::ReservationGone
                }
            }
            Some(codes) if failed_condition(&codes, 0) => RefundCommit::AlreadyRecorded,
            Some(codes) if failed_condition(&codes, 1) || conflicted(&codes) => RefundCommit::VersionConflict,
            Some(codes) => return Err(StoreError::Dynamo(format!("transaction cancelled: {codes:?}"))),
        })
    }

    /// Sets the invoice's status from its amounts (`Refunded` or `PartiallyRefunded`), unless another
    /// refund moved them since they were read (that one sets it).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn settle_refund_status(
        &self,
        partner_id: &PartnerId,
        invoice_id: &str,
        refunded: Cents,
        status: InvoiceStatus,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invoice_key(partner_id, invoice_id)))
            .update_expression("SET #status = :status, gsi5pk = :gsi5pk")
            .condition_expression("amount_refunded_cents = :refunded")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", string_attr(status.as_str()))
            .expression_attribute_values(":gsi5pk", string_attr(invoices_by_status_pk(status.as_str())))
            .expression_attribute_values(":refunded", number_attr(refunded.get()))
            .send()
            .await;
        update_applied(result).map(|_| ())
    }

    /// Invoices holding a refund reservation made before `before` (stale: its request's Lambda died
    /// between reserving and recording), oldest first, at most `limit`: each with its reservations
    /// as a consistent read finds them, and the index key it was found under.
    pub async fn stale_refund_reservations(
        &self,
        before: jiff::Timestamp,
        limit: u16,
    ) -> Result<Vec<HeldReservations>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Listed {
            pk: String,
            sk: String,
            gsi6sk: String,
        }
        let query = super::queries::IndexQuery::new(STRIPE_SYNC_INDEX, "gsi6pk", "gsi6sk", REFUND_RESERVED_PK)
            .sort_key_below(timestamp_key(before));
        let (listed, _): (Vec<Listed>, _) = self.fetch_page(&query, None, Some(i32::from(limit))).await?;
        let mut held = Vec::new();
        for row in listed {
            let Some(item) = self.get_item(row.pk.clone(), &row.sk).await? else {
                continue;
            };
            let reservations = item
                .iter()
                .filter_map(|(name, value)| {
                    let request = name.strip_prefix("refund_reserved_")?;
                    let held = value.as_m().ok()?;
                    let at = held.get("at")?.as_s().ok()?.parse().ok()?;
                    Some(HeldReservation {
                        request: request.to_owned(),
                        amount: cents(held, "amount")?,
                        at,
                    })
                })
                .collect();
            let Some(partner_id) = row.pk.strip_prefix("PARTNER#").and_then(|id| PartnerId::parse(id).ok()) else {
                continue;
            };
            let Some(invoice_id) = row.sk.strip_prefix(INVOICE_PREFIX) else {
                continue;
            };
            held.push(HeldReservations {
                partner_id,
                invoice_id: invoice_id.to_owned(),
                index_key: row.gsi6sk,
                reservations,
            });
        }
        Ok(held)
    }

    /// Takes the invoice out of the index of reservations, unless a reservation was made since it
    /// was read under `index_key`.
    pub async fn forget_reserved_invoice(
        &self,
        partner_id: &PartnerId,
        invoice_id: &str,
        index_key: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invoice_key(partner_id, invoice_id)))
            .update_expression("REMOVE gsi6pk, gsi6sk")
            .condition_expression("gsi6sk = :seen")
            .expression_attribute_values(":seen", string_attr(index_key))
            .send()
            .await;
        update_applied(result).map(|_| ())
    }

    /// Reverses recorded refund `refund_id` of `amount` that Stripe reports failed: the money is
    /// refundable again; once per refund id. Whether it was recorded (and not reversed before).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn reverse_refund(
        &self,
        partner_id: &PartnerId,
        invoice_id: &str,
        refund_id: &str,
        amount: Cents,
        invoice_created: jiff::Timestamp,
    ) -> Result<Option<Cents>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invoice_key(partner_id, invoice_id)))
            .update_expression(
                "SET amount_refunded_cents = amount_refunded_cents - :amount, \
                 refundable_cents = refundable_cents + :amount, \
                 failed_refund_ids = list_append(if_not_exists(failed_refund_ids, :empty), :refund)",
            )
            .condition_expression("contains(refund_ids, :refund_id) AND NOT contains(failed_refund_ids, :refund_id)")
            .expression_attribute_values(":amount", number_attr(amount.get()))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":refund", AttributeValue::L(vec![string_attr(refund_id)]))
            .expression_attribute_values(":refund_id", string_attr(refund_id))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                // Its own request (the reversal answers with the new total, which a transaction
                // cannot): a failure between the two is drift the daily check reports.
                let back = Counts::of_refund(partner_id, invoice_created, -amount.get(), &self.calendar);
                self.move_counters(&back).await?;
                Ok(Some(
                    output
                        .attributes
                        .as_ref()
                        .and_then(|a| cents(a, "amount_refunded_cents"))
                        .unwrap_or(Cents::ZERO),
                ))
            }
            Err(err) if update_condition_failed(&err) => Ok(None),
            Err(err) => Err(dynamo_error(err)),
        }
    }
}
