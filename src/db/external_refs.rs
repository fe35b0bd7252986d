//! The index of references of other systems (`external_refs`): who holds `<system>:<id>`. The
//! rows carry their references themselves (`external_refs` columns); a trigger keeps this index
//! in step with them (migration `2026-12-04-000008_external_refs`).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{contacts, external_refs as r};
use crate::domain::external_ref::ExternalRef;
use crate::domain::ids::TenantId;

/// The constraint a reference held twice violates.
pub const UNIQUE: &str = "external_refs_pkey";

/// `SELECT resource_id … WHERE <the reference>`: the holder, as a sub-select of a list filter.
#[diesel::dsl::auto_type]
pub fn holders(tenant: TenantId, kind: &'static str, reference: &ExternalRef) -> _ {
    let tenant: Uuid = tenant.get();
    let system: String = reference.system.clone();
    let id: String = reference.id.clone();
    r::table
        .filter(r::tenant_id.eq(tenant))
        .filter(r::resource_type.eq(kind))
        .filter(r::system.eq(system))
        .filter(r::external_id.eq(id))
        .select(r::resource_id)
}

/// The resource of type `kind` holding `reference`, if any. Shared connection: can be
/// pipelined.
pub async fn holder(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    kind: &'static str,
    reference: &ExternalRef,
) -> QueryResult<Option<Uuid>> {
    holders(tenant, kind, reference)
        .first(&mut conn)
        .await
        .optional()
}

/// The holders of every reference in `keys` (`<system>:<id>`), as `(key, resource id)`.
pub async fn held(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    kind: &'static str,
    keys: &[String],
) -> QueryResult<Vec<(String, Uuid)>> {
    r::table
        .filter(r::tenant_id.eq(tenant.get()))
        .filter(r::resource_type.eq(kind))
        .filter(r::system.concat(":").concat(r::external_id).eq_any(keys))
        .select((r::system.concat(":").concat(r::external_id), r::resource_id))
        .load(&mut conn)
        .await
}

/// The account of a contact (to name the contact by its path).
pub async fn account_of_contact(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    contact: Uuid,
) -> QueryResult<Option<Uuid>> {
    contacts::table
        .filter(contacts::tenant_id.eq(tenant.get()))
        .filter(contacts::id.eq(contact))
        .select(contacts::account_id)
        .first(&mut conn)
        .await
        .optional()
}

/// The holders of the references `<system>:<id>` of one system, as `(id, resource id)`: one
/// statement for a whole batch of rows. Each id is looked up on the index's whole key (a
/// lateral sub-select with `LIMIT 1`, which the planner keeps as one unique look-up per id):
/// the plan stays that even while a bulk load outgrows the table's statistics (a filter on
/// `external_id = ANY(…)`, or a lateral join flattened into a hash join, read all of the
/// tenant's references of the type: 0.3 s for 500 ids among 36,000).
pub async fn held_in(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    kind: &'static str,
    system: &str,
    ids: &[&str],
) -> QueryResult<Vec<(String, Uuid)>> {
    use diesel::sql_types::{Array, Text};
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Text)]
        external_id: String,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        resource_id: Uuid,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Held> = diesel::sql_query(
        "SELECT r.external_id, r.resource_id FROM unnest($4::text[]) AS u(id) \
         CROSS JOIN LATERAL (SELECT external_id, resource_id FROM external_refs \
           WHERE tenant_id = $1 AND resource_type = $2 AND system = $3 AND external_id = u.id \
           LIMIT 1) r",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant.get())
    .bind::<Text, _>(kind)
    .bind::<Text, _>(system)
    .bind::<Array<Text>, _>(ids)
    .load(&mut conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|h| (h.external_id, h.resource_id))
        .collect())
}

/// Of the contacts `ids`, each one's account and whether it is archived (each looked up by its
/// id alone, the tenant's condition outside: `db::accounts::lock_all` says why).
pub async fn contacts_of(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, Uuid, bool)>> {
    use diesel::sql_types::{Array, Bool, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Place {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        account_id: Uuid,
        #[diesel(sql_type = Bool)]
        archived: bool,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Place> = diesel::sql_query(
        "SELECT c.id, c.account_id, c.archived FROM unnest($2::uuid[]) AS u(id) \
         CROSS JOIN LATERAL (SELECT id, tenant_id, account_id, \
           archived_at IS NOT NULL AS archived FROM contacts WHERE id = u.id LIMIT 1) c \
         WHERE c.tenant_id = $1",
    )
    .bind::<SqlUuid, _>(tenant.get())
    .bind::<Array<SqlUuid>, _>(ids)
    .load(&mut conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|p| (p.id, p.account_id, p.archived))
        .collect())
}
