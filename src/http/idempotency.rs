//! `Idempotency-Key` on every POST: the middleware hashes the request (method, path, content
//! type and body; a multipart boundary does not count), asks `service::idempotency` whether to
//! run or replay it, and keeps the first response (status, body, `Location`, `ETag`, content
//! type). A server-side failure (5xx) releases the key, so a retry runs again.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::domain::validate::{Code, Format, In, Violation};
use crate::error::ApiError;
use crate::service::idempotency::{self as svc, Response, Start, HEADER};
use crate::service::Principal;
use crate::state::AppState;

/// Middleware (use with `actix_web::middleware::from_fn`).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(raw) = req.headers().get(HEADER).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let key = match raw
        .to_str()
        .map_err(|e| e.to_string())
        .and_then(svc::parse_key)
    {
        Ok(k) => k,
        Err(why) => {
            return Ok(fail(req, {
                log::debug!("Idempotency-Key refused: {why}");
                ApiError::malformed(
                    In::Header,
                    "Idempotency-Key",
                    Code::InvalidFormat(Format::IdempotencyKey),
                )
            }))
        }
    };
    // Without a valid token the handler answers 401; nothing is kept.
    let Ok(who) = req.extract::<Principal>().await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(fail(req, ApiError::internal("no application state")));
    };
    let limit = state.config.body_limit.max(state.config.upload_limit);
    let body = match read_body(&mut req, limit).await {
        Ok(b) => b,
        Err(e) => return Ok(fail(req, e)),
    };
    let hash = request_hash(&req, &body);
    let started = async {
        let mut conn = state.conn().await?;
        svc::start(&mut conn, &who, &key, &hash).await
    };
    match started.await {
        Err(e) => Ok(fail(req, e)),
        Ok(Start::Replay(r)) => Ok(req.into_response(replay(r)).map_into_boxed_body()),
        Ok(Start::Run) => {
            let (_, mut payload) = actix_http::h1::Payload::create(true);
            payload.unread_data(body);
            req.set_payload(payload.into());
            let res = match next.call(req).await {
                Ok(r) => r,
                Err(e) => {
                    release(&state, &who, &key).await;
                    return Err(e);
                }
            };
            Ok(keep(res, &state, &who, &key).await)
        }
    }
}

/// Keeps the handler's answer for replays (a 5xx releases the key instead) and sends it on.
async fn keep(
    res: ServiceResponse<impl MessageBody + 'static>,
    state: &AppState,
    who: &Principal,
    key: &str,
) -> ServiceResponse<BoxBody> {
    let (http_req, res) = res.into_parts();
    let status = res.status();
    let (head, body) = res.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        release(state, who, key).await;
        let err = ApiError::internal("the response body could not be read");
        return ServiceResponse::from_err(err, http_req);
    };
    let kept = (!status.is_server_error()).then(|| Response {
        status: i32::from(status.as_u16()),
        content_type: header_of(&head, header::CONTENT_TYPE),
        location: header_of(&head, header::LOCATION),
        etag: header_of(&head, header::ETAG),
        body: bytes.to_vec(),
    });
    let finished = async {
        let mut conn = state.conn().await?;
        svc::finish(&mut conn, who, key, kept).await
    };
    if let Err(e) = finished.await {
        // The change is committed; only the replay is lost: say so in the log.
        log::error!(
            "idempotency key {key:?} of {}: response not kept: {e}",
            who.sub
        );
    }
    ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes)))
}

fn fail(req: ServiceRequest, e: ApiError) -> ServiceResponse<BoxBody> {
    // `error_response` keeps the error on the response (for the problem's language).
    req.error_response(e)
}

async fn release(state: &AppState, who: &Principal, key: &str) {
    let r = async {
        let mut conn = state.conn().await?;
        svc::finish(&mut conn, who, key, None).await
    };
    if let Err(e) = r.await {
        log::warn!("idempotency key {key:?}: cannot release: {e}");
    }
}

fn header_of(res: &HttpResponse<()>, name: header::HeaderName) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn replay(r: Response) -> HttpResponse {
    let status = u16::try_from(r.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut b = HttpResponse::build(status);
    b.insert_header(("idempotent-replayed", "true"));
    for (name, value) in [
        (header::CONTENT_TYPE, r.content_type),
        (header::LOCATION, r.location),
        (header::ETAG, r.etag),
    ] {
        if let Some(v) = value {
            b.insert_header((name, v));
        }
    }
    b.body(r.body)
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::internal_in("reading the request body", e.to_string()))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(Box::new(Violation::new(
                "",
                Code::TooLarge {
                    max_bytes: limit as u64,
                },
            ))));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// What makes two requests "the same": method, path and query, media type and body, with a
/// multipart boundary (random per request in most clients) replaced by a fixed token.
fn request_hash(req: &ServiceRequest, body: &[u8]) -> String {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = ct
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty());
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update(b" ");
    h.update(req.uri().path().as_bytes());
    h.update(b"?");
    h.update(req.uri().query().unwrap_or("").as_bytes());
    h.update(b"\n");
    h.update(media.as_bytes());
    h.update(b"\n");
    let json = media == "application/json" || media.ends_with("+json");
    match boundary {
        Some(b) => h.update(replace_all(body, b.as_bytes(), b"BOUNDARY")),
        None if json => match serde_json::from_slice::<serde_json::Value>(body) {
            // The same JSON whatever its member order and white space.
            Ok(v) => h.update(canonical(&v).as_bytes()),
            Err(_) => h.update(body),
        },
        None => h.update(body),
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON with the members of every object in key order and no white space.
fn canonical(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = members
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if !needle.is_empty() && haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{canonical, replace_all};

    #[test]
    fn json_is_the_same_whatever_its_member_order_and_white_space() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": [1, {"y": 2, "x": 1}], "a": "中"}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a":"中","b":[1,{"x":1,"y":2}]}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(canonical(&a), r#"{"a":"中","b":[1,{"x":1,"y":2}]}"#);
        let c: serde_json::Value =
            serde_json::from_str(r#"{"b":[{"x":1,"y":2},1],"a":"中"}"#).unwrap();
        assert_ne!(canonical(&a), canonical(&c), "array order counts");
    }

    #[test]
    fn replaces_every_occurrence() {
        assert_eq!(
            replace_all(b"--ab\r\nx--ab--", b"ab", b"B"),
            b"--B\r\nx--B--"
        );
        assert_eq!(replace_all(b"none", b"zz", b"B"), b"none");
    }
}
