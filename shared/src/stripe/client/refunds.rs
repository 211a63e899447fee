//! Refunds.

use super::{unreadable, StripeApi, StripeCallError};
use stripe_client_core::{RequestBuilder, StripeMethod};

/// A refund as Stripe answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundState {
    pub id: String,
    /// `succeeded`, `pending`, `requires_action`, `failed`, `canceled`.
    pub status: String,
    pub amount: crate::domain::money::Cents,
}

impl StripeApi {
    /// Refunds `amount` of `payment_intent` (for `invoice_id` of `partner_id`, in its metadata).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount: crate::domain::money::Cents,
        invoice_id: &str,
        partner_id: &str,
        idempotency_key: &str,
    ) -> Result<RefundState, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            payment_intent: &'a str,
            amount: i64,
            #[serde(rename = "metadata[invoice_id]")]
            invoice_id: &'a str,
            #[serde(rename = "metadata[partner_id]")]
            partner_id: &'a str,
        }
        let request = RequestBuilder::new(StripeMethod::Post, "/refunds").form(&Form {
            payment_intent,
            amount: amount.get(),
            invoice_id,
            partner_id,
        });
        let answer = self.send_json(request, idempotency_key).await?;
        let text = |name: &str| answer.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(RefundState {
            id: text("id").ok_or_else(|| unreadable("a refund without an id"))?,
            status: text("status").unwrap_or_else(|| "pending".into()),
            amount: crate::domain::money::Cents(answer.get("amount").and_then(|a| a.as_i64()).unwrap_or(amount.get())),
        })
    }
}
