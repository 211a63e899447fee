//! The daily sweep against moto: what it sends and expires, that it repeats nothing, and that a run
//! which dies halfway and is run again ends where one clean run ends.

use expiry_sweep::{RunFailed, ScheduledTrigger, Sweep};
use jiff::civil::{date, Date};
use jiff::{Span, Timestamp};
use shared::domain::billing_start::Collection;
use shared::domain::dates::BusinessCalendar;
use shared::domain::partner::{PartnerId, PaymentStatus, SubscriptionStatus};
use shared::domain::tier::Tier;
use shared::store::{PageRequest, Store};
use shared::testing::{fresh_store, seed_term, store_failing_after};
use shared::usecases::sweep::{SweepSettings, SweepSummary};
use std::collections::BTreeMap;

const TODAY: Date = date(2026, 11, 24);

fn at(day: Date) -> Timestamp {
    day.at(15, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
}

fn days(n: i64) -> Date {
    TODAY.checked_add(Span::new().days(n)).unwrap()
}

/// (id, tier, days left, auto-renewal, cancel at term end)
const PARTNERS: [(&str, Tier, i64, bool, bool); 12] = [
    ("a-31", Tier::Gold, 31, false, false),
    ("b-30", Tier::Gold, 30, false, false),
    ("c-8", Tier::Gold, 8, true, false),
    ("d-7", Tier::Platinum, 7, false, false),
    ("e-0", Tier::Gold, 0, false, false),
    ("f-ended", Tier::Gold, -1, false, false),
    ("g-renewing", Tier::Gold, -3, true, false),
    ("h-unpaid", Tier::Platinum, -8, true, false),
    ("i-free", Tier::Free, 0, true, false),
    ("j-cancel-pending", Tier::Gold, 5, true, true),
    ("k-cancel-ended", Tier::Gold, -1, true, true),
    ("l-far", Tier::Platinum, 100, true, false),
];

async fn prepared_table() -> Store {
    prepared_table_with_log().await.0
}

async fn prepared_table_with_log() -> (Store, shared::testing::CallLog) {
    let (store, log) = fresh_store().await;
    let seeded_at = at(days(-400));
    for (id, tier, left, auto, cancel) in PARTNERS {
        seed_term(&store, id, tier, days(left), auto, seeded_at).await;
        if cancel {
            cancel_at_term_end(&store, id, seeded_at).await;
        }
    }
    log.clear();
    (store, log)
}

async fn cancel_at_term_end(store: &Store, id: &str, now: Timestamp) {
    use shared::domain::history_and_audit::{Actor, AuditAction};
    use shared::domain::partner_change::PartnerChange;
    use shared::domain::subscription::{cancel, CancelEffective};
    use shared::usecases::apply_change::apply_change;
    apply_change(store, &PartnerId::parse(id).unwrap(), &Actor::System, None, now, |p| {
        let after = cancel(
            p,
            CancelEffective::TermEnd,
            None,
            &shared::domain::history_and_audit::Actor::System,
            TODAY,
            now,
        )
        .unwrap();
        Ok(Some(PartnerChange {
            stripe_action: None,
            after,
            history: None,
            note: None,
            audit_action: AuditAction::SubscriptionCancelled,
            events: vec![],
        }))
    })
    .await
    .unwrap();
}

fn sweep(store: Store) -> Sweep {
    Sweep {
        store,
        calendar: BusinessCalendar::utc(),
        settings: SweepSettings::default(),
    }
}

async fn run(store: &Store, day: Date) -> SweepSummary {
    sweep(store.clone())
        .handle(ScheduledTrigger::default(), at(day))
        .await
        .unwrap()
}

fn counts(summary: &SweepSummary) -> [u64; 6] {
    [
        summary.examined,
        summary.notices_30,
        summary.notices_7,
        summary.expired,
        summary.renewal_billing_requested,
        summary.errors,
    ]
}

async fn outbox_types(store: &Store) -> BTreeMap<String, usize> {
    let mut types = BTreeMap::new();
    for (detail_type, _) in shared::testing::outbox_events(store).await {
        *types.entry(detail_type).or_default() += 1;
    }
    types
}

/// Everything the sweep may change, without ids and timestamps.
async fn state(store: &Store) -> Vec<String> {
    let mut lines = Vec::new();
    for (id, ..) in PARTNERS {
        let pid = PartnerId::parse(id).unwrap();
        let p = store.get_partner(&pid).await.unwrap().unwrap();
        let end = p.subscription_end_date.unwrap_or(TODAY);
        let history = store
            .partner_history(
                &pid,
                None,
                &PageRequest {
                    limit: 100,
                    cursor: None,
                },
            )
            .await
            .unwrap();
        let history: Vec<_> = history
            .items
            .iter()
            .map(|h| format!("{:?}:{:?}", h.event_type, h.notes.as_ref().map(|n| n.to_string())))
            .collect();
        let notices = store.notices_sent(&pid, end).await.unwrap();
        lines.push(format!(
            "{id} tier={} status={:?} pay={:?} pcr={} v={} history={history:?} notices={notices:?}",
            p.engagement_tier, p.subscription_status, p.payment_status, p.final_pcr_score, p.version
        ));
    }
    lines.push(format!("outbox={:?}", outbox_types(store).await));
    lines
}

#[tokio::test]
async fn sweep_sends_the_due_notices_and_expires_ended_terms() {
    let store = prepared_table().await;
    let summary = run(&store, TODAY).await;
    // examined: b c d e f g h (active, ending by today+30) and k (cancelled, ended)
    assert_eq!(counts(&summary), [8, 2, 2, 3, 1, 0], "{summary:?}");
    assert_eq!(summary.today, Some(TODAY));

    let reminders: Vec<serde_json::Value> = shared::testing::outbox_events(&store)
        .await
        .into_iter()
        .filter(|(t, _)| t == "RenewalReminderDue")
        .map(|(_, d)| serde_json::from_str(&d).unwrap())
        .collect();
    let mut got: Vec<(String, u64, i64)> = reminders
        .iter()
        .map(|r| {
            (
                r["partner_id"].as_str().unwrap().to_owned(),
                r["stage"].as_u64().unwrap(),
                r["days_left"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("b-30".into(), 30, 30),
            ("c-8".into(), 30, 8),
            ("d-7".into(), 7, 7),
            ("e-0".into(), 7, 0)
        ]
    );
    assert!(reminders
        .iter()
        .all(|r| r["manual"] == false && r["primary_email"].as_str().unwrap().ends_with("@example.com")));

    let ended = store
        .get_partner(&PartnerId::parse("f-ended").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ended.engagement_tier, ended.subscription_status),
        (Tier::Free, SubscriptionStatus::Expired)
    );
    assert_eq!(ended.final_pcr_score.hundredths(), 7_000, "PCR recalculated at free");
    assert_eq!(ended.last_paid_tier, Some(Tier::Gold));
    let history = store
        .partner_history(&ended.id, None, &PageRequest { limit: 1, cursor: None })
        .await
        .unwrap();
    assert_eq!(history.items[0].event_type.as_str(), "expiration");
    assert!(history.items[0]
        .notes
        .as_ref()
        .unwrap()
        .as_str()
        .contains("auto-renewal is off"));
    assert_eq!(history.items[0].created_by.to_string(), "system");

    let unpaid = store
        .get_partner(&PartnerId::parse("h-unpaid").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (unpaid.subscription_status, unpaid.payment_status),
        (SubscriptionStatus::Expired, Some(PaymentStatus::Failed))
    );
    // The manual auto-renewing term that ended keeps its tier, and its renewal billing (the next 12
    // months by emailed invoice) is requested for stripe-reconcile to start.
    let renewing = store
        .get_partner(&PartnerId::parse("g-renewing").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewing.engagement_tier, Tier::Gold);
    let claim = renewing.pending_billing.expect("its renewal billing is requested");
    assert_eq!(
        (
            claim.tier,
            claim.collection,
            claim.subscription_id.clone(),
            claim.request.map(|r| r.cancel_at)
        ),
        (Tier::Gold, Collection::SendInvoice, None, Some(None)),
        "the same tier, by emailed invoice, renewing"
    );
    assert!(claim.carried_out_by_reconciliation());
    let cancelled = store
        .get_partner(&PartnerId::parse("k-cancel-ended").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.subscription_status, SubscriptionStatus::Expired);
    let pending = store
        .get_partner(&PartnerId::parse("j-cancel-pending").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (pending.engagement_tier, pending.subscription_status),
        (Tier::Gold, SubscriptionStatus::Cancelled)
    );

    let types = outbox_types(&store).await;
    assert_eq!(types.get("SubscriptionExpired"), Some(&3));
    assert_eq!(
        types.get("SubscriptionPastDue"),
        None,
        "no grace: its renewal is billed"
    );

    // Expired partners left the due index: a sweep tomorrow does not read them again.
    let due: Vec<String> = shared::testing::due_index_ids(&store).await;
    for gone in ["f-ended", "h-unpaid", "k-cancel-ended"] {
        assert!(
            !due.contains(&gone.to_owned()),
            "{gone} still in the due index: {due:?}"
        );
    }
    assert!(due.contains(&"g-renewing".to_owned()) && due.contains(&"j-cancel-pending".to_owned()));
}

#[tokio::test]
async fn a_second_run_the_same_day_adds_nothing() {
    let store = prepared_table().await;
    run(&store, TODAY).await;
    let after_first = state(&store).await;
    let second = run(&store, TODAY).await;
    assert_eq!(
        [second.notices_30, second.notices_7, second.expired, second.errors],
        [0, 0, 0, 0],
        "{second:?}"
    );
    assert_eq!(
        (second.renewal_billing_requested, second.awaiting_stripe),
        (0, 1),
        "its renewal billing requested once, then left to stripe-reconcile"
    );
    assert_eq!(state(&store).await, after_first);
}

#[tokio::test]
async fn the_next_day_brings_only_the_next_stage() {
    let store = prepared_table().await;
    run(&store, TODAY).await;
    let next_day = run(&store, days(1)).await;
    // a-31 enters its 30-day window, c-8 is at 7 days now (its 7-day notice), and e-0 ended
    // yesterday without auto-renewal: expired.
    assert_eq!(
        (next_day.notices_30, next_day.notices_7, next_day.expired),
        (1, 1, 1),
        "{next_day:?}"
    );
    let c = PartnerId::parse("c-8").unwrap();
    let mut stages = store.notices_sent(&c, days(8)).await.unwrap();
    stages.sort();
    assert_eq!(stages.iter().map(|s| s.days()).collect::<Vec<_>>(), vec![30, 7]);
}

#[tokio::test]
async fn a_run_that_dies_halfway_then_runs_again_ends_like_one_clean_run() {
    let (clean, log) = prepared_table_with_log().await;
    run(&clean, TODAY).await;
    // The last requests are the counters' check, the success metrics and the MRR read for the
    // dashboard, which may fail without failing the run: the sweep's own are the ones before them.
    let all = log.calls().len() as i64;
    log.clear();
    sweep(clean.clone()).check_counters(at(TODAY)).await;
    sweep(clean.clone()).report_success(0, at(TODAY)).await;
    shared::usecases::metrics::report_mrr(&clean, at(TODAY)).await.unwrap();
    let total = all - log.calls().len() as i64;
    let expected = state(&clean).await;

    // Die after the first index page, and at a third, two thirds and the last request of a clean run.
    for ok_requests in [1, total / 3, 2 * total / 3, total - 1] {
        let broken = prepared_table().await;
        let dying = store_failing_after(broken.table(), ok_requests).await;
        match sweep(dying).handle(ScheduledTrigger::default(), at(TODAY)).await {
            Err(RunFailed::Partial(summary)) => assert!(summary.errors > 0),
            Err(RunFailed::Stopped(_)) => {}
            Ok(summary) => {
                panic!("a sweep that loses DynamoDB after {ok_requests} requests reported success: {summary:?}")
            }
        }
        let rerun = run(&broken, TODAY).await;
        assert_eq!(rerun.errors, 0);
        assert_eq!(
            state(&broken).await,
            expected,
            "after dying at request {ok_requests} and running again"
        );
    }
}
