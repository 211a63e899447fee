//! The per-partner limit on portal payment requests (upgrade, payment method, cancel, export,
//! erase): counted in the table, so it holds across Lambda instances.

use super::super::error::UseCaseError;
use crate::domain::partner::PartnerId;
use crate::domain::rate_limit::window_of;
use crate::store::rate_limit::RateCount;
use crate::store::Store;
use jiff::Timestamp;

/// Counts one payment request of `partner_id`; refused once `per_minute` were made this minute.
#[tracing::instrument(skip(store), err(Display))]
pub async fn count_payment_request(
    store: &Store,
    partner_id: &PartnerId,
    per_minute: u32,
    now: Timestamp,
) -> Result<(), UseCaseError> {
    let window = window_of(now);
    match store.count_request(partner_id, window, per_minute).await? {
        RateCount::Allowed => Ok(()),
        RateCount::Limited => Err(UseCaseError::RateLimited {
            limit: per_minute,
            retry_after_seconds: window.retry_after_seconds,
        }),
    }
}
