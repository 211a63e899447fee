//! 200 Stripe events for 20 partners (a realistic mix: paid months, recovered and final payment
//! failures, cancellations), shuffled and each delivered three times, end in the same state as one
//! delivery in order, with nothing duplicated. Also measures events/s and DynamoDB calls per event.

use jiff::Timestamp;
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::config::Secret;
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::{Partner, PartnerId};
use shared::domain::tier::Tier;
use shared::store::{PageRequest, Store};
use shared::stripe::fixtures::{self, TEST_WEBHOOK_SECRET};
use shared::testing::billing::{billed_partner, test_prices};
use shared::testing::{fresh_store, outbox_events, CallLog};
use std::collections::HashSet;
use std::time::Instant;
use stripe_webhook::Receiver;

const T0: i64 = 1_795_521_600; // 2026-11-24T12:00:00Z
const DAY: i64 = 86_400;
/// Every delivery happens "now", after all events were created.
const NOW: i64 = T0 + 200 * DAY;
const PARTNERS: usize = 20;

fn partner_id(p: usize) -> String {
    format!("rel-{p:02}")
}

/// The ten events of partner `p`, in the order Stripe created them.
fn events_of(p: usize) -> Vec<Value> {
    let (cus, sub) = (format!("cus_{p}"), format!("sub_{p}"));
    let price = if p.is_multiple_of(2) {
        "price_gold"
    } else {
        "price_platinum"
    };
    let amount = if p.is_multiple_of(2) { 360_000 } else { 600_000 };
    let start = T0 + p as i64 * 3_600;
    let month = |i: i64| start + i * 30 * DAY;
    let mut n = 0;
    let mut event = |kind: &str, created: i64, object: Value| {
        n += 1;
        fixtures::event(&format!("evt_{p}_{n:02}"), kind, created, object)
    };
    let invoice = |i: i64, status: &str, attempt: u32| {
        fixtures::invoice(
            &format!("in_{p}_{i}"),
            &cus,
            &sub,
            price,
            amount,
            status,
            attempt,
            month(i),
        )
    };
    let subscription = |status: &str, cancel: bool| fixtures::subscription(&sub, &cus, price, status, cancel);
    let ignored = json!({"id": format!("ch_{p}"), "customer": cus});
    match p % 4 {
        // Paid every month; the third payment runs past the term and renews it.
        0 => vec![
            event("invoice.created", month(0), invoice(0, "open", 0)),
            event("invoice.paid", month(0) + 60, invoice(0, "paid", 1)),
            event("invoice.created", month(1), invoice(1, "open", 0)),
            event("invoice.paid", month(1) + 60, invoice(1, "paid", 1)),
            event("invoice.created", month(2), invoice(2, "open", 0)),
            event("invoice.paid", month(2) + 60, invoice(2, "paid", 1)),
            event("invoice.finalized", month(3), invoice(3, "open", 0)),
            event("invoice.payment_succeeded", month(3) + 60, invoice(3, "paid", 1)),
            event(
                "customer.subscription.updated",
                month(3) + 120,
                subscription("active", false),
            ),
            event("charge.succeeded", month(3) + 180, ignored),
        ],
        // Two failed attempts, then paid.
        1 => vec![
            event("invoice.created", month(0), invoice(0, "open", 0)),
            event("invoice.paid", month(0) + 60, invoice(0, "paid", 1)),
            event("invoice.created", month(1), invoice(1, "open", 0)),
            event("invoice.payment_failed", month(1) + 60, invoice(1, "open", 1)),
            event(
                "customer.subscription.updated",
                month(1) + 120,
                subscription("past_due", false),
            ),
            event("invoice.payment_failed", month(1) + 3 * DAY, invoice(1, "open", 2)),
            event("invoice.paid", month(1) + 6 * DAY, invoice(1, "paid", 3)),
            event(
                "customer.subscription.updated",
                month(1) + 6 * DAY + 60,
                subscription("active", false),
            ),
            event("invoice.created", month(2), invoice(2, "open", 0)),
            event("invoice.paid", month(2) + 60, invoice(2, "paid", 1)),
        ],
        // Three failed attempts: downgraded; Stripe then ends the subscription.
        2 => vec![
            event("invoice.created", month(0), invoice(0, "open", 0)),
            event("invoice.paid", month(0) + 60, invoice(0, "paid", 1)),
            event("invoice.created", month(1), invoice(1, "open", 0)),
            event("invoice.finalized", month(1) + 1, invoice(1, "open", 0)),
            event("invoice.payment_failed", month(1) + 60, invoice(1, "open", 1)),
            event("invoice.payment_failed", month(1) + 3 * DAY, invoice(1, "open", 2)),
            event(
                "customer.subscription.updated",
                month(1) + 3 * DAY + 60,
                subscription("past_due", false),
            ),
            event("invoice.payment_failed", month(1) + 6 * DAY, invoice(1, "open", 3)),
            event(
                "customer.subscription.deleted",
                month(1) + 6 * DAY + 60,
                subscription("canceled", false),
            ),
            event("charge.failed", month(1) + 6 * DAY + 120, ignored),
        ],
        // Cancelled at period end, paid meanwhile, then ended.
        _ => vec![
            event("invoice.created", month(0), invoice(0, "open", 0)),
            event("invoice.paid", month(0) + 60, invoice(0, "paid", 1)),
            event(
                "customer.subscription.updated",
                month(0) + DAY,
                subscription("active", true),
            ),
            event("invoice.created", month(1), invoice(1, "open", 0)),
            event("invoice.paid", month(1) + 60, invoice(1, "paid", 1)),
            event("invoice.created", month(2), invoice(2, "open", 0)),
            event("invoice.paid", month(2) + 60, invoice(2, "paid", 1)),
            event(
                "customer.subscription.deleted",
                month(2) + DAY,
                subscription("canceled", false),
            ),
            event("charge.succeeded", month(2) + 2 * DAY, ignored.clone()),
            event("customer.updated", month(2) + 3 * DAY, ignored),
        ],
    }
}

async fn receiver_with_partners() -> (Receiver, CallLog) {
    let (store, calls) = fresh_store().await;
    for p in 0..PARTNERS {
        let tier = if p.is_multiple_of(2) {
            Tier::Gold
        } else {
            Tier::Platinum
        };
        // Variant 0's term ends inside its paid months (renewal); the others' well after them.
        let end = if p.is_multiple_of(4) {
            jiff::civil::date(2027, 2, 10)
        } else {
            jiff::civil::date(2027, 9, 1)
        };
        let now = Timestamp::from_second(T0 - DAY).unwrap();
        billed_partner(
            &store,
            &partner_id(p),
            tier,
            end,
            &format!("cus_{p}"),
            &format!("sub_{p}"),
            now,
        )
        .await;
    }
    let receiver = Receiver {
        store,
        calendar: BusinessCalendar::utc(),
        prices: test_prices(),
        signing_secret: Secret::new(TEST_WEBHOOK_SECRET),
        stripe: None,
    };
    (receiver, calls)
}

async fn deliver(receiver: &Receiver, event: &Value) -> u16 {
    let body = serde_json::to_string_pretty(event).unwrap();
    let header = fixtures::sign(&body, TEST_WEBHOOK_SECRET, NOW);
    let req: Request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://api.example.test/webhooks/stripe")
        .header("stripe-signature", header)
        .body(Body::Text(body))
        .unwrap();
    receiver
        .handle(req, Timestamp::from_second(NOW).unwrap())
        .await
        .status()
        .as_u16()
}

/// The partner as the test compares it: without the bookkeeping that differs by write count.
fn comparable(mut partner: Partner) -> Partner {
    partner.version = 0;
    partner.updated_at = Timestamp::UNIX_EPOCH;
    partner.pcr_last_calculated = Timestamp::UNIX_EPOCH;
    partner
}

async fn final_state(store: &Store) -> Vec<(Partner, Vec<shared::domain::invoice::InvoiceRecord>)> {
    let page = PageRequest {
        limit: 100,
        cursor: None,
    };
    let mut state = Vec::new();
    for p in 0..PARTNERS {
        let id = PartnerId::parse(&partner_id(p)).unwrap();
        let partner = store.get_partner(&id).await.unwrap().unwrap();
        let invoices = store.partner_invoices(&id, &page).await.unwrap().items;
        state.push((comparable(partner), invoices));
    }
    state
}

/// A small deterministic shuffle (xorshift), so a failure can be replayed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

#[tokio::test]
async fn shuffled_triple_delivery_ends_like_one_delivery_in_order() {
    let all: Vec<Value> = (0..PARTNERS).flat_map(events_of).collect();
    assert_eq!(all.len(), 200);

    let (in_order, _) = receiver_with_partners().await;
    let mut by_creation = all.clone();
    by_creation.sort_by_key(|e| (e["created"].as_i64(), e["id"].as_str().map(str::to_owned)));
    for event in &by_creation {
        assert_eq!(deliver(&in_order, event).await, 200);
    }

    let (shuffled, calls) = receiver_with_partners().await;
    let mut deliveries: Vec<Value> = all.iter().chain(&all).chain(&all).cloned().collect();
    shuffle(&mut deliveries, 0x5eed_1234_abcd_0001);
    calls.clear();
    let started = Instant::now();
    for event in &deliveries {
        assert_eq!(deliver(&shuffled, event).await, 200);
    }
    let elapsed = started.elapsed();
    let dynamo_calls = calls.calls().len();
    println!(
        "stripe-webhook: {} deliveries in {:.2?} = {:.0} events/s against moto; {:.2} DynamoDB calls per delivery",
        deliveries.len(),
        elapsed,
        deliveries.len() as f64 / elapsed.as_secs_f64(),
        dynamo_calls as f64 / deliveries.len() as f64
    );

    let expected = final_state(&in_order.store).await;
    let got = final_state(&shuffled.store).await;
    for (p, (want, have)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(want, have, "partner {p} (variant {})", p % 4);
    }

    // And that state is what each story should end in.
    use shared::domain::partner::{PaymentStatus, SubscriptionStatus};
    for (p, (partner, invoices)) in got.iter().enumerate() {
        let story = (
            partner.engagement_tier.is_paid(),
            partner.subscription_status,
            partner.payment_status,
        );
        match p % 4 {
            0 => {
                assert_eq!(
                    story,
                    (true, SubscriptionStatus::Active, Some(PaymentStatus::Current)),
                    "{p}"
                );
                assert_eq!(
                    partner.subscription_end_date,
                    Some(jiff::civil::date(2028, 2, 10)),
                    "{p}: renewed once"
                );
                assert_eq!(invoices.len(), 4);
            }
            1 => assert_eq!(
                story,
                (true, SubscriptionStatus::Active, Some(PaymentStatus::Current)),
                "{p}"
            ),
            2 => assert_eq!(
                story,
                (false, SubscriptionStatus::Expired, Some(PaymentStatus::Failed)),
                "{p}"
            ),
            _ => assert_eq!(
                story,
                (false, SubscriptionStatus::Cancelled, Some(PaymentStatus::Current)),
                "{p}"
            ),
        }
    }

    // Nothing duplicated: one outbox event per invoice and attempt, one renewal or downgrade at most.
    let events = outbox_events(&shuffled.store).await;
    let mut seen = HashSet::new();
    for (detail_type, detail) in &events {
        let detail: Value = serde_json::from_str(detail).unwrap();
        let key = (
            detail_type.clone(),
            detail["partner_id"].as_str().unwrap_or_default().to_owned(),
            detail["invoice_id"].as_str().unwrap_or_default().to_owned(),
            detail["attempt"].as_u64(),
            detail["change"].as_str().unwrap_or_default().to_owned(),
            detail["immediately"].as_bool(),
        );
        if matches!(detail_type.as_str(), "PartnerProfileSynced" | "TierChanged") && key.4 == "upgrade" {
            continue; // from setting the partners up
        }
        assert!(seen.insert(key.clone()), "duplicated outbox event {key:?}");
    }
    let page = PageRequest {
        limit: 100,
        cursor: None,
    };
    for p in 0..PARTNERS {
        let id = PartnerId::parse(&partner_id(p)).unwrap();
        let history = shuffled.store.partner_history(&id, None, &page).await.unwrap().items;
        let mut kinds = HashSet::new();
        for entry in &history {
            assert!(
                kinds.insert((entry.event_type, entry.notes.as_ref().map(ToString::to_string))),
                "partner {p}: duplicated history {:?}",
                entry.event_type
            );
        }
    }
}
