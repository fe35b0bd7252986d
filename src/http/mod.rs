//! Cross-cutting HTTP: request ids, extractor error handlers, the 404/405 fallback, pagination,
//! ETag/If-Match, JSON merge patch and input validation helpers.

pub mod access_log;
pub mod compress;
pub mod conditional;
pub mod document;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod pages;
pub mod pagination;
pub mod rate_limit;

pub mod by_ref;
pub mod request_id;
pub mod upload;

pub mod lang;
pub mod problem;
