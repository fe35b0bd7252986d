//! Versions as ETags, and `If-Match` preconditions.

use std::future::{ready, Ready};

use actix_web::http::header::IF_MATCH;
use actix_web::{FromRequest, HttpRequest};

use crate::error::ApiError;

/// The strong ETag of a resource version: `"<version>"`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The request's `If-Match` precondition (an extractor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: the change is unconditional.
    Absent,
    /// `*`: any existing version.
    Any,
    /// A list of entity tags, as sent.
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn parse(req: &HttpRequest) -> Result<IfMatch, ApiError> {
        let mut tags = Vec::new();
        let mut seen = false;
        for v in req.headers().get_all(IF_MATCH) {
            seen = true;
            let s = v
                .to_str()
                .map_err(|_| ApiError::BadRequest("malformed If-Match header".to_string()))?;
            for tag in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return Ok(IfMatch::Any);
                }
                tags.push(tag.to_string());
            }
        }
        match (seen, tags.is_empty()) {
            (false, _) => Ok(IfMatch::Absent),
            (true, true) => Err(ApiError::BadRequest(
                "malformed If-Match header".to_string(),
            )),
            (true, false) => Ok(IfMatch::Tags(tags)),
        }
    }

    /// Passes when the precondition holds for `current_version`. Weak tags never match
    /// (RFC 9110 strong comparison).
    pub fn check(&self, current_version: i32) -> Result<(), ApiError> {
        let current = etag(current_version);
        match self {
            IfMatch::Absent | IfMatch::Any => Ok(()),
            IfMatch::Tags(tags) if tags.contains(&current) => Ok(()),
            IfMatch::Tags(_) => Err(ApiError::PreconditionFailed(format!(
                "the resource has changed; its current ETag is {current}"
            ))),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<IfMatch, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(IfMatch::parse(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(v: Option<&str>) -> Result<IfMatch, ApiError> {
        let mut r = TestRequest::default();
        if let Some(v) = v {
            r = r.insert_header((IF_MATCH, v));
        }
        IfMatch::parse(&r.to_http_request())
    }

    #[test]
    fn if_match_rules() {
        assert!(with(None).unwrap().check(3).is_ok(), "absent header passes");
        assert!(with(Some("\"3\"")).unwrap().check(3).is_ok());
        assert!(matches!(
            with(Some("\"2\"")).unwrap().check(3),
            Err(ApiError::PreconditionFailed(_))
        ));
        assert!(with(Some("\"1\", \"3\"")).unwrap().check(3).is_ok());
        assert!(with(Some("*")).unwrap().check(9).is_ok());
        assert!(
            with(Some("W/\"3\"")).unwrap().check(3).is_err(),
            "weak tags never match"
        );
        assert!(with(Some(" , ")).is_err());
    }
}
