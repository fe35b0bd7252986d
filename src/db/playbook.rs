//! Queries for tenant playbook versions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::ids::TenantId;

use crate::db::schema::playbook_versions as pv;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pv, check_for_backend(diesel::pg::Pg))]
pub struct PlaybookVersion {
    pub tenant_id: Uuid,
    pub version: i32,
    pub overlay: serde_json::Value,
    pub stage_code: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

pub async fn latest(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
) -> QueryResult<Option<PlaybookVersion>> {
    pv::table
        .filter(pv::tenant_id.eq(tenant.get()))
        .order(pv::version.desc())
        .select(PlaybookVersion::as_select())
        .first(&mut conn)
        .await
        .optional()
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    version: i32,
) -> QueryResult<Option<PlaybookVersion>> {
    pv::table
        .filter(pv::tenant_id.eq(tenant.get()))
        .filter(pv::version.eq(version))
        .select(PlaybookVersion::as_select())
        .first(conn)
        .await
        .optional()
}

/// Versions after `after`, oldest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    after: i32,
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: i64,
) -> QueryResult<Vec<PlaybookVersion>> {
    let mut q = pv::table
        .filter(pv::tenant_id.eq(tenant.get()))
        .filter(pv::version.gt(after))
        .order(pv::version.asc())
        .limit(limit)
        .select(PlaybookVersion::as_select())
        .into_boxed();
    if let Some(since) = since {
        q = q.filter(pv::created_at.ge(since));
    }
    q.load(conn).await
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    row: PlaybookVersion,
) -> QueryResult<PlaybookVersion> {
    diesel::insert_into(pv::table)
        .values(row)
        .returning(PlaybookVersion::as_returning())
        .get_result(conn)
        .await
}
