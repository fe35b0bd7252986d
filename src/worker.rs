//! The webhook delivery worker, run inside `serve`: it turns settled events into deliveries,
//! claims due deliveries (`FOR UPDATE SKIP LOCKED`, so replicas share the work), sends them as
//! the Standard Webhooks specification says, records every attempt, keeps the metrics, prunes
//! old rows, and stops cleanly when asked (in-flight attempts finish; anything claimed but not
//! recorded is due again when its claim runs out).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use prometheus::{Gauge, IntCounterVec, IntGauge, Opts, Registry};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::watch;

use crate::db::Pool;
use crate::domain::event::public_id;
use crate::domain::webhook::{self as wh, ATTEMPT_TIMEOUT};
use crate::error::{ApiError, ApiResult};
use crate::service::delivery::{self, AttemptResult, Claimed};

/// How often the worker looks for work when there was none.
const POLL: Duration = Duration::from_millis(500);
/// Deliveries sent at once.
const BATCH: i64 = 16;
/// How long a claim holds: longer than an attempt can take.
const CLAIM: Duration = Duration::from_secs(60);
const STATS_EVERY: Duration = Duration::from_secs(5);
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// The worker's metrics, registered with the service's registry.
#[derive(Clone)]
pub struct WebhookMetrics {
    deliveries: IntCounterVec,
    queue_depth: IntGauge,
    oldest_pending: Gauge,
}

impl WebhookMetrics {
    pub fn register(registry: &Registry) -> Result<WebhookMetrics, String> {
        let m = WebhookMetrics {
            deliveries: IntCounterVec::new(
                Opts::new(
                    "buyerpath_webhook_attempts_total",
                    "Webhook delivery attempts by outcome: succeeded, will_retry, failed, skipped.",
                ),
                &["outcome"],
            )
            .map_err(|e| e.to_string())?,
            queue_depth: IntGauge::new(
                "buyerpath_webhook_queue_depth",
                "Webhook deliveries waiting to be sent (due or scheduled for a retry).",
            )
            .map_err(|e| e.to_string())?,
            oldest_pending: Gauge::new(
                "buyerpath_webhook_oldest_pending_seconds",
                "Age of the oldest webhook delivery not yet delivered.",
            )
            .map_err(|e| e.to_string())?,
        };
        for c in [
            Box::new(m.deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.queue_depth.clone()),
            Box::new(m.oldest_pending.clone()),
        ] {
            registry.register(c).map_err(|e| e.to_string())?;
        }
        Ok(m)
    }
}

/// What the worker needs besides the pool.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub allow_private: bool,
    pub retention: Duration,
}

/// Resolves host names for webhooks, keeping only public addresses (unless private ones are
/// allowed): the check happens after DNS resolution, on the addresses actually connected to.
struct GuardedResolver {
    allow_private: bool,
}

/// The addresses of `host` a webhook may connect to.
pub async fn resolve_checked(host: &str, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .filter(|a| allow_private || wh::is_public(a.ip()))
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no public address"));
    }
    Ok(addrs)
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve_checked(name.as_str(), allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The client webhooks are sent with: no redirects, no proxies from the environment, 15 s.
pub fn client(allow_private: bool) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("buyerpath-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
        .map_err(|e| format!("cannot build the webhook client: {e}"))
}

/// Runs until `stop` turns true.
pub async fn run(
    pool: Pool,
    settings: Settings,
    metrics: WebhookMetrics,
    mut stop: watch::Receiver<bool>,
) {
    let client = match client(settings.allow_private) {
        Ok(c) => c,
        Err(e) => {
            log::error!("webhook worker not started: {e}");
            return;
        }
    };
    log::info!("webhook worker running");
    let mut last_stats = Instant::now() - STATS_EVERY;
    let mut last_prune = Instant::now() - PRUNE_EVERY;
    while !*stop.borrow() {
        let busy = match step(&pool, &client, settings, &metrics).await {
            Ok(n) => n > 0,
            Err(e) => {
                log::warn!("webhook worker: {e}");
                false
            }
        };
        if last_stats.elapsed() >= STATS_EVERY {
            last_stats = Instant::now();
            if let Err(e) = stats(&pool, &metrics).await {
                log::warn!("webhook worker metrics: {e}");
            }
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = Instant::now();
            match prune(&pool, settings.retention).await {
                Ok(0) => {}
                Ok(n) => log::info!("pruned {n} old events, deliveries and idempotency keys"),
                Err(e) => log::warn!("pruning: {e}"),
            }
        }
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
        }
    }
    log::info!("webhook worker stopped");
}

async fn conn(pool: &Pool) -> ApiResult<crate::db::PooledConn> {
    Ok(pool.get().await?)
}

/// One round: dispatch new events, then send what is due. Returns how much was done.
pub async fn step(
    pool: &Pool,
    client: &reqwest::Client,
    settings: Settings,
    metrics: &WebhookMetrics,
) -> ApiResult<usize> {
    let mut c = conn(pool).await?;
    let dispatched = delivery::dispatch(&mut c, 500).await?;
    let claimed = delivery::claim(&mut c, BATCH, CLAIM).await?;
    drop(c);
    let n = claimed.len();
    // One endpoint's deliveries go one after another, in log order; endpoints in parallel.
    let mut groups: Vec<Vec<Claimed>> = Vec::new();
    for cl in claimed {
        match groups
            .iter_mut()
            .find(|g| g[0].endpoint.id == cl.endpoint.id)
        {
            Some(g) => g.push(cl),
            None => groups.push(vec![cl]),
        }
    }
    let groups = groups.into_iter().map(|g| async move {
        for cl in g {
            deliver_one(pool, client, settings, metrics, cl).await;
        }
    });
    futures_util::future::join_all(groups).await;
    Ok(dispatched + n)
}

async fn deliver_one(
    pool: &Pool,
    client: &reqwest::Client,
    settings: Settings,
    metrics: &WebhookMetrics,
    cl: Claimed,
) {
    if !cl.endpoint.enabled {
        let r = async {
            let mut c = conn(pool).await?;
            delivery::skip(&mut c, &cl, "the endpoint is disabled").await
        };
        if let Err(e) = r.await {
            log::warn!("webhook delivery {}: {e}", cl.delivery.id);
        }
        metrics.deliveries.with_label_values(&["skipped"]).inc();
        return;
    }
    let result = send(client, &cl, settings.allow_private).await;
    let recorded = async {
        let mut c = conn(pool).await?;
        delivery::record(&mut c, &cl, result.clone()).await
    };
    match recorded.await {
        Ok(state) => {
            let label = match state {
                "pending" => "will_retry",
                other => other,
            };
            metrics.deliveries.with_label_values(&[label]).inc();
            if state != "succeeded" {
                log::info!(
                    "webhook {} to endpoint {}: attempt {} {}",
                    public_id(cl.delivery.event_id),
                    cl.endpoint.id,
                    cl.delivery.attempts + 1,
                    result
                        .status
                        .map(|s| format!("answered {s}"))
                        .or(result.error.clone())
                        .unwrap_or_default()
                );
            }
        }
        // Not recorded: the claim runs out and the delivery is sent again (at least once).
        Err(e) => log::warn!("webhook delivery {}: {e}", cl.delivery.id),
    }
}

/// One attempt: sign, POST, read the status and the first KiB of the answer.
pub async fn send(client: &reqwest::Client, c: &Claimed, allow_private: bool) -> AttemptResult {
    let attempted_at = Utc::now();
    let started = Instant::now();
    let failed = |error: String| AttemptResult {
        attempted_at,
        status: None,
        duration: started.elapsed(),
        body: None,
        error: Some(error),
        retry_after: None,
    };
    if let Some(problem) = wh::url_problem(&c.endpoint.url, allow_private) {
        return failed(format!("the URL {problem}"));
    }
    let msg_id = public_id(c.delivery.event_id);
    let ts = attempted_at.timestamp();
    let signature = match wh::signature_header(
        &c.endpoint.signing_secrets(attempted_at),
        &msg_id,
        ts,
        &c.delivery.body,
    ) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let res = client
        .post(&c.endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(c.delivery.body.clone())
        .send()
        .await;
    let mut res = match res {
        Ok(r) => r,
        Err(e) => return failed(describe(&e)),
    };
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| wh::parse_retry_after(v, Utc::now()));
    let mut body = Vec::new();
    while body.len() < wh::KEPT_RESPONSE_BYTES {
        match res.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    AttemptResult {
        attempted_at,
        status: Some(status),
        duration: started.elapsed(),
        body: Some(delivery::kept(&body)),
        error: None,
        retry_after,
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

async fn stats(pool: &Pool, metrics: &WebhookMetrics) -> Result<(), ApiError> {
    let mut c = conn(pool).await?;
    let (depth, age) = delivery::queue(&mut c).await?;
    metrics.queue_depth.set(depth);
    metrics.oldest_pending.set(age.as_secs_f64());
    Ok(())
}

async fn prune(pool: &Pool, retention: Duration) -> Result<usize, ApiError> {
    let mut c = conn(pool).await?;
    delivery::prune(&mut c, retention).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn names_resolving_to_private_addresses_are_refused_after_resolution() {
        let e = resolve_checked("localhost", false).await.unwrap_err();
        assert!(e.contains("no public address"), "{e}");
        assert!(!resolve_checked("localhost", true).await.unwrap().is_empty());
    }
}
