//! Queries for opportunities, their stage history and their assessments.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::table::{ArchivableTable, VersionedTable};
use crate::domain::ids::TenantId;

use crate::db::schema::{opportunities as o, stage_assessments as sa, stage_history as sh};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = o, check_for_backend(diesel::pg::Pg))]
pub struct Opportunity {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub expected_start: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    pub status: String,
    pub current_stage: String,
    pub stage_entered_at: DateTime<Utc>,
    pub competitors: serde_json::Value,
    pub owner: String,
    pub created_by: String,
    pub last_assessed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// References of other systems, `<system>:<id>` (`domain::external_ref`).
    pub external_refs: Vec<Option<String>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = o)]
pub struct NewOpportunity {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub expected_start: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    pub status: String,
    pub current_stage: String,
    pub competitors: serde_json::Value,
    pub owner: String,
    pub created_by: String,
    pub external_refs: Vec<Option<String>>,
}

/// A partial update: `None` leaves a column alone, `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = o)]
pub struct OpportunityChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub amount_minor: Option<Option<i64>>,
    pub currency: Option<Option<String>>,
    pub expected_start: Option<Option<NaiveDate>>,
    pub deadline: Option<Option<NaiveDate>>,
    pub status: Option<String>,
    pub competitors: Option<serde_json::Value>,
    pub owner: Option<String>,
    pub current_stage: Option<String>,
    pub stage_entered_at: Option<DateTime<Utc>>,
    pub external_refs: Option<Vec<Option<String>>>,
}

#[derive(Debug, Default, Clone)]
pub struct OpportunityFilter {
    pub account_id: Option<Uuid>,
    pub stage: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
    pub external_ref: Option<crate::domain::external_ref::ExternalRef>,
    pub include_archived: bool,
}

#[diesel::dsl::auto_type]
fn by_id(tenant: TenantId, id: Uuid) -> _ {
    let tenant: Uuid = tenant.get();
    o::table
        .filter(o::tenant_id.eq(tenant))
        .filter(o::id.eq(id))
}

#[diesel::dsl::auto_type]
fn bump() -> _ {
    (
        o::version.eq(o::version + 1_i32),
        o::updated_at.eq(diesel::dsl::now),
    )
}

#[diesel::dsl::auto_type]
fn archived_at(at: Option<DateTime<Utc>>) -> _ {
    o::archived_at.eq(at)
}

impl VersionedTable for Opportunity {
    type Table = o::table;
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

impl ArchivableTable for Opportunity {
    type SetArchived = archived_at;

    fn set_archived_at(at: Option<DateTime<Utc>>) -> archived_at {
        archived_at(at)
    }
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    filter: &OpportunityFilter,
    keyset: &crate::db::Keyset<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Opportunity>> {
    let q = o::table
        .filter(o::tenant_id.eq(tenant.get()))
        .select(Opportunity::as_select())
        .limit(limit)
        .into_boxed();
    let mut q = crate::db::keyset::oldest_first(q, o::updated_at, o::id, keyset);
    if !keyset.with_archived(filter.include_archived) {
        q = q.filter(o::archived_at.is_null());
    }
    if let Some(a) = filter.account_id {
        q = q.filter(o::account_id.eq(a));
    }
    if let Some(s) = &filter.stage {
        q = q.filter(o::current_stage.eq(s.clone()));
    }
    if let Some(s) = &filter.status {
        q = q.filter(o::status.eq(s.clone()));
    }
    if let Some(owner) = &filter.owner {
        q = q.filter(o::owner.eq(owner.clone()));
    }
    if let Some(r) = &filter.external_ref {
        q = q.filter(o::id.eq_any(crate::db::external_refs::holders(tenant, "opportunity", r)));
    }
    q.load(conn).await
}

/// Records a stage move of `current` to `stage` in its history (the caller moves the stage).
pub async fn insert_stage_change(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    current: &Opportunity,
    stage: &str,
    changed_by: &str,
    reason: Option<String>,
    assessment_id: Option<Uuid>,
) -> QueryResult<()> {
    crate::db::cached(diesel::insert_into(sh::table).values(NewStageChange {
        id: Uuid::now_v7(),
        tenant_id: tenant.get(),
        opportunity_id: current.id,
        from_stage: current.current_stage.clone(),
        to_stage: stage.to_string(),
        changed_by: changed_by.to_string(),
        reason,
        assessment_id,
    }))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks the opportunity assessed and returns it, locked until the transaction ends, with
/// whether its account is archived (`None`: no such account): a new assessment's lock (one
/// statement instead of `SELECT … FOR UPDATE`, an `UPDATE` and the account's read). Shared
/// connection: pipelined with the reads the judgement needs.
pub async fn mark_assessed(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
) -> QueryResult<Option<(Opportunity, Option<bool>)>> {
    let account_archived = diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Bool>>(
        "(SELECT a.archived_at IS NOT NULL FROM accounts a \
          WHERE a.tenant_id = opportunities.tenant_id AND a.id = opportunities.account_id)",
    );
    crate::db::cached(
        diesel::update(
            o::table
                .filter(o::tenant_id.eq(tenant.get()))
                .filter(o::id.eq(id)),
        )
        .set(o::last_assessed_at.eq(diesel::dsl::now))
        .returning((Opportunity::as_returning(), account_archived)),
    )
    .get_result(&mut conn)
    .await
    .optional()
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sh)]
struct NewStageChange {
    id: Uuid,
    tenant_id: Uuid,
    opportunity_id: Uuid,
    from_stage: String,
    to_stage: String,
    changed_by: String,
    reason: Option<String>,
    assessment_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sh, check_for_backend(diesel::pg::Pg))]
pub struct StageChangeRow {
    pub id: Uuid,
    pub from_stage: String,
    pub to_stage: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub reason: Option<String>,
    pub assessment_id: Option<Uuid>,
}

pub async fn stage_history(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    opportunity: Uuid,
    keyset: &crate::db::Keyset<Uuid>,
    limit: i64,
) -> QueryResult<Vec<StageChangeRow>> {
    let q = sh::table
        .filter(sh::tenant_id.eq(tenant.get()))
        .filter(sh::opportunity_id.eq(opportunity))
        .limit(limit)
        .select(StageChangeRow::as_select())
        .into_boxed();
    crate::db::keyset::oldest_first(q, sh::changed_at, sh::id, keyset)
        .load(conn)
        .await
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sa, check_for_backend(diesel::pg::Pg))]
pub struct Assessment {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub opportunity_id: Uuid,
    pub playbook_version: i32,
    pub from_stage: String,
    pub evidence_stage: String,
    pub lang: String,
    pub input: serde_json::Value,
    pub judgement: serde_json::Value,
    pub applied: bool,
    pub basis: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Stores `row` as it is (every column given: nothing to read back). Shared connection:
/// pipelined with the assessment's event.
pub async fn insert_assessment(mut conn: &AsyncPgConnection, row: &Assessment) -> QueryResult<()> {
    crate::db::cached(diesel::insert_into(sa::table).values(row))
        .execute(&mut conn)
        .await
        .map(|_| ())
}

/// Stores the assessment and appends its event in one statement (the caller's transaction).
pub async fn insert_assessment_with_event(
    mut conn: &AsyncPgConnection,
    row: &Assessment,
    event: crate::db::events::NewEvent,
) -> QueryResult<()> {
    debug_assert_eq!(row.tenant_id, event.tenant_id);
    crate::db::events::with_event(diesel::insert_into(sa::table).values(row), event)
        .execute(&mut conn)
        .await
        .map(|_| ())
}

pub async fn find_assessment(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    opportunity: Uuid,
    id: Uuid,
) -> QueryResult<Option<Assessment>> {
    sa::table
        .filter(sa::tenant_id.eq(tenant.get()))
        .filter(sa::opportunity_id.eq(opportunity))
        .filter(sa::id.eq(id))
        .select(Assessment::as_select())
        .first(conn)
        .await
        .optional()
}

/// Newest first, before `before`.
pub async fn list_assessments(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    opportunity: Uuid,
    keyset: &crate::db::Keyset<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Assessment>> {
    let q = sa::table
        .filter(sa::tenant_id.eq(tenant.get()))
        .filter(sa::opportunity_id.eq(opportunity))
        .limit(limit)
        .select(Assessment::as_select())
        .into_boxed();
    // Newest first: "after" in this order is an older id.
    crate::db::keyset::newest_id_first(q, sa::created_at, sa::id, keyset)
        .load(conn)
        .await
}

/// One row of the pipeline aggregate: a stage and a currency.
#[derive(Debug, Clone, QueryableByName)]
pub struct PipelineRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub stage: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub currency: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub open_count: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub total_minor: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub days_in_stage_sum: f64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub stalled: i64,
}

/// Open, active opportunities aggregated per stage and currency, in SQL.
pub async fn pipeline(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    owner: Option<&str>,
    account_id: Option<Uuid>,
    stalled_days: i32,
) -> QueryResult<Vec<PipelineRow>> {
    use diesel::sql_types::{Integer, Nullable, Text, Uuid as SqlUuid};
    // Prepared for this call only (not `db::cached`): PostgreSQL then plans it for this
    // tenant's size. A kept statement soon gets a generic plan made for an average tenant
    // (a sort spilling to disk instead of a hash), which took a 100,000-opportunity pipeline
    // from 45 to 85 ms. The stalled cut-off is a sub-select, computed once per call: written
    // inline, `now() - interval` was evaluated for every row (a fifth of the query's time).
    diesel::sql_query(
        "SELECT current_stage AS stage, currency, count(*) AS open_count, \
                sum(amount_minor)::bigint AS total_minor, \
                coalesce(sum(date_part('epoch', now() - stage_entered_at)), 0) / 86400.0 AS days_in_stage_sum, \
                count(*) FILTER (WHERE coalesce(last_assessed_at, created_at) < (SELECT now() - make_interval(days => $2))) AS stalled \
         FROM opportunities \
         WHERE tenant_id = $1 AND status = 'open' AND archived_at IS NULL \
           AND ($3::text IS NULL OR owner = $3) AND ($4::uuid IS NULL OR account_id = $4) \
         GROUP BY current_stage, currency \
         ORDER BY current_stage, currency",
    )
    .bind::<SqlUuid, _>(tenant.get())
    .bind::<Integer, _>(stalled_days)
    .bind::<Nullable<Text>, _>(owner)
    .bind::<Nullable<SqlUuid>, _>(account_id)
    .load(conn)
    .await
}
