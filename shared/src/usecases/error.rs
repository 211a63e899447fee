//! Why a use-case could not do what it was asked, in the use-case's own terms. Use-cases never decide
//! an HTTP status: the edge (`crate::error::AppError`) maps each of these to one.

use crate::domain::partner::PartnerId;
use crate::domain::subscription::SubscriptionError;
use crate::store::cursor::InvalidCursor;
use crate::store::StoreError;
use crate::stripe::client::StripeCallError;
use serde::Serialize;

/// One input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl ToString) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

pub(crate) fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error("partner {0} does not exist")]
    PartnerNotFound(PartnerId),
    /// Something the request names does not exist (or is not the caller's to see).
    #[error("{0}")]
    NotFound(String),
    /// The caller made `limit` requests of this kind in the current window already.
    #[error("at most {limit} requests a minute; try again in {retry_after_seconds} s")]
    RateLimited { limit: u32, retry_after_seconds: u32 },
    /// The caller planned on another version of the partner.
    #[error("partner {partner} is at version {current}, not the expected version {expected}; reload it and try again")]
    StaleVersion {
        partner: PartnerId,
        current: u64,
        expected: u64,
    },
    /// The partner's state does not allow the action (another writer won a race, a live
    /// subscription exists, ...); `current_version` when it is known.
    #[error("{detail}")]
    Conflict {
        detail: String,
        current_version: Option<u64>,
    },
    /// The subscription rules refuse the action in the partner's state.
    #[error(transparent)]
    Refused(#[from] SubscriptionError),
    /// Values that are well-formed but not acceptable, field by field.
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldError>),
    /// A cursor that this listing did not hand out.
    #[error(transparent)]
    BadCursor(#[from] InvalidCursor),
    /// Stripe answered and refused (its reason, as it gave it).
    #[error("{0}")]
    StripeRefused(String),
    /// Stripe refused our API key (401): it was rolled or revoked; the secrets are read again.
    #[error("{0}")]
    StripeKeyRefused(String),
    /// A dependency did not answer; the same request may succeed later.
    #[error("{0}")]
    Unavailable(String),
    /// A fault of ours or of a dependency that retrying will not fix.
    #[error("{0}")]
    Internal(String),
}

impl UseCaseError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> UseCaseError {
        UseCaseError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StripeCallError> for UseCaseError {
    fn from(err: StripeCallError) -> UseCaseError {
        match err {
            StripeCallError::Unavailable(why) => UseCaseError::Unavailable(why),
            StripeCallError::IdempotencyConflict(why) => {
                UseCaseError::Unavailable(format!("{why} (the request's outcome is unknown; it is retried)"))
            }
            refused @ StripeCallError::Refused { status: 401, .. } => {
                UseCaseError::StripeKeyRefused(refused.to_string())
            }
            refused @ StripeCallError::Refused { .. } => UseCaseError::StripeRefused(refused.to_string()),
            other => UseCaseError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for UseCaseError {
    fn from(err: StoreError) -> UseCaseError {
        match err {
            StoreError::VersionConflict => UseCaseError::Conflict {
                detail: "the partner was changed by another request; reload it and try again".into(),
                current_version: None,
            },
            StoreError::InvalidCursor(e) => UseCaseError::BadCursor(e),
            other => UseCaseError::Internal(other.to_string()),
        }
    }
}

pub fn not_found(id: &PartnerId) -> UseCaseError {
    UseCaseError::PartnerNotFound(id.clone())
}
