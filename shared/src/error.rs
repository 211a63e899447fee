//! The HTTP edge's errors: each maps to one status and one `application/problem+json` answer.
//! Use-cases answer with their own [`UseCaseError`]; [`From`] below decides its status.

use crate::auth::AuthError;
use crate::store::StoreError;
use crate::usecases::error::FieldError;
use crate::usecases::error::{summary, UseCaseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request could not be read at all (malformed JSON, bad cursor, bad query string).
    #[error("{0}")]
    BadRequest(String),
    /// 401 or 403.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 400: a webhook whose signature does not verify with the endpoint's secret.
    #[error("{0}")]
    SignatureRefused(String),
    /// 413: a body over [`crate::http::MAX_BODY_BYTES`].
    #[error("the request body is {size} bytes; at most {limit} are accepted")]
    PayloadTooLarge { size: usize, limit: usize },
    /// 401: a sign-in code that is unknown, used or expired (the detail says so; no token involved).
    #[error("{0}")]
    SignInRefused(String),
    /// 403: authenticated, but the request reaches for what the caller may not touch.
    #[error("{0}")]
    Forbidden(String),
    /// 404: an unknown partner or route.
    #[error("{0}")]
    NotFound(String),
    /// 405, with the methods the path does accept.
    #[error("{method} is not allowed on this route; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: &'static str },
    /// 409: a version conflict.
    #[error("{detail}")]
    Conflict {
        detail: String,
        current_version: Option<u64>,
    },
    /// 429: too many requests in the window; send again after `retry_after_seconds` (`Retry-After`).
    #[error("too many requests: at most {limit} a minute; try again in {retry_after_seconds} s")]
    TooManyRequests { limit: u32, retry_after_seconds: u32 },
    /// 415: a body that is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: values that are well-formed but not acceptable, field by field.
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldError>),
    /// 500: a fault of ours or of a dependency; the detail is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// 502: a service this depends on refused the request (Stripe's answer, shown as is).
    #[error("{0}")]
    BadGateway(String),
    /// 503: a dependency is unavailable; the caller should send the same request again later.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// 503: Stripe refused our key; the secrets are read again, so the same request may succeed
    /// in a minute.
    #[error("Stripe refused our credentials: {0}")]
    StripeKeyRefused(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) | AppError::SignatureRefused(_) => 400,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::Auth(e) if e.is_forbidden() => 403,
            AppError::Auth(_) | AppError::SignInRefused(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::MethodNotAllowed { .. } => 405,
            AppError::Conflict { .. } => 409,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Invalid(_) => 422,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal(_) => 500,
            AppError::BadGateway(_) => 502,
            AppError::Unavailable(_) | AppError::StripeKeyRefused(_) => 503,
        }
    }

    /// The secret this error says was refused, so that the entry point reads the secrets again.
    pub fn refused_secret(&self) -> Option<crate::secrets::SecretRefused> {
        use crate::secrets::SecretRefused;
        match self {
            AppError::Auth(AuthError::BadSignature) => Some(SecretRefused::SigningKey),
            AppError::SignatureRefused(_) => Some(SecretRefused::WebhookSecret),
            AppError::StripeKeyRefused(_) => Some(SecretRefused::StripeKey),
            _ => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> AppError {
        UseCaseError::from(err).into()
    }
}

impl From<UseCaseError> for AppError {
    fn from(err: UseCaseError) -> AppError {
        match err {
            UseCaseError::PartnerNotFound(_) | UseCaseError::NotFound(_) => AppError::NotFound(err.to_string()),
            UseCaseError::RateLimited {
                limit,
                retry_after_seconds,
            } => AppError::TooManyRequests {
                limit,
                retry_after_seconds,
            },
            UseCaseError::StaleVersion { current, .. } => AppError::Conflict {
                detail: err.to_string(),
                current_version: Some(current),
            },
            UseCaseError::Conflict {
                detail,
                current_version,
            } => AppError::Conflict {
                detail,
                current_version,
            },
            UseCaseError::Refused(refused) => AppError::Conflict {
                detail: refused.to_string(),
                current_version: None,
            },
            UseCaseError::Invalid(errors) => AppError::Invalid(errors),
            UseCaseError::BadCursor(e) => AppError::BadRequest(e.to_string()),
            UseCaseError::StripeRefused(why) => AppError::BadGateway(why),
            UseCaseError::Unavailable(why) => AppError::Unavailable(why),
            UseCaseError::StripeKeyRefused(why) => AppError::StripeKeyRefused(why),
            UseCaseError::Internal(why) => AppError::Internal(why),
        }
    }
}
