//! Business figures for CloudWatch as embedded-metric-format (EMF) log lines: one JSON object per
//! line on stdout, which CloudWatch Logs turns into metrics in [`NAMESPACE`] (the dashboard in
//! `template.yaml` shows them beside the alarms). Money is integer cents here too.
//!
//! | metric | from | unit |
//! |---|---|---|
//! | `PaymentsSucceeded`, `CollectedCents` | `PaymentSucceeded` (relayed) | Count, None |
//! | `PaymentsFailed` | `PaymentFailed` (relayed) | Count |
//! | `DunningDowngrades` | `PaymentFailureDowngrade` (relayed) | Count |
//! | `Refunds`, `RefundedCents` | `PaymentRefunded` (relayed) | Count, None |
//! | `Expiries` | `SubscriptionExpired` (relayed) | Count |
//! | `RemindersSent` | `RenewalReminderDue` (relayed) | Count |
//! | `MrrCents`, `ActivePaidPartners` by `Tier` | each sweep run | None, Count |
//! | `RenewalRateBasisPoints`, `PaymentSuccessBasisPoints` (no dimensions) | each sweep run: the last 30 days, from the counters | None |
//! | `InvoicesRecordedLate`, `RemindersMissed` (no dimensions) | each sweep run: payments recorded over an hour after Stripe's time (yesterday and today), missed reminders found | Count |
//! | `CounterDrift` (no dimensions) | each sweep run: the current month's counters against a recount | Count |
//! | `ReconcileStoppedEarly` (no dimensions) | a stripe-reconcile run that stopped paging before its window's start | Count |

use crate::domain::events::{DomainEvent, EventBody};
use crate::domain::metrics::{PaidSeats, Revenue};
use jiff::Timestamp;
use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "Power100/PartnerPayments";

/// One measured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub value: i64,
    /// `Count`, or `None` for cents.
    pub unit: &'static str,
}

const fn count(name: &'static str) -> Metric {
    Metric {
        name,
        value: 1,
        unit: "Count",
    }
}

const fn cents(name: &'static str, value: i64) -> Metric {
    Metric {
        name,
        value,
        unit: "None",
    }
}

/// The business metrics a domain event counts for.
pub fn event_metrics(event: &DomainEvent) -> Vec<Metric> {
    match &event.body {
        EventBody::PaymentSucceeded(e) => vec![
            count("PaymentsSucceeded"),
            cents("CollectedCents", e.amount_paid_cents.get()),
        ],
        EventBody::PaymentFailed(_) => vec![count("PaymentsFailed")],
        EventBody::PaymentFailureDowngrade(_) => vec![count("DunningDowngrades")],
        EventBody::PaymentRefunded(e) => vec![count("Refunds"), cents("RefundedCents", e.amount_refunded_cents.get())],
        EventBody::SubscriptionExpired(_) => vec![count("Expiries")],
        EventBody::RenewalReminderDue(_) => vec![count("RemindersSent")],
        _ => vec![],
    }
}

/// The EMF line of `metrics` with `dimensions` at `at`.
pub fn line(metrics: &[Metric], dimensions: &[(&str, &str)], at: Timestamp) -> Value {
    let mut object = Map::new();
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    object.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.as_millisecond(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [names],
                "Metrics": metrics.iter().map(|m| json!({"Name": m.name, "Unit": m.unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value) in dimensions {
        object.insert((*name).into(), json!(value));
    }
    for metric in metrics {
        object.insert(metric.name.into(), json!(metric.value));
    }
    Value::Object(object)
}

/// Writes one EMF line to stdout (where Lambda's log capture finds it).
pub fn emit(line: &Value) {
    println!("{line}");
}

/// The metrics of the events a relay run published.
pub fn emit_event_metrics(events: &[DomainEvent], at: Timestamp) {
    for event in events {
        let metrics = event_metrics(event);
        if !metrics.is_empty() {
            emit(&line(&metrics, &[("Service", "partner-payments")], at));
        }
    }
}

/// A stripe-reconcile run stopped paging Stripe's events before its window's start (alarmed on).
pub fn reconcile_stopped_early_line(at: Timestamp) -> Value {
    line(&[count("ReconcileStoppedEarly")], &[], at)
}

/// Stripe-billed terms past their end by more than the configured days with nothing paid (each
/// sweep run, zero included, so that the alarm on it always has data).
pub fn billed_terms_overdue_line(overdue: u64, at: Timestamp) -> Value {
    let metric = Metric {
        name: "BilledTermsOverdue",
        value: i64::try_from(overdue).unwrap_or(i64::MAX),
        unit: "Count",
    };
    line(&[metric], &[], at)
}

/// Counters that differ from a recount of the current month (each sweep run; 0 when true).
pub fn counter_drift_line(drifted: usize, at: Timestamp) -> Value {
    let metric = Metric {
        name: "CounterDrift",
        value: i64::try_from(drifted).unwrap_or(i64::MAX),
        unit: "Count",
    };
    line(&[metric], &[], at)
}

/// The spec's success metrics (each sweep run; `domain::metrics::targets` says each target and
/// template.yaml alarms on each): renewal rate and payment success in basis points over the last 30
/// days (left out when nothing was counted: an alarm then has no data and stays OK), payments
/// recorded late and reminders missed (zero included).
pub fn success_line(figures: &crate::domain::metrics::SuccessFigures, at: Timestamp) -> Value {
    let mut metrics = Vec::new();
    for (name, rate) in [
        ("RenewalRateBasisPoints", &figures.renewal_rate),
        ("PaymentSuccessBasisPoints", &figures.payment_success),
    ] {
        if let Some(value) = rate.basis_points {
            metrics.push(Metric {
                name,
                value,
                unit: "None",
            });
        }
    }
    metrics.push(Metric {
        name: "InvoicesRecordedLate",
        value: figures.invoices_recorded_late,
        unit: "Count",
    });
    metrics.push(Metric {
        name: "RemindersMissed",
        value: i64::try_from(figures.reminders_missed).unwrap_or(i64::MAX),
        unit: "Count",
    });
    line(&metrics, &[], at)
}

/// MRR and paid partners by tier (each sweep run).
pub fn mrr_lines(seats: PaidSeats, at: Timestamp) -> Vec<Value> {
    let mrr = Revenue::monthly(seats);
    [
        ("gold", mrr.gold_cents.get(), seats.gold),
        ("platinum", mrr.platinum_cents.get(), seats.platinum),
        ("all", mrr.total_cents.get(), seats.total()),
    ]
    .into_iter()
    .map(|(tier, cents_now, partners)| {
        line(
            &[
                cents("MrrCents", cents_now),
                Metric {
                    name: "ActivePaidPartners",
                    value: partners,
                    unit: "Count",
                },
            ],
            &[("Service", "partner-payments"), ("Tier", tier)],
            at,
        )
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_embedded_metric_format() {
        let at: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let lines = mrr_lines(PaidSeats { gold: 2, platinum: 1 }, at);
        let gold = &lines[0];
        assert_eq!(gold["_aws"]["Timestamp"], 1_795_608_000_000i64);
        assert_eq!(gold["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(
            gold["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service", "Tier"]])
        );
        assert_eq!(gold["Tier"], "gold");
        assert_eq!(gold["MrrCents"], 720_000);
        assert_eq!(gold["ActivePaidPartners"], 2);
        assert_eq!(lines[2]["MrrCents"], 1_320_000);
        // Every metric named in the declaration has its value on the line.
        for metric in gold["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap() {
            assert!(gold.get(metric["Name"].as_str().unwrap()).is_some());
        }
    }

    #[test]
    fn payments_and_refunds_count_with_their_cents() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../events/email-refund-confirmation.json"
        ))
        .unwrap();
        let envelope: Value = serde_json::from_str(&text).unwrap();
        let event: DomainEvent = serde_json::from_value(envelope["detail"].clone()).unwrap();
        assert_eq!(
            event_metrics(&event),
            vec![count("Refunds"), cents("RefundedCents", 120_000)]
        );
    }
}
