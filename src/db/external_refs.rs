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
