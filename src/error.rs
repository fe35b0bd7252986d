//! The one error type of the HTTP surface, rendered as RFC 9457 `application/problem+json`.
//!
//! This is the only place where error statuses are chosen. The type itself knows nothing of
//! actix or the database: `crate::http::problem` renders it, `crate::db::error` maps database
//! errors into it, and domain validation findings (`Violation`) convert with `From`. Every
//! 4xx caused by the request lists what is wrong in `errors[{field, in, code, message}]`;
//! titles, details and messages come in the request's language from `domain::texts`.
//!
//!
//! | cause | status | `code` |
//! |---|---|---|
//! | no/invalid token | 401 + `WWW-Authenticate: Bearer` | `unauthenticated` |
//! | role not allowed | 403 | `forbidden` |
//! | not found or other tenant | 404 | `not_found` |
//! | wrong method on a known path | 405 + `Allow` | `method_not_allowed` |
//! | malformed JSON, a parameter or header that does not parse | 400 + `errors[]` | `bad_request` |
//! | wrong content type | 415 + `errors[]` | `unsupported_media_type` |
//! | well-formed but unacceptable body or parameter | 422 + `errors[]` | `validation_failed` |
//! | conflict (duplicate) | 409 | `conflict` |
//! | a repeat while the first request with its `Idempotency-Key` runs | 409 + `Retry-After` | `idempotency_key_in_use` |
//! | stale If-Match | 412 | `precondition_failed` |
//! | body too large | 413 | `payload_too_large` |
//! | over the user's or tenant's request rate | 429 + `Retry-After` | `rate_limited` |
//! | database unavailable / pool timeout | 503 + `Retry-After` | `unavailable` |
//! | anything else | 500, no detail | `internal` |

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::playbook::Lang;
use crate::domain::texts::{self, Text};
use crate::domain::validate::{Code, In, Violation};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One thing wrong with the request: where it is, a stable code, and a message in the request's
/// language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// A JSON pointer into the body (`/name`, `/tags/2`; `""` is the whole body), or the name
    /// of the query parameter, path parameter or header.
    #[schema(example = "/name")]
    pub field: String,
    /// Where `field` is.
    #[serde(rename = "in")]
    #[schema(example = "body")]
    pub in_: FieldLocation,
    /// What is wrong, as a stable code to localise from.
    #[schema(example = "required")]
    pub code: FieldCode,
    /// What is wrong, in the request's language (`lang`, then `Accept-Language`; zh by default).
    #[schema(example = "is required and must not be blank or removed")]
    pub message: String,
}

/// Where a `FieldError` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldLocation {
    Body,
    Query,
    Path,
    Header,
}

/// The code of a `FieldError` (one of the codes the document lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldCode(pub &'static str);

impl utoipa::PartialSchema for FieldCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Code::ALL.iter().copied()))
            .description(Some(
                "What is wrong: `required`, `too_long`, `too_short`, `too_many`, `too_few`, \
                 `too_large`, `invalid_characters`, `invalid_format`, `invalid_type`, \
                 `unknown_value`, `unknown_field`, `out_of_range`, `too_precise`, \
                 `not_in_account`, `not_found`, `archived`, `unknown_code`, `read_only`, `not_assessable`, \
                 `duplicate`, `cycle`, `private_address`, `requires`, `not_before`, `not_below`, `not_allowed`, \
                 `taken`, `fixed`, `missing_column`, `not_increasing`, `key_reused`, `in_use`, `stale`, `invalid_token`, `unsupported_type`.",
            ))
            .into()
    }
}

impl ToSchema for FieldCode {}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference identifying the problem type.
    #[schema(example = "https://buyerpath.dev/problems/validation_failed")]
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the problem type, in the request's language.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What happened this time, in the request's language.
    pub detail: String,
    /// Stable, machine-readable error code.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// What is wrong with the request, one item per field, parameter or header (every 400,
    /// 401, 409 `idempotency_key_in_use` and `external_ref_taken`, 412, 413, 415 and 422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The resource's current version (412 only): `If-Match` it after reading the resource
    /// again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i32>,
    /// The resource that holds the reference (409 `external_ref_taken` only): its path.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/v1/accounts/0193a1d2-7c4e-7b3a-9f10-2c5d8e4f6a7b")]
    pub held_by: Option<String>,
}

/// Every error a handler can return. Texts a person reads are `Text` (zh and en, from
/// `domain::texts`); `Display` (the log) is English.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthenticated: {}", .0.code)]
    Unauthenticated(Box<Violation>),
    #[error("forbidden: {}", .0.en)]
    Forbidden(Text),
    #[error("not found: {}", .0.en)]
    NotFound(Text),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    /// Malformed syntax: JSON that does not parse, a parameter or header that does not.
    #[error("bad request: {}", fields(.0))]
    BadRequest(Vec<Violation>),
    #[error("unsupported media type")]
    UnsupportedMediaType(Box<Violation>),
    /// Well-formed but unacceptable.
    #[error("validation failed: {}", fields(.0))]
    Validation(Vec<Violation>),
    #[error("conflict: {}", .0.en)]
    Conflict(Text),
    /// A reference of another system that another resource holds (`key`: `system:id`;
    /// `held_by`: its path, when known).
    #[error("external reference {key} taken (held by {held_by:?})")]
    ExternalRefTaken {
        violation: Box<Violation>,
        key: String,
        held_by: Option<String>,
    },
    /// A repeat of a request whose first run has not finished (`Idempotency-Key`): retry after
    /// a second.
    #[error("idempotency key in use")]
    KeyInUse,
    #[error("precondition failed (current version {current_version:?})")]
    PreconditionFailed {
        /// The resource's version now (sent as `current_version` and as the `ETag` header).
        current_version: Option<i32>,
    },
    #[error("payload too large: {}", .0.code)]
    PayloadTooLarge(Box<Violation>),
    #[error("rate limited: {}", .detail.en)]
    RateLimited { detail: Text, retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything unexpected: the client sees an opaque 500; the log (this error's `Display`)
    /// the whole chain of causes.
    #[error("internal error: {}", chain(.0.as_ref()))]
    Internal(#[source] Cause),
}

/// `field (code), …` for the log.
fn fields(errors: &[Violation]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|v| format!("{} ({})", v.path, v.code.as_str()))
        .collect();
    parts.join(", ")
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

/// A body member (`a.b[2]`, or already a pointer `/a/b/2`) as a JSON pointer; other
/// locations keep their names.
pub fn pointer(v: &Violation) -> String {
    let p = v.path.as_str();
    if v.location != In::Body || p.starts_with('/') || p.contains('!') {
        return p.to_string();
    }
    if p.is_empty() || p == "body" {
        return String::new();
    }
    let mut out = String::new();
    for part in p.split('.') {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            out.push('/');
            out.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        while let Some((index, after)) = rest.split_once(']') {
            out.push('/');
            out.push_str(index);
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    out
}

impl ApiError {
    /// A 422 for one body member.
    pub fn validation(field: impl Into<String>, code: Code) -> Self {
        ApiError::Validation(vec![Violation::new(field, code)])
    }

    /// A 400 for one parameter or header that does not parse.
    pub fn malformed(location: In, name: impl Into<String>, code: Code) -> Self {
        ApiError::BadRequest(vec![Violation::at(location, name, code)])
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
            ApiError::ExternalRefTaken { .. } => "external_ref_taken",
            ApiError::KeyInUse => "idempotency_key_in_use",
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
            ApiError::Conflict(_) | ApiError::KeyInUse | ApiError::ExternalRefTaken { .. } => 409,
            ApiError::PreconditionFailed { .. } => 412,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::RateLimited { .. } => 429,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    /// What the request did wrong, field by field.
    fn violations(&self) -> Vec<Violation> {
        match self {
            ApiError::Unauthenticated(v)
            | ApiError::UnsupportedMediaType(v)
            | ApiError::PayloadTooLarge(v)
            | ApiError::ExternalRefTaken { violation: v, .. } => vec![v.as_ref().clone()],
            ApiError::BadRequest(errors) | ApiError::Validation(errors) => errors.clone(),
            ApiError::KeyInUse => vec![Violation::at(In::Header, "Idempotency-Key", Code::InUse)],
            ApiError::PreconditionFailed { .. } => {
                vec![Violation::at(In::Header, "If-Match", Code::Stale)]
            }
            _ => Vec::new(),
        }
    }

    /// What the client may see. Internal and unavailable errors stay opaque.
    fn public_detail(&self) -> Text {
        match self {
            ApiError::Forbidden(d) | ApiError::NotFound(d) | ApiError::Conflict(d) => d.clone(),
            ApiError::RateLimited { detail, .. } => detail.clone(),
            ApiError::KeyInUse => texts::key_in_use(),
            ApiError::ExternalRefTaken { key, held_by, .. } => {
                texts::external_ref_taken(key, held_by.as_deref())
            }
            ApiError::PreconditionFailed { current_version } => texts::stale(*current_version),
            ApiError::MethodNotAllowed { allow } => texts::method_not_allowed(allow),
            ApiError::Unavailable(_) => texts::unavailable(),
            ApiError::Internal(_) => texts::internal(),
            _ => {
                let names: Vec<String> = self
                    .violations()
                    .iter()
                    .map(|v| match pointer(v) {
                        p if p.is_empty() => "body".to_string(),
                        p => p,
                    })
                    .collect();
                texts::invalid_fields(&names)
            }
        }
    }

    /// The problem document in `lang`.
    pub fn problem(&self, lang: Lang) -> Problem {
        let code = self.code();
        let errors: Vec<FieldError> = self
            .violations()
            .iter()
            .map(|v| FieldError {
                field: pointer(v),
                in_: match v.location {
                    In::Body => FieldLocation::Body,
                    In::Query => FieldLocation::Query,
                    In::Path => FieldLocation::Path,
                    In::Header => FieldLocation::Header,
                },
                code: FieldCode(v.code.as_str()),
                message: texts::violation(&v.code).get(lang).to_string(),
            })
            .collect();
        Problem {
            type_: format!("https://buyerpath.dev/problems/{code}"),
            title: texts::title(code).get(lang).to_string(),
            status: self.status(),
            detail: self.public_detail().get(lang).to_string(),
            code: code.to_string(),
            errors: (!errors.is_empty()).then_some(errors),
            current_version: match self {
                ApiError::PreconditionFailed { current_version } => *current_version,
                _ => None,
            },
            held_by: match self {
                ApiError::ExternalRefTaken { held_by, .. } => held_by.clone(),
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
