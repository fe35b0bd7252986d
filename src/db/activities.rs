//! Queries for activities (what the seller did).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::activities as a;
use crate::db::table::{ArchivableTable, VersionedTable};
use crate::domain::ids::TenantId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a, check_for_backend(diesel::pg::Pg))]
pub struct Activity {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub duration_minutes: Option<i32>,
    pub subject: String,
    pub notes: Option<String>,
    pub participants: Vec<Option<Uuid>>,
    pub our_attendees: Vec<Option<String>>,
    pub key_actions: Vec<Option<String>>,
    pub tools: Vec<Option<String>>,
    pub findings: serde_json::Value,
    pub outcome: Option<String>,
    pub next_step_text: Option<String>,
    pub next_step_due_at: Option<DateTime<Utc>>,
    pub survey_record_id: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// References of other systems, `<system>:<id>` (`domain::external_ref`).
    pub external_refs: Vec<Option<String>>,
}

/// The content of an activity, as created or replaced by a patch.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = a, treat_none_as_null = true)]
pub struct ActivityContent {
    pub opportunity_id: Option<Uuid>,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub duration_minutes: Option<i32>,
    pub subject: String,
    pub notes: Option<String>,
    pub participants: Vec<Option<Uuid>>,
    pub our_attendees: Vec<Option<String>>,
    pub key_actions: Vec<Option<String>>,
    pub tools: Vec<Option<String>>,
    pub findings: serde_json::Value,
    pub outcome: Option<String>,
    pub next_step_text: Option<String>,
    pub next_step_due_at: Option<DateTime<Utc>>,
    pub survey_record_id: Option<Uuid>,
    pub external_refs: Vec<Option<String>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = a)]
pub struct NewActivity {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub created_by: String,
}

/// Filters of the activity list.
#[derive(Debug, Default, Clone)]
pub struct ActivityFilter {
    pub opportunity_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub kind: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub external_ref: Option<crate::domain::external_ref::ExternalRef>,
    pub include_archived: bool,
}

#[diesel::dsl::auto_type]
fn by_id(tenant: TenantId, id: Uuid) -> _ {
    let tenant: Uuid = tenant.get();
    a::table
        .filter(a::tenant_id.eq(tenant))
        .filter(a::id.eq(id))
}

#[diesel::dsl::auto_type]
fn bump() -> _ {
    (
        a::version.eq(a::version + 1_i32),
        a::updated_at.eq(diesel::dsl::now),
    )
}

#[diesel::dsl::auto_type]
fn archived_at(at: Option<DateTime<Utc>>) -> _ {
    a::archived_at.eq(at)
}

impl VersionedTable for Activity {
    type Table = a::table;
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

impl ArchivableTable for Activity {
    type SetArchived = archived_at;

    fn set_archived_at(at: Option<DateTime<Utc>>) -> archived_at {
        archived_at(at)
    }
}

/// The account's activities, newest `occurred_at` first, after the `(occurred_at, id)` cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Uuid,
    filter: &ActivityFilter,
    keyset: &crate::db::Keyset<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Activity>> {
    let mut q = a::table
        .filter(a::tenant_id.eq(tenant.get()))
        .filter(a::account_id.eq(account))
        .limit(limit)
        .select(Activity::as_select())
        .into_boxed();
    if !keyset.with_archived(filter.include_archived) {
        q = q.filter(a::archived_at.is_null());
    }
    if let Some(o) = filter.opportunity_id {
        q = q.filter(a::opportunity_id.eq(o));
    }
    if let Some(c) = filter.contact_id {
        q = q.filter(a::participants.contains(vec![Some(c)]));
    }
    if let Some(r) = &filter.external_ref {
        q = q.filter(a::id.eq_any(crate::db::external_refs::holders(tenant, "activity", r)));
    }
    if let Some(k) = &filter.kind {
        q = q.filter(a::kind.eq(k.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(a::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(a::occurred_at.lt(to));
    }
    crate::db::keyset::newest_first(q, a::occurred_at, a::updated_at, a::id, keyset)
        .load(conn)
        .await
}

/// Per contact of the account: when it was last in an active activity, and in how many.
#[derive(Debug, Clone, QueryableByName)]
pub struct ContactActivity {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub contact_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub last_contacted_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub activity_count: i64,
}

/// The activity figures of the contacts of one account (`$1` the tenant, `account` the
/// account's id as SQL): `contact_id`, `last_contacted_at`, `activity_count`.
pub(crate) fn contact_figures_sql(account: &str) -> String {
    format!(
        "SELECT p.contact_id, max(a.occurred_at) AS last_contacted_at, count(*) AS activity_count \
         FROM activities a CROSS JOIN LATERAL unnest(a.participants) AS p(contact_id) \
         WHERE a.tenant_id = $1 AND a.account_id = {account} AND a.archived_at IS NULL \
         GROUP BY p.contact_id"
    )
}

pub async fn contact_activity(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    account: crate::db::AccountKey,
) -> QueryResult<Vec<ContactActivity>> {
    use diesel::sql_types::Uuid as SqlUuid;
    // One of two fixed texts (by id, or by opportunity): kept prepared.
    crate::db::cached(
        diesel::sql_query(contact_figures_sql(&account.sql(1, 2)))
            .bind::<SqlUuid, _>(tenant.get())
            .bind::<SqlUuid, _>(account.id()),
    )
    .load(&mut conn)
    .await
}

/// The record an assessment of `opportunity` judges from: its active activities, and the
/// account's active activities without an opportunity since `since`; oldest first.
pub async fn record_for(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Uuid,
    opportunity: Uuid,
    since: DateTime<Utc>,
) -> QueryResult<Vec<Activity>> {
    a::table
        .filter(a::tenant_id.eq(tenant.get()))
        .filter(a::account_id.eq(account))
        .filter(a::archived_at.is_null())
        .filter(
            a::opportunity_id
                .eq(opportunity)
                .or(a::opportunity_id.is_null().and(a::occurred_at.ge(since))),
        )
        .order((a::occurred_at.asc(), a::id.asc()))
        .select(Activity::as_select())
        .load(conn)
        .await
}

/// The tenant's activities in id order after `after` (of one account when given): the export.
pub async fn page(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Option<Uuid>,
    include_archived: bool,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Activity>> {
    let mut q = a::table
        .filter(a::tenant_id.eq(tenant.get()))
        .select(Activity::as_select())
        .order(a::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(acc) = account {
        q = q.filter(a::account_id.eq(acc));
    }
    if !include_archived {
        q = q.filter(a::archived_at.is_null());
    }
    if let Some(after) = after {
        q = q.filter(a::id.gt(after));
    }
    q.load(conn).await
}
