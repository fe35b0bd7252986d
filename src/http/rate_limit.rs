//! Request rate limits per user and per tenant (token buckets, `governor`), in this process.
//! Authenticated requests only: probes, metrics and the documents are not limited, and a
//! request without a valid token is left to the handler's 401. Every limited response carries
//! the IETF `RateLimit-Policy` and `RateLimit` header fields; over a limit the answer is 429
//! with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::domain::texts;
use crate::error::ApiError;
use crate::service::Principal;

type Limiter = DefaultKeyedRateLimiter<String, StateInformationMiddleware>;

/// One bucket kind: its name in the header fields, its quota per minute and its buckets.
struct Policy {
    name: &'static str,
    per_minute: u32,
    limiter: Limiter,
}

/// The limits of this process.
pub struct RateLimits {
    policies: Vec<Policy>,
    /// `RateLimit-Policy`, the same on every response: made once.
    policy_header: String,
    seen: AtomicU64,
}

/// Where one request stands in one policy.
#[derive(Debug)]
struct Standing {
    policy: &'static str,
    remaining: u32,
    reset_secs: u64,
}

impl RateLimits {
    /// `0` switches a limit off.
    pub fn new(user_per_minute: u32, tenant_per_minute: u32) -> RateLimits {
        let mut policies = Vec::new();
        for (name, n) in [("user", user_per_minute), ("tenant", tenant_per_minute)] {
            if let Some(q) = NonZeroU32::new(n) {
                policies.push(Policy {
                    name,
                    per_minute: n,
                    limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(q))
                        .with_middleware::<StateInformationMiddleware>(),
                });
            }
        }
        let policy_header = policies
            .iter()
            .map(|p| format!("\"{}\";q={};w=60", p.name, p.per_minute))
            .collect::<Vec<_>>()
            .join(", ");
        RateLimits {
            policies,
            policy_header,
            seen: AtomicU64::new(0),
        }
    }

    fn key(policy: &str, who: &Principal) -> String {
        match policy {
            "user" => format!("{}/{}", who.tenant, who.sub),
            _ => who.tenant.to_string(),
        }
    }

    /// `RateLimit-Policy`: every policy in force.
    fn policy_header(&self) -> &str {
        &self.policy_header
    }

    /// Takes one token of every bucket of `who`, or says how long to wait.
    fn check(&self, who: &Principal) -> Result<Option<Standing>, (Standing, u64)> {
        if self.seen.fetch_add(1, Ordering::Relaxed) % 8192 == 8191 {
            for p in &self.policies {
                p.limiter.retain_recent();
                p.limiter.shrink_to_fit();
            }
        }
        let mut tightest: Option<Standing> = None;
        for p in &self.policies {
            let per_token = 60.0 / f64::from(p.per_minute);
            match p.limiter.check_key(&Self::key(p.name, who)) {
                Ok(snapshot) => {
                    let remaining = snapshot.remaining_burst_capacity();
                    // `t`: when the next token comes (none while the bucket is full), not when
                    // it is full again: a client at `r=0` waits that long, not the window.
                    let next_token = if remaining >= p.per_minute {
                        0
                    } else {
                        per_token.ceil() as u64
                    };
                    let standing = Standing {
                        policy: p.name,
                        remaining,
                        reset_secs: next_token,
                    };
                    if tightest.as_ref().is_none_or(|t| remaining < t.remaining) {
                        tightest = Some(standing);
                    }
                }
                Err(not_until) => {
                    let wait = not_until
                        .wait_time_from(DefaultClock::default().now())
                        .as_secs_f64();
                    // `Retry-After` leaves room for one token more, so the request after the
                    // wait goes through with `r` > 0 (a client then need not stop again).
                    let retry = (wait + per_token).ceil().max(1.0) as u64;
                    return Err((
                        Standing {
                            policy: p.name,
                            remaining: 0,
                            reset_secs: wait.ceil().max(1.0) as u64,
                        },
                        retry,
                    ));
                }
            }
        }
        Ok(tightest)
    }
}

fn set_headers(headers: &mut actix_web::http::header::HeaderMap, policy: &str, s: &Standing) {
    for (name, value) in [
        ("ratelimit-policy", policy.to_string()),
        (
            "ratelimit",
            format!("\"{}\";r={};t={}", s.policy, s.remaining, s.reset_secs),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
}

/// Middleware (use with `actix_web::middleware::from_fn`).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limits = req
        .app_data::<web::Data<RateLimits>>()
        .map(|l| l.clone().into_inner());
    let Some(limits) = limits.filter(|l| !l.policies.is_empty()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Ok(who) = req.extract::<Principal>().await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    req.extensions_mut().insert(who.clone());
    let policy = limits.policy_header();
    match limits.check(&who) {
        Err((standing, retry_after_secs)) => {
            let err = ApiError::RateLimited {
                detail: texts::rate_limited(standing.policy, retry_after_secs),
                retry_after_secs,
            };
            // `error_response` keeps the error on the response (for the problem's language).
            let mut res = req.error_response(err);
            set_headers(res.headers_mut(), policy, &standing);
            Ok(res.map_into_boxed_body())
        }
        Ok(standing) => {
            let mut res = next.call(req).await?.map_into_boxed_body();
            if let Some(s) = standing {
                set_headers(res.headers_mut(), policy, &s);
            }
            Ok(res)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TenantId;
    use crate::service::Role;

    fn who(tenant: uuid::Uuid, sub: &str) -> Principal {
        Principal {
            tenant: TenantId::new(tenant),
            sub: sub.to_string(),
            roles: vec![Role::Rep],
        }
    }

    #[test]
    fn users_and_tenants_have_their_own_buckets() {
        let l = RateLimits::new(2, 3);
        let t = uuid::Uuid::now_v7();
        let (a, b) = (who(t, "a"), who(t, "b"));
        let s = l.check(&a).unwrap().unwrap();
        assert_eq!((s.policy, s.remaining), ("user", 1));
        assert!(l.check(&a).is_ok());
        let (s, secs) = l.check(&a).unwrap_err();
        assert_eq!(s.policy, "user");
        // The next token in up to 30 s (2 a minute): `t`; `Retry-After` adds room for one more.
        assert!((1..=30).contains(&s.reset_secs), "{}", s.reset_secs);
        assert!((31..=61).contains(&secs), "{secs}");
        // b has its own user bucket, but the tenant's third token is the last.
        assert!(l.check(&b).is_ok());
        let (s, _) = l.check(&b).unwrap_err();
        assert_eq!(s.policy, "tenant");
        // Another tenant is untouched.
        assert!(l.check(&who(uuid::Uuid::now_v7(), "a")).is_ok());
        assert_eq!(l.policy_header(), "\"user\";q=2;w=60, \"tenant\";q=3;w=60");
    }

    #[test]
    fn zero_switches_a_limit_off() {
        let l = RateLimits::new(0, 0);
        assert!(l.policies.is_empty());
        let l = RateLimits::new(0, 1);
        assert_eq!(l.policy_header(), "\"tenant\";q=1;w=60");
    }
}
