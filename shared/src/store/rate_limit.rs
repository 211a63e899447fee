//! Request counters for per-partner rate limits (`domain::rate_limit`): one item per partner and
//! window (`RATE#<partner>` / `<window start>`), counted with one conditional `UpdateItem` and removed
//! by TTL, so the limit holds across every Lambda instance.

use super::items::{number_attr, string_attr};
use super::keys::{EXPIRES_AT, PK, SK};
use super::{dynamo_error, update_condition_failed, Store, StoreError};
use crate::domain::partner::PartnerId;
use crate::domain::rate_limit::Window;

/// Whether a request fits in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateCount {
    Allowed,
    /// The window is full.
    Limited,
}

/// How long after its window a counter is kept (TTL deletes it later still).
const COUNTER_TTL_SECONDS: i64 = 3_600;

pub fn rate_pk(id: &PartnerId) -> String {
    format!("RATE#{id}")
}

impl Store {
    /// Counts one request of `id` in `window`, unless `limit` requests were counted there already.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn count_request(&self, id: &PartnerId, window: Window, limit: u32) -> Result<RateCount, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, string_attr(rate_pk(id)))
            .key(SK, string_attr(window.start.to_string()))
            .update_expression("ADD requests :one SET #expires = :expires")
            .condition_expression("attribute_not_exists(requests) OR requests < :limit")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", number_attr(1))
            .expression_attribute_values(":limit", number_attr(limit))
            .expression_attribute_values(":expires", number_attr(window.start.as_second() + COUNTER_TTL_SECONDS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(RateCount::Allowed),
            Err(err) if update_condition_failed(&err) => Ok(RateCount::Limited),
            Err(err) => Err(dynamo_error(err)),
        }
    }
}
