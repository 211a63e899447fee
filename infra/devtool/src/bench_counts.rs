//! The dashboard's and the metrics' DynamoDB requests as the history grows (issue 25): a table of
//! `partners` partners whose tiers move once a month for `months` months, through the same
//! use-case as every change (`apply_change`: history, audit and counters in one transaction), then
//! the counters recounted as after a bulk load; then, on a client that counts its requests, the
//! subscription dashboard's view (tab counts and the first page of the active tab) and the metrics
//! for the last 12 months. One JSON line per history length.

use jiff::{Span, Timestamp};
use shared::domain::dates::{BusinessCalendar, CalendarDate};
use shared::domain::history_and_audit::{Actor, AuditAction, HistoryEventType};
use shared::domain::partner::{CompanyName, Email, Partner, PartnerId, ProfileFields, SubscriptionStatus};
use shared::domain::partner_change::PartnerChange;
use shared::domain::pcr::{BasePcr, Momentum};
use shared::domain::tier::Tier;
use shared::store::{schema, PageRequest, Store};
use shared::usecases::apply_change::apply_change;
use shared::usecases::dashboard::{dashboard, DashboardRequest, SortBy, Tab};
use shared::usecases::metrics::business_metrics;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn partner(i: usize, now: Timestamp, end: CalendarDate) -> Result<Partner, Error> {
    let id = format!("counts-{i:04}");
    let fields = ProfileFields {
        company_name: CompanyName::parse(&format!("Counts Partner {i:04}"))?,
        primary_email: Email::parse(&format!("{id}@example.com"))?,
        base_pcr_score: BasePcr::from_hundredths(7_000)?,
        momentum_modifier: Momentum::Steady,
    };
    let mut p = Partner::new_free(PartnerId::parse(&id)?, fields, now);
    p.version = 1;
    p.apply_tier(Tier::Gold, now);
    p.subscription_status = SubscriptionStatus::Active;
    p.subscription_start_date = Some(end.checked_sub(Span::new().years(1))?);
    p.subscription_end_date = Some(end);
    Ok(p)
}

fn by_kind(calls: &shared::testing::CallLog) -> std::collections::BTreeMap<String, usize> {
    let mut kinds = std::collections::BTreeMap::new();
    for name in calls.calls() {
        *kinds.entry(name).or_default() += 1;
    }
    kinds
}

/// History from 2025-10 (the dashboard's first month) for `months` months, `partners` partners.
pub async fn counts_scaling(history_months: &[i64], partners: usize) -> Result<(), Error> {
    let sdk = shared::config::aws_sdk_config().await;
    // The business days the store counts in (BUSINESS_TIME_ZONE, UTC when unset).
    let calendar = shared::config::business_calendar().unwrap_or_else(|_| BusinessCalendar::utc());
    let first: Timestamp = "2025-10-15T12:00:00Z".parse()?;
    for &months in history_months {
        let table = format!(
            "bench-counts-{months}-{}",
            shared::ids::next_id().to_string().to_lowercase()
        );
        let store = Store::from_sdk_config(&sdk, &table);
        schema::create_table(store.client(), store.table()).await?;
        let now = first.checked_add(Span::new().hours(24 * 30 * (months - 1)))?;
        let today = calendar.today(now);
        let loaded: Vec<Partner> = (0..partners)
            .map(|i| partner(i, first, today.checked_add(Span::new().days((i % 60) as i64))?))
            .collect::<Result<_, _>>()?;
        store.load_profiles(&loaded).await?;
        let writes = write_history(&store, &loaded, first, months).await?;
        store.recount_paid_seats().await?;

        let calls = shared::testing::CallLog::default();
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(calls.clone())
                .build(),
        );
        let counted = Store::new(client, store.table()).with_calendar(calendar.clone());
        let page = PageRequest {
            limit: 25,
            cursor: None,
        };
        let view = dashboard(&counted, &calendar, &active_tab(), &page, now).await?;
        let dashboard_requests = by_kind(&calls);
        calls.clear();
        let from = today.first_of_month().checked_sub(Span::new().months(11))?;
        let metrics = business_metrics(&counted, &calendar, from, today).await?;
        let metrics_requests = by_kind(&calls);
        println!(
            "{}",
            serde_json::json!({
                "history_months": months, "partners": partners, "history_writes": writes,
                "dashboard_requests": dashboard_requests.values().sum::<usize>(),
                "dashboard_by_kind": dashboard_requests,
                "dashboard_counts": view.counts,
                "metrics_window": [from.to_string(), today.to_string()],
                "metrics_requests": metrics_requests.values().sum::<usize>(),
                "metrics_by_kind": metrics_requests,
                "metrics_movements": metrics.movements,
            })
        );
    }
    Ok(())
}

/// The active tab, soonest end first: the view the dashboard opens on.
fn active_tab() -> DashboardRequest {
    DashboardRequest {
        tab: Tab::Active,
        tier: None,
        sort: SortBy::EndDate,
        descending: false,
        event_type: None,
        partner_id: None,
    }
}

/// Every partner's tier moved once a month for `months` months from `first` (platinum, gold, ...),
/// through `apply_change`; how many changes were written.
async fn write_history(store: &Store, loaded: &[Partner], first: Timestamp, months: i64) -> Result<usize, Error> {
    let mut writes = 0usize;
    for month in 0..months {
        let at = first.checked_add(Span::new().hours(24 * 30 * month))?;
        for p in loaded {
            let tier = if month % 2 == 0 { Tier::Platinum } else { Tier::Gold };
            apply_change(store, &p.id, &Actor::System, None, at, |current| {
                let mut after = current.clone();
                after.apply_tier(tier, at);
                Ok(Some(PartnerChange {
                    history: Some(if tier == Tier::Platinum {
                        HistoryEventType::Upgrade
                    } else {
                        HistoryEventType::Downgrade
                    }),
                    ..PartnerChange::audited(after, AuditAction::TierChanged)
                }))
            })
            .await?;
            writes += 1;
        }
    }
    Ok(writes)
}
