//! Idempotency keys (IETF httpapi `Idempotency-Key`): the first response to a POST is kept per
//! tenant, user and key for 24 hours and replayed for a repeat of the same request; the same
//! key with another request is 422; a repeat while the first still runs is 409
//! `idempotency_key_in_use` with `Retry-After: 1`. Two JSON bodies are the same request when
//! they are the same JSON (member order and white space aside).

use std::time::Duration;

use chrono::Utc;

use crate::db::idempotency::{self as q, Begin, KeyRef};
use crate::domain::validate::{Code, In, Violation};
use crate::error::{ApiError, ApiResult};
use crate::service::{Conn, Principal};

pub use crate::db::idempotency::Response;

/// How long a first response is replayed.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);
/// How long a running first request holds its key; after that (its process died) a repeat of
/// the same request runs instead.
pub const HOLD: Duration = Duration::from_secs(120);
/// The header.
pub const HEADER: &str = "idempotency-key";

/// What to do with a request carrying a key.
#[derive(Debug)]
pub enum Start {
    /// Run it; then `finish`.
    Run,
    /// Answer with the first response.
    Replay(Response),
}

fn key_ref<'a>(who: &'a Principal, key: &'a str) -> KeyRef<'a> {
    KeyRef {
        tenant: who.tenant,
        principal: &who.sub,
        key,
    }
}

/// Parses the header: an sf-string (`"..."`) or a bare token of 1-255 visible ASCII characters.
pub fn parse_key(v: &str) -> Result<String, String> {
    let inner = match v.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .ok_or_else(|| "an opening quote without a closing one".to_string())?,
        None => v,
    };
    if inner.is_empty() || inner.len() > 255 {
        return Err("must be 1-255 characters".to_string());
    }
    if !inner
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    {
        return Err("must be visible ASCII characters without quotes or backslashes".to_string());
    }
    Ok(inner.to_string())
}

pub async fn start(conn: &mut Conn, who: &Principal, key: &str, hash: &str) -> ApiResult<Start> {
    let hold = chrono::Duration::from_std(HOLD).map_err(ApiError::internal)?;
    let keep = chrono::Duration::from_std(KEEP).map_err(ApiError::internal)?;
    let now = Utc::now();
    match q::begin(conn, key_ref(who, key), hash, now + hold, now - keep).await? {
        Begin::Started => Ok(Start::Run),
        Begin::Existing(s) if s.request_hash != hash => {
            Err(ApiError::Validation(vec![Violation::at(
                In::Header,
                "Idempotency-Key",
                Code::KeyReused,
            )]))
        }
        Begin::Existing(s) => match (s.response_status, s.response_body) {
            (Some(status), Some(body)) => Ok(Start::Replay(Response {
                status,
                content_type: s.content_type,
                location: s.location,
                etag: s.etag,
                body,
            })),
            _ => Err(ApiError::KeyInUse),
        },
    }
}

/// Keeps the response (`Some`) or lets the key go so the request can be retried (`None`, for a
/// failure on the server's side).
pub async fn finish(
    conn: &mut Conn,
    who: &Principal,
    key: &str,
    response: Option<Response>,
) -> ApiResult<()> {
    match response {
        Some(r) => Ok(q::complete(conn, key_ref(who, key), r).await?),
        None => Ok(q::release(conn, key_ref(who, key)).await?),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn keys_are_sf_strings_or_tokens() {
        assert_eq!(parse_key("\"abc-123\"").unwrap(), "abc-123");
        assert_eq!(
            parse_key("8e03978e-40d5-43e8-bc93-6894a57f9324")
                .unwrap()
                .len(),
            36
        );
        assert!(parse_key("\"\"").is_err());
        assert!(parse_key("\"open").is_err());
        assert!(parse_key("with space").is_err());
        assert!(parse_key(&"a".repeat(256)).is_err());
        assert!(parse_key("ключ").is_err());
    }
}
