//! What the delivery worker does with the database: turn settled events into deliveries,
//! claim due deliveries, record each attempt and its consequences, and prune old rows. Every
//! step is one transaction, so several replicas can run it side by side.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::db::events as ev;
use crate::db::idempotency;
use crate::db::table::VersionedTable;
use crate::db::webhooks::{self as q, Attempt, Delivery, Endpoint, EndpointChanges, NewDelivery};
use crate::domain::event::matches;
use crate::domain::ids::TenantId;
use crate::domain::webhook::{self as wh, Outcome, DISABLE_AFTER, KEPT_RESPONSE_BYTES};
use crate::error::{ApiError, ApiResult};
use crate::service::{events, Conn};

/// A claimed delivery and where it goes.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: Delivery,
    pub endpoint: Endpoint,
}

/// What one attempt gave.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub attempted_at: DateTime<Utc>,
    pub status: Option<u16>,
    pub duration: Duration,
    pub body: Option<String>,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
}

/// Turns up to `batch` settled events into deliveries for the endpoints subscribed to them;
/// returns how many events were read (0 when another replica is dispatching).
pub async fn dispatch(conn: &mut Conn, batch: i64) -> ApiResult<usize> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let Some(position) = ev::lock_dispatch(conn).await? else {
            return Ok(0);
        };
        let rows = ev::after(conn, position, batch).await?;
        let Some(last) = rows.last().map(ev::EventRow::position) else {
            return Ok(0);
        };
        let mut tenants: Vec<Uuid> = rows.iter().map(|r| r.tenant_id).collect();
        tenants.sort();
        tenants.dedup();
        let endpoints = q::enabled_of(conn, &tenants).await?;
        let mut new = Vec::new();
        let count = rows.len();
        for row in rows {
            let tenant = row.tenant_id;
            let event = match events::read(row) {
                Ok(e) => e,
                Err(e) => {
                    // A log entry that cannot be read is reported, never allowed to stop
                    // every other tenant's deliveries.
                    log::error!("webhook dispatch skips an event: {e}");
                    continue;
                }
            };
            for e in endpoints.iter().filter(|e| {
                e.tenant_id == tenant
                    && e.created_at <= event.timestamp
                    && e.types().any(|p| matches(p, &event.event_type))
            }) {
                new.push(NewDelivery {
                    id: Uuid::now_v7(),
                    tenant_id: tenant,
                    endpoint_id: e.id,
                    event_id: event.id,
                    event_type: event.event_type.clone(),
                    body: event.view().body()?,
                    status: "pending".to_string(),
                    next_attempt_at: Some(Utc::now()),
                });
            }
        }
        q::insert_deliveries(conn, new).await?;
        ev::set_dispatch(conn, last).await?;
        Ok(count)
    })
    .await
}

/// Claims up to `limit` due deliveries for `hold` (a claim that runs out because its process
/// died is due again).
pub async fn claim(conn: &mut Conn, limit: i64, hold: Duration) -> ApiResult<Vec<Claimed>> {
    let until = Utc::now() + chrono::Duration::from_std(hold).map_err(ApiError::internal)?;
    let rows = conn
        .transaction::<_, ApiError, _>(async |conn| Ok(q::claim_due(conn, limit, until).await?))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(delivery, endpoint)| Claimed { delivery, endpoint })
        .collect())
}

/// The first `KEPT_RESPONSE_BYTES` of a response body, cut at a character boundary.
pub fn kept(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(KEPT_RESPONSE_BYTES)]);
    let mut s = text.into_owned();
    while s.len() > KEPT_RESPONSE_BYTES {
        s.pop();
    }
    s
}

/// Records an attempt and what follows from it: success, a retry on the schedule (or after the
/// receiver's `Retry-After`), or failure; the endpoint is disabled on 410, or when it has failed
/// without a success for five days. Returns the delivery's state after it: `succeeded`,
/// `pending` (another attempt is scheduled) or `failed`.
pub async fn record(conn: &mut Conn, c: &Claimed, r: AttemptResult) -> ApiResult<&'static str> {
    let outcome = wh::outcome(r.status);
    let tenant = TenantId::new(c.delivery.tenant_id);
    conn.transaction::<_, ApiError, _>(async |conn| {
        let Some(endpoint) = Endpoint::find_for_update(conn, tenant, c.endpoint.id).await? else {
            // Deleted meanwhile: its deliveries went with it.
            return Ok("failed");
        };
        let attempts = u32::try_from(c.delivery.attempts).unwrap_or(0) + 1;
        let next = match outcome {
            Outcome::Delivered | Outcome::Gone => None,
            Outcome::Throttled => wh::next_delay(attempts, rand::random(), r.retry_after),
            Outcome::Failed => wh::next_delay(attempts, rand::random(), None),
        };
        let next_at = next
            .map(|d| chrono::Duration::from_std(d).map(|d| Utc::now() + d))
            .transpose()
            .map_err(ApiError::internal)?;
        let status = match (outcome, next_at) {
            (Outcome::Delivered, _) => "succeeded",
            (_, Some(_)) => "pending",
            (_, None) => "failed",
        };
        q::record_attempt(
            conn,
            Attempt {
                id: Uuid::now_v7(),
                tenant_id: tenant.get(),
                delivery_id: c.delivery.id,
                attempted_at: r.attempted_at,
                response_status: r.status.map(i32::from),
                duration_ms: i32::try_from(r.duration.as_millis()).unwrap_or(i32::MAX),
                response_body: r.body.clone(),
                error: r.error.clone(),
            },
            status,
            next_at,
        )
        .await?;
        let (mut ch, disable) = endpoint_health(&endpoint, outcome, r.attempted_at);
        if let Some(reason) = disable {
            if endpoint.enabled {
                log::warn!(
                    "webhook endpoint {} of tenant {} disabled: {reason}",
                    endpoint.id,
                    tenant.get()
                );
                ch.enabled = Some(false);
                ch.disabled_reason = Some(Some(reason));
            }
            q::fail_pending_of(conn, tenant, endpoint.id).await?;
        }
        if ch.enabled.is_some() || ch.failing_since.is_some() {
            Endpoint::update(conn, tenant, endpoint.id, ch).await?;
        }
        Ok(status)
    })
    .await
}

/// What an attempt's outcome means for its endpoint: its failing-since mark, and a reason to
/// disable it (410 Gone, or failures without a success for `DISABLE_AFTER`).
fn endpoint_health(
    endpoint: &Endpoint,
    outcome: Outcome,
    attempted_at: DateTime<Utc>,
) -> (EndpointChanges, Option<String>) {
    let mut ch = EndpointChanges::default();
    let disable = match outcome {
        Outcome::Delivered => {
            if endpoint.failing_since.is_some() {
                ch.failing_since = Some(None);
            }
            None
        }
        Outcome::Gone => Some("the receiver answered 410 Gone".to_string()),
        Outcome::Throttled | Outcome::Failed => {
            let since = endpoint.failing_since.unwrap_or(attempted_at);
            if endpoint.failing_since.is_none() {
                ch.failing_since = Some(Some(since));
            }
            let failing_for = (Utc::now() - since).to_std().unwrap_or_default();
            (failing_for >= DISABLE_AFTER).then(|| {
                format!(
                    "every delivery failed since {}",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            })
        }
    };
    (ch, disable)
}

/// Gives up a claimed delivery without sending (its endpoint is disabled).
pub async fn skip(conn: &mut Conn, c: &Claimed, reason: &str) -> ApiResult<()> {
    let r = AttemptResult {
        attempted_at: Utc::now(),
        status: None,
        duration: Duration::ZERO,
        body: None,
        error: Some(reason.to_string()),
        retry_after: None,
    };
    conn.transaction::<_, ApiError, _>(async |conn| {
        q::record_attempt(
            conn,
            Attempt {
                id: Uuid::now_v7(),
                tenant_id: c.delivery.tenant_id,
                delivery_id: c.delivery.id,
                attempted_at: r.attempted_at,
                response_status: None,
                duration_ms: 0,
                response_body: None,
                error: r.error,
            },
            "failed",
            None,
        )
        .await?;
        Ok(())
    })
    .await
}

/// Pending deliveries and the age of the oldest.
pub async fn queue(conn: &mut Conn) -> ApiResult<(i64, Duration)> {
    let (depth, oldest) = q::queue_stats(conn).await?;
    let age = oldest
        .map(|t| (Utc::now() - t).to_std().unwrap_or_default())
        .unwrap_or_default();
    Ok((depth, age))
}

/// Deletes events and finished deliveries older than `retention`, and idempotency keys older
/// than a day; returns how many rows went.
pub async fn prune(conn: &mut Conn, retention: Duration) -> ApiResult<usize> {
    const BATCH: i64 = 1000;
    let before = Utc::now() - chrono::Duration::from_std(retention).map_err(ApiError::internal)?;
    let mut total = 0;
    loop {
        let n = ev::prune(conn, before, BATCH).await?;
        total += n;
        if n < BATCH as usize {
            break;
        }
    }
    loop {
        let n = q::prune_finished(conn, before, BATCH).await?;
        total += n;
        if n < BATCH as usize {
            break;
        }
    }
    total += idempotency::prune(conn, Utc::now() - chrono::Duration::hours(24)).await?;
    Ok(total)
}
