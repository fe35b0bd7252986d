//! Versions as ETags, and `If-Match` preconditions.

use std::future::{ready, Ready};

use actix_web::http::header::IF_MATCH;
use actix_web::{FromRequest, HttpRequest};

use crate::error::ApiError;
use crate::service::Precondition;

/// The strong ETag of a resource version: `"<version>"`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// Parses `If-Match` into the version the client expects. A tag that is not one of ours (a
/// weak tag, another server's) can never match.
pub fn parse_if_match(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let mut versions = Vec::new();
    let mut seen = false;
    let mut any_tag = false;
    for v in req.headers().get_all(IF_MATCH) {
        seen = true;
        let s = v
            .to_str()
            .map_err(|_| ApiError::BadRequest("malformed If-Match header".to_string()))?;
        for tag in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Ok(Precondition::Any);
            }
            any_tag = true;
            if let Some(n) = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|t| t.parse::<i32>().ok())
            {
                versions.push(n);
            }
        }
    }
    match (seen, any_tag) {
        (false, _) => Ok(Precondition::None),
        (true, false) => Err(ApiError::BadRequest(
            "malformed If-Match header".to_string(),
        )),
        (true, true) => Ok(Precondition::Versions(versions)),
    }
}

impl FromRequest for Precondition {
    type Error = ApiError;
    type Future = Ready<Result<Precondition, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(parse_if_match(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(v: Option<&str>) -> Result<Precondition, ApiError> {
        let mut r = TestRequest::default();
        if let Some(v) = v {
            r = r.insert_header((IF_MATCH, v));
        }
        parse_if_match(&r.to_http_request())
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
