//! Sweep scaling benchmark: the daily sweep's cost must follow the number of terms due, not the
//! number of partners. Each table gets `total` partners of which the same `due` are due today; the
//! sweep runs once on each, and its DynamoDB requests, the items it read and its times are compared.
//! Requests and items are what DynamoDB bills and what its latency follows; moto's time is not (it
//! answers an index query by walking the whole table), so the times are printed for the record only.

use jiff::{Span, Timestamp};
use shared::domain::dates::{add_months, BusinessCalendar, CalendarDate};
use shared::domain::partner::{CompanyName, Email, Partner, PartnerId, ProfileFields, SubscriptionStatus};
use shared::domain::pcr::{BasePcr, Momentum};
use shared::domain::tier::Tier;
use shared::store::{schema, Store};
use shared::usecases::sweep::{run_expiry_sweep, SweepSettings};
use std::time::Instant;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn partner(
    i: usize,
    tier: Tier,
    end: Option<CalendarDate>,
    auto_renewal: bool,
    now: Timestamp,
) -> Result<Partner, Error> {
    let id = format!("bench-{i:06}");
    let fields = ProfileFields {
        company_name: CompanyName::parse(&format!("Bench Partner {i:06}"))?,
        primary_email: Email::parse(&format!("{id}@example.com"))?,
        base_pcr_score: BasePcr::from_hundredths(5_000 + (i % 5_000) as i64)?,
        momentum_modifier: Momentum::Steady,
    };
    let mut p = Partner::new_free(PartnerId::parse(&id)?, fields, now);
    p.version = 1;
    if let Some(end) = end {
        p.apply_tier(tier, now);
        p.subscription_status = SubscriptionStatus::Active;
        p.subscription_start_date = add_months(end, -12);
        p.subscription_end_date = Some(end);
        p.auto_renewal = auto_renewal;
    }
    Ok(p)
}

/// `due` partners due today (notices, grace and expiries; only 30-day notices with `notices_only`), then
/// filler: a third free, the rest on paid terms that end 60 to 400 days out.
fn partners(
    total: usize,
    due: usize,
    notices_only: bool,
    today: CalendarDate,
    now: Timestamp,
) -> Result<Vec<Partner>, Error> {
    let day = |n: i64| today.checked_add(Span::new().days(n));
    (0..total)
        .map(|i| {
            let tier = if i % 2 == 0 { Tier::Gold } else { Tier::Platinum };
            if i < due {
                // 60 % notices (0..=30 days left), 20 % in grace, 20 % expiring without auto-renewal.
                match if notices_only { 5 } else { i % 5 } {
                    0..=2 => partner(i, tier, Some(day((i % 31) as i64)?), true, now),
                    // Notices only: 30-day notices (8 to 30 days left). A 7-day notice checks, in its
                    // own transaction, that the term's 30-day one went out; these terms never had
                    // one, so each would also be a missed reminder, recorded with a second request.
                    5 => partner(i, tier, Some(day(8 + (i % 23) as i64)?), true, now),
                    3 => partner(i, tier, Some(day(-1 - (i % 7) as i64)?), true, now),
                    _ => partner(i, tier, Some(day(-1 - (i % 20) as i64)?), false, now),
                }
            } else if i % 3 == 0 {
                partner(i, Tier::Free, None, true, now)
            } else {
                partner(i, tier, Some(day(60 + (i % 340) as i64)?), true, now)
            }
        })
        .collect()
}

/// Reads every due term through the index, as the sweep does, and nothing else: (pages, terms, ms).
async fn time_index_reads(store: &Store, today: CalendarDate) -> Result<(u32, usize, u128), Error> {
    let started = Instant::now();
    let (mut pages, mut terms) = (0, 0);
    let horizon = today.checked_add(Span::new().days(30))?;
    for (status, until) in [
        (SubscriptionStatus::Active, horizon),
        (SubscriptionStatus::Cancelled, today.yesterday()?),
    ] {
        let mut start = None;
        loop {
            let (partners, next) = store
                .due_terms(status, until, start, SweepSettings::default().page_size)
                .await?;
            pages += 1;
            terms += partners.len();
            match next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
    }
    Ok((pages, terms, started.elapsed().as_millis()))
}

pub async fn sweep_scaling(totals: &[usize], due: usize, notices_only: bool) -> Result<(), Error> {
    let sdk = shared::config::aws_sdk_config().await;
    let now = Timestamp::now();
    let calendar = BusinessCalendar::utc();
    let today = calendar.today(now);
    let mut runs = Vec::new();
    for &total in totals {
        let table = format!("bench-{total}-{}", shared::ids::next_id().to_string().to_lowercase());
        let store = Store::from_sdk_config(&sdk, &table);
        schema::create_table(store.client(), store.table()).await?;
        let load_started = Instant::now();
        let all = partners(total, due.min(total), notices_only, today, now)?;
        let loads: Vec<_> = all.chunks(2_500).map(|chunk| store.load_profiles(chunk)).collect();
        for result in few_at_a_time(loads).await {
            result?;
        }
        let load_ms = load_started.elapsed().as_millis();
        let (index_pages, index_terms, index_ms) = time_index_reads(&store, today).await?;
        // The sweep on a client that counts its requests by operation.
        let calls = shared::testing::CallLog::default();
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(calls.clone())
                .build(),
        );
        let counted = Store::new(client, store.table());
        let summary = run_expiry_sweep(&counted, &calendar, &SweepSettings::default(), now).await?;
        let mut requests = std::collections::BTreeMap::<String, usize>::new();
        for name in calls.calls() {
            *requests.entry(name).or_default() += 1;
        }
        let total_requests: usize = requests.values().sum();
        println!(
            "{}",
            serde_json::json!({
                "partners": total, "due": due, "load_ms": load_ms, "sweep_ms": summary.duration_ms,
                "dynamodb_requests": requests, "requests_total": total_requests,
                "requests_per_due_term": total_requests as f64 / summary.examined.max(1) as f64,
                "index_pages": index_pages, "index_terms_read": index_terms,
                "index_reads_alone_ms": index_ms, "summary": summary,
            })
        );
        runs.push((total, total_requests, index_terms, summary.duration_ms));
    }
    if let [(small, small_requests, small_items, small_ms), .., (large, large_requests, large_items, large_ms)] =
        runs.as_slice()
    {
        let ratio = |large: f64, small: f64| large / small.max(1.0);
        println!(
            "{}",
            serde_json::json!({
                "ratio_of": [small, large],
                "requests_ratio": ratio(*large_requests as f64, *small_requests as f64),
                "items_read_ratio": ratio(*large_items as f64, *small_items as f64),
                "moto_time_ratio": ratio(*large_ms as f64, *small_ms as f64),
            })
        );
    }
    Ok(())
}

/// Runs the loads a few at a time.
async fn few_at_a_time<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use futures::stream::{self, StreamExt};
    stream::iter(futures).buffered(4).collect().await
}
