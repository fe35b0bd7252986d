//! Queries for contacts (the org chart of an account).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::table::{ArchivableTable, VersionedTable};
use crate::domain::ids::TenantId;

use crate::db::schema::contacts;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = contacts, check_for_backend(diesel::pg::Pg))]
pub struct Contact {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub department: String,
    pub methodology_role: Option<String>,
    pub reports_to: Option<Uuid>,
    pub attitude: String,
    pub relationship: String,
    pub influence: Option<String>,
    pub key_person: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// References of other systems, `<system>:<id>` (`domain::external_ref`).
    pub external_refs: Vec<Option<String>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contacts)]
pub struct NewContact {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub department: String,
    pub methodology_role: Option<String>,
    pub reports_to: Option<Uuid>,
    pub attitude: String,
    pub relationship: String,
    pub influence: Option<String>,
    pub key_person: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    pub external_refs: Vec<Option<String>>,
}

/// A partial update: `None` leaves a column alone, `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = contacts)]
pub struct ContactChanges {
    pub name: Option<String>,
    pub title: Option<Option<String>>,
    pub department: Option<String>,
    pub methodology_role: Option<Option<String>>,
    pub reports_to: Option<Option<Uuid>>,
    pub attitude: Option<String>,
    pub relationship: Option<String>,
    pub influence: Option<Option<String>>,
    pub key_person: Option<bool>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub external_refs: Option<Vec<Option<String>>>,
}

/// Filters of the contact list.
#[derive(Debug, Default, Clone)]
pub struct ContactFilter {
    pub include_archived: bool,
    pub external_ref: Option<crate::domain::external_ref::ExternalRef>,
}

fn scoped(tenant: TenantId, account: Uuid) -> contacts::BoxedQuery<'static, diesel::pg::Pg> {
    contacts::table
        .filter(contacts::tenant_id.eq(tenant.get()))
        .filter(contacts::account_id.eq(account))
        .into_boxed()
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Uuid,
    filter: &ContactFilter,
    keyset: &crate::db::Keyset<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Contact>> {
    let query = scoped(tenant, account)
        .select(Contact::as_select())
        .limit(limit);
    let mut query =
        crate::db::keyset::oldest_first(query, contacts::updated_at, contacts::id, keyset);
    if !keyset.with_archived(filter.include_archived) {
        query = query.filter(contacts::archived_at.is_null());
    }
    if let Some(r) = &filter.external_ref {
        query = query
            .filter(contacts::id.eq_any(crate::db::external_refs::holders(tenant, "contact", r)));
    }
    query.load(conn).await
}

/// Every active (not archived) contact of the account: the org chart.
pub async fn active_for_account(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    account: crate::db::AccountKey,
) -> QueryResult<Vec<Contact>> {
    contacts::table
        .filter(contacts::tenant_id.eq(tenant.get()))
        .filter(contacts::account_id.eq(account.expr(tenant)))
        .filter(contacts::archived_at.is_null())
        .select(Contact::as_select())
        .order(contacts::id.asc())
        .load(&mut conn)
        .await
}

/// An active contact of the account with its activity figures.
#[derive(Debug, Clone, QueryableByName)]
pub struct ContactWithActivity {
    #[diesel(embed)]
    pub contact: Contact,
    /// When it last took part in an active activity of the account.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub last_contacted_at: Option<DateTime<Utc>>,
    /// In how many active activities of the account it took part.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub activity_count: i64,
}

/// Every active contact of the account with its activity figures, in one statement (the org
/// chart and an assessment's facts). Shared connection: pipelined with the caller's other reads.
pub async fn active_with_activity(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    account: crate::db::AccountKey,
) -> QueryResult<Vec<ContactWithActivity>> {
    use diesel::sql_types::Uuid as SqlUuid;
    let key = account.sql(1, 2);
    // One of two fixed texts (by id, or by opportunity): kept prepared.
    crate::db::cached(
        diesel::sql_query(format!(
            "SELECT c.id, c.tenant_id, c.account_id, c.name, c.title, c.department, \
                    c.methodology_role, c.reports_to, c.attitude, c.relationship, c.influence, \
                    c.key_person, c.phone, c.email, c.notes, c.created_at, c.updated_at, \
                    c.archived_at, c.version, c.external_refs, \
                    f.last_contacted_at, coalesce(f.activity_count, 0) AS activity_count \
             FROM contacts c LEFT JOIN ({figures}) f ON f.contact_id = c.id \
             WHERE c.tenant_id = $1 AND c.account_id = {key} AND c.archived_at IS NULL \
             ORDER BY c.id",
            figures = crate::db::activities::contact_figures_sql(&key),
        ))
        .bind::<SqlUuid, _>(tenant.get())
        .bind::<SqlUuid, _>(account.id()),
    )
    .load(&mut conn)
    .await
}

/// `(id, reports_to)` of every contact of the account, archived ones included (cycle checks).
pub async fn edges(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Uuid,
) -> QueryResult<Vec<(Uuid, Option<Uuid>)>> {
    scoped(tenant, account)
        .select((contacts::id, contacts::reports_to))
        .load(conn)
        .await
}

#[diesel::dsl::auto_type]
fn by_id(tenant: TenantId, account: Uuid, id: Uuid) -> _ {
    let tenant: Uuid = tenant.get();
    contacts::table
        .filter(contacts::tenant_id.eq(tenant))
        .filter(contacts::account_id.eq(account))
        .filter(contacts::id.eq(id))
}

#[diesel::dsl::auto_type]
fn bump() -> _ {
    (
        contacts::version.eq(contacts::version + 1_i32),
        contacts::updated_at.eq(diesel::dsl::now),
    )
}

#[diesel::dsl::auto_type]
fn archived_at(at: Option<DateTime<Utc>>) -> _ {
    contacts::archived_at.eq(at)
}

/// A contact is named by its account and its id.
impl VersionedTable for Contact {
    type Table = contacts::table;
    type Key = (Uuid, Uuid);
    type ByKey = by_id;
    type Bump = bump;

    fn by_key(tenant: TenantId, (account, id): (Uuid, Uuid)) -> by_id {
        by_id(tenant, account, id)
    }

    fn bump() -> bump {
        bump()
    }
}

impl ArchivableTable for Contact {
    type SetArchived = archived_at;

    fn set_archived_at(at: Option<DateTime<Utc>>) -> archived_at {
        archived_at(at)
    }
}

/// The tenant's contacts in id order after `after` (of one account when given): the export.
pub async fn page(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Option<Uuid>,
    include_archived: bool,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Contact>> {
    let mut q = contacts::table
        .filter(contacts::tenant_id.eq(tenant.get()))
        .select(Contact::as_select())
        .order(contacts::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = account {
        q = q.filter(contacts::account_id.eq(a));
    }
    if !include_archived {
        q = q.filter(contacts::archived_at.is_null());
    }
    if let Some(after) = after {
        q = q.filter(contacts::id.gt(after));
    }
    q.load(conn).await
}
