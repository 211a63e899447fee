//! `GET /admin/metrics`: the business figures of a window of days.

use super::Answered;
use crate::App;
use shared::domain::dates::CalendarDate;
use shared::http::Done;
use shared::usecases::metrics::{business_metrics, BusinessMetrics};

/// `GET /admin/metrics?from=&to=`
pub(super) async fn metrics(app: &App, (from, to): (CalendarDate, CalendarDate)) -> Answered<Done<BusinessMetrics>> {
    Ok(Done(
        Box::pin(business_metrics(&app.store, &app.calendar, from, to)).await?,
    ))
}
