//! The Stripe-hosted customer portal.

use super::{unreadable, CustomerPortal, StripeApi, StripeCallError};
use stripe_client_core::{RequestBuilder, StripeMethod};

impl StripeApi {
    /// A Stripe customer-portal session for `customer_id` under `portal`'s configuration (never the
    /// account's default, which may allow plan switches or cancelling the commitment); its URL.
    #[tracing::instrument(skip(self, portal), err(Display))]
    pub async fn create_billing_portal_session(
        &self,
        customer_id: &str,
        portal: &CustomerPortal,
        idempotency_key: &str,
    ) -> Result<String, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            customer: &'a str,
            configuration: &'a str,
            return_url: &'a str,
        }
        let request = RequestBuilder::new(StripeMethod::Post, "/billing_portal/sessions").form(&Form {
            customer: customer_id,
            configuration: &portal.configuration,
            return_url: &portal.return_url,
        });
        let answer = self.send_json(request, idempotency_key).await?;
        answer
            .get("url")
            .and_then(|s| s.as_str())
            .map(str::to_owned)
            .ok_or_else(|| unreadable("a customer-portal session without a url"))
    }
}
