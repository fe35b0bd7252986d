//! The one error type of the HTTP surface, rendered as RFC 9457 `application/problem+json`.
//!
//! This is the only place where error statuses are chosen. The type itself knows nothing of
//! actix or the database: `crate::http::problem` renders it, `crate::db::error` maps database
//! errors into it, and domain validation findings (`Violation`) convert with `From`.
//!
//!
//! | cause | status | `code` |
//! |---|---|---|
//! | no/invalid token | 401 + `WWW-Authenticate: Bearer` | `unauthenticated` |
//! | role not allowed | 403 | `forbidden` |
//! | not found or other tenant | 404 | `not_found` |
//! | wrong method on a known path | 405 + `Allow` | `method_not_allowed` |
//! | malformed JSON / bad query or path | 400 | `bad_request` |
//! | wrong content type | 415 | `unsupported_media_type` |
//! | semantic validation | 422 + `errors[{field, message}]` | `validation_failed` |
//! | conflict (duplicate) | 409 | `conflict` |
//! | a repeat while the first request with its `Idempotency-Key` runs | 409 + `Retry-After` | `idempotency_key_in_use` |
//! | stale If-Match | 412 | `precondition_failed` |
//! | body too large | 413 | `payload_too_large` |
//! | over the user's or tenant's request rate | 429 + `Retry-After` | `rate_limited` |
//! | database unavailable / pool timeout | 503 + `Retry-After` | `unavailable` |
//! | anything else | 500, no detail | `internal` |

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::validate::Violation;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field-level validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `name` or `tags[2]`.
    #[schema(example = "name")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "must not be empty")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference identifying the problem type.
    #[schema(example = "https://buyerpath.dev/problems/validation_failed")]
    #[serde(rename = "type")]
    pub type_: String,
    /// Short, human-readable summary of the problem type.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// Stable, machine-readable error code.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Field errors (validation problems only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The resource's current version (412 only): `If-Match` it after reading the resource
    /// again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i32>,
}

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed: {0:?}")]
    Validation(Vec<Violation>),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A repeat of a request whose first run has not finished (`Idempotency-Key`): retry after
    /// a second.
    #[error("idempotency key in use: {0}")]
    KeyInUse(String),
    #[error("precondition failed: {detail}")]
    PreconditionFailed {
        detail: String,
        /// The resource's version now (sent as `current_version` and as the `ETag` header).
        current_version: Option<i32>,
    },
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("rate limited: {detail}")]
    RateLimited {
        detail: String,
        retry_after_secs: u64,
    },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything unexpected: the client sees an opaque 500; the log (this error's `Display`)
    /// the whole chain of causes.
    #[error("internal error: {}", chain(.0.as_ref()))]
    Internal(#[source] Cause),
}

/// `cause: its cause: …`.
fn chain(cause: &(dyn std::error::Error + 'static)) -> String {
    let mut line = cause.to_string();
    let mut next = cause.source();
    while let Some(c) = next {
        line.push_str(": ");
        line.push_str(&c.to_string());
        next = c.source();
    }
    line
}

/// What caused an internal error, kept with its own causes for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A cause with what was being done when it happened ("database error", "stored opportunity
/// 0190… cannot be read").
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
struct Context {
    context: String,
    #[source]
    source: Cause,
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![Violation::new(field, message)])
    }

    /// An internal error caused by `e` (an error, or a message).
    pub fn internal(e: impl Into<Cause>) -> Self {
        ApiError::Internal(e.into())
    }

    /// An internal error caused by `e` while doing `context`.
    pub fn internal_in(context: impl Into<String>, e: impl Into<Cause>) -> Self {
        ApiError::Internal(Box::new(Context {
            context: context.into(),
            source: e.into(),
        }))
    }

    /// The stable `code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Validation(_) => "validation_failed",
            ApiError::Conflict(_) => "conflict",
            ApiError::KeyInUse(_) => "idempotency_key_in_use",
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthenticated(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::BadRequest(_) => 400,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Validation(_) => 422,
            ApiError::Conflict(_) | ApiError::KeyInUse(_) => 409,
            ApiError::PreconditionFailed { .. } => 412,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::RateLimited { .. } => 429,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "Authentication required",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::BadRequest(_) => "Bad request",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::Validation(_) => "Validation failed",
            ApiError::Conflict(_) => "Conflict",
            ApiError::KeyInUse(_) => "Idempotency key in use",
            ApiError::PreconditionFailed { .. } => "Precondition failed",
            ApiError::PayloadTooLarge(_) => "Payload too large",
            ApiError::RateLimited { .. } => "Too many requests",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    /// What the client may see. Internal and unavailable errors stay opaque.
    fn public_detail(&self) -> String {
        match self {
            ApiError::Unauthenticated(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::BadRequest(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Conflict(d)
            | ApiError::KeyInUse(d)
            | ApiError::PreconditionFailed { detail: d, .. }
            | ApiError::PayloadTooLarge(d)
            | ApiError::RateLimited { detail: d, .. } => d.clone(),
            ApiError::MethodNotAllowed { allow } => {
                format!("this resource supports: {}", allow.join(", "))
            }
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
                format!("invalid fields: {}", fields.join(", "))
            }
            ApiError::Unavailable(_) => {
                "the database is temporarily unavailable; retry later".to_string()
            }
            ApiError::Internal(_) => {
                "an unexpected error occurred; it has been logged with the request id".to_string()
            }
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            type_: format!("https://buyerpath.dev/problems/{code}"),
            title: self.title().to_string(),
            status: self.status(),
            detail: self.public_detail(),
            code: code.to_string(),
            errors: match self {
                ApiError::Validation(errors) => Some(
                    errors
                        .iter()
                        .map(|v| FieldError::new(v.path.clone(), v.message.clone()))
                        .collect(),
                ),
                _ => None,
            },
            current_version: match self {
                ApiError::PreconditionFailed {
                    current_version, ..
                } => *current_version,
                _ => None,
            },
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Vec<Violation>> for ApiError {
    fn from(v: Vec<Violation>) -> Self {
        ApiError::Validation(v)
    }
}
