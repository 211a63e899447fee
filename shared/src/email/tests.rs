use super::*;
use crate::domain::events::DomainEvent;
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

/// For every (billing, collection, auto-renewal, cancellation) state, the renewal notices say what
/// the sweep (and Stripe) will do at the term's end, and nothing else.
#[test]
fn each_notice_says_what_the_sweep_does_at_the_terms_end() {
    use crate::domain::billing_start::Collection;
    use crate::domain::lifecycle::{sweep_decision, ExpiryReason, NoticeStage, SweepDecision, DEFAULT_GRACE_DAYS};
    use crate::domain::partner::SubscriptionStatus;
    use crate::domain::tier::Tier;
    let end: CalendarDate = jiff::civil::date(2026, 12, 1);
    let day_after = jiff::civil::date(2026, 12, 2);
    let now: jiff::Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
    // What the sweep does the day after the end, and the words the notice must (and must not) use.
    let invoicing_starts = "on December 2, 2026 we will email you an invoice for the next 12 months";
    let card = "Stripe keeps charging the card on file";
    let emailed = "Stripe keeps emailing each month's invoice";
    let ends = "on December 1, 2026 it ends and your profile returns to the Free tier";
    let all = [invoicing_starts, card, emailed, ends];
    // (Stripe-billed with this collection, auto-renewal, cancelled at term end) -> (the sweep's
    // decision the day after the end, the sentence the notice says)
    let table: [(Option<Collection>, bool, bool, SweepDecision, &str); 8] = [
        (
            None,
            true,
            false,
            SweepDecision::StartRenewalBilling { days_past_end: 1 },
            invoicing_starts,
        ),
        (
            None,
            false,
            false,
            SweepDecision::Expire(ExpiryReason::NotRenewing),
            ends,
        ),
        (
            None,
            true,
            true,
            SweepDecision::Expire(ExpiryReason::CancelledAtTermEnd),
            ends,
        ),
        (
            Some(Collection::ChargeAutomatically),
            true,
            false,
            SweepDecision::AwaitStripe { days_past_end: 1 },
            card,
        ),
        (
            Some(Collection::SendInvoice),
            true,
            false,
            SweepDecision::AwaitStripe { days_past_end: 1 },
            emailed,
        ),
        // Stripe stops billing at the end (`cancel_at`) and its deletion ends the tier.
        (
            Some(Collection::ChargeAutomatically),
            false,
            false,
            SweepDecision::AwaitStripe { days_past_end: 1 },
            ends,
        ),
        (
            Some(Collection::SendInvoice),
            false,
            false,
            SweepDecision::AwaitStripe { days_past_end: 1 },
            ends,
        ),
        (
            Some(Collection::ChargeAutomatically),
            true,
            true,
            SweepDecision::AwaitStripe { days_past_end: 1 },
            ends,
        ),
    ];
    for (collection, auto_renewal, cancelled, at_end, says) in table {
        let mut partner = crate::domain::partner::sample_partner(8_000, now);
        partner.engagement_tier = Tier::Gold;
        partner.subscription_start_date = Some(jiff::civil::date(2025, 12, 1));
        partner.subscription_end_date = Some(end);
        partner.subscription_status = if cancelled {
            SubscriptionStatus::Cancelled
        } else {
            SubscriptionStatus::Active
        };
        partner.auto_renewal = auto_renewal && !cancelled;
        if let Some(collection) = collection {
            partner.stripe_customer_id = Some("cus_1".into());
            partner.stripe_subscription_id = Some("sub_1".into());
            partner.stripe_subscription_status = Some("active".into());
            partner.collection = Some(collection);
        }
        let state = format!("{collection:?}, auto-renewal {auto_renewal}, cancelled {cancelled}");
        assert_eq!(
            sweep_decision(&partner, day_after, DEFAULT_GRACE_DAYS),
            at_end,
            "{state}"
        );
        for (stage, days_left) in [(NoticeStage::ThirtyDay, 30), (NoticeStage::SevenDay, 7)] {
            let body = EventBody::RenewalReminderDue(crate::domain::events::RenewalReminderDue::of(
                &partner,
                end,
                Some(stage),
                days_left,
                false,
            ));
            let event = DomainEvent::about(crate::ids::next_id(), &partner, now, body);
            let message = compose(&event, &settings()).unwrap().expect("a notice mails");
            for text in [&message.text, &message.html.replace("&#39;", "'")] {
                assert!(
                    text.contains(says),
                    "{state}, {stage}-day notice must say {says:?}:\n{text}"
                );
                for other in all.iter().filter(|s| **s != says) {
                    assert!(
                        !text.contains(other),
                        "{state}, {stage}-day notice says {other:?}:\n{text}"
                    );
                }
            }
        }
    }
}
