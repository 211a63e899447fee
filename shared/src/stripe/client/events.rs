//! Events: what Stripe reported since a time (the reconciliation's listing).

use super::{as_json, EventListing, StripeApi, StripeCallError};
use jiff::Timestamp;
use stripe_client_core::{RequestBuilder, StripeMethod};

impl StripeApi {
    /// Every event Stripe created since `since`, oldest first, as raw JSON (read from the few fields
    /// billing needs, like webhooks, whatever API version rendered them), reading at most
    /// `max_pages` pages of 100; the listing says whether they reached back to `since`.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn events_since(&self, since: Timestamp, max_pages: usize) -> Result<EventListing, StripeCallError> {
        #[derive(serde::Serialize)]
        struct Query<'a> {
            #[serde(rename = "created[gte]")]
            created_gte: i64,
            limit: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            starting_after: Option<&'a str>,
        }
        let mut events = Vec::new();
        let mut after: Option<String> = None;
        let mut reached_window_start = false;
        for _ in 0..max_pages {
            let query = Query {
                created_gte: since.as_second(),
                limit: 100,
                starting_after: after.as_deref(),
            };
            let page: miniserde::json::Value = RequestBuilder::new(StripeMethod::Get, "/events")
                .query(&query)
                .customize()
                .send(&self.client)
                .await?;
            let page = as_json(&page)?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data.last().and_then(|e| e["id"].as_str()).map(str::to_owned);
            let more = page["has_more"].as_bool().unwrap_or(false);
            events.extend(data);
            if !more || after.is_none() {
                reached_window_start = true;
                break;
            }
        }
        // Stripe lists newest first; apply oldest first.
        events.sort_by_key(|e| e["created"].as_i64().unwrap_or(0));
        Ok(EventListing {
            events,
            reached_window_start,
        })
    }
}
