//! `If-None-Match` on GET: 304 Not Modified, without a body, when the client's copy is current
//! (weak comparison with the ETag the response carries, RFC 9110 §13.1.2). The handler still
//! runs — the ETag is only known once the representation is — so a 304 saves the bytes on the
//! wire, not the work. A malformed header matches nothing.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;

use crate::http::etag::none_match;

/// What a 304 keeps of the 200 it replaces (RFC 9110 §15.4.5).
const KEPT: [HeaderName; 5] = [
    header::ETAG,
    header::CACHE_CONTROL,
    header::VARY,
    header::CONTENT_LOCATION,
    header::EXPIRES,
];

pub async fn middleware<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error> {
    let asked = (req.method() == Method::GET)
        .then(|| req.headers().get(header::IF_NONE_MATCH))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.call(req).await?;
    let Some(asked) = asked else {
        return Ok(res.map_into_left_body());
    };
    let current = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|etag| res.status() == StatusCode::OK && none_match(&asked, etag))
        .is_some();
    if !current {
        return Ok(res.map_into_left_body());
    }
    let mut not_modified = HttpResponse::NotModified();
    for name in &KEPT {
        for value in res.headers().get_all(name) {
            not_modified.append_header((name.clone(), value.clone()));
        }
    }
    let not_modified = not_modified.finish();
    Ok(res.into_response(not_modified).map_into_right_body())
}
