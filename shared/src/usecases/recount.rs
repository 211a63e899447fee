//! The counters' backfill and check (`devtool recount`, or the expiry-sweep function invoked once
//! with `{"recount": {...}}`): every counter recounted from the items it counts, and either repaired
//! (each drifted counter moved by the difference) or, with `check_only`, reported without writing.
//! With a `month`, only that month's counters are checked (its history month and business days):
//! what the daily sweep runs after each sweep, alarmed on by `CounterDrift`. A month's drift is
//! confirmed by a second check (a write landing between the reads of one check looks like drift).

use super::error::UseCaseError;
use crate::domain::counters::Month;
use crate::store::metrics::Drift;
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// What to recount, as the one-off Lambda event or devtool's arguments say it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecountRequest {
    /// Report drift, write nothing.
    #[serde(default)]
    pub check_only: bool,
    /// Only this month (`2026-12`); checks only.
    #[serde(default, deserialize_with = "month_text")]
    pub month: Option<Month>,
}

fn month_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Month>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| Month::parse(&t).ok_or_else(|| serde::de::Error::custom(format!("{t:?} is not a month (YYYY-MM)"))))
        .transpose()
}

impl RecountRequest {
    /// `[--check] [--month YYYY-MM]`
    pub fn parse_args(args: &[&str]) -> Result<RecountRequest, String> {
        let mut request = RecountRequest::default();
        let mut words = args.iter();
        while let Some(word) = words.next() {
            match *word {
                "--check" => request.check_only = true,
                "--month" => {
                    let text = words.next().ok_or("--month needs YYYY-MM")?;
                    request.month = Some(Month::parse(text).ok_or(format!("{text:?} is not a month (YYYY-MM)"))?);
                }
                other => {
                    return Err(format!(
                        "unknown argument {other:?}: recount [--check] [--month YYYY-MM]"
                    ))
                }
            }
        }
        Ok(request)
    }
}

/// One counter whose stored value is not what a recount finds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftedCounter {
    pub item: String,
    pub field: String,
    pub stored: i64,
    pub recounted: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecountReport {
    /// `check` or `repair`.
    pub mode: &'static str,
    /// `all`, or the month checked.
    pub scope: String,
    pub items_checked: usize,
    /// What differed (before the repair, in repair mode).
    pub drifted: Vec<DriftedCounter>,
    pub duration_ms: u64,
}

fn report(mode: &'static str, scope: String, drift: Drift, started: std::time::Instant) -> RecountReport {
    RecountReport {
        mode,
        scope,
        items_checked: drift.items_checked,
        drifted: drift
            .counters
            .into_iter()
            .map(|(item, field, stored, recounted)| DriftedCounter {
                item,
                field,
                stored,
                recounted,
            })
            .collect(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// The counters of `second` that `first` found drifted too.
fn confirmed(first: &Drift, second: Drift) -> Drift {
    let seen: std::collections::BTreeSet<(&str, &str)> = first
        .counters
        .iter()
        .map(|(sk, f, _, _)| (sk.as_str(), f.as_str()))
        .collect();
    Drift {
        counters: second
            .counters
            .iter()
            .filter(|(sk, f, _, _)| seen.contains(&(sk.as_str(), f.as_str())))
            .cloned()
            .collect(),
        items_checked: second.items_checked,
    }
}

/// Runs `request`: a check (the whole table or one month) or a repair of the whole table.
#[tracing::instrument(skip(store), err(Display))]
pub async fn recount(store: &Store, request: &RecountRequest) -> Result<RecountReport, UseCaseError> {
    let started = std::time::Instant::now();
    let result = match (request.month, request.check_only) {
        (Some(month), true) => {
            let first = store.check_month_counters(month).await?;
            // The counters and the items are read side by side, not at one instant: a write that
            // lands between the reads looks like drift once. Drift is what a second check finds too.
            let drift = if first.is_clean() {
                first
            } else {
                confirmed(&first, store.check_month_counters(month).await?)
            };
            report("check", month.to_string(), drift, started)
        }
        (Some(_), false) => {
            return Err(UseCaseError::invalid(
                "month",
                "is for checks only: a repair recounts the whole table",
            ))
        }
        (None, true) => report("check", "all".into(), store.check_all_counters().await?, started),
        (None, false) => report("repair", "all".into(), store.repair_counters().await?, started),
    };
    for drifted in &result.drifted {
        tracing::warn!(item = %drifted.item, field = %drifted.field, stored = drifted.stored, recounted = drifted.recounted, "counter drifted");
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_and_events_say_the_same() {
        assert_eq!(RecountRequest::parse_args(&[]).unwrap(), RecountRequest::default());
        let month = RecountRequest::parse_args(&["--check", "--month", "2026-12"]).unwrap();
        assert_eq!(month.month, Month::parse("2026-12"));
        assert!(month.check_only);
        let event: RecountRequest = serde_json::from_str(r#"{"check_only": true, "month": "2026-12"}"#).unwrap();
        assert_eq!(event, month);
        assert!(RecountRequest::parse_args(&["--month", "2026-13"]).is_err());
        assert!(serde_json::from_str::<RecountRequest>(r#"{"month": "soon"}"#).is_err());
        assert!(serde_json::from_str::<RecountRequest>(r#"{"dry": true}"#).is_err());
    }
}
