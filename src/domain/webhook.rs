//! Webhooks as the Standard Webhooks specification defines them: secrets, signatures, the retry
//! schedule, what a response means, and which addresses an endpoint may resolve to.

use crate::domain::validate::{Code, Format};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;
/// How long a rotated-out secret keeps signing alongside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// Delays before the 2nd, 3rd, ... attempt; after the last, the delivery has failed.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];
/// An endpoint failing without a single success for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);
/// Timeout of one attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How much of a response body is kept with the attempt.
pub const KEPT_RESPONSE_BYTES: usize = 1024;

/// A new signing secret from `random` bytes.
pub fn secret_from(random: &[u8; SECRET_BYTES]) -> String {
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(random)
    )
}

/// The `v1,<base64>` signature of one message with one secret.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|e| format!("the signing secret is not base64: {e}"))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&key).map_err(|e| format!("bad signing key: {e}"))?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    Ok(format!("v1,{sig}"))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, String> {
    let sigs: Result<Vec<String>, String> = secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect();
    Ok(sigs?.join(" "))
}

/// What one response means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// 410: the receiver asks never to be called again; the endpoint is disabled.
    Gone,
    /// 429 or 503: retry, no earlier than `Retry-After` when it is given.
    Throttled,
    /// Anything else, including redirects, timeouts and connection errors.
    Failed,
}

pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(s) if (200..300).contains(&s) => Outcome::Delivered,
        Some(410) => Outcome::Gone,
        Some(429) | Some(503) => Outcome::Throttled,
        _ => Outcome::Failed,
    }
}

/// The delay before the next attempt after `attempts` failed ones (1-based), or `None` when the
/// schedule is exhausted. `jitter` in [0, 1) spreads retries by up to ±10 %; a `retry_after`
/// asked for by the receiver replaces the scheduled delay (capped at a day).
pub fn next_delay(attempts: u32, jitter: f64, retry_after: Option<Duration>) -> Option<Duration> {
    let scheduled = *RETRY_SCHEDULE.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    if let Some(ra) = retry_after {
        return Some(ra.min(MAX_RETRY_AFTER));
    }
    let factor = 0.9 + 0.2 * jitter.clamp(0.0, 1.0);
    Some(scheduled.mul_f64(factor))
}

/// Seconds of a `Retry-After` header (delta-seconds form, or an HTTP date relative to `now`).
pub fn parse_retry_after(v: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Whether a webhook may be sent to `ip` when private addresses are not allowed: not loopback,
/// private, link-local (incl. cloud metadata at 169.254.169.254), shared, multicast, reserved or
/// documentation space, in either IP version.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return is_public_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ));
            }
            if s[0] == 0x2002 {
                return is_public_v4(Ipv4Addr::new(
                    (s[1] >> 8) as u8,
                    s[1] as u8,
                    (s[2] >> 8) as u8,
                    s[2] as u8,
                ));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (64..128).contains(&o[1])) // shared (CGNAT) 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking 198.18/15
        || o[0] >= 240) // reserved
}

/// Why an endpoint URL is refused (at creation and again at delivery time), if it is.
pub fn url_problem(url: &str, allow_private: bool) -> Option<Code> {
    let bad = Some(Code::InvalidFormat(Format::HttpsUrl));
    let Ok(parsed) = url::Url::parse(url) else {
        return bad;
    };
    let scheme_ok = parsed.scheme() == "https" || (allow_private && parsed.scheme() == "http");
    if !scheme_ok
        || !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.fragment().is_some()
    {
        return bad;
    }
    let ip = match parsed.host() {
        None => return bad,
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (d == "localhost" || d.ends_with(".localhost")) {
                return Some(Code::PrivateAddress);
            }
            None
        }
    };
    match ip {
        Some(ip) if !allow_private && !is_public(ip) => Some(Code::PrivateAddress),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks specification.
    #[test]
    fn signs_the_specification_test_vector() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn several_secrets_give_space_separated_signatures() {
        let h = signature_header(
            &[
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                &secret_from(&[7; SECRET_BYTES]),
            ],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert!(sign("whsec_!!", "m", 1, "b").is_err());
    }

    #[test]
    fn secrets_are_prefixed_base64_of_32_bytes() {
        let s = secret_from(&[1; SECRET_BYTES]);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(s.strip_prefix(SECRET_PREFIX).unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
    }

    #[test]
    fn outcomes() {
        assert_eq!(outcome(Some(200)), Outcome::Delivered);
        assert_eq!(outcome(Some(204)), Outcome::Delivered);
        assert_eq!(outcome(Some(301)), Outcome::Failed);
        assert_eq!(outcome(Some(410)), Outcome::Gone);
        assert_eq!(outcome(Some(429)), Outcome::Throttled);
        assert_eq!(outcome(Some(503)), Outcome::Throttled);
        assert_eq!(outcome(Some(500)), Outcome::Failed);
        assert_eq!(outcome(None), Outcome::Failed);
    }

    #[test]
    fn schedule_with_jitter_and_retry_after() {
        assert_eq!(next_delay(1, 0.5, None), Some(Duration::from_secs(5)));
        let low = next_delay(2, 0.0, None).unwrap();
        let high = next_delay(2, 0.999, None).unwrap();
        assert!(low >= Duration::from_secs(270) && high <= Duration::from_secs(330));
        assert_eq!(next_delay(7, 0.5, None), Some(Duration::from_secs(36000)));
        assert_eq!(next_delay(8, 0.5, None), None, "eight attempts in all");
        assert_eq!(next_delay(0, 0.5, None), None);
        assert_eq!(
            next_delay(1, 0.5, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            next_delay(1, 0.5, Some(Duration::from_secs(10 * 86400))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(next_delay(8, 0.5, Some(Duration::from_secs(1))), None);
        let now = chrono::Utc::now();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("soon", now), None);
        let later = (now + chrono::Duration::seconds(120)).to_rfc2822();
        let d = parse_retry_after(&later, now).unwrap();
        assert!(d.as_secs() >= 119 && d.as_secs() <= 120);
    }

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            url_problem("https://hooks.example.com/buyerpath", false),
            None
        );
        assert!(url_problem("http://hooks.example.com/", false).is_some());
        assert_eq!(url_problem("http://127.0.0.1:9000/hook", true), None);
        assert!(url_problem("https://127.0.0.1/hook", false).is_some());
        assert!(url_problem("https://[::1]/hook", false).is_some());
        assert!(url_problem("https://localhost/hook", false).is_some());
        assert!(url_problem("https://169.254.169.254/latest", false).is_some());
        assert!(url_problem("ftp://example.com/", true).is_some());
        assert!(url_problem("https://user:pw@example.com/", false).is_some());
        assert!(url_problem("not a url", true).is_some());
        assert!(url_problem("https://example.com/#x", false).is_some());
    }
}
