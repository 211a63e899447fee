//! An erasure removes every copy of the partner's personal data from the table (history, audit, the
//! email log, the outbox's copies of its events, the card copy) and keeps the business's own
//! records (invoices, an admin's reason for a refund), saying what stays elsewhere; an event written
//! before it and delivered after it writes nothing personal back.

mod support;

use serde_json::{json, Value};
use shared::domain::events::{DomainEvent, EventBody, RenewalReminderDue};
use shared::domain::history_and_audit::Actor;
use shared::domain::money::Cents;
use shared::domain::partner::Note;
use shared::email::EmailSettings;
use shared::store::email_log::EmailClaim;
use shared::testing::pipeline::{fresh_dead_letters, verified_mailer};
use shared::testing::stripe_stub::StripeStub;
use shared::testing::table_snapshot;
use shared::usecases::emails::{Delivery, EmailService, SEND_LEASE};
use shared::usecases::invoice_actions::{refund_invoice, RefundCommand};
use support::*;

const STUB_KEY: &str = "sk_test_stub_key";

/// The items (as JSON lines) that hold `needle`, whatever the case.
fn holding<'a>(items: &'a [String], needle: &str) -> Vec<&'a String> {
    let needle = needle.to_lowercase();
    items
        .iter()
        .filter(|item| item.to_lowercase().contains(&needle))
        .collect()
}

fn is_profile(item: &str, partner: &str) -> bool {
    let value: Value = serde_json::from_str(item).unwrap();
    value["pk"]["S"] == json!(format!("PARTNER#{partner}")) && value["sk"]["S"] == json!("PROFILE")
}

#[test]
fn an_erasure_leaves_personal_data_only_where_its_answer_says() {
    // The walk's future (the portal's, the refund's and the email sender's) outgrows a test thread's
    // stack in debug builds: run it on a thread of its own with room.
    std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(erasure_walk())
        })
        .unwrap()
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

async fn erasure_walk() {
    let stub = StripeStub::start().await;
    let api = TestPortal::new(&stub.base_url, STUB_KEY).await;
    let store = api.store().clone();
    let id = unique("erase");
    let partner = billed_gold_with_invoice(&store, &id).await;
    let email = partner.primary_email.to_string();
    let (person, phone) = ("Jane Doe", "555-0100");
    let token = token_for(&partner);
    let user = format!("user-of-{}", partner.id);
    let now = jiff::Timestamp::now();

    // The partner cancels, naming a person in its reason.
    let reason = format!("{person} ({phone}) moved us to another vendor");
    let cancel = api
        .send(
            "POST",
            "/portal/cancel",
            Some(&json!({"confirm": true, "reason": reason}).to_string()),
            Some(&token),
        )
        .await;
    assert!(cancel.status < 300, "{}", cancel.body);
    // An admin refunds part of the paid invoice: the reason is the business's own record.
    let admin_reason = "duplicate charge, finance ticket 4411";
    Box::pin(refund_invoice(
        &store,
        &api.portal.billing.stripe,
        RefundCommand {
            invoice_id: invoice_id_of(&id),
            amount: Some(Cents(10_000)),
            reason: Note::parse(admin_reason).unwrap(),
            actor: Actor::Admin("ops-1".into()),
            idempotency_key: None,
        },
        now,
    ))
    .await
    .unwrap();
    // One email sent, one refused with SES quoting the address.
    for (event_id, refused) in [("evt-sent", false), ("evt-refused", true)] {
        let claim = EmailClaim {
            partner_id: &partner.id,
            event_id,
            kind: "renewal_notice_30_days",
            to: &email,
            subject: "Your Power Gold subscription expires in 30 days",
        };
        store.claim_email(&claim, now, SEND_LEASE).await.unwrap();
        if refused {
            let why = format!("Address {email} is on the account's suppression list");
            store
                .mark_email_rejected(&partner.id, event_id, &why, now)
                .await
                .unwrap();
        } else {
            store
                .mark_email_sent(&partner.id, event_id, "msg-1", now)
                .await
                .unwrap();
        }
    }
    // The card copy.
    let me = api.send("GET", "/portal/me", None, Some(&token)).await;
    assert_eq!(me.body["payment_method"]["status"], json!("on_file"), "{}", me.body);

    let before = table_snapshot(&store).await;
    for needle in [email.as_str(), person, phone, user.as_str()] {
        assert!(
            holding(&before, needle).len() > 1,
            "before the erasure, {needle} is in more than the profile"
        );
    }

    let erasure = api
        .send(
            "DELETE",
            "/portal/payment-history",
            Some(r#"{"confirm":true}"#),
            Some(&token),
        )
        .await;
    assert_eq!(erasure.status, 200, "{}", erasure.body);
    let answer = &erasure.body;
    assert!(
        answer["erased"]["outbox_events"].as_u64() >= Some(2),
        "the cancellation's and the refund's: {answer}"
    );
    let elsewhere: Vec<&str> = answer["held_elsewhere"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["what"].as_str().unwrap())
        .collect();
    assert!(elsewhere.iter().any(|w| w.contains("Stripe")), "{answer}");
    assert!(elsewhere.iter().any(|w| w.contains("backups")), "{answer}");
    assert!(elsewhere.iter().any(|w| w.contains("dead-letter")), "{answer}");

    let after = table_snapshot(&store).await;
    // The contact email only on the profile (the live contract's contact, which the answer names as
    // kept); the person, the phone and the partner user nowhere at all.
    for item in holding(&after, &email) {
        assert!(is_profile(item, partner.id.as_str()), "{email} left in {item}");
    }
    assert!(answer["kept"].to_string().contains("contact email"), "{answer}");
    for needle in [person, phone, user.as_str()] {
        assert!(
            holding(&after, needle).is_empty(),
            "{needle} left in {:?}",
            holding(&after, needle)
        );
    }
    // The business's own records stay: the invoice, and the admin's reason for the refund.
    assert!(!holding(&after, &invoice_id_of(&id)).is_empty());
    assert_eq!(
        holding(&after, admin_reason).len(),
        1,
        "the refund's audit entry keeps its reason"
    );
    assert!(
        after.iter().all(|item| !item.contains(r#""sk":{"S":"CARD"}"#)),
        "the card copy is gone"
    );

    // An event written before the erasure and delivered after it: mailed to the address on record,
    // but nothing personal is written back.
    let service = EmailService {
        store: store.clone(),
        mailer: verified_mailer().await,
        dead_letters: fresh_dead_letters().await.0,
        settings: EmailSettings {
            portal_url: "https://partners.power100.example/billing".into(),
            time_zone: jiff::tz::TimeZone::UTC,
        },
    };
    let end = partner.subscription_end_date.unwrap();
    let body = EventBody::RenewalReminderDue(RenewalReminderDue::of(&partner, end, None, 30, true));
    let late = DomainEvent::about(shared::ids::next_id(), &partner, now, body);
    let raw = serde_json::to_string(&late).unwrap();
    let delivered = Box::pin(service.deliver(&late, &raw, jiff::Timestamp::now()))
        .await
        .unwrap();
    assert!(matches!(delivered, Delivery::Sent { .. }), "{delivered:?}");
    let finally = table_snapshot(&store).await;
    for item in holding(&finally, &email) {
        assert!(
            is_profile(item, partner.id.as_str()),
            "the late event wrote {email} back: {item}"
        );
    }
    assert_eq!(finally.len(), after.len() + 1, "its email log, and nothing else");
}
