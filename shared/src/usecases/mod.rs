//! Use-cases: one function per thing a caller can ask for. Handlers decode their trigger, call one
//! of these, and encode the result.

pub mod partners;
pub mod seed;
pub mod tier_changes;
pub mod views;

use std::time::Duration;

/// How often a write planned on stale data is re-planned on fresh data before answering 409.
pub const MAX_WRITE_ATTEMPTS: u32 = 4;

/// Waits before retrying after a version conflict: 10, 20, 40 ms plus up to as much again of jitter,
/// so that concurrent writers spread out.
pub async fn conflict_backoff(attempt: u32) {
    let base = 10u64 << attempt.min(6);
    let jitter = (crate::ids::next_id().random() as u64) % (base + 1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}
