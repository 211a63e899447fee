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

    // Nothing duplicated and nothing missing: the outbox and every partner's history are, whole,
    // what one delivery of each event in the same (shuffled) order writes, the setup's upgrades
    // included (each entry without the ids, versions and write times that differ between runs).
    let (once, _) = receiver_with_partners().await;
    let mut seen = std::collections::HashSet::new();
    for event in deliveries
        .iter()
        .filter(|e| seen.insert(e["id"].as_str().map(str::to_owned)))
    {
        assert_eq!(deliver(&once, event).await, 200);
    }
    assert_eq!(seen.len(), all.len());
    let expected_events = comparable_events(&once.store).await;
    let got_events = comparable_events(&shuffled.store).await;
    assert!(
        expected_events.len() >= 3 * PARTNERS,
        "{} outbox events",
        expected_events.len()
    );
    for (what, a, b) in [
        ("missing from", &expected_events, &got_events),
        ("extra in", &got_events, &expected_events),
    ] {
        let difference = multiset_difference(a, b);
        assert!(
            difference.is_empty(),
            "{} events {what} the triple delivery's outbox: {:#?}",
            difference.len(),
            difference
        );
    }
    for p in 0..PARTNERS {
        let expected = comparable_history(&once.store, p).await;
        assert!(!expected.is_empty(), "partner {p} has history");
        assert_eq!(
            comparable_history(&shuffled.store, p).await,
            expected,
            "partner {p}: history"
        );
    }

    // Against the in-order run, whatever the order: every payment's receipt, with its amounts, and
    // every renewal was announced exactly once. (Which dunning notices go out depends on the order
    // by design: a failure older than one already applied, or than the subscription's end, mails
    // nothing.)
    let money_facts = |events: &[String]| {
        let mut facts: Vec<String> = events
            .iter()
            .filter_map(|e| {
                let (detail_type, detail) = e.split_once(' ')?;
                let detail: Value = serde_json::from_str(detail).ok()?;
                match detail_type {
                    "PaymentSucceeded" => Some(format!(
                        "receipt {} {} {}",
                        detail["invoice_id"], detail["amount_paid_cents"], detail["period_end"]
                    )),
                    "SubscriptionRenewed" => Some(format!(
                        "renewal {} {}",
                        detail["partner_id"], detail["subscription_end_date"]
                    )),
                    _ => None,
                }
            })
            .collect();
        facts.sort();
        facts
    };
    let in_order_facts = money_facts(&comparable_events(&in_order.store).await);
    assert!(in_order_facts.len() >= 2 * PARTNERS, "{in_order_facts:?}");
    assert_eq!(money_facts(&got_events), in_order_facts);
}

/// Every outbox event as `detail-type detail`, without what differs between two runs of the same
/// deliveries (event ids, versions, write times), sorted.
async fn comparable_events(store: &Store) -> Vec<String> {
    let mut events: Vec<String> = outbox_events(store)
        .await
        .into_iter()
        .map(|(detail_type, detail)| {
            let mut detail: Value = serde_json::from_str(&detail).unwrap();
            strip_run_fields(&mut detail);
            format!("{detail_type} {detail}")
        })
        .collect();
    events.sort();
    events
}

/// A partner's history entries without ids, versions and write times, sorted.
async fn comparable_history(store: &Store, p: usize) -> Vec<String> {
    let page = PageRequest {
        limit: 100,
        cursor: None,
    };
    let id = PartnerId::parse(&partner_id(p)).unwrap();
    let history = store.partner_history(&id, None, &page).await.unwrap();
    assert!(history.next_cursor.is_none(), "one page holds it");
    let mut entries: Vec<String> = history
        .items
        .iter()
        .map(|entry| {
            let mut entry = serde_json::to_value(entry).unwrap();
            strip_run_fields(&mut entry);
            entry.to_string()
        })
        .collect();
    entries.sort();
    entries
}

fn strip_run_fields(value: &mut Value) {
    if let Some(object) = value.as_object_mut() {
        for field in [
            "id",
            "event_id",
            "version",
            "partner_version",
            "created_at",
            "occurred_at",
            "recorded_at",
            "updated_at",
        ] {
            object.remove(field);
        }
        for nested in object.values_mut() {
            strip_run_fields(nested);
        }
    }
}

/// What `a` holds more often than `b`.
fn multiset_difference<'a>(a: &'a [String], b: &[String]) -> Vec<&'a String> {
    let mut left: std::collections::HashMap<&String, usize> = std::collections::HashMap::new();
    for item in b {
        *left.entry(item).or_default() += 1;
    }
    a.iter()
        .filter(|item| match left.get_mut(item) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}
