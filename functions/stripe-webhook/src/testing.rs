//! Test support (feature `test-support`): a receiver served over HTTP and registered with the
//! local Stripe (localstripe), so that what happens there reaches the table as in production.

use super::Receiver;
use jiff::Timestamp;
use lambda_http::{Body, Request};
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::store::Store;
use shared::stripe::client::StripeApi;
use shared::testing::billing::test_prices;
use shared::testing::http_server::{serve, RawRequest};
use shared::testing::localstripe::{LocalStripe, LOCAL_KEY};
use std::sync::Arc;

/// The production client, talking to the local Stripe.
pub fn local_stripe_api() -> StripeApi {
    let base = LocalStripe::from_env().base;
    StripeApi::with_key(&Secret::new(LOCAL_KEY), Some(&base)).unwrap_or_else(|e| panic!("a local Stripe client: {e}"))
}

/// A receiver on `store`, served over HTTP, to which localstripe delivers its signed events.
pub async fn registered_receiver(store: Store) -> Arc<Receiver> {
    let secret = format!("whsec_{}", shared::ids::next_id());
    let receiver = Arc::new(Receiver {
        store,
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
        signing_secret: Secret::new(secret.clone()),
        stripe: Some(local_stripe_api()),
    });
    let served = Arc::clone(&receiver);
    let base = serve(move |raw: RawRequest| {
        let receiver = Arc::clone(&served);
        async move {
            let mut builder = lambda_http::http::Request::builder()
                .method(raw.method.as_str())
                .uri(raw.path.as_str());
            for (name, value) in &raw.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let req: Request = match builder.body(Body::Binary(raw.body)) {
                Ok(req) => req,
                Err(e) => return (400, e.to_string()),
            };
            let response = receiver.handle(req, Timestamp::now()).await;
            let body = match response.body() {
                Body::Text(text) => text.clone(),
                Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                _ => String::new(),
            };
            (response.status().as_u16(), body)
        }
    })
    .await;
    LocalStripe::from_env()
        .register_webhook(
            &format!("wh_{}", shared::ids::next_id()),
            &format!("{base}/webhooks/stripe"),
            &secret,
        )
        .await;
    receiver
}
