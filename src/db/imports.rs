//! Queries for import jobs and their row reports.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{import_file_parts as f, import_jobs as j, import_rows as r};
use crate::domain::ids::TenantId;

type NullableTime = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>;

/// `now()` where a nullable time goes.
fn now_or_null() -> diesel::expression::SqlLiteral<NullableTime> {
    diesel::dsl::sql::<NullableTime>("now()")
}

/// The constraint that keeps a tenant to one job at a time.
pub const ONE_ACTIVE: &str = "import_jobs_one_active_idx";

/// A job as stored, without its file.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = j, check_for_backend(diesel::pg::Pg))]
pub struct ImportJob {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub resource: String,
    pub source: String,
    pub dry_run: bool,
    pub status: String,
    pub charset: Option<String>,
    pub currency: String,
    pub total_rows: Option<i32>,
    pub processed_rows: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed_rows: i32,
    pub ignored_columns: Vec<Option<String>>,
    pub unmapped_values: Vec<Option<String>>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_by: String,
    pub roles: Vec<Option<String>>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = j)]
pub struct NewImportJob {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub resource: String,
    pub source: String,
    pub dry_run: bool,
    pub status: String,
    pub charset: Option<String>,
    pub currency: String,
    pub total_rows: Option<i32>,
    pub ignored_columns: Vec<Option<String>>,
    pub created_by: String,
    pub roles: Vec<Option<String>>,
}

/// The counters a running job reports as it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = j)]
pub struct Progress {
    pub processed_rows: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed_rows: i32,
    pub unmapped_values: Vec<Option<String>>,
}

/// One line of a row report.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = r, check_for_backend(diesel::pg::Pg))]
pub struct ImportRow {
    pub tenant_id: Uuid,
    pub job_id: Uuid,
    pub row_number: i32,
    pub status: String,
    pub resource_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub errors: Option<String>,
}

/// The size of a part of a job's file.
pub const PART_BYTES: usize = 1 << 20;

/// Queues a job with its file, in parts of `PART_BYTES` (one statement each), in one
/// transaction.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewImportJob,
    file: &[u8],
) -> QueryResult<ImportJob> {
    use diesel_async::AsyncConnection;
    conn.transaction(async |conn| {
        let (tenant, id) = (new.tenant_id, new.id);
        let job = diesel::insert_into(j::table)
            .values(new)
            .returning(ImportJob::as_returning())
            .get_result(conn)
            .await?;
        for (part, bytes) in (0_i32..).zip(file.chunks(PART_BYTES)) {
            diesel::insert_into(f::table)
                .values((
                    f::tenant_id.eq(tenant),
                    f::job_id.eq(id),
                    f::part.eq(part),
                    f::bytes.eq(bytes),
                ))
                .execute(conn)
                .await?;
        }
        Ok(job)
    })
    .await
}

/// Part `part` of the job's file (`None` after its last part, and once the job has ended).
pub async fn file_part(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
    part: i32,
) -> QueryResult<Option<Vec<u8>>> {
    f::table
        .filter(f::tenant_id.eq(tenant.get()))
        .filter(f::job_id.eq(id))
        .filter(f::part.eq(part))
        .select(f::bytes)
        .first(conn)
        .await
        .optional()
}

/// Drops the job's file.
async fn drop_file(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<()> {
    diesel::delete(
        f::table
            .filter(f::tenant_id.eq(tenant.get()))
            .filter(f::job_id.eq(id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
) -> QueryResult<Option<ImportJob>> {
    j::table
        .filter(j::tenant_id.eq(tenant.get()))
        .filter(j::id.eq(id))
        .select(ImportJob::as_select())
        .first(conn)
        .await
        .optional()
}

/// The tenant's jobs, newest first, before `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<ImportJob>> {
    let mut q = j::table
        .filter(j::tenant_id.eq(tenant.get()))
        .select(ImportJob::as_select())
        .order(j::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(j::id.lt(b));
    }
    q.load(conn).await
}

/// Asks a job that has not ended to stop; a queued one is cancelled at once. The job as it is
/// now, or `None` when the tenant has no such job.
pub async fn request_cancel(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
) -> QueryResult<Option<ImportJob>> {
    use diesel::dsl::now;
    let this = || {
        j::table
            .filter(j::tenant_id.eq(tenant.get()))
            .filter(j::id.eq(id))
    };
    let cancelled = diesel::update(this().filter(j::status.eq("queued")))
        .set((
            j::cancel_requested.eq(true),
            j::status.eq("cancelled"),
            j::finished_at.eq(now_or_null()),
            j::updated_at.eq(now),
            j::version.eq(j::version + 1),
        ))
        .execute(conn)
        .await?;
    if cancelled > 0 {
        drop_file(conn, tenant, id).await?;
    }
    diesel::update(this().filter(j::status.eq("running")))
        .set((j::cancel_requested.eq(true), j::updated_at.eq(now)))
        .execute(conn)
        .await?;
    find(conn, tenant, id).await
}

/// Jobs waiting for a worker or whose worker went away, oldest first.
pub async fn pending(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<(Uuid, Uuid)>> {
    j::table
        .filter(j::status.eq_any(["queued", "running"]))
        .order(j::created_at.asc())
        .select((j::tenant_id, j::id))
        .limit(limit)
        .load(conn)
        .await
}

/// Marks the job running (from its first start on).
pub async fn start(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<()> {
    use diesel::dsl::now;
    diesel::update(
        j::table
            .filter(j::tenant_id.eq(tenant.get()))
            .filter(j::id.eq(id)),
    )
    .set((
        j::status.eq("running"),
        j::started_at.eq(diesel::dsl::sql::<NullableTime>(
            "coalesce(started_at, now())",
        )),
        j::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records progress; answers whether a cancel was requested.
pub async fn progress(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
    p: &Progress,
) -> QueryResult<bool> {
    diesel::update(
        j::table
            .filter(j::tenant_id.eq(tenant.get()))
            .filter(j::id.eq(id)),
    )
    .set((p, j::updated_at.eq(diesel::dsl::now)))
    .returning(j::cancel_requested)
    .get_result(conn)
    .await
}

/// Ends the job: its status, and the error that ended it; its file is dropped.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
    status: &str,
    error: Option<String>,
) -> QueryResult<()> {
    use diesel::dsl::now;
    diesel::update(
        j::table
            .filter(j::tenant_id.eq(tenant.get()))
            .filter(j::id.eq(id)),
    )
    .set((
        j::status.eq(status),
        j::error.eq(error),
        j::finished_at.eq(now_or_null()),
        j::updated_at.eq(now),
        j::version.eq(j::version + 1),
    ))
    .execute(conn)
    .await?;
    drop_file(conn, tenant, id).await
}

/// Records report lines; a line already recorded (a resumed job) is kept.
pub async fn record_rows(conn: &mut AsyncPgConnection, rows: &[ImportRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(r::table)
        .values(rows.to_vec())
        .on_conflict((r::tenant_id, r::job_id, r::row_number))
        .do_update()
        .set((
            r::status.eq(diesel::upsert::excluded(r::status)),
            r::resource_id.eq(diesel::upsert::excluded(r::resource_id)),
            r::errors.eq(diesel::upsert::excluded(r::errors)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Report lines after `after_row`, in row order.
pub async fn rows(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    job: Uuid,
    after_row: i32,
    limit: i64,
) -> QueryResult<Vec<ImportRow>> {
    r::table
        .filter(r::tenant_id.eq(tenant.get()))
        .filter(r::job_id.eq(job))
        .filter(r::row_number.gt(after_row))
        .order(r::row_number.asc())
        .limit(limit)
        .select(ImportRow::as_select())
        .load(conn)
        .await
}

/// Takes the job's worker lock (a session lock, released when the worker's connection ends:
/// a job whose worker died is free again); `false` when another worker holds it.
pub async fn try_lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(lock_key(id))
        .get_result(conn)
        .await?;
    Ok(row.locked)
}

pub async fn unlock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<diesel::sql_types::BigInt, _>(lock_key(id))
        .execute(conn)
        .await?;
    Ok(())
}

/// The advisory lock key of a job: the random low half of its id (UUIDv7).
fn lock_key(id: Uuid) -> i64 {
    let b = id.as_bytes();
    i64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]])
}
