//! Customers: the partner's Stripe customer.

use super::{unreadable, StripeApi, StripeCallError};
use crate::domain::partner::Partner;
use stripe_client_core::{RequestBuilder, StripeMethod};

/// `metadata[partner_id]`: which partner a Stripe object belongs to.
#[derive(serde::Serialize)]
struct PartnerMetadata<'a> {
    partner_id: &'a str,
}

impl StripeApi {
    /// Creates the partner's Stripe customer (name, email, `partner_id` in metadata).
    #[tracing::instrument(skip_all, fields(partner_id = %partner.id), err(Display))]
    pub async fn create_customer(&self, partner: &Partner) -> Result<String, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Form<'a> {
            name: &'a str,
            email: &'a str,
            metadata: PartnerMetadata<'a>,
        }
        let form = Form {
            name: partner.company_name.as_str(),
            email: partner.primary_email.as_str(),
            metadata: PartnerMetadata {
                partner_id: partner.id.as_str(),
            },
        };
        let request = RequestBuilder::new(StripeMethod::Post, "/customers").form(&form);
        let key = crate::domain::billing::customer_idempotency_key(partner);
        let customer = self.send_json(request, &key).await?;
        customer
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| unreadable("a customer without an id"))
    }
}
