//! email-sender against moto: a tier change made through admin-api travels outbox -> relay -> bus ->
//! email-sender and ends as exactly one message in moto's SES store; redeliveries, concurrent
//! deliveries, refused and failed sends behave as `shared::usecases::emails` promises.

use admin_api::App;
use email_sender::Sender;
use jiff::{SignedDuration, Timestamp};
use lambda_http::{Body, Request};
use outbox_relay::{Relay, StreamEvent};
use serde_json::{json, Value};
use shared::domain::dates::BusinessCalendar;
use shared::email::EmailSettings;
use shared::store::email_log::{EmailClaim, EmailLogState};
use shared::store::Store;
use shared::testing::pipeline::{
    bus_with_queue, drain_queue, drain_queue_json, fresh_dead_letters, outbox_stream_batch, ses_messages_to,
    verified_mailer, BusWithQueue,
};
use shared::testing::{admin_token, fresh_store, local_sdk_config};
use shared::usecases::emails::{Delivery, DeliveryError, EmailService, SEND_LEASE};

struct Fixture {
    sender: Sender,
    dlq: aws_sdk_sqs::Client,
    dlq_url: String,
}

fn settings() -> EmailSettings {
    EmailSettings {
        portal_url: "https://partners.power100.example/billing".into(),
        time_zone: jiff::tz::TimeZone::UTC,
    }
}

async fn fixture_on(store: Store) -> Fixture {
    let (dead_letters, dlq, dlq_url) = fresh_dead_letters().await;
    let service = EmailService {
        store,
        mailer: verified_mailer().await,
        dead_letters,
        settings: settings(),
    };
    Fixture {
        sender: Sender { service },
        dlq,
        dlq_url,
    }
}

fn unique_partner(prefix: &str) -> String {
    format!("{prefix}-{}", shared::ids::next_id().to_string().to_lowercase())
}

async fn call(app: &App, method: &str, path: &str, body: Value) -> (u16, Value) {
    let req: Request = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://admin.example.test{path}"))
        .header("authorization", format!("Bearer {}", admin_token("admin-1")))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.handle(req).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}

/// An EventBridge event carrying `detail` (what the email rule hands the function).
fn bridge_event(detail: &Value) -> Value {
    json!({
        "version": "0", "id": shared::ids::next_id().to_string(), "detail-type": detail["event_type"],
        "source": shared::domain::events::SOURCE, "account": "123456789012", "time": "2026-11-24T15:00:00Z",
        "region": "us-east-1", "resources": [], "detail": detail
    })
}

#[tokio::test]
async fn a_tier_change_through_the_api_ends_as_exactly_one_email() {
    let (store, _) = fresh_store().await;
    let app = App {
        store: store.clone(),
        calendar: BusinessCalendar::utc(),
        auth: shared::testing::test_token_auth(shared::auth::Role::Admin),
        billing: None,
    };
    let id = unique_partner("mail");
    let email = format!("{id}@partners.example");
    let (status, _) = call(
        &app,
        "PUT",
        &format!("/admin/partners/{id}"),
        json!({"company_name": "Summit Roofing Supply", "primary_email": email, "base_pcr_score": "58.00", "momentum_modifier": 0}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = call(
        &app,
        "PATCH",
        &format!("/api/partners/{id}/engagement-tier"),
        json!({"engagement_tier": "gold", "reason": "signed Power Gold"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The table's stream -> the relay -> the bus (a rule copies it to a queue, as the email rule would).
    let BusWithQueue { bus, sqs, queue_url } = bus_with_queue().await;
    let stream: StreamEvent = serde_json::from_value(outbox_stream_batch(&store).await).unwrap();
    assert!(Relay { bus }.handle(stream).await.batch_item_failures.is_empty());
    let on_bus = drain_queue_json(&sqs, &queue_url).await;
    let tier_changed = on_bus
        .iter()
        .find(|e| e["detail-type"] == "TierChanged")
        .expect("TierChanged on the bus")
        .clone();
    assert_eq!(tier_changed["detail"]["to_tier"], "gold");

    // The bus -> email-sender -> SES.
    let fixture = fixture_on(store.clone()).await;
    let now = Timestamp::now();
    let delivery = fixture.sender.handle(tier_changed.clone(), now).await.unwrap();
    let Delivery::Sent { kind, message_id } = delivery else {
        panic!("expected a sent email, got {delivery:?}")
    };
    assert_eq!(kind, "tier_upgrade_confirmation");
    let sent = ses_messages_to(&email).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["id"], message_id.as_str());
    assert_eq!(sent[0]["subject"], "Welcome to Power Gold: your upgrade is confirmed");
    let body = sent[0]["body"].as_str().unwrap();
    assert!(body.contains("Hello Summit Roofing Supply,"), "{body}");
    assert!(
        body.contains("52.40 &rarr; <strong>56.40</strong> (+4 points)"),
        "{body}"
    );
    assert!(body.contains("$3,600.00 per month"), "{body}");

    // The profile sync mails nobody.
    let synced = on_bus
        .iter()
        .find(|e| e["detail-type"] == "PartnerProfileSynced")
        .unwrap();
    assert_eq!(
        fixture.sender.handle(synced.clone(), now).await.unwrap(),
        Delivery::NotMailed
    );

    // The same event again (a retry, or EventBridge delivering twice) sends nothing more.
    let again = fixture.sender.handle(tier_changed.clone(), now).await.unwrap();
    assert_eq!(again, Delivery::AlreadySent { message_id });
    // So does a second publication of the same outbox event (a relay retry): new EventBridge id,
    // same event id.
    let republished = bridge_event(&tier_changed["detail"]);
    assert!(matches!(
        fixture
            .sender
            .handle(republished, now + SignedDuration::from_hours(1))
            .await,
        Ok(Delivery::AlreadySent { .. })
    ));
    assert_eq!(ses_messages_to(&email).await.len(), 1);
    assert!(drain_queue(&fixture.dlq, &fixture.dlq_url).await.is_empty());
}

fn sample_detail(file: &str, partner_id: &str, email: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(file);
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut detail = event["detail"].clone();
    detail["partner_id"] = json!(partner_id);
    detail["primary_email"] = json!(email);
    detail["event_id"] = json!(shared::ids::next_id().to_string());
    detail
}

#[tokio::test]
async fn concurrent_deliveries_of_one_event_send_one_email() {
    let (store, _) = fresh_store().await;
    let fixture = fixture_on(store).await;
    let id = unique_partner("race");
    let email = format!("{id}@partners.example");
    shared::testing::seed_recipient(&fixture.sender.service.store, &id, &email).await;
    let event = bridge_event(&sample_detail("email-renewal-notice-30-days.json", &id, &email));
    let now = Timestamp::now();
    let outcomes = futures::future::join_all((0..6).map(|_| fixture.sender.handle(event.clone(), now))).await;
    let sent = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Delivery::Sent { .. })))
        .count();
    assert_eq!(sent, 1, "{outcomes:?}");
    for outcome in &outcomes {
        assert!(
            matches!(
                outcome,
                Ok(Delivery::Sent { .. }) | Ok(Delivery::AlreadySent { .. }) | Err(DeliveryError::InProgress { .. })
            ),
            "{outcome:?}"
        );
    }
    assert_eq!(ses_messages_to(&email).await.len(), 1);
}

#[tokio::test]
async fn a_claim_left_by_a_crashed_delivery_is_taken_over_after_its_lease() {
    let (store, _) = fresh_store().await;
    let fixture = fixture_on(store.clone()).await;
    let id = unique_partner("crash");
    let email = format!("{id}@partners.example");
    shared::testing::seed_recipient(&fixture.sender.service.store, &id, &email).await;
    let detail = sample_detail("email-renewal-notice-7-days.json", &id, &email);
    let partner_id = shared::domain::partner::PartnerId::parse(&id).unwrap();
    let event_id = detail["event_id"].as_str().unwrap().to_owned();
    // A delivery claimed the event and died before sending.
    let crashed_at = Timestamp::now();
    let claim = EmailClaim {
        partner_id: &partner_id,
        event_id: &event_id,
        kind: "renewal_notice_7_days",
        to: &email,
        subject: "Final reminder: Subscription expires in 7 days",
    };
    store.claim_email(&claim, crashed_at, SEND_LEASE).await.unwrap();

    // Within the lease, a redelivery backs off (and fails so that Lambda retries it later).
    let early = fixture
        .sender
        .handle(bridge_event(&detail), crashed_at + SignedDuration::from_secs(30))
        .await;
    assert!(matches!(early, Err(DeliveryError::InProgress { .. })), "{early:?}");
    assert!(ses_messages_to(&email).await.is_empty());

    // After it, the redelivery sends.
    let late = fixture
        .sender
        .handle(
            bridge_event(&detail),
            crashed_at + SEND_LEASE + SignedDuration::from_secs(1),
        )
        .await
        .unwrap();
    assert!(matches!(late, Delivery::Sent { .. }), "{late:?}");
    assert_eq!(ses_messages_to(&email).await.len(), 1);
    assert!(matches!(
        store.email_log_state(&partner_id, &event_id).await.unwrap(),
        Some(EmailLogState::Sent { .. })
    ));
}

#[tokio::test]
async fn a_refused_email_goes_to_the_dead_letter_queue_with_its_reason_once() {
    let (store, _) = fresh_store().await;
    let mut fixture = fixture_on(store.clone()).await;
    // A sender whose domain SES never verified: SES refuses every message from it.
    fixture.sender.service.mailer =
        shared::mailer::Mailer::from_sdk_config(&local_sdk_config().await, "billing@unverified.example", None);
    let id = unique_partner("refused");
    let email = format!("{id}@partners.example");
    shared::testing::seed_recipient(&fixture.sender.service.store, &id, &email).await;
    let detail = sample_detail("email-payment-receipt.json", &id, &email);
    let event = bridge_event(&detail);
    let now = Timestamp::now();

    let outcome = fixture.sender.handle(event.clone(), now).await.unwrap();
    let Delivery::Rejected { kind, reason } = outcome else {
        panic!("expected a rejection, got {outcome:?}")
    };
    assert_eq!(kind, "payment_receipt");
    assert!(reason.contains("MessageRejected"), "{reason}");

    let parked = drain_queue(&fixture.dlq, &fixture.dlq_url).await;
    assert_eq!(parked.len(), 1);
    let attribute = |name: &str| {
        parked[0]
            .message_attributes()
            .and_then(|a| a.get(name))
            .and_then(|v| v.string_value())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(attribute("event_id"), detail["event_id"].as_str().unwrap());
    assert_eq!(attribute("email_kind"), "payment_receipt");
    assert!(attribute("reason").contains("MessageRejected"));
    let body: Value = serde_json::from_str(parked[0].body().unwrap()).unwrap();
    assert_eq!(body, event, "the DLQ holds the event as it arrived");

    // A redelivery neither sends nor parks it again.
    assert_eq!(
        fixture.sender.handle(event, now).await.unwrap(),
        Delivery::AlreadyRejected
    );
    assert!(drain_queue(&fixture.dlq, &fixture.dlq_url).await.is_empty());
    assert!(ses_messages_to(&email).await.is_empty());
}

#[tokio::test]
async fn a_transient_failure_fails_the_invocation_and_the_retry_sends() {
    let (store, _) = fresh_store().await;
    let mut fixture = fixture_on(store.clone()).await;
    let working = fixture.sender.service.mailer.clone();
    // SES unreachable: nothing listens on this port.
    let sdk = local_sdk_config().await;
    let unreachable = aws_sdk_sesv2::config::Builder::from(&sdk)
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled())
        .build();
    fixture.sender.service.mailer = shared::mailer::Mailer::new(
        aws_sdk_sesv2::Client::from_conf(unreachable),
        shared::testing::pipeline::TEST_SENDER,
        None,
    );
    let id = unique_partner("flaky");
    let email = format!("{id}@partners.example");
    shared::testing::seed_recipient(&fixture.sender.service.store, &id, &email).await;
    let event = bridge_event(&sample_detail("email-payment-failed-reminder.json", &id, &email));
    let now = Timestamp::now();

    let failed = fixture.sender.handle(event.clone(), now).await;
    assert!(matches!(failed, Err(DeliveryError::Transient(_))), "{failed:?}");
    assert!(
        drain_queue(&fixture.dlq, &fixture.dlq_url).await.is_empty(),
        "not a dead letter"
    );

    // Lambda's retry, a moment later, with SES back: the released claim is taken at once.
    fixture.sender.service.mailer = working;
    let retried = fixture
        .sender
        .handle(event, now + SignedDuration::from_secs(60))
        .await
        .unwrap();
    assert!(matches!(retried, Delivery::Sent { ref kind, .. } if kind == "payment_failed_reminder"));
    assert_eq!(ses_messages_to(&email).await.len(), 1);
}

#[tokio::test]
async fn an_unreadable_event_is_parked_with_its_reason() {
    let (store, _) = fresh_store().await;
    let fixture = fixture_on(store).await;
    let event = json!({"version": "0", "detail-type": "TierChanged", "source": shared::domain::events::SOURCE,
                       "detail": {"event_type": "TierChanged", "partner_id": "x"}});
    let outcome = fixture.sender.handle(event, Timestamp::now()).await.unwrap();
    assert!(matches!(outcome, Delivery::Unreadable { .. }), "{outcome:?}");
    let parked = drain_queue(&fixture.dlq, &fixture.dlq_url).await;
    assert_eq!(parked.len(), 1);
}

/// An event naming an outside address (forged, or stale after the partner changed theirs) mails the
/// partner's address on record; an event for a partner not on record mails nobody and is parked.
#[tokio::test]
async fn emails_go_to_the_address_on_record_never_the_events() {
    let (store, _) = fresh_store().await;
    let fixture = fixture_on(store).await;
    let id = unique_partner("forged");
    let on_record = format!("{id}@partners.example");
    shared::testing::seed_recipient(&fixture.sender.service.store, &id, &on_record).await;
    let outsider = format!("{id}@attacker.example");
    let forged = bridge_event(&sample_detail("email-payment-receipt.json", &id, &outsider));

    let delivery = fixture.sender.handle(forged, Timestamp::now()).await.unwrap();
    assert!(matches!(delivery, Delivery::Sent { .. }), "{delivery:?}");
    assert_eq!(ses_messages_to(&on_record).await.len(), 1);
    assert!(
        ses_messages_to(&outsider).await.is_empty(),
        "nothing went to the event's address"
    );

    let stranger = unique_partner("stranger");
    let unknown = bridge_event(&sample_detail(
        "email-payment-receipt.json",
        &stranger,
        &format!("{stranger}@attacker.example"),
    ));
    let delivery = fixture.sender.handle(unknown, Timestamp::now()).await.unwrap();
    let Delivery::Rejected { reason, .. } = delivery else {
        panic!("expected a rejection, got {delivery:?}")
    };
    assert!(reason.contains("not on record"), "{reason}");
    assert_eq!(
        drain_queue(&fixture.dlq, &fixture.dlq_url).await.len(),
        1,
        "parked once"
    );
    assert!(ses_messages_to(&format!("{stranger}@attacker.example"))
        .await
        .is_empty());
}
