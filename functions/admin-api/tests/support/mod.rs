//! Calls admin-api's handler the way API Gateway does, on a fresh table of its own.

#![allow(dead_code)]

use admin_api::App;
use lambda_http::{Body, Request};
use serde_json::Value;
use shared::domain::dates::BusinessCalendar;
use shared::testing::{admin_token, fresh_store, CallLog};

/// Instants where the calendar turns, for tests whose answers depend on the day or the month: a
/// second before midnight on a month's last day, and five minutes into the next month.
pub const CLOCK_EDGES: [&str; 2] = ["2026-12-31T23:59:30Z", "2027-01-01T00:05:00Z"];

pub struct TestApi {
    pub app: App,
    pub calls: CallLog,
    pub token: String,
    /// The instant every request is answered at; `None`: the real clock.
    pub clock: Option<jiff::Timestamp>,
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl TestApi {
    pub async fn new() -> TestApi {
        let (store, calls) = fresh_store().await;
        let app = App {
            store,
            calendar: BusinessCalendar::utc(),
            auth: shared::testing::test_token_auth(shared::auth::Role::Admin),
            billing: None,
        };
        TestApi {
            app,
            calls,
            token: admin_token("admin-1"),
            clock: None,
        }
    }

    /// The same API answering every request as of `now` (the handler's own clock seam).
    pub fn at(mut self, now: jiff::Timestamp) -> TestApi {
        self.clock = Some(now);
        self
    }

    /// The instant requests are answered at.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.unwrap_or_else(jiff::Timestamp::now)
    }

    /// The same API with Stripe billing pointed at `api_base` (a local stub).
    pub fn with_stripe(mut self, api_base: &str) -> TestApi {
        let stripe = shared::stripe::client::StripeApi::with_key(
            &shared::config::Secret::new("sk_test_stub_key"),
            Some(api_base),
        )
        .expect("a Stripe client");
        self.app.billing = Some(admin_api::Billing {
            stripe,
            prices: shared::testing::billing::test_prices(),
        });
        self
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<&str>, token: Option<&str>) -> Answer {
        let mut builder = lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://admin.example.test{path}"));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let req: Request = builder
            .body(body.map(|b| Body::from(b.to_owned())).unwrap_or(Body::Empty))
            .unwrap();
        answer(self.app.handle_at(req, self.now()).await)
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None, Some(&self.token)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send("PUT", path, Some(&body.to_string()), Some(&self.token)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(&body.to_string()), Some(&self.token))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send("PATCH", path, Some(&body.to_string()), Some(&self.token))
            .await
    }

    /// Creates a free partner through the API.
    pub async fn partner(&self, id: &str, name: &str, base: f64) {
        let answer = self
            .put(
                &format!("/admin/partners/{id}"),
                serde_json::json!({"company_name": name, "primary_email": format!("{id}@example.com"), "base_pcr_score": base}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }

    pub async fn tier(&self, id: &str, body: Value) -> Answer {
        self.patch(&format!("/api/partners/{id}/engagement-tier"), body).await
    }

    /// Every page of a listing, following `next_cursor`; `list` names the array in each answer.
    /// `path` carries its own query (a `?` must be in it).
    pub async fn pages(&self, path: &str, list: &str) -> Vec<Vec<Value>> {
        let mut pages = Vec::new();
        let mut next = path.to_owned();
        loop {
            let answer = self.get(&next).await;
            assert_eq!(answer.status, 200, "{next}: {}", answer.body);
            pages.push(answer.body[list].as_array().cloned().unwrap_or_default());
            match answer.body["next_cursor"].as_str() {
                Some(cursor) => next = format!("{path}&cursor={cursor}"),
                None => return pages,
            }
        }
    }

    /// Every history or audit entry of a partner, newest first.
    pub async fn all(&self, id: &str, what: &str) -> Vec<Value> {
        self.pages(&format!("/admin/partners/{id}/{what}?limit=100"), what)
            .await
            .concat()
    }
}

pub fn answer(res: lambda_http::Response<Body>) -> Answer {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes: &[u8] = res.body().as_ref();
    let body = serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into()));
    Answer {
        status,
        content_type,
        body,
    }
}
