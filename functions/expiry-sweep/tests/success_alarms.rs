//! The spec's success metrics against the alarms template.yaml deploys on them: for each alarm, a
//! table on each side of its threshold, written through the production paths (admin changes, Stripe
//! events, the sweep), the figure the sweep reports for it (its EMF line), and the template's own
//! alarm (metric, statistic, comparison, threshold, missing data) evaluated on that line.

use expiry_sweep::{ScheduledTrigger, Sweep};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use shared::domain::dates::BusinessCalendar;
use shared::domain::history_and_audit::{Actor, AuditAction, HistoryEventType};
use shared::domain::partner::PartnerId;
use shared::domain::partner_change::PartnerChange;
use shared::domain::tier::Tier;
use shared::store::Store;
use shared::stripe::fixtures;
use shared::stripe::webhook::StripeEvent;
use shared::testing::billing::{billed_partner, test_prices};
use shared::testing::{fresh_store, seed_term};
use shared::usecases::apply_change::apply_change;
use shared::usecases::stripe_events::{handle_stripe_event, BillingRules};

const NOW: &str = "2026-12-15T15:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// An alarm of template.yaml, as deployed.
#[derive(Debug)]
struct Alarm {
    metric: String,
    comparison: String,
    threshold: i64,
    missing_is_ok: bool,
}

fn alarm(name: &str) -> Alarm {
    let template = std::fs::read_to_string(shared::testing::repo_file("template.yaml")).unwrap();
    let section = template
        .split(&format!("\n  {name}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("{name} is in template.yaml"));
    let end = section
        .lines()
        .position(|line| line.starts_with("  ") && !line.starts_with("   ") && !line.trim().is_empty())
        .unwrap_or(usize::MAX);
    let field = |key: &str| {
        section
            .lines()
            .take(end)
            .find_map(|line| line.trim().strip_prefix(&format!("{key}: ")).map(str::to_owned))
            .unwrap_or_else(|| panic!("{name} has {key}"))
    };
    assert_eq!(field("Namespace"), shared::emf::NAMESPACE);
    assert_eq!(field("Period"), "86400", "{name}: one figure a day");
    Alarm {
        metric: field("MetricName"),
        comparison: field("ComparisonOperator"),
        threshold: field("Threshold").parse().unwrap(),
        missing_is_ok: field("TreatMissingData") == "notBreaching",
    }
}

impl Alarm {
    /// Whether the alarm fires on a day whose only figure is `line` (one EMF line a day).
    fn fires_on(&self, line: &Value) -> bool {
        let Some(value) = line.get(&self.metric).and_then(Value::as_i64) else {
            return !self.missing_is_ok;
        };
        match self.comparison.as_str() {
            "LessThanThreshold" => value < self.threshold,
            "GreaterThanOrEqualToThreshold" => value >= self.threshold,
            other => panic!("{other} is not evaluated here"),
        }
    }
}

fn sweep(store: &Store) -> Sweep {
    Sweep {
        store: store.clone(),
        calendar: BusinessCalendar::utc(),
        settings: shared::usecases::sweep::SweepSettings::default(),
    }
}

/// The success line the sweep reports at `NOW` (after its run, with the run's missed reminders).
async fn success_line(store: &Store, reminders_missed: u64) -> Value {
    let figures = sweep(store).report_success(reminders_missed, now()).await.unwrap();
    shared::emf::success_line(&figures, now())
}

/// `renewed` renewals and `expired` expiries in the last 30 days, as history entries of their kind.
async fn renewals(renewed: usize, expired: usize) -> Store {
    let (store, _) = fresh_store().await;
    let end = jiff::civil::date(2027, 6, 1);
    for i in 0..renewed + expired {
        let id = format!("r{i}");
        seed_term(&store, &id, Tier::Gold, end, true, now()).await;
        let kind = if i < renewed {
            HistoryEventType::Renewal
        } else {
            HistoryEventType::Expiration
        };
        let at = now()
            .checked_sub(SignedDuration::from_hours(24 * (i as i64 % 20)))
            .unwrap();
        apply_change(
            &store,
            &PartnerId::parse(&id).unwrap(),
            &Actor::System,
            None,
            at,
            |current| {
                let mut after = current.clone();
                if kind == HistoryEventType::Expiration {
                    after.apply_tier(Tier::Free, at);
                }
                Ok(Some(PartnerChange {
                    history: Some(kind),
                    ..PartnerChange::audited(after, AuditAction::SubscriptionRenewed)
                }))
            },
        )
        .await
        .unwrap();
    }
    store
}

#[tokio::test]
async fn renewal_rate_alarms_below_80_percent() {
    let alarm = alarm("RenewalRateAlarm");
    let at_target = success_line(&renewals(4, 1).await, 0).await;
    assert_eq!(at_target["RenewalRateBasisPoints"], 8_000);
    assert!(!alarm.fires_on(&at_target), "80 %: {at_target}");
    let below = success_line(&renewals(3, 1).await, 0).await;
    assert_eq!(below["RenewalRateBasisPoints"], 7_500);
    assert!(alarm.fires_on(&below), "75 %: {below}");
    let none = success_line(&renewals(0, 0).await, 0).await;
    assert!(
        none.get("RenewalRateBasisPoints").is_none() && !alarm.fires_on(&none),
        "nothing came due"
    );
}

async fn stripe_event(store: &Store, id: &str, kind: &str, object: Value) {
    let event = StripeEvent::from_api(fixtures::event(id, kind, now().as_second() - 30, object)).unwrap();
    let calendar = BusinessCalendar::utc();
    let prices = test_prices();
    let rules = BillingRules {
        calendar: &calendar,
        prices: &prices,
    };
    handle_stripe_event(store, &rules, None, &event, now()).await.unwrap();
}

/// A billed partner's invoices of this month: `paid` paid at once, `failed` failed (still open),
/// each paid `paid_ago` seconds before it is recorded (Stripe's paid_at is a minute after creation).
async fn invoices(paid: usize, failed: usize, paid_ago: i64) -> Store {
    let (store, _) = fresh_store().await;
    let end = jiff::civil::date(2027, 11, 1);
    billed_partner(&store, "payer", Tier::Gold, end, "cus_payer", "sub_payer", now()).await;
    let created = now().as_second() - paid_ago - 60;
    for i in 0..paid + failed {
        let (kind, status) = if i < paid {
            ("invoice.paid", "paid")
        } else {
            ("invoice.payment_failed", "open")
        };
        let invoice = fixtures::invoice(
            &format!("in_{i}"),
            "cus_payer",
            "sub_payer",
            "price_gold",
            360_000,
            status,
            1,
            created,
        );
        stripe_event(&store, &format!("evt_{i}"), kind, invoice).await;
    }
    store
}

#[tokio::test]
async fn payment_success_alarms_below_95_percent() {
    let alarm = alarm("PaymentSuccessAlarm");
    let at_target = success_line(&invoices(19, 1, 60).await, 0).await;
    assert_eq!(at_target["PaymentSuccessBasisPoints"], 9_500);
    assert!(!alarm.fires_on(&at_target), "95 %: {at_target}");
    let below = success_line(&invoices(18, 1, 60).await, 0).await;
    assert_eq!(below["PaymentSuccessBasisPoints"], 9_474);
    assert!(alarm.fires_on(&below), "94.74 %: {below}");
}

#[tokio::test]
async fn a_payment_recorded_over_an_hour_after_stripe_took_it_alarms() {
    let alarm = alarm("InvoicesRecordedLateAlarm");
    let in_time = success_line(&invoices(1, 0, 3_600).await, 0).await;
    assert_eq!(in_time["InvoicesRecordedLate"], 0);
    assert!(!alarm.fires_on(&in_time), "an hour after: {in_time}");
    let late = success_line(&invoices(1, 0, 3_601).await, 0).await;
    assert_eq!(late["InvoicesRecordedLate"], 1);
    assert!(alarm.fires_on(&late), "an hour and a second after: {late}");
}

/// A term running for a year that ends `days_left` days after today, swept today.
async fn reminder_run(days_left: i64) -> Value {
    let (store, _) = fresh_store().await;
    let today = BusinessCalendar::utc().today(now());
    let end = today.checked_add(jiff::Span::new().days(days_left)).unwrap();
    let seeded = now().checked_sub(SignedDuration::from_hours(24 * 400)).unwrap();
    seed_term(&store, "reminded", Tier::Gold, end, true, seeded).await;
    let summary = sweep(&store).handle(ScheduledTrigger::default(), now()).await.unwrap();
    assert_eq!(summary.notices_30 + summary.notices_7, 1, "{summary:?}");
    success_line(&store, summary.reminders_missed).await
}

#[tokio::test]
async fn a_term_past_its_30_day_mark_without_its_reminder_alarms() {
    let alarm = alarm("RemindersMissedAlarm");
    let on_its_mark = reminder_run(30).await;
    assert_eq!(on_its_mark["RemindersMissed"], 0);
    assert!(!alarm.fires_on(&on_its_mark));
    let a_day_late = reminder_run(29).await;
    assert_eq!(a_day_late["RemindersMissed"], 1);
    assert!(alarm.fires_on(&a_day_late));
    // A 7-day notice whose 30-day one was never sent (the term was running at its 30-day mark).
    let skipped = reminder_run(7).await;
    assert_eq!(skipped["RemindersMissed"], 1);
    assert!(alarm.fires_on(&skipped));
}

#[tokio::test]
async fn counters_that_drift_from_a_recount_alarm() {
    let alarm = alarm("CounterDriftAlarm");
    let store = renewals(2, 0).await;
    let report = sweep(&store).check_counters(now()).await.unwrap();
    let clean = shared::emf::counter_drift_line(report.drifted.len(), now());
    assert!(!alarm.fires_on(&clean), "{clean}");
    // One counter moved outside any write.
    store
        .drift_counter_for_tests("DAY#2026-12-15#0", "renewed", 1)
        .await
        .unwrap();
    let report = sweep(&store).check_counters(now()).await.unwrap();
    let drifted = shared::emf::counter_drift_line(report.drifted.len(), now());
    assert_eq!(drifted["CounterDrift"], 1, "{report:?}");
    assert!(alarm.fires_on(&drifted));
}
