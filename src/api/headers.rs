//! The response header fields a client reads, declared on every response that carries them,
//! so that generated clients expose them (`Retry-After` to wait, `ETag` to write back,
//! `Idempotent-Replayed`, the rate limit's state).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::RefOr;

const RATE_LIMIT: &str = "IETF RateLimit: the tightest policy, its remaining requests `r` and \
                          seconds `t` until its next token (0 when full). Present when rate \
                          limits are configured (they are by default).";
const RATE_LIMIT_POLICY: &str =
    "IETF RateLimit-Policy: each policy with its quota `q` per window `w` (seconds).";
const REQUEST_ID: &str = "The request's id (the one sent, or a new UUID v7): quote it when \
                          asking about a request; the log has it.";

/// The header fields declared once (`components.headers`) and referred to by name.
const DECLARED: &[(&str, &str)] = &[
    ("X-Request-Id", REQUEST_ID),
    ("RateLimit", RATE_LIMIT),
    ("RateLimit-Policy", RATE_LIMIT_POLICY),
    (
        "Idempotent-Replayed",
        "`true` when this is the kept response of an earlier request with the same \
         `Idempotency-Key`.",
    ),
    ("Retry-After", "Seconds to wait before retrying."),
];

/// Adds the shared header fields to the document's components.
pub fn components(api: &mut utoipa::openapi::OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for (name, description) in DECLARED {
        components.headers.insert(
            name.to_string(),
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                .description(Some(*description))
                .build()
                .into(),
        );
    }
}

/// Declares the header fields on the responses of `op`.
pub fn declare(op: &mut Operation, method: &str, secured: bool) {
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(r) = response else { continue };
        let mut shared = |name: &str| {
            r.headers.entry(name.to_string()).or_insert_with(|| {
                RefOr::Ref(utoipa::openapi::Ref::new(format!(
                    "#/components/headers/{name}"
                )))
            });
        };
        shared("X-Request-Id");
        let success = status.starts_with('2');
        // Every answer to an authenticated request says where its rate limits stand.
        if secured && status != "401" {
            shared("RateLimit");
            shared("RateLimit-Policy");
        }
        if secured && success && method == "POST" {
            shared("Idempotent-Replayed");
        }
        if matches!(status.as_str(), "429" | "503")
            || (status == "409" && method == "POST" && secured)
        {
            shared("Retry-After");
        }
        let mut add = |name: &str, description: &str| {
            r.headers.entry(name.to_string()).or_insert_with(|| {
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                    .description(Some(description))
                    .build()
                    .into()
            });
        };
        match status.as_str() {
            "401" => add(
                "WWW-Authenticate",
                "`Bearer realm=\"buyerpath\"`: send a bearer token.",
            ),
            "412" => add("ETag", "The version now, as `If-Match` takes it."),
            "405" => add("Allow", "The methods the resource supports."),
            _ => {}
        }
    }
}
