//! The subscription dashboard: tabs (active, expiring, expired, cancelled, history) with the count
//! of every tab, sorted and paged rows, and the history feed month by month.

use super::error::UseCaseError;
use crate::domain::counters::Month;
use crate::domain::dates::{days_until, BusinessCalendar, CalendarDate};
use crate::domain::history_and_audit::{HistoryEntry, HistoryEventType};
use crate::domain::lifecycle::{Urgency, NOTICE_HORIZON_DAYS};
use crate::domain::money::Cents;
use crate::domain::partner::{Partner, PartnerId, PaymentStatus, SubscriptionStatus};
use crate::domain::tier::Tier;
use crate::store::{cursor, DashboardQuery, Page, PageRequest, Store};
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

/// The first month the history feed looks back to.
pub const HISTORY_START_MONTH: (i16, i8) = (2025, 10);
/// The most rows a tab sorts in memory or exports.
pub const MAX_TAB_ROWS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    Active,
    Expiring,
    Expired,
    Cancelled,
    History,
}

impl Tab {
    pub fn parse(text: &str) -> Option<Tab> {
        match text {
            "active" => Some(Tab::Active),
            "expiring" => Some(Tab::Expiring),
            "expired" => Some(Tab::Expired),
            "cancelled" => Some(Tab::Cancelled),
            "history" => Some(Tab::History),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Active => "active",
            Tab::Expiring => "expiring",
            Tab::Expired => "expired",
            Tab::Cancelled => "cancelled",
            Tab::History => "history",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    EndDate,
    CompanyName,
}

/// A dashboard request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardRequest {
    pub tab: Tab,
    /// Gold or platinum (the tier a subscription has or had).
    pub tier: Option<Tier>,
    pub sort: SortBy,
    pub descending: bool,
    /// History tab only.
    pub event_type: Option<HistoryEventType>,
    /// History tab only.
    pub partner_id: Option<PartnerId>,
}

/// One subscription row, as the dashboard mockup shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionRow {
    pub partner_id: PartnerId,
    pub company_name: String,
    pub tier: Tier,
    pub tier_label: &'static str,
    pub monthly_price_cents: Cents,
    pub monthly_price: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_start_date: Option<CalendarDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_end_date: Option<CalendarDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i32>,
    pub urgency: Urgency,
    pub subscription_status: SubscriptionStatus,
    pub auto_renewal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<PaymentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_date: Option<CalendarDate>,
    pub version: u64,
}

impl SubscriptionRow {
    pub fn new(partner: Partner, today: CalendarDate) -> SubscriptionRow {
        let tier = partner.last_paid_tier.unwrap_or(partner.engagement_tier);
        let days_left = partner.subscription_end_date.map(|end| days_until(today, end));
        SubscriptionRow {
            partner_id: partner.id,
            company_name: partner.company_name.to_string(),
            tier,
            tier_label: tier.label(),
            monthly_price_cents: tier.info().monthly_price_cents,
            monthly_price: tier.info().monthly_price_cents.to_string(),
            subscription_start_date: partner.subscription_start_date,
            subscription_end_date: partner.subscription_end_date,
            days_left,
            urgency: Urgency::of(days_left),
            subscription_status: partner.subscription_status,
            auto_renewal: partner.auto_renewal,
            payment_status: partner.payment_status,
            cancellation_date: partner.cancellation_date,
            version: partner.version,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TabCounts {
    pub active: u64,
    pub expiring: u64,
    pub expired: u64,
    pub cancelled: u64,
    pub history: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub tab: Tab,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<SubscriptionRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    pub counts: TabCounts,
    pub next_cursor: Option<String>,
}

fn status_view(tab: Tab, tier: Option<Tier>, descending: bool, today: CalendarDate) -> Option<DashboardQuery> {
    let horizon = today
        .checked_add(Span::new().days(i64::from(NOTICE_HORIZON_DAYS)))
        .ok()?;
    let (status, ending_between) = match tab {
        Tab::Active => (SubscriptionStatus::Active, None),
        Tab::Expiring => (SubscriptionStatus::Active, Some((today, horizon))),
        Tab::Expired => (SubscriptionStatus::Expired, None),
        Tab::Cancelled => (SubscriptionStatus::Cancelled, None),
        Tab::History => return None,
    };
    Some(DashboardQuery {
        status,
        ending_between,
        tier,
        descending,
    })
}

fn months_back_from(today: CalendarDate) -> impl Iterator<Item = String> {
    let first = jiff::civil::date(HISTORY_START_MONTH.0, HISTORY_START_MONTH.1, 1);
    std::iter::successors(Some(today.first_of_month()), |m| {
        m.checked_sub(Span::new().months(1)).ok()
    })
    .take_while(move |m| *m >= first)
    .map(|m| m.strftime("%Y-%m").to_string())
}

/// Where the history feed stopped: a month and the cursor within it (nothing else: a cursor with
/// other fields is not one this API gave out).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedPosition {
    month: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inner: Option<String>,
}

/// Every subscription event, newest first, month by month.
pub(super) async fn history_feed(
    store: &Store,
    event_type: Option<HistoryEventType>,
    page: &PageRequest,
    today: CalendarDate,
) -> Result<Page<HistoryEntry>, UseCaseError> {
    let position: Option<FeedPosition> = page
        .cursor
        .as_deref()
        .map(cursor::decode_json)
        .transpose()
        .map_err(UseCaseError::BadCursor)?;
    let months: Vec<String> = months_back_from(today).collect();
    let start_index = match &position {
        Some(p) => months
            .iter()
            .position(|m| *m == p.month)
            .ok_or(UseCaseError::BadCursor(cursor::InvalidCursor))?,
        None => 0,
    };
    let mut inner = position.and_then(|p| p.inner);
    let mut items = Vec::new();
    for (i, month) in months.iter().enumerate().skip(start_index) {
        let remaining = page.limit - items.len() as u16;
        let got = store
            .history_month_page(
                month,
                event_type,
                &PageRequest {
                    limit: remaining,
                    cursor: inner.take(),
                },
            )
            .await?;
        items.extend(got.items);
        if let Some(next) = got.next_cursor {
            return Ok(Page {
                items,
                next_cursor: Some(cursor::encode_json(&FeedPosition {
                    month: month.clone(),
                    inner: Some(next),
                })),
            });
        }
        if items.len() >= usize::from(page.limit) {
            let next_cursor = months.get(i + 1).map(|m| {
                cursor::encode_json(&FeedPosition {
                    month: m.clone(),
                    inner: None,
                })
            });
            return Ok(Page { items, next_cursor });
        }
    }
    Ok(Page {
        items,
        next_cursor: None,
    })
}

/// The count of every tab, from the counters the writes keep (`domain::counters`): two queries
/// side by side, whatever the number of partners or months of history. "Expiring" (active, ending
/// within [`NOTICE_HORIZON_DAYS`]) moves with the calendar, not with a write: it is the sum of the
/// per-day ending buckets over the horizon, which no day's passing makes wrong.
async fn tab_counts(
    store: &Store,
    tier: Option<Tier>,
    event_type: Option<HistoryEventType>,
    today: CalendarDate,
) -> Result<TabCounts, UseCaseError> {
    let horizon = today
        .checked_add(Span::new().days(i64::from(NOTICE_HORIZON_DAYS)))
        .map_err(|e| UseCaseError::Internal(e.to_string()))?;
    let counts = store.dashboard_counters(today, horizon).await?;
    let first = Month {
        year: HISTORY_START_MONTH.0,
        month: HISTORY_START_MONTH.1,
    };
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(TabCounts {
        active: count(counts.tab(SubscriptionStatus::Active, tier)),
        expiring: count(counts.ending_between(today, horizon, tier)),
        expired: count(counts.tab(SubscriptionStatus::Expired, tier)),
        cancelled: count(counts.tab(SubscriptionStatus::Cancelled, tier)),
        history: count(counts.history_since(first, event_type.map(HistoryEventType::as_str))),
    })
}

/// Every row of a status tab, sorted as asked (bounded by [`MAX_TAB_ROWS`]).
pub(super) async fn all_rows(
    store: &Store,
    request: &DashboardRequest,
    today: CalendarDate,
) -> Result<Vec<SubscriptionRow>, UseCaseError> {
    let view = status_view(request.tab, request.tier, request.descending, today)
        .ok_or_else(|| UseCaseError::invalid("tab", "has no subscription rows"))?;
    let mut rows: Vec<SubscriptionRow> = store
        .dashboard_all(&view, MAX_TAB_ROWS)
        .await?
        .into_iter()
        .map(|p| SubscriptionRow::new(p, today))
        .collect();
    if request.sort == SortBy::CompanyName {
        rows.sort_by_key(|r| (r.company_name.to_lowercase(), r.partner_id.to_string()));
        if request.descending {
            rows.reverse();
        }
    }
    Ok(rows)
}

/// One page of a dashboard tab, with the count of every tab.
#[tracing::instrument(skip(store, calendar), err(Display))]
pub async fn dashboard(
    store: &Store,
    calendar: &BusinessCalendar,
    request: &DashboardRequest,
    page: &PageRequest,
    now: Timestamp,
) -> Result<Dashboard, UseCaseError> {
    let today = calendar.today(now);
    let counts = tab_counts(store, request.tier, request.event_type, today).await?;
    if request.tab == Tab::History {
        let page = match &request.partner_id {
            Some(id) => store.partner_history(id, request.event_type, page).await?,
            None => history_feed(store, request.event_type, page, today).await?,
        };
        return Ok(Dashboard {
            tab: request.tab,
            rows: None,
            history: Some(page.items),
            counts,
            next_cursor: page.next_cursor,
        });
    }
    let (rows, next_cursor) = match request.sort {
        SortBy::EndDate => {
            let view = status_view(request.tab, request.tier, request.descending, today)
                .ok_or_else(|| UseCaseError::Internal("no view".into()))?;
            let page = store.dashboard_page(&view, page).await?;
            (
                page.items.into_iter().map(|p| SubscriptionRow::new(p, today)).collect(),
                page.next_cursor,
            )
        }
        SortBy::CompanyName => {
            let offset: usize = page
                .cursor
                .as_deref()
                .map(cursor::decode_json)
                .transpose()
                .map_err(UseCaseError::BadCursor)?
                .unwrap_or(0);
            let all = all_rows(store, request, today).await?;
            // A changed cursor may say any offset: past the end is a page of nothing.
            let end = offset.saturating_add(usize::from(page.limit)).min(all.len());
            let next = (end < all.len()).then(|| cursor::encode_json(&end));
            (
                all.into_iter().skip(offset).take(end.saturating_sub(offset)).collect(),
                next,
            )
        }
    };
    Ok(Dashboard {
        tab: request.tab,
        rows: Some(rows),
        history: None,
        counts,
        next_cursor,
    })
}
