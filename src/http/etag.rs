//! Versions as ETags, and `If-Match` preconditions.

use std::future::{ready, Ready};

use actix_web::http::header::IF_MATCH;
use actix_web::{FromRequest, HttpRequest};

use crate::domain::validate::{Code, Format, In};
use crate::error::ApiError;
use crate::service::Precondition;

/// The strong ETag of a resource version: `"<version>"`, for bodies that follow from the
/// stored version alone.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The strong ETag of a representation computed beyond the stored version (texts in a language,
/// figures from related records): `"<version>-<digest of the body sent>"`. `If-Match` compares
/// the version part: a precondition is about the stored resource.
pub fn representation_etag(version: i32, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{version}-{hex}\"")
}

/// The version an entity tag of ours names: `"3"`, `"3-<digest>"`, or a bare `3`.
fn version_of(tag: &str) -> Option<i32> {
    let inner = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    let version = match inner.split_once('-') {
        Some((v, digest))
            if digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            v
        }
        Some(_) => return None,
        None => inner,
    };
    if version.is_empty() || version.len() > 9 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    version.parse().ok()
}

/// Whether `If-None-Match` (weak comparison, RFC 9110 §13.1.2) matches the response's `etag`.
/// A malformed header matches nothing.
pub fn none_match(header: &str, etag: &str) -> bool {
    if header.trim() == "*" {
        return true;
    }
    let opaque = |t: &str| t.strip_prefix("W/").unwrap_or(t).to_string();
    let ours = opaque(etag.trim());
    split_tags(header)
        .into_iter()
        .filter(|t| is_entity_tag(t))
        .any(|t| opaque(t) == ours)
}

/// `"…"` or `W/"…"` with the characters RFC 9110 allows inside (`etagc`, ASCII only).
fn is_entity_tag(tag: &str) -> bool {
    let opaque = tag.strip_prefix("W/").unwrap_or(tag);
    opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && opaque[1..opaque.len() - 1]
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
}

/// Parses `If-Match` into the version the client expects. A tag that is not one of ours (a
/// weak tag, another server's) can never match.
pub fn parse_if_match(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let malformed = |_: String| {
        ApiError::malformed(
            In::Header,
            "If-Match",
            Code::InvalidFormat(Format::EntityTag),
        )
    };
    let mut versions = Vec::new();
    let mut seen = false;
    for v in req.headers().get_all(IF_MATCH) {
        seen = true;
        let s = v
            .to_str()
            .map_err(|_| malformed("not visible ASCII".to_string()))?;
        if s.trim() == "*" {
            return Ok(Precondition::Any);
        }
        let tags = split_tags(s);
        if tags.is_empty() {
            return Err(malformed("no entity tag".to_string()));
        }
        for tag in tags {
            // A bare version number, as clients that strip the quotes send it.
            let bare = tag.len() <= 9 && tag.bytes().all(|b| b.is_ascii_digit());
            if !bare && !is_entity_tag(tag) {
                return Err(malformed(format!(
                    "{tag:?} is not an entity tag such as \"3\""
                )));
            }
            // Only our own strong tags name a version; anything else never matches.
            if let Some(n) = version_of(tag) {
                versions.push(n);
            }
        }
    }
    if seen {
        Ok(Precondition::Versions(versions))
    } else {
        Ok(Precondition::None)
    }
}

/// The comma-separated members of a header value, commas inside quotes kept.
fn split_tags(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

impl FromRequest for Precondition {
    type Error = ApiError;
    type Future = Ready<Result<Precondition, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(parse_if_match(req))
    }
}

/// A response carrying a resource and its ETag (add `Location` to the builder for creations).
pub fn with_etag<T: serde::Serialize>(
    mut builder: actix_web::HttpResponseBuilder,
    version: i32,
    body: &T,
) -> actix_web::HttpResponse {
    builder
        .insert_header((
            actix_web::http::header::ETAG,
            crate::http::etag::etag(version),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(body)
}

/// A resource whose body is computed beyond its stored version (texts in the asked language,
/// figures from related records): the ETag names the version and the body actually sent, so
/// `If-None-Match` never answers 304 for a body that has changed.
pub fn with_computed_etag<T: serde::Serialize>(
    mut builder: actix_web::HttpResponseBuilder,
    version: i32,
    body: &T,
) -> crate::error::ApiResult<actix_web::HttpResponse> {
    let bytes = serde_json::to_vec(body).map_err(crate::error::ApiError::internal)?;
    Ok(builder
        .insert_header((
            actix_web::http::header::ETAG,
            crate::http::etag::representation_etag(version, &bytes),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .content_type(actix_web::http::header::ContentType::json())
        .body(bytes))
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
            Err(ApiError::PreconditionFailed { .. })
        ));
        assert!(with(Some("\"1\", \"3\"")).unwrap().check(3).is_ok());
        assert!(with(Some("*")).unwrap().check(9).is_ok());
        assert!(
            with(Some("W/\"3\"")).unwrap().check(3).is_err(),
            "weak tags never match"
        );
        assert!(with(Some(" , ")).is_err());
        assert!(with(Some("{}")).is_err(), "not an entity tag");
        assert!(with(Some("3")).unwrap().check(3).is_ok(), "a bare version");
        assert!(with(Some("+3")).is_err());
        assert!(
            with(Some("W/\"a,b\", \"3\"")).unwrap().check(3).is_ok(),
            "comma inside quotes"
        );
        assert!(with(Some("*, \"3\"")).is_err(), "* stands alone");
        assert!(with(Some("\"3\", nope")).is_err());
    }

    #[test]
    fn representation_tags_name_their_version() {
        let tag = representation_etag(3, b"{\"lang\":\"zh\"}");
        assert!(tag.starts_with("\"3-") && tag.len() == 2 + 2 + 16, "{tag}");
        assert_ne!(tag, representation_etag(3, b"{\"lang\":\"en\"}"));
        assert_eq!(tag, representation_etag(3, b"{\"lang\":\"zh\"}"), "stable");
        assert!(with(Some(&tag)).unwrap().check(3).is_ok());
        assert!(with(Some(&tag)).unwrap().check(4).is_err());
        // Only a 16-digit hex digest after the dash.
        assert!(with(Some("\"3-zz\"")).unwrap().check(3).is_err());
        assert!(with(Some("\"3-\"")).unwrap().check(3).is_err());
        assert!(with(Some("\"-0123456789abcdef\""))
            .unwrap()
            .check(3)
            .is_err());
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(none_match("\"3\"", "\"3\""));
        assert!(none_match("W/\"3\"", "\"3\""));
        assert!(none_match("\"1\", W/\"3\"", "\"3\""));
        assert!(none_match(" * ", "\"3\""));
        assert!(!none_match("\"4\"", "\"3\""));
        assert!(!none_match("3", "\"3\""), "not an entity tag");
        assert!(!none_match("", "\"3\""));
        assert!(!none_match("\"3", "\"3\""));
    }
}
