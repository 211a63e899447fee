//! Invoices: an open invoice's payment, paying one outside Stripe, and the payments that paid one.

use super::{StripeApi, StripeCallError};
use stripe_client_core::{RequestBuilder, StripeMethod};

/// A payment the partner completes in the browser: what Stripe Elements needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentToConfirm {
    pub invoice_id: String,
    /// Handed to Stripe Elements only, never logged.
    pub client_secret: String,
    pub amount_due_cents: i64,
    pub currency: String,
}

impl PaymentToConfirm {
    /// The payment of an (expanded) invoice that is still open; `None` for one that is paid or void.
    pub(super) fn of_invoice(invoice: &serde_json::Value) -> Option<PaymentToConfirm> {
        if invoice.get("status").and_then(|s| s.as_str()) != Some("open") {
            return None;
        }
        let secret = invoice
            .pointer("/confirmation_secret/client_secret")
            .or_else(|| invoice.pointer("/payment_intent/client_secret"))
            .and_then(|s| s.as_str())?;
        Some(PaymentToConfirm {
            invoice_id: invoice.get("id")?.as_str()?.to_owned(),
            client_secret: secret.to_owned(),
            amount_due_cents: invoice
                .get("amount_due")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0),
            currency: invoice
                .get("currency")
                .and_then(|c| c.as_str())
                .unwrap_or("usd")
                .to_owned(),
        })
    }
}

impl StripeApi {
    /// The payment of invoice `invoice_id`, while it is open.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_payment(&self, invoice_id: &str) -> Result<Option<PaymentToConfirm>, StripeCallError> {
        let answer = self
            .get_json(
                &format!("/invoices/{invoice_id}"),
                &[("expand[0]", "confirmation_secret")],
            )
            .await?;
        Ok(PaymentToConfirm::of_invoice(&answer))
    }

    /// Marks invoice `invoice_id` paid outside Stripe (a bank transfer, a cheque); Stripe's invoice.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn pay_invoice_out_of_band(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<serde_json::Value, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form {
            paid_out_of_band: bool,
        }
        let request = RequestBuilder::new(StripeMethod::Post, format!("/invoices/{invoice_id}/pay"))
            .form(&Form { paid_out_of_band: true });
        match self.send_json(request, idempotency_key).await {
            // Stripe refuses to pay an invoice that is paid: its payment arrived first (the webhook
            // may still be on its way). The invoice is paid all the same: answer it as it stands.
            Err(StripeCallError::Refused { status: 400, message }) => {
                let invoice = self.get_json(&format!("/invoices/{invoice_id}"), &[]).await?;
                if invoice.get("status").and_then(serde_json::Value::as_str) == Some("paid") {
                    Ok(invoice)
                } else {
                    Err(StripeCallError::Refused { status: 400, message })
                }
            }
            answer => answer,
        }
    }

    /// The PaymentIntent that paid invoice `invoice_id` (today's API lists it among the invoice's
    /// payments; older ones put it on the invoice).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_payment_intent(&self, invoice_id: &str) -> Result<Option<String>, StripeCallError> {
        let invoice = self.get_json(&format!("/invoices/{invoice_id}"), &[]).await?;
        if let Some(intent) = invoice.get("payment_intent").and_then(|p| p.as_str()) {
            return Ok(Some(intent.to_owned()));
        }
        let payments = self
            .get_json("/invoice_payments", &[("invoice", invoice_id), ("status", "paid")])
            .await?;
        // None: paid outside Stripe (out of band), with no card payment to refund.
        Ok(payments["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|p| p.pointer("/payment/payment_intent").and_then(|i| i.as_str()))
            .map(str::to_owned))
    }

    /// The invoice a PaymentIntent paid, if it paid one (refunds made in Stripe's dashboard name only
    /// the PaymentIntent).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn invoice_of_payment_intent(&self, payment_intent: &str) -> Result<Option<String>, StripeCallError> {
        let payments = self
            .get_json(
                "/invoice_payments",
                &[
                    ("payment[type]", "payment_intent"),
                    ("payment[payment_intent]", payment_intent),
                ],
            )
            .await?;
        Ok(payments["data"].as_array().into_iter().flatten().find_map(|p| {
            p.get("invoice").and_then(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .or_else(|| i.get("id")?.as_str().map(str::to_owned))
            })
        }))
    }
}
