//! Renewing terms by hand: one partner, or a list of them with a result per id.

use super::apply_change::{apply_change, Outcome};
use super::error::UseCaseError;
use crate::domain::dates::CalendarDate;
use crate::domain::history_and_audit::Actor;
use crate::domain::partner::{Partner, PartnerId};
use crate::domain::subscription::{SubscriptionError, MAX_RENEWAL_MONTHS};
use crate::domain::subscription_changes::renewal_change;
use crate::store::Store;
use jiff::Timestamp;
use serde::Serialize;

/// What became of one id of a bulk renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStatus {
    Renewed,
    NotFound,
    /// A free partner: there is no paid term to renew.
    NotSubscribed,
    /// Billed through Stripe: its paid invoices renew the term.
    BilledByStripe,
    InvalidId,
    Failed,
}

/// A renewal's result for one requested id.
#[derive(Debug, Clone, Serialize)]
pub struct RenewalResult {
    pub partner_id: String,
    pub status: RenewalStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_end_date: Option<CalendarDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Renews one partner's term by `months` (history `renewal`, `SubscriptionRenewed`).
pub async fn renew_subscription(
    store: &Store,
    id: &PartnerId,
    months: u8,
    actor: &Actor,
    now: Timestamp,
) -> Result<Partner, UseCaseError> {
    let outcome = apply_change(store, id, actor, None, now, |current| {
        Ok(renewal_change(current, months, actor, now)?)
    })
    .await?;
    match outcome {
        Outcome::Applied(applied) => Ok(applied.after),
        Outcome::Unchanged(current) => Ok(current),
    }
}

/// Renews each listed partner on its own; unknown ids and free partners are reported, not fatal.
pub async fn bulk_renew(
    store: &Store,
    ids: &[String],
    months: u8,
    actor: &Actor,
    now: Timestamp,
) -> Vec<RenewalResult> {
    let mut results = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::new();
    for raw in ids {
        if !seen.insert(raw.clone()) {
            continue;
        }
        let result = |status, end, message| RenewalResult {
            partner_id: raw.clone(),
            status,
            subscription_end_date: end,
            message,
        };
        let Ok(id) = PartnerId::parse(raw) else {
            results.push(result(
                RenewalStatus::InvalidId,
                None,
                Some("not a partner id".to_owned()),
            ));
            continue;
        };
        results.push(match renew_subscription(store, &id, months, actor, now).await {
            Ok(partner) => result(RenewalStatus::Renewed, partner.subscription_end_date, None),
            Err(err @ UseCaseError::PartnerNotFound(_)) => result(RenewalStatus::NotFound, None, Some(err.to_string())),
            Err(UseCaseError::Refused(refused @ SubscriptionError::NotSubscribed(..))) => {
                result(RenewalStatus::NotSubscribed, None, Some(refused.to_string()))
            }
            Err(UseCaseError::Refused(refused @ SubscriptionError::BilledByStripe(_))) => {
                result(RenewalStatus::BilledByStripe, None, Some(refused.to_string()))
            }
            Err(err) => {
                tracing::warn!(partner_id = %id, error = %err, "renewal failed");
                result(RenewalStatus::Failed, None, Some(err.to_string()))
            }
        });
    }
    results
}

/// The renewal length: 12 months unless given, 1 to 36.
pub fn renewal_months(months: Option<i64>) -> Result<u8, String> {
    match months {
        None => Ok(12),
        Some(m) if (1..=i64::from(MAX_RENEWAL_MONTHS)).contains(&m) => Ok(m as u8),
        Some(_) => Err(format!("must be a whole number from 1 to {MAX_RENEWAL_MONTHS}")),
    }
}
