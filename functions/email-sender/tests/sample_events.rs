//! Every EventBridge sample in events/ for the email sender runs through its handler against moto
//! and mails its partner the email its name promises.

use email_sender::Sender;
use serde_json::Value;
use shared::email::{EmailKind, EmailSettings};
use shared::testing::fresh_store;
use shared::testing::pipeline::{fresh_dead_letters, ses_messages_to, verified_mailer};
use shared::usecases::emails::{Delivery, EmailService};

#[tokio::test]
async fn every_email_sample_event_sends_its_email() {
    let (store, _) = fresh_store().await;
    let (dead_letters, _, _) = fresh_dead_letters().await;
    let sender = Sender {
        service: EmailService {
            store,
            mailer: verified_mailer().await,
            dead_letters,
            settings: EmailSettings {
                portal_url: "https://partners.power100.example/billing".into(),
                time_zone: jiff::tz::TimeZone::get("America/New_York").unwrap(),
            },
        },
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let mut seen = Vec::new();
    for kind in EmailKind::ALL {
        let file = format!("email-{}.json", kind.as_str().replace('_', "-"));
        let mut event: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(&file)).unwrap()).unwrap();
        // A recipient of this run's own, so that other tests' mail in the shared moto does not count.
        let to = format!(
            "{}-{}",
            shared::ids::next_id().to_string().to_lowercase(),
            event["detail"]["primary_email"].as_str().unwrap()
        );
        event["detail"]["primary_email"] = Value::String(to.clone());
        let partner_id = event["detail"]["partner_id"].as_str().unwrap().to_owned();
        shared::testing::seed_recipient(&sender.service.store, &partner_id, &to).await;
        let subject_before = ses_messages_to(&to).await.len();
        let delivery = sender.handle(event, jiff::Timestamp::now()).await.unwrap();
        assert!(
            matches!(&delivery, Delivery::Sent { kind: sent, .. } if sent == kind.as_str()),
            "{file}: {delivery:?}"
        );
        let sent = ses_messages_to(&to).await;
        assert_eq!(sent.len(), subject_before + 1, "{file}");
        assert!(sent[0]["body"].as_str().unwrap().contains("<!DOCTYPE html>"), "{file}");
        seen.push(file);
    }
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("email-"))
        .count();
    assert_eq!(
        on_disk,
        seen.len(),
        "every email-*.json in events/ is a sample of one email"
    );
}
