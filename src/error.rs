//! The one error type of the HTTP surface, rendered as RFC 9457 `application/problem+json`.
//!
//! This is the only place where error statuses are chosen:
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
//! | stale If-Match | 412 | `precondition_failed` |
//! | body too large | 413 | `payload_too_large` |
//! | database unavailable / pool timeout | 503 + `Retry-After` | `unavailable` |
//! | anything else | 500, no detail | `internal` |

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

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
    Validation(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
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
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
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
            ApiError::PreconditionFailed(_) => "Precondition failed",
            ApiError::PayloadTooLarge(_) => "Payload too large",
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
            | ApiError::PreconditionFailed(d)
            | ApiError::PayloadTooLarge(d) => d.clone(),
            ApiError::MethodNotAllowed { allow } => {
                format!("this resource supports: {}", allow.join(", "))
            }
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
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
            status: self.status_code().as_u16(),
            detail: self.public_detail(),
            code: code.to_string(),
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            ApiError::Unauthenticated(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"buyerpath\""),
                ));
            }
            ApiError::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    res.insert_header((header::ALLOW, v));
                }
            }
            ApiError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_else(|_| b"{}".to_vec());
        res.body(body)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => ApiError::NotFound("resource not found".into()),
            E::DatabaseError(kind, info) => {
                let msg = info.message().to_string();
                let constraint = info.constraint_name().unwrap_or("").to_string();
                match kind {
                    K::UniqueViolation => {
                        ApiError::Conflict("a resource with these values already exists".into())
                    }
                    K::ForeignKeyViolation => ApiError::validation(
                        constraint_field(&constraint),
                        "refers to a resource that does not exist",
                    ),
                    K::CheckViolation | K::NotNullViolation => {
                        ApiError::validation(constraint_field(&constraint), "value is not allowed")
                    }
                    K::ClosedConnection | K::UnableToSendCommand => ApiError::Unavailable(msg),
                    K::SerializationFailure => ApiError::Unavailable(msg),
                    _ if is_unavailable_message(&msg) => ApiError::Unavailable(msg),
                    _ => ApiError::Internal(format!("database error: {msg}")),
                }
            }
            other => ApiError::Internal(format!("database error: {other}")),
        }
    }
}

/// Messages of SQLSTATE classes 08/53/57 (connection, resources, operator intervention) and
/// lock/statement timeouts, which diesel-async reports with an `Unknown` kind.
fn is_unavailable_message(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    [
        "statement timeout",
        "lock timeout",
        "terminating connection",
        "the database system is",
        "too many connections",
        "connection",
        "out of memory",
        "could not obtain lock",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Maps a constraint name like `contacts_reports_to_fkey` to the field it guards.
fn constraint_field(constraint: &str) -> String {
    let trimmed = constraint
        .trim_end_matches("_fkey")
        .trim_end_matches("_check")
        .trim_end_matches("_not_null");
    // Postgres names constraints `<table>_<column>_<kind>`; the longest matching table wins
    // (`survey_inventory_items_` over a shorter prefix).
    let table = crate::db::TABLES
        .iter()
        .filter(|t| {
            trimmed.len() > t.len()
                && trimmed.starts_with(*t)
                && trimmed.as_bytes()[t.len()] == b'_'
        })
        .max_by_key(|t| t.len());
    if let Some(t) = table {
        return trimmed[t.len() + 1..].to_string();
    }
    if trimmed.is_empty() {
        "body".to_string()
    } else {
        trimmed.to_string()
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(e: crate::db::PoolError) -> Self {
        ApiError::Unavailable(format!("database pool: {e}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_json(e: &ApiError) -> serde_json::Value {
        let res = e.error_response();
        let bytes = res.into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn internal_errors_are_opaque() {
        let e = ApiError::Internal("password=secret in SQL".into());
        let v = body_json(&e);
        assert_eq!(v["status"], 500);
        assert_eq!(v["code"], "internal");
        assert!(!v["detail"].as_str().unwrap().contains("secret"));
    }

    #[test]
    fn unavailable_sets_retry_after() {
        let res = ApiError::Unavailable("pool timeout".into()).error_response();
        assert_eq!(res.status(), 503);
        assert!(res.headers().get(header::RETRY_AFTER).is_some());
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }

    #[test]
    fn validation_lists_fields() {
        let e = ApiError::Validation(vec![
            FieldError::new("name", "must not be empty"),
            FieldError::new("tags[1]", "too long"),
        ]);
        let v = body_json(&e);
        assert_eq!(v["status"], 422);
        assert_eq!(v["errors"][1]["field"], "tags[1]");
        assert!(v["detail"].as_str().unwrap().contains("name"));
    }

    #[test]
    fn unauthenticated_has_www_authenticate() {
        let res = ApiError::Unauthenticated("x".into()).error_response();
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_some());
    }

    #[test]
    fn method_not_allowed_has_allow() {
        let res = ApiError::MethodNotAllowed {
            allow: vec!["GET".into(), "POST".into()],
        }
        .error_response();
        assert_eq!(res.headers().get(header::ALLOW).unwrap(), "GET, POST");
    }

    #[test]
    fn constraint_names_map_to_fields() {
        assert_eq!(constraint_field("contacts_reports_to_fkey"), "reports_to");
        assert_eq!(constraint_field("accounts_name_check"), "name");
        assert_eq!(
            constraint_field("survey_records_surveyor_check"),
            "surveyor"
        );
        assert_eq!(
            constraint_field("survey_inventory_items_quantity_check"),
            "quantity"
        );
        assert_eq!(
            constraint_field("opportunities_tenant_id_account_id_fkey"),
            "tenant_id_account_id"
        );
        assert_eq!(constraint_field(""), "body");
    }
}
