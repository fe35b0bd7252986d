//! Queries for accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::external_refs;
use crate::db::table::{ArchivableTable, VersionedTable};
use crate::domain::external_ref::ExternalRef;
use crate::domain::ids::TenantId;

use crate::db::schema::accounts;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
pub struct Account {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub size_band: Option<String>,
    pub website: Option<String>,
    pub tags: Vec<Option<String>>,
    pub notes: Option<String>,
    pub owner: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// References of other systems, `<system>:<id>` (`domain::external_ref`).
    pub external_refs: Vec<Option<String>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub size_band: Option<String>,
    pub website: Option<String>,
    pub tags: Vec<Option<String>>,
    pub notes: Option<String>,
    pub owner: String,
    pub created_by: String,
    pub external_refs: Vec<Option<String>>,
}

/// A partial update: `None` leaves a column alone, `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub industry: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub size_band: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub tags: Option<Vec<Option<String>>>,
    pub notes: Option<Option<String>>,
    pub owner: Option<String>,
    pub external_refs: Option<Vec<Option<String>>>,
}

/// List filters.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    pub q: Option<String>,
    pub owner: Option<String>,
    pub industry: Option<String>,
    pub tag: Option<String>,
    pub external_ref: Option<ExternalRef>,
    pub include_archived: bool,
}

#[diesel::dsl::auto_type]
fn by_id(tenant: TenantId, id: Uuid) -> _ {
    let tenant: Uuid = tenant.get();
    accounts::table
        .filter(accounts::tenant_id.eq(tenant))
        .filter(accounts::id.eq(id))
}

#[diesel::dsl::auto_type]
fn bump() -> _ {
    (
        accounts::version.eq(accounts::version + 1_i32),
        accounts::updated_at.eq(diesel::dsl::now),
    )
}

#[diesel::dsl::auto_type]
fn archived_at(at: Option<DateTime<Utc>>) -> _ {
    accounts::archived_at.eq(at)
}

impl VersionedTable for Account {
    type Table = accounts::table;
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

impl ArchivableTable for Account {
    type SetArchived = archived_at;

    fn set_archived_at(at: Option<DateTime<Utc>>) -> archived_at {
        archived_at(at)
    }
}

/// One page in id order (ids are time-ordered), or in `(updated_at, id)` order when syncing;
/// `limit` rows at most.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    filter: &AccountFilter,
    keyset: &crate::db::Keyset<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Account>> {
    let query = accounts::table
        .filter(accounts::tenant_id.eq(tenant.get()))
        .select(Account::as_select())
        .limit(limit)
        .into_boxed();
    let mut query =
        crate::db::keyset::oldest_first(query, accounts::updated_at, accounts::id, keyset);
    if !keyset.with_archived(filter.include_archived) {
        query = query.filter(accounts::archived_at.is_null());
    }
    if let Some(q) = &filter.q {
        query = query.filter(accounts::name.ilike(format!("%{}%", crate::db::like_escape(q))));
    }
    if let Some(owner) = &filter.owner {
        query = query.filter(accounts::owner.eq(owner.clone()));
    }
    if let Some(industry) = &filter.industry {
        query = query.filter(accounts::industry.eq(industry.clone()));
    }
    if let Some(r) = &filter.external_ref {
        query = query.filter(accounts::id.eq_any(external_refs::holders(tenant, "account", r)));
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(accounts::tags.contains(vec![Some(tag.clone())]));
    }
    query.load(conn).await
}

/// Whether the account is archived; `None` when the tenant has no such account. Shared
/// connection: pipelined with the read of the row it is the parent of.
pub async fn archived(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    account: crate::db::AccountKey,
) -> QueryResult<Option<bool>> {
    accounts::table
        .filter(accounts::tenant_id.eq(tenant.get()))
        .filter(accounts::id.eq(account.expr(tenant)))
        .select(accounts::archived_at.is_not_null())
        .first(&mut conn)
        .await
        .optional()
}

/// The accounts `ids` of the tenant, locked for a write to them or their children (`FOR
/// UPDATE`), one by one in the order given (callers give them sorted: writers locking several
/// never wait on each other in a circle). Each is looked up by its id alone (a lateral
/// sub-select with `LIMIT 1`, which keeps the tenant's condition outside it): while a bulk
/// import outgrows the statistics, a tenant looks empty to the planner and every index that
/// starts with `tenant_id` as cheap as the key, so `id = ANY(…)` was planned as a scan of the
/// tenant's accounts (143 ms for 250 of 100,000), and a look-up naming the tenant took an index
/// of the tenant's owners (86 ms).
pub async fn lock_all(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    ids: &[Uuid],
) -> QueryResult<Vec<Account>> {
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(
        "SELECT a.* FROM unnest($2::uuid[]) WITH ORDINALITY AS u(id, n) \
         CROSS JOIN LATERAL (SELECT * FROM accounts WHERE id = u.id LIMIT 1 FOR UPDATE) a \
         WHERE a.tenant_id = $1 ORDER BY u.n",
    )
    .bind::<SqlUuid, _>(tenant.get())
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await
}
