//! One log line per request (target `buyerpath::access`) with structured fields: request id,
//! tenant, method, route template, status, latency, client address and the W3C trace id; and
//! the same fields at `warn` (target `buyerpath::slow`) for a request slower than
//! `BUYERPATH_SLOW_REQUEST_MS`.
//! The client is the socket's peer, unless that peer is a trusted proxy
//! (`BUYERPATH_TRUSTED_PROXIES`): then it is the nearest address in `X-Forwarded-For` that is
//! not itself a trusted proxy.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::config::IpRange;
use crate::http::request_id::RequestId;
use crate::service::Principal;
use crate::state::AppState;

/// The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`), if valid.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && parent.bytes().any(|b| b != b'0')
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none());
    valid.then_some(trace)
}

/// The client's address: the peer, or behind trusted proxies the nearest untrusted hop of
/// `X-Forwarded-For`.
pub fn client_addr(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpRange],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or("")
        .split(',')
        .filter_map(|h| h.trim().parse::<IpAddr>().ok())
        .collect();
    Some(
        hops.iter()
            .rev()
            .copied()
            .find(|ip| !is_trusted(*ip))
            .or_else(|| hops.first().copied())
            .unwrap_or(peer),
    )
}

/// Middleware (use with `actix_web::middleware::from_fn`).
///
/// Writes the access line (target `buyerpath::access`, `info`) and, for a request that took at
/// least `BUYERPATH_SLOW_REQUEST_MS`, the same fields at `warn` (target `buyerpath::slow`), so
/// slow requests show under `RUST_LOG=warn` too. Nothing is gathered or formatted when neither
/// line is written.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let res = next.call(req).await?;
    let elapsed = started.elapsed();
    let access = log::log_enabled!(target: "buyerpath::access", log::Level::Info);
    let state = res.request().app_data::<web::Data<AppState>>();
    let slow = state.is_some_and(|s| elapsed >= s.config.slow_request)
        && log::log_enabled!(target: "buyerpath::slow", log::Level::Warn);
    if !access && !slow {
        return Ok(res);
    }
    let trusted = state.map_or(&[][..], |s| s.config.trusted_proxies.as_slice());
    let line = Line::of(&res, elapsed, trusted);
    if access {
        line.write("buyerpath::access", log::Level::Info, "");
    }
    if slow {
        line.write("buyerpath::slow", log::Level::Warn, "slow request: ");
    }
    Ok(res)
}

/// The fields of one request's log line.
struct Line {
    request_id: String,
    tenant: String,
    method: String,
    route: String,
    status: u16,
    latency: String,
    client: String,
    trace: String,
}

impl Line {
    fn of<B>(res: &ServiceResponse<B>, elapsed: std::time::Duration, trusted: &[IpRange]) -> Line {
        let req = res.request();
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        Line {
            request_id: req
                .extensions()
                .get::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_default(),
            tenant: req
                .extensions()
                .get::<Principal>()
                .map(|p| p.tenant.to_string())
                .unwrap_or_default(),
            method: req.method().to_string(),
            route: req.match_pattern().unwrap_or_else(|| "UNKNOWN".to_string()),
            status: res.status().as_u16(),
            latency: format!("{:.3}", elapsed.as_secs_f64() * 1000.0),
            client: client_addr(
                req.peer_addr().map(|a| a.ip()),
                header("x-forwarded-for"),
                trusted,
            )
            .map(|ip| ip.to_string())
            .unwrap_or_default(),
            trace: header("traceparent")
                .and_then(trace_id)
                .unwrap_or("")
                .to_string(),
        }
    }

    fn write(&self, target: &str, level: log::Level, prefix: &str) {
        let Line {
            request_id,
            tenant,
            method,
            route,
            status,
            latency,
            client,
            trace,
        } = self;
        log::log!(
            target: target,
            level,
            request_id = request_id.as_str(),
            tenant = tenant.as_str(),
            method = method.as_str(),
            route = route.as_str(),
            status = *status,
            latency_ms = latency.as_str(),
            client = client.as_str(),
            trace_id = trace.as_str();
            "{prefix}{client} \"{method} {route}\" {status} {latency}ms"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_gives_the_trace_id_when_valid() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(tp), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(
            trace_id("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(
            trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
            None
        );
        assert_eq!(
            trace_id("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id("00-xyz-00f067aa0ba902b7-01"), None);
        assert_eq!(trace_id("garbage"), None);
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = [IpRange::parse("10.0.0.0/8").unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Not a trusted peer: the header is ignored.
        assert_eq!(
            client_addr(Some(ip("203.0.113.9")), Some("1.2.3.4"), &proxies),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_addr(Some(ip("127.0.0.1")), Some("1.2.3.4"), &[]),
            Some(ip("127.0.0.1"))
        );
        // A trusted peer: the nearest untrusted hop, skipping proxies (a client's own spoofed
        // entries on the left do not win).
        assert_eq!(
            client_addr(
                Some(ip("10.0.0.2")),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.5"),
                &proxies
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_addr(Some(ip("10.0.0.2")), Some("10.0.0.9"), &proxies),
            Some(ip("10.0.0.9"))
        );
        assert_eq!(
            client_addr(Some(ip("10.0.0.2")), None, &proxies),
            Some(ip("10.0.0.2"))
        );
    }
}
