use super::*;
use crate::events::DomainEvent;
use proptest::prelude::*;
use std::path::PathBuf;

fn settings() -> EmailSettings {
    EmailSettings {
        portal_url: "https://partners.power100.io/billing".into(),
        time_zone: jiff::tz::TimeZone::get("America/New_York").unwrap(),
    }
}

/// The sample EventBridge event for `kind` in `events/` (the same files the email-sender runs).
fn sample_event(kind: EmailKind) -> DomainEvent {
    let name = format!("email-{}.json", kind.as_str().replace('_', "-"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events").join(&name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(envelope["detail"].clone()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn rendered(message: &EmailMessage) -> String {
    format!(
        "To: {}\nSubject: {}\n\n{}\n----- HTML -----\n{}",
        message.to, message.subject, message.text, message.html
    )
}

#[test]
fn every_email_renders_from_its_sample_event() {
    for kind in EmailKind::ALL {
        let event = sample_event(kind);
        let message = compose(&event, &settings()).unwrap().expect("the sample event mails");
        assert_eq!(message.kind, kind);
        assert_eq!(message.to, event.primary_email);
        assert!(message.text.contains(&event.company_name), "{kind}");
        assert!(message.html.contains(&event.company_name), "{kind}");
        insta::assert_snapshot!(kind.as_str(), rendered(&message));
    }
}

#[test]
fn subjects_are_worded_as_the_spec_words_them() {
    let subject = |kind| compose(&sample_event(kind), &settings()).unwrap().unwrap().subject;
    assert_eq!(
        subject(EmailKind::RenewalNotice30),
        "Your Power Gold subscription expires in 30 days"
    );
    assert_eq!(
        subject(EmailKind::RenewalNotice7),
        "Final reminder: Subscription expires in 7 days"
    );
    assert_eq!(
        subject(EmailKind::SubscriptionExpired),
        "Your subscription has expired, downgraded to Free tier"
    );
    assert_eq!(
        subject(EmailKind::RenewalConfirmation),
        "Thank you! Your subscription has been renewed"
    );
    assert_eq!(
        subject(EmailKind::CancellationConfirmation),
        "Your subscription has been cancelled"
    );
}

fn with_body(kind: EmailKind, edit: impl FnOnce(&mut EventBody)) -> DomainEvent {
    let mut event = sample_event(kind);
    edit(&mut event.body);
    event
}

#[test]
fn events_that_mail_nobody() {
    let quiet = [
        // An admin downgrade, and the TierChanged beside an expiry or a payment-failure downgrade.
        with_body(EmailKind::TierUpgradeConfirmation, |b| {
            if let EventBody::TierChanged(e) = b {
                e.change = HistoryEventType::Downgrade;
                std::mem::swap(&mut e.from_tier, &mut e.to_tier);
            }
        }),
        with_body(EmailKind::TierUpgradeConfirmation, |b| {
            if let EventBody::TierChanged(e) = b {
                e.change = HistoryEventType::Expiration;
                e.to_tier = crate::domain::tier::Tier::Free;
            }
        }),
        // A date correction changes no tier.
        with_body(EmailKind::TierUpgradeConfirmation, |b| {
            if let EventBody::TierChanged(e) = b {
                e.change = HistoryEventType::DatesChanged;
            }
        }),
    ];
    for event in quiet {
        assert_eq!(compose(&event, &settings()).unwrap(), None, "{:?}", event.body);
    }
}

#[test]
fn a_manual_reminder_takes_its_tone_from_the_days_left() {
    let manual = |days_left: i32| {
        let event = with_body(EmailKind::RenewalNotice30, |b| {
            if let EventBody::RenewalReminderDue(e) = b {
                e.stage = None;
                e.manual = true;
                e.days_left = days_left;
            }
        });
        let message = compose(&event, &settings()).unwrap().unwrap();
        (message.kind, message.subject)
    };
    assert_eq!(
        manual(45),
        (
            EmailKind::RenewalNotice30,
            "Your Power Gold subscription expires in 45 days".into()
        )
    );
    assert_eq!(
        manual(8),
        (
            EmailKind::RenewalNotice30,
            "Your Power Gold subscription expires in 8 days".into()
        )
    );
    assert_eq!(
        manual(1),
        (
            EmailKind::RenewalNotice7,
            "Final reminder: Subscription expires in 1 day".into()
        )
    );
    assert_eq!(
        manual(0),
        (
            EmailKind::RenewalNotice7,
            "Final reminder: Subscription expires today".into()
        )
    );
}

#[test]
fn the_second_payment_failure_is_the_urgent_one() {
    let attempt = |n: u32| {
        let event = with_body(EmailKind::PaymentFailedReminder, |b| {
            if let EventBody::PaymentFailed(e) = b {
                e.attempt = n;
            }
        });
        compose(&event, &settings()).unwrap().unwrap().kind
    };
    assert_eq!(attempt(1), EmailKind::PaymentFailedReminder);
    assert_eq!(attempt(2), EmailKind::PaymentFailedUrgent);
}

#[test]
fn long_dates() {
    assert_eq!(LongDate(jiff::civil::date(2026, 3, 5)).to_string(), "March 5, 2026");
    assert_eq!(
        LongDate(jiff::civil::date(2027, 11, 24)).to_string(),
        "November 24, 2027"
    );
}

proptest! {
    /// Whatever a partner calls itself, every email renders and the HTML part shows the name as text.
    #[test]
    fn company_names_are_escaped_in_html(name in "\\PC{1,60}", kind_index in 0usize..EmailKind::ALL.len()) {
        let mut event = sample_event(EmailKind::ALL[kind_index]);
        event.company_name = format!("<b>{name}</b>");
        let message = compose(&event, &settings()).unwrap().unwrap();
        prop_assert!(message.text.contains(&event.company_name));
        prop_assert!(!message.html.contains("<b>"), "{}", message.html);
    }
}
