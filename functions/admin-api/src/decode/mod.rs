//! Turns query strings and request bodies into domain values, naming every field that is wrong:
//! the query strings here, the JSON bodies in [`bodies`] (one serde struct per body, refusing unknown
//! fields, each field parsed by its domain type, every error in one 422).

mod bodies;

pub use bodies::*;

use lambda_http::Request;
use shared::domain::dates::BusinessCalendar;
use shared::domain::dates::{parse_date, CalendarDate};
use shared::domain::history_and_audit::HistoryEventType;
use shared::domain::invoice::InvoiceStatus;
use shared::domain::partner::{PartnerId, SubscriptionStatus};
use shared::domain::tier::Tier;
use shared::error::AppError;
use shared::http::{self as edge, only_known_params, page_request};
use shared::store::{InvoiceFilter, PageRequest, PartnerFilter};
use shared::usecases::dashboard::{DashboardRequest, SortBy, Tab};
use shared::usecases::error::FieldError;

/// `?tier=&status=&limit=&cursor=`
pub fn partner_listing(req: &Request) -> Result<(PartnerFilter, PageRequest), AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["tier", "status", "limit", "cursor"])?;
    let tier = match query.get("tier").filter(|t| !t.is_empty()) {
        Some(text) => Some(text.parse::<Tier>().map_err(|e| AppError::invalid("tier", e))?),
        None => None,
    };
    let status = match query.get("status").filter(|s| !s.is_empty()) {
        Some(text) => Some(SubscriptionStatus::parse(text).ok_or_else(|| {
            AppError::invalid(
                "status",
                format!("unknown status {text:?}: expected inactive, active, expired or cancelled"),
            )
        })?),
        None => None,
    };
    Ok((PartnerFilter { tier, status }, page_request(&query)?))
}

/// `?tier=gold`
pub fn preview_tier(req: &Request) -> Result<Tier, AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["tier"])?;
    let text = query
        .get("tier")
        .ok_or_else(|| AppError::invalid("tier", "is required (free, gold or platinum)"))?;
    text.parse::<Tier>().map_err(|e| AppError::invalid("tier", e))
}

/// `?limit=&cursor=`
pub fn page_only(req: &Request) -> Result<PageRequest, AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["limit", "cursor"])?;
    page_request(&query)
}

/// `?tab=&tier=&sort=&order=&limit=&cursor=` (and `event_type=`, `partner=` on the history tab)
pub fn dashboard(req: &Request) -> Result<(DashboardRequest, PageRequest), AppError> {
    let query = edge::query(req)?;
    only_known_params(
        &query,
        &[
            "tab",
            "tier",
            "sort",
            "order",
            "limit",
            "cursor",
            "event_type",
            "partner",
        ],
    )?;
    dashboard_from(&query).and_then(|request| Ok((request, page_request(&query)?)))
}

/// The export's query: the dashboard's, without paging.
pub fn export(req: &Request) -> Result<DashboardRequest, AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["tab", "tier", "sort", "order", "event_type", "partner"])?;
    dashboard_from(&query)
}

fn dashboard_from(query: &std::collections::HashMap<String, String>) -> Result<DashboardRequest, AppError> {
    let mut errors = Vec::new();
    let get = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let tab = match get("tab") {
        None => Some(Tab::Active),
        Some(text) => Tab::parse(text).or_else(|| {
            errors.push(FieldError::new(
                "tab",
                format!("unknown tab {text:?}: expected active, expiring, expired, cancelled or history"),
            ));
            None
        }),
    };
    let tier = match get("tier") {
        None => None,
        Some(text) => match text.parse::<Tier>() {
            Ok(tier) if tier.is_paid() => Some(tier),
            _ => {
                errors.push(FieldError::new(
                    "tier",
                    format!("must be gold or platinum, got {text:?}"),
                ));
                None
            }
        },
    };
    let sort = match get("sort") {
        None | Some("end_date") => SortBy::EndDate,
        Some("company_name") => SortBy::CompanyName,
        Some(other) => {
            errors.push(FieldError::new(
                "sort",
                format!("must be end_date or company_name, got {other:?}"),
            ));
            SortBy::EndDate
        }
    };
    let descending = match get("order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            errors.push(FieldError::new("order", format!("must be asc or desc, got {other:?}")));
            false
        }
    };
    let event_type = get("event_type").and_then(|text| {
        HistoryEventType::parse(text).or_else(|| {
            errors.push(FieldError::new("event_type", format!("unknown event type {text:?}")));
            None
        })
    });
    let partner_id = get("partner").and_then(|text| {
        PartnerId::parse(text)
            .map_err(|e| errors.push(FieldError::new("partner", e)))
            .ok()
    });
    if tab != Some(Tab::History) && (get("event_type").is_some() || get("partner").is_some()) {
        errors.push(FieldError::new(
            "tab",
            "event_type and partner filter the history tab only",
        ));
    }
    match tab {
        Some(tab) if errors.is_empty() => Ok(DashboardRequest {
            tab,
            tier,
            sort,
            descending,
            event_type,
            partner_id,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// A route without query parameters.
pub fn no_query(req: &Request) -> Result<(), AppError> {
    only_known_params(&edge::query(req)?, &[])
}

/// What the path names (`value`), for a route without query parameters.
pub fn path_only<T>(req: &Request, value: T) -> Result<T, AppError> {
    no_query(req).map(|()| value)
}

/// `?status=&partner_id=&from=&to=` (dates `YYYY-MM-DD` in the business time zone, both inclusive),
/// and `limit`/`cursor` where the route pages.
pub fn invoice_listing(
    req: &Request,
    calendar: &BusinessCalendar,
    paged: bool,
) -> Result<(InvoiceFilter, PageRequest), AppError> {
    let query = edge::query(req)?;
    let known: &[&str] = if paged {
        &["status", "partner_id", "from", "to", "limit", "cursor"]
    } else {
        &["status", "partner_id", "from", "to"]
    };
    only_known_params(&query, known)?;
    let mut errors = Vec::new();
    let given = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let status = given("status").and_then(|text| {
        InvoiceStatus::parse(text)
            .ok_or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    format!("unknown status {text:?}: expected pending, paid, failed or refunded"),
                ))
            })
            .ok()
    });
    let partner_id = given("partner_id").and_then(|text| {
        PartnerId::parse(text)
            .map_err(|e| errors.push(FieldError::new("partner_id", e)))
            .ok()
    });
    let mut date = |name: &str| {
        given(name).and_then(|text| parse_date(text).map_err(|e| errors.push(FieldError::new(name, e))).ok())
    };
    let (from, to) = (date("from"), date("to"));
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(FieldError::new("to", format!("must not be before from ({from})")));
        }
    }
    let mut instant = |name: &str, day: Option<CalendarDate>| {
        day.and_then(|d| {
            calendar
                .start_of(d)
                .map_err(|e| errors.push(FieldError::new(name, e)))
                .ok()
        })
    };
    let from = instant("from", from);
    let before = instant("to", to.and_then(|d| d.tomorrow().ok()));
    let page = if paged {
        page_request(&query)?
    } else {
        PageRequest { limit: 1, cursor: None }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok((
        InvoiceFilter {
            status,
            partner_id,
            from,
            before,
        },
        page,
    ))
}

/// The longest window `GET /admin/metrics` reads.
pub const MAX_METRICS_DAYS: i32 = 366;

/// `?from=&to=` (business days, both inclusive): by default this month up to today.
pub fn metrics_window(req: &Request, today: CalendarDate) -> Result<(CalendarDate, CalendarDate), AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["from", "to"])?;
    let mut errors = Vec::new();
    let mut date = |name: &str| {
        query
            .get(name)
            .filter(|v| !v.is_empty())
            .and_then(|text| parse_date(text).map_err(|e| errors.push(FieldError::new(name, e))).ok())
    };
    let (from, to) = (date("from"), date("to"));
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.first_of_month());
    if from > to {
        errors.push(FieldError::new("to", format!("must not be before from ({from})")));
    } else if (to - from).get_days() >= MAX_METRICS_DAYS {
        errors.push(FieldError::new(
            "from",
            format!("a window covers at most {MAX_METRICS_DAYS} days"),
        ));
    }
    if errors.is_empty() {
        Ok((from, to))
    } else {
        Err(AppError::Invalid(errors))
    }
}
