//! The dashboard's CSV export: a whole tab (or the history feed) as a spreadsheet-safe file.

use super::dashboard::{all_rows, history_feed, DashboardRequest, Tab, MAX_TAB_ROWS};
use super::error::UseCaseError;
use crate::domain::dates::{BusinessCalendar, CalendarDate};
use crate::domain::spreadsheet::{amount_cell, text_cell};
use crate::domain::tier::Tier;
use crate::store::{PageRequest, Store};
use jiff::Timestamp;

/// History entries read per page while exporting.
const EXPORT_PAGE_ROWS: u16 = 100;

/// A CSV export of a whole tab: header row, ISO dates, dollar amounts, spreadsheet-safe text cells.
pub async fn export_csv(
    store: &Store,
    calendar: &BusinessCalendar,
    request: &DashboardRequest,
    now: Timestamp,
) -> Result<Vec<u8>, UseCaseError> {
    let today = calendar.today(now);
    let mut out = csv::Writer::from_writer(Vec::new());
    let export = Export { store, request, today };
    if request.tab == Tab::History {
        write_history(&mut out, &export).await?;
    } else {
        write_partner_rows(&mut out, &export).await?;
    }
    out.into_inner()
        .map_err(|e| UseCaseError::Internal(format!("CSV: {e}")))
}

/// What an export reads: the table, the request, the business day.
#[derive(Clone, Copy)]
struct Export<'a> {
    store: &'a Store,
    request: &'a DashboardRequest,
    today: CalendarDate,
}

/// An ISO date, or an empty cell.
fn date(d: Option<CalendarDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn csv_error(e: csv::Error) -> UseCaseError {
    UseCaseError::Internal(format!("CSV: {e}"))
}

/// The history tab: the partner's history, or the whole feed, page after page up to the tab's limit.
async fn write_history(out: &mut csv::Writer<Vec<u8>>, export: &Export<'_>) -> Result<(), UseCaseError> {
    let Export { store, request, today } = *export;
    out.write_record([
        "created_at",
        "partner_id",
        "event_type",
        "from_tier",
        "to_tier",
        "subscription_start",
        "subscription_end",
        "amount_paid_usd",
        "notes",
        "created_by",
    ])
    .map_err(csv_error)?;
    let mut page = PageRequest {
        limit: EXPORT_PAGE_ROWS,
        cursor: None,
    };
    let mut written = 0;
    loop {
        let got = match &request.partner_id {
            Some(id) => store.partner_history(id, request.event_type, &page).await?,
            None => history_feed(store, request.event_type, &page, today).await?,
        };
        for h in got.items {
            let tier = |t: Option<Tier>| t.map(|t| t.as_str().to_owned()).unwrap_or_default();
            out.write_record([
                h.created_at.to_string(),
                h.partner_id.to_string(),
                h.event_type.as_str().to_owned(),
                tier(h.from_tier),
                tier(h.to_tier),
                date(h.subscription_start),
                date(h.subscription_end),
                h.amount_paid.map(amount_cell).unwrap_or_default(),
                text_cell(h.notes.as_ref().map(|n| n.as_str()).unwrap_or("")).into_owned(),
                text_cell(&h.created_by.to_string()).into_owned(),
            ])
            .map_err(csv_error)?;
            written += 1;
        }
        match got.next_cursor {
            Some(next) if written < MAX_TAB_ROWS => page.cursor = Some(next),
            _ => break,
        }
    }
    Ok(())
}

/// A partners tab: one row per partner the request selects.
async fn write_partner_rows(out: &mut csv::Writer<Vec<u8>>, export: &Export<'_>) -> Result<(), UseCaseError> {
    let Export { store, request, today } = *export;
    out.write_record([
        "partner_id",
        "company_name",
        "tier",
        "tier_label",
        "monthly_price_usd",
        "subscription_start_date",
        "subscription_end_date",
        "days_left",
        "urgency",
        "subscription_status",
        "auto_renewal",
        "payment_status",
    ])
    .map_err(csv_error)?;
    for row in all_rows(store, request, today).await? {
        out.write_record([
            row.partner_id.to_string(),
            text_cell(&row.company_name).into_owned(),
            row.tier.as_str().to_owned(),
            row.tier_label.to_owned(),
            amount_cell(row.monthly_price_cents),
            date(row.subscription_start_date),
            date(row.subscription_end_date),
            row.days_left.map(|d| d.to_string()).unwrap_or_default(),
            row.urgency.as_str().to_owned(),
            row.subscription_status.as_str().to_owned(),
            row.auto_renewal.to_string(),
            row.payment_status.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        ])
        .map_err(csv_error)?;
    }
    Ok(())
}
