//! Webhook endpoints, their deliveries and the attempts of each delivery.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::db::table::VersionedTable;
use crate::domain::ids::TenantId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::pg::Pg))]
pub struct Endpoint {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<Option<String>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Endpoint {
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.event_types.iter().flatten().map(String::as_str)
    }

    /// The secrets that sign now: the current one, and the previous one during its overlap.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut v = vec![self.secret.as_str()];
        if let (Some(prev), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
        {
            if until > now {
                v.push(prev);
            }
        }
        v
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<Option<String>>,
    pub enabled: bool,
    pub secret: String,
    pub created_by: String,
}

/// A partial update: `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<Option<String>>>,
    pub enabled: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    pub failing_since: Option<Option<DateTime<Utc>>>,
    pub secret: Option<String>,
    pub previous_secret: Option<Option<String>>,
    pub previous_secret_expires_at: Option<Option<DateTime<Utc>>>,
}

#[diesel::dsl::auto_type]
fn by_id(tenant: TenantId, id: Uuid) -> _ {
    let tenant: Uuid = tenant.get();
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .filter(webhook_endpoints::id.eq(id))
}

#[diesel::dsl::auto_type]
fn bump() -> _ {
    (
        webhook_endpoints::version.eq(webhook_endpoints::version + 1_i32),
        webhook_endpoints::updated_at.eq(diesel::dsl::now),
    )
}

impl VersionedTable for Endpoint {
    type Table = webhook_endpoints::table;
    type Key = Uuid;
    type ByKey = by_id;
    type Bump = bump;

    fn by_key(tenant: TenantId, id: Uuid) -> by_id {
        by_id(tenant, id)
    }

    fn bump() -> bump {
        bump()
    }
}

/// In id order after `after`; with `since`, in `(updated_at, id)` order instead.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    keyset: &crate::db::Keyset<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Endpoint>> {
    let q = webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant.get()))
        .select(Endpoint::as_select())
        .limit(limit)
        .into_boxed();
    crate::db::keyset::oldest_first(
        q,
        webhook_endpoints::updated_at,
        webhook_endpoints::id,
        keyset,
    )
    .load(conn)
    .await
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::tenant_id.eq(tenant.get()))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .execute(conn)
    .await
}

/// The enabled endpoints of these tenants (the dispatcher matches events against them).
pub async fn enabled_of(
    conn: &mut AsyncPgConnection,
    tenants: &[Uuid],
) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq_any(tenants.to_vec()))
        .filter(webhook_endpoints::enabled.eq(true))
        .select(Endpoint::as_select())
        .load(conn)
        .await
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct Delivery {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct NewDelivery {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

pub async fn insert_deliveries(
    conn: &mut AsyncPgConnection,
    new: Vec<NewDelivery>,
) -> QueryResult<Vec<Delivery>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    diesel::insert_into(webhook_deliveries::table)
        .values(new)
        .returning(Delivery::as_returning())
        .get_results(conn)
        .await
}

/// Claims up to `limit` due deliveries until `claim_until` (other replicas skip them; a claim that
/// expires because its process died is due again), with their endpoints.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    limit: i64,
    claim_until: DateTime<Utc>,
) -> QueryResult<Vec<(Delivery, Endpoint)>> {
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let ids: Vec<Claimed> = diesel::sql_query(
        "UPDATE webhook_deliveries SET claimed_until = $1 WHERE id IN (\
           SELECT id FROM webhook_deliveries \
           WHERE status = 'pending' AND next_attempt_at <= now() \
             AND (claimed_until IS NULL OR claimed_until < now()) \
           ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING id",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(claim_until)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await?;
    let ids: Vec<Uuid> = ids.into_iter().map(|c| c.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let claimed: Vec<Delivery> = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq_any(ids))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select(Delivery::as_select())
        .load(conn)
        .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = claimed.iter().map(|d| d.endpoint_id).collect();
    let endpoints: Vec<Endpoint> = webhook_endpoints::table
        .filter(webhook_endpoints::id.eq_any(ids))
        .select(Endpoint::as_select())
        .load(conn)
        .await?;
    Ok(claimed
        .into_iter()
        .filter_map(|d| {
            let e = endpoints.iter().find(|e| e.id == d.endpoint_id)?.clone();
            Some((d, e))
        })
        .collect())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts, check_for_backend(diesel::pg::Pg))]
pub struct Attempt {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    pub response_status: Option<i32>,
    pub duration_ms: i32,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

/// Records one attempt and the delivery's new state (`next_attempt_at` for another try).
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    attempt: Attempt,
    status: &str,
    next_attempt_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    let id = attempt.delivery_id;
    let tenant = attempt.tenant_id;
    diesel::insert_into(webhook_attempts::table)
        .values(attempt)
        .execute(conn)
        .await?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(tenant))
            .filter(webhook_deliveries::id.eq(id)),
    )
    .set((
        webhook_deliveries::status.eq(status),
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::next_attempt_at.eq(next_attempt_at),
        webhook_deliveries::claimed_until.eq(None::<DateTime<Utc>>),
        webhook_deliveries::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Gives up every pending delivery of an endpoint (it was disabled).
pub async fn fail_pending_of(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    endpoint_id: Uuid,
) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(tenant.get()))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .filter(webhook_deliveries::status.eq("pending")),
    )
    .set((
        webhook_deliveries::status.eq("failed"),
        webhook_deliveries::next_attempt_at.eq(None::<DateTime<Utc>>),
        webhook_deliveries::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await
}

/// Newest first.
pub async fn deliveries_of(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    endpoint_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(tenant.get()))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(webhook_deliveries::id.lt(b));
    }
    q.load(conn).await
}

/// The attempts of these deliveries, oldest first.
pub async fn attempts_of(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    deliveries: &[Uuid],
) -> QueryResult<Vec<Attempt>> {
    webhook_attempts::table
        .filter(webhook_attempts::tenant_id.eq(tenant.get()))
        .filter(webhook_attempts::delivery_id.eq_any(deliveries.to_vec()))
        .select(Attempt::as_select())
        .order((
            webhook_attempts::attempted_at.asc(),
            webhook_attempts::id.asc(),
        ))
        .load(conn)
        .await
}

pub async fn find_delivery_for_update(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    endpoint_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(tenant.get()))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .filter(webhook_deliveries::id.eq(id))
        .select(Delivery::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Makes a delivery due now (again).
pub async fn make_due(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
) -> QueryResult<Delivery> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(tenant.get()))
            .filter(webhook_deliveries::id.eq(id)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(Utc::now()),
        webhook_deliveries::claimed_until.eq(None::<DateTime<Utc>>),
        webhook_deliveries::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Delivery::as_returning())
    .get_result(conn)
    .await
}

/// Pending deliveries and the age of the oldest, for the metrics.
pub async fn queue_stats(
    conn: &mut AsyncPgConnection,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(webhook_deliveries::created_at),
        ))
        .first(conn)
        .await
}

/// Deletes up to `batch` finished deliveries last changed before `before`.
pub async fn prune_finished(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    batch: i64,
) -> QueryResult<usize> {
    let old: Vec<Uuid> = webhook_deliveries::table
        .filter(webhook_deliveries::status.ne("pending"))
        .filter(webhook_deliveries::updated_at.lt(before))
        .select(webhook_deliveries::id)
        .limit(batch)
        .load(conn)
        .await?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(old)))
        .execute(conn)
        .await
}
