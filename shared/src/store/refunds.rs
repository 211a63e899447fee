//! Refunds on an invoice record: what is left to refund is reserved before Stripe is asked (one
//! conditional update, so that concurrent refunds can never give back more than was paid), released
//! when Stripe refuses, and each refund Stripe made is recorded once (by its id) in the same
//! transaction as the partner's history, audit and outbox event.

use super::items::{number_attr, string_attr};
use super::keys::*;
use super::{conflicted, dynamo_error, failed_condition, update_condition_failed, PartnerWrite, Store, StoreError};
use crate::domain::invoice::InvoiceStatus;
use crate::domain::money::Cents;
use crate::domain::partner::PartnerId;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use std::collections::HashMap;
use ulid::Ulid;

/// Whether a reservation was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Reserved; `left` is what stays refundable after it.
    Reserved { left: Cents },
    /// Less than asked is left (another refund took it), or the invoice is not paid.
    NotEnough,
}

/// A refund Stripe made, to record with the partner's change.
#[derive(Debug, Clone)]
pub struct RefundWrite {
    pub partner_id: PartnerId,
    pub invoice_id: String,
    pub refund_id: String,
    pub amount: Cents,
    /// Whether the amount was reserved by this system before Stripe was asked (a refund made in
    /// Stripe's dashboard takes its amount off what is left when it is recorded).
    pub reserved: bool,
    pub partner: PartnerWrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundCommit {
    Committed,
    /// This refund id is recorded already.
    AlreadyRecorded,
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
    ) -> Result<Reservation, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invoice_key(partner_id, invoice_id)))
            .update_expression("SET refundable_cents = if_not_exists(refundable_cents, amount_paid_cents) - :amount")
            .condition_expression(
                "attribute_exists(pk) AND #status IN (:paid, :partial) AND (refundable_cents >= :amount \
                 OR (attribute_not_exists(refundable_cents) AND amount_paid_cents >= :amount))",
            )
            .expression_attribute_names("#status", "status")
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
            Err(err) if update_condition_failed(&err) => Ok(Reservation::NotEnough),
            Err(err) => Err(dynamo_error(err)),
        }
    }

    /// Gives a reservation back (Stripe refused or could not be reached).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn release_refund(
        &self,
        partner_id: &PartnerId,
        invoice_id: &str,
        amount: Cents,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(invoice_key(partner_id, invoice_id)))
            .update_expression("SET refundable_cents = refundable_cents + :amount")
            .condition_expression("attribute_exists(refundable_cents)")
            .expression_attribute_values(":amount", number_attr(amount.get()))
            .send()
            .await
            .map_err(dynamo_error)?;
        Ok(())
    }

    /// Records a refund Stripe made, once per refund id, with the partner's change.
    #[tracing::instrument(skip_all, fields(invoice_id = %write.invoice_id, refund_id = %write.refund_id), err(Display))]
    pub async fn commit_refund(&self, write: RefundWrite, token: Ulid) -> Result<RefundCommit, StoreError> {
        let mut expression = String::from(
            "SET amount_refunded_cents = if_not_exists(amount_refunded_cents, :zero) + :amount, \
             refund_ids = list_append(if_not_exists(refund_ids, :empty), :refund)",
        );
        if !write.reserved {
            expression.push_str(", refundable_cents = if_not_exists(refundable_cents, amount_paid_cents) - :amount");
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(invoice_key(&write.partner_id, &write.invoice_id)))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk) AND NOT contains(refund_ids, :refund_id)")
            .expression_attribute_values(":zero", number_attr(0))
            .expression_attribute_values(":amount", number_attr(write.amount.get()))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":refund", AttributeValue::L(vec![string_attr(&write.refund_id)]))
            .expression_attribute_values(":refund_id", string_attr(&write.refund_id))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(self.partner_write_items(&write.partner)?);
        Ok(match self.transact(items, token).await? {
            None => RefundCommit::Committed,
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
        match result {
            Ok(_) => Ok(()),
            Err(err) if update_condition_failed(&err) => Ok(()),
            Err(err) => Err(dynamo_error(err)),
        }
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
            Ok(output) => Ok(Some(
                output
                    .attributes
                    .as_ref()
                    .and_then(|a| cents(a, "amount_refunded_cents"))
                    .unwrap_or(Cents::ZERO),
            )),
            Err(err) if update_condition_failed(&err) => Ok(None),
            Err(err) => Err(dynamo_error(err)),
        }
    }
}
