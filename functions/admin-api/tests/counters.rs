//! The counters kept in the writes (`domain::counters`) against a recount from scratch, after every
//! step of random sequences of the operations that write history or move a status: admins' tier
//! changes, cancellations and renewals, the daily sweep (notices, grace, expiry), Stripe's invoice
//! payments and failures (dunning to the third attempt) and refunds through the webhook's use-case,
//! Stripe reporting a refund failed (reversed), and a personal-data erasure. Each runs through its
//! production path, so the counters move through the store's real transaction builder; the recount
//! reads the items themselves.

mod support;

use proptest::prelude::*;
use serde_json::json;
use shared::domain::dates::BusinessCalendar;
use shared::domain::tier::Tier;
use shared::stripe::fixtures;
use shared::stripe::webhook::StripeEvent;
use shared::testing::billing::{billed_partner, test_prices};
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules};
use support::TestApi;

const MANUAL: [&str; 3] = ["m-a", "m-b", "m-c"];
const BILLED: [&str; 2] = ["b-a", "b-b"];

#[derive(Debug, Clone)]
enum Op {
    Tier(usize, Tier),
    CancelNow(usize),
    CancelAtEnd(usize),
    Renew(usize),
    /// The sweep, `days` after the start.
    Sweep(i64),
    InvoicePaid(usize, u32),
    InvoiceFailed(usize, u32),
    /// A refund of `cents` on the billed partner's first paid invoice.
    Refund(usize, i64),
    /// Stripe reports the billed partner's last refund failed: it is reversed.
    RefundFailed(usize),
    Erase(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let tier = prop_oneof![Just(Tier::Free), Just(Tier::Gold), Just(Tier::Platinum)];
    prop_oneof![
        (0..MANUAL.len(), tier).prop_map(|(p, t)| Op::Tier(p, t)),
        (0..MANUAL.len()).prop_map(Op::CancelNow),
        (0..MANUAL.len()).prop_map(Op::CancelAtEnd),
        (0..MANUAL.len()).prop_map(Op::Renew),
        (0i64..400).prop_map(Op::Sweep),
        (0..BILLED.len(), 1u32..4).prop_map(|(p, a)| Op::InvoicePaid(p, a)),
        (0..BILLED.len(), 1u32..4).prop_map(|(p, a)| Op::InvoiceFailed(p, a)),
        (0..BILLED.len(), 1i64..50_000).prop_map(|(p, c)| Op::Refund(p, c)),
        (0..BILLED.len()).prop_map(Op::RefundFailed),
        (0..MANUAL.len()).prop_map(Op::Erase),
    ]
}

struct World {
    api: TestApi,
    /// Stripe events sent so far (ids and their order).
    events: i64,
    invoices: i64,
    /// Each billed partner's last refund (id, cents).
    refunds: [Option<(String, i64)>; 2],
}

impl World {
    async fn new() -> World {
        let now: jiff::Timestamp = "2026-11-24T15:00:00Z".parse().unwrap();
        let api = TestApi::new().await.at(now);
        for (i, id) in MANUAL.iter().enumerate() {
            api.partner(id, &format!("Manual {id}"), 70.0 + i as f64).await;
        }
        for id in BILLED {
            billed_partner(
                &api.app.store,
                id,
                Tier::Gold,
                jiff::civil::date(2027, 11, 1),
                &format!("cus_{id}"),
                &format!("sub_{id}"),
                now,
            )
            .await;
        }
        World {
            api,
            events: 0,
            invoices: 0,
            refunds: [None, None],
        }
    }

    async fn stripe(&mut self, kind: &str, object: serde_json::Value) {
        self.events += 1;
        let created = self.api.now().as_second() + self.events;
        let event =
            StripeEvent::from_api(fixtures::event(&format!("evt_{}", self.events), kind, created, object)).unwrap();
        let calendar = BusinessCalendar::utc();
        let prices = test_prices();
        let rules = BillingRules {
            calendar: &calendar,
            prices: &prices,
        };
        handle_stripe_event(&self.api.app.store, &rules, None, &event, self.api.now())
            .await
            .unwrap();
    }

    async fn run(&mut self, op: &Op) {
        let api = &self.api;
        match op {
            Op::Tier(p, tier) => {
                let answer = api.tier(MANUAL[*p], json!({"engagement_tier": tier.as_str()})).await;
                assert!(answer.status < 500, "{}", answer.body);
            }
            Op::CancelNow(p) => {
                let path = format!("/admin/partners/{}/cancel", MANUAL[*p]);
                let answer = api
                    .post(&path, json!({"effective": "immediately", "reason": "test"}))
                    .await;
                assert!(answer.status < 500, "{}", answer.body);
            }
            Op::CancelAtEnd(p) => {
                let path = format!("/admin/partners/{}/cancel", MANUAL[*p]);
                let answer = api
                    .post(&path, json!({"effective": "term_end", "reason": "test"}))
                    .await;
                assert!(answer.status < 500, "{}", answer.body);
            }
            Op::Renew(p) => {
                api.post(
                    "/admin/subscriptions/renew",
                    json!({"partner_ids": [MANUAL[*p]], "months": 12}),
                )
                .await;
            }
            Op::Sweep(days) => {
                let sweep = expiry_sweep::Sweep {
                    store: api.app.store.clone(),
                    calendar: BusinessCalendar::utc(),
                    settings: shared::usecases::sweep::SweepSettings::default(),
                };
                let at = api
                    .now()
                    .checked_add(jiff::SignedDuration::from_hours(24 * days))
                    .unwrap();
                let _ = sweep.handle(expiry_sweep::ScheduledTrigger::default(), at).await;
            }
            Op::InvoicePaid(p, attempts) | Op::InvoiceFailed(p, attempts) => {
                let paid = matches!(op, Op::InvoicePaid(..));
                let id = BILLED[*p];
                // Alternately a new invoice and the last one again (a payment after failures).
                if paid || self.invoices % 2 == 0 {
                    self.invoices += 1;
                }
                let invoice = format!("in_{id}_{}", self.invoices);
                let t = api.now().as_second() - 600;
                let (kind, status) = if paid {
                    ("invoice.paid", "paid")
                } else {
                    ("invoice.payment_failed", "open")
                };
                let object = fixtures::invoice(
                    &invoice,
                    &format!("cus_{id}"),
                    &format!("sub_{id}"),
                    "price_gold",
                    360_000,
                    status,
                    *attempts,
                    t,
                );
                self.stripe(kind, object).await;
            }
            Op::Refund(p, cents) => {
                let id = BILLED[*p];
                let refund_id = format!("re_{}", self.events + 1);
                let refund = json!({"id": refund_id, "amount": cents, "status": "succeeded",
                                    "metadata": {"invoice_id": format!("in_{id}_1")}});
                self.refunds[*p] = Some((refund_id, *cents));
                self.stripe("refund.created", refund).await;
            }
            Op::RefundFailed(p) => {
                let id = BILLED[*p];
                if let Some((refund_id, cents)) = self.refunds[*p].clone() {
                    let refund = json!({"id": refund_id, "amount": cents, "status": "failed",
                                        "metadata": {"invoice_id": format!("in_{id}_1")}});
                    self.stripe("refund.failed", refund).await;
                }
            }
            Op::Erase(p) => {
                let path = format!("/admin/partners/{}/payment-history", MANUAL[*p]);
                let token = api.token.clone();
                let answer = api
                    .send("DELETE", &path, Some(r#"{"confirm": true}"#), Some(&token))
                    .await;
                assert!(answer.status < 500, "{}", answer.body);
            }
        }
    }
}

async fn counters_equal_a_recount(ops: Vec<Op>) {
    let mut world = World::new().await;
    let store = world.api.app.store.clone();
    let drift = store.check_all_counters().await.unwrap();
    assert!(drift.is_clean(), "after the setup: {drift:?}");
    for (step, op) in ops.iter().enumerate() {
        world.run(op).await;
        let drift = store.check_all_counters().await.unwrap();
        assert!(drift.is_clean(), "after step {step} ({op:?}) of {ops:?}: {drift:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Like the paid-seat count before it, every counter equals a recount from scratch after every
    /// step of any sequence of writes.
    #[test]
    fn every_counter_equals_a_recount(ops in proptest::collection::vec(op(), 1..14)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(Box::pin(counters_equal_a_recount(ops)));
    }
}

/// One sequence that reaches every path at least once (a random one may not): a payment, a refund
/// and its reversal, a failed invoice paid on its third attempt, admin changes, a sweep a year on,
/// a renewal and an erasure.
#[tokio::test]
async fn a_sequence_through_every_path_keeps_every_counter() {
    use shared::domain::counters::{field, CounterItem};
    let refunded = |counts: &shared::domain::counters::Counts| {
        counts.sum_where(|item, f| matches!(item, CounterItem::Day(_)) && f == field::REFUNDED_CENTS)
    };
    let mut world = World::new().await;
    let store = world.api.app.store.clone();
    let ops = [
        Op::InvoicePaid(0, 1),
        Op::Refund(0, 10_000),
        Op::RefundFailed(0),
        Op::InvoiceFailed(1, 1),
        Op::InvoiceFailed(1, 2),
        Op::InvoicePaid(1, 3),
        Op::Tier(0, Tier::Gold),
        Op::CancelAtEnd(0),
        Op::Tier(1, Tier::Platinum),
        Op::Renew(1),
        Op::Sweep(400),
        Op::Erase(1),
    ];
    for (step, op) in ops.iter().enumerate() {
        world.run(op).await;
        let drift = store.check_all_counters().await.unwrap();
        assert!(drift.is_clean(), "after step {step} ({op:?}): {drift:?}");
        let counts = store.all_counters().await.unwrap();
        match op {
            Op::Refund(..) => assert_eq!(refunded(&counts), 10_000, "the refund is counted"),
            Op::RefundFailed(..) => assert_eq!(refunded(&counts), 0, "and its reversal"),
            Op::InvoicePaid(1, 3) => assert_eq!(
                counts.sum_where(|item, f| matches!(item, CounterItem::Day(_)) && f == field::RECOVERED),
                1,
                "paid on its third attempt"
            ),
            _ => {}
        }
    }
}

/// Found by `every_counter_equals_a_recount`: a refund Stripe reports on an invoice that failed (never
/// paid here), then reports failed, left the invoice `paid` and the counters short of it.
#[tokio::test]
async fn a_reversed_refund_of_an_unpaid_invoice_leaves_it_unpaid() {
    Box::pin(counters_equal_a_recount(vec![
        Op::InvoiceFailed(1, 3),
        Op::CancelAtEnd(1),
        Op::Refund(1, 4_792),
        Op::InvoiceFailed(1, 1),
        Op::CancelAtEnd(2),
        Op::Erase(2),
        Op::Tier(0, Tier::Platinum),
        Op::InvoicePaid(0, 2),
        Op::RefundFailed(1),
    ]))
    .await;
}

/// The repair brings drifted counters back, and the check then finds none; a month's check reads
/// only that month.
#[tokio::test]
async fn the_backfill_repairs_drift_and_the_check_reports_it() {
    let mut world = World::new().await;
    for op in [
        Op::Tier(0, Tier::Gold),
        Op::InvoicePaid(0, 2),
        Op::Tier(1, Tier::Platinum),
    ] {
        world.run(&op).await;
    }
    let store = world.api.app.store.clone();
    let counters = store.all_counters().await.unwrap();
    let upgrades = counters.history_since(
        shared::domain::counters::Month::parse("2026-11").unwrap(),
        Some("upgrade"),
    );
    assert_eq!(upgrades, 4, "two billing starts and two tier changes: {counters:?}");
    // A bulk load writes a profile without counting it: drift.
    let mut extra = store
        .get_partner(&shared::domain::partner::PartnerId::parse("m-a").unwrap())
        .await
        .unwrap()
        .unwrap();
    extra.id = shared::domain::partner::PartnerId::parse("bulk-x").unwrap();
    store.load_profiles(&[extra]).await.unwrap();
    let check = shared::usecases::recount::RecountRequest {
        check_only: true,
        month: None,
    };
    let found = shared::usecases::recount::recount(&store, &check).await.unwrap();
    assert_eq!(found.mode, "check");
    assert!(!found.drifted.is_empty(), "{found:?}");
    assert!(
        !store.check_all_counters().await.unwrap().is_clean(),
        "a check writes nothing"
    );
    // The month's check sees only history and days: a profile's drift is not its business.
    let month = shared::domain::counters::Month::of_instant(world.api.now());
    assert!(store.check_month_counters(month).await.unwrap().is_clean());

    let repaired = shared::usecases::recount::recount(&store, &Default::default())
        .await
        .unwrap();
    assert_eq!(repaired.mode, "repair");
    assert_eq!(repaired.drifted, found.drifted);
    assert!(store.check_all_counters().await.unwrap().is_clean());
    assert_eq!(
        store.paid_seats().await.unwrap(),
        shared::domain::metrics::PaidSeats { gold: 4, platinum: 1 }
    );
}
