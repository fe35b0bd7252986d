//! Queries for survey records, their inventory items (the installed base) and tenant settings.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::table::{ArchivableTable, VersionedTable};
use crate::domain::ids::TenantId;

use crate::db::schema::{
    accounts, survey_inventory_items as inv, survey_records as sr, tenant_settings as ts,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sr, check_for_backend(diesel::pg::Pg))]
pub struct SurveyRecord {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub surveyed_at: DateTime<Utc>,
    pub surveyor: String,
    pub respondents: Vec<Option<Uuid>>,
    pub sections: serde_json::Value,
    pub completeness_percent: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sr)]
pub struct NewSurveyRecord {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub account_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub surveyed_at: DateTime<Utc>,
    pub surveyor: String,
    pub respondents: Vec<Option<Uuid>>,
    pub sections: serde_json::Value,
    pub completeness_percent: i32,
    pub created_by: String,
}

/// The editable content of a record (a PATCH replaces all of it after merging).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = sr, treat_none_as_null = true)]
pub struct SurveyRecordChanges {
    pub opportunity_id: Option<Uuid>,
    pub surveyed_at: DateTime<Utc>,
    pub surveyor: String,
    pub respondents: Vec<Option<Uuid>>,
    pub sections: serde_json::Value,
    pub completeness_percent: i32,
}

/// One inventory item as stored for search.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = inv)]
pub struct NewInventoryItem {
    pub tenant_id: Uuid,
    pub survey_id: Uuid,
    pub account_id: Uuid,
    pub position: i32,
    pub category: String,
    pub brand: String,
    pub model: Option<String>,
    pub quantity: i32,
    pub deployed_year: Option<i32>,
    pub end_of_support: Option<NaiveDate>,
    pub notes: Option<String>,
}

#[diesel::dsl::auto_type]
fn by_id(tenant: TenantId, id: Uuid) -> _ {
    let tenant: Uuid = tenant.get();
    sr::table
        .filter(sr::tenant_id.eq(tenant))
        .filter(sr::id.eq(id))
}

#[diesel::dsl::auto_type]
fn bump() -> _ {
    (
        sr::version.eq(sr::version + 1_i32),
        sr::updated_at.eq(diesel::dsl::now),
    )
}

#[diesel::dsl::auto_type]
fn archived_at(at: Option<DateTime<Utc>>) -> _ {
    sr::archived_at.eq(at)
}

impl VersionedTable for SurveyRecord {
    type Table = sr::table;
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

impl ArchivableTable for SurveyRecord {
    type SetArchived = archived_at;

    fn set_archived_at(at: Option<DateTime<Utc>>) -> archived_at {
        archived_at(at)
    }
}

/// Newest first by `surveyed_at` (then id), after the cursor `(surveyed_at micros, id)`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Uuid,
    include_archived: bool,
    keyset: &crate::db::Keyset<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<SurveyRecord>> {
    let mut q = sr::table
        .filter(sr::tenant_id.eq(tenant.get()))
        .filter(sr::account_id.eq(account))
        .limit(limit)
        .select(SurveyRecord::as_select())
        .into_boxed();
    if !keyset.with_archived(include_archived) {
        q = q.filter(sr::archived_at.is_null());
    }
    crate::db::keyset::newest_first(q, sr::surveyed_at, sr::updated_at, sr::id, keyset)
        .load(conn)
        .await
}

/// The latest active record of an account.
pub async fn latest(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
    account: crate::db::AccountKey,
) -> QueryResult<Option<SurveyRecord>> {
    sr::table
        .filter(sr::tenant_id.eq(tenant.get()))
        .filter(sr::account_id.eq(account.expr(tenant)))
        .filter(sr::archived_at.is_null())
        .order((sr::surveyed_at.desc(), sr::id.desc()))
        .select(SurveyRecord::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// The latest active record of each of `accounts`.
pub async fn latest_for_accounts(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account_ids: &[Uuid],
) -> QueryResult<Vec<SurveyRecord>> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    sr::table
        .filter(sr::tenant_id.eq(tenant.get()))
        .filter(sr::account_id.eq_any(account_ids))
        .filter(sr::archived_at.is_null())
        .distinct_on(sr::account_id)
        .order((sr::account_id, sr::surveyed_at.desc(), sr::id.desc()))
        .select(SurveyRecord::as_select())
        .load(conn)
        .await
}

/// Replaces the stored inventory items of a record.
pub async fn replace_items(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    survey: Uuid,
    items: Vec<NewInventoryItem>,
) -> QueryResult<()> {
    diesel::delete(
        inv::table
            .filter(inv::tenant_id.eq(tenant.get()))
            .filter(inv::survey_id.eq(survey)),
    )
    .execute(conn)
    .await?;
    // Stay well under PostgreSQL's 65535 bind parameters per statement.
    for chunk in items.chunks(2000) {
        diesel::insert_into(inv::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Marks the items of the account's latest active record as `is_latest`, and only those.
pub async fn refresh_latest(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    account: Uuid,
) -> QueryResult<()> {
    use diesel::sql_types::Uuid as SqlUuid;
    crate::db::cached(
        diesel::sql_query(
            "WITH latest AS ( \
                 SELECT id FROM survey_records \
                 WHERE tenant_id = $1 AND account_id = $2 AND archived_at IS NULL \
                 ORDER BY surveyed_at DESC, id DESC LIMIT 1) \
             UPDATE survey_inventory_items i \
             SET is_latest = coalesce(i.survey_id = (SELECT id FROM latest), false) \
             WHERE i.tenant_id = $1 AND i.account_id = $2 \
               AND i.is_latest IS DISTINCT FROM coalesce(i.survey_id = (SELECT id FROM latest), false)",
        )
        .bind::<SqlUuid, _>(tenant.get())
        .bind::<SqlUuid, _>(account),
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Filters of the installed-base search.
#[derive(Debug, Default, Clone)]
pub struct InventoryFilter {
    pub brand: Option<String>,
    pub model: Option<String>,
    pub category: Option<String>,
    /// Deployed before this year.
    pub deployed_before: Option<i32>,
    pub end_of_support_before: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable)]
pub struct InventoryHit {
    pub id: i64,
    pub survey_id: Uuid,
    pub account_id: Uuid,
    pub category: String,
    pub brand: String,
    pub model: Option<String>,
    pub quantity: i32,
    pub deployed_year: Option<i32>,
    pub end_of_support: Option<NaiveDate>,
    pub notes: Option<String>,
    pub account_name: String,
    pub surveyed_at: DateTime<Utc>,
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
diesel::define_sql_function!(#[sql_name = "lower"] fn lower_nullable(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);

/// Items of each account's latest record matching `filter`, in id order after `after`.
pub async fn search_inventory(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    filter: &InventoryFilter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<InventoryHit>> {
    let mut q = inv::table
        .inner_join(
            accounts::table.on(accounts::tenant_id
                .eq(inv::tenant_id)
                .and(accounts::id.eq(inv::account_id))),
        )
        .inner_join(
            sr::table.on(sr::tenant_id
                .eq(inv::tenant_id)
                .and(sr::id.eq(inv::survey_id))),
        )
        .filter(inv::tenant_id.eq(tenant.get()))
        .filter(inv::is_latest.eq(true))
        .filter(accounts::archived_at.is_null())
        .order(inv::id.asc())
        .limit(limit)
        .select((
            inv::id,
            inv::survey_id,
            inv::account_id,
            inv::category,
            inv::brand,
            inv::model,
            inv::quantity,
            inv::deployed_year,
            inv::end_of_support,
            inv::notes,
            accounts::name,
            sr::surveyed_at,
        ))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(inv::id.gt(after));
    }
    if let Some(b) = &filter.brand {
        q = q.filter(lower(inv::brand).eq(b.to_lowercase()));
    }
    if let Some(m) = &filter.model {
        q = q.filter(lower_nullable(inv::model).eq(m.to_lowercase()));
    }
    if let Some(c) = &filter.category {
        q = q.filter(inv::category.eq(c.clone()));
    }
    if let Some(y) = filter.deployed_before {
        q = q.filter(inv::deployed_year.lt(y));
    }
    if let Some(d) = filter.end_of_support_before {
        q = q.filter(inv::end_of_support.lt(d));
    }
    q.load(conn).await
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ts, check_for_backend(diesel::pg::Pg))]
pub struct TenantSettings {
    pub tenant_id: Uuid,
    pub survey_completeness_threshold: i32,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub stale_contact_days: i32,
    pub record_window_days: i32,
    /// `db::documents::mappings`.
    pub import_mappings: serde_json::Value,
}

/// The values of the settings (defaults when a tenant never changed them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = ts)]
pub struct SettingValues {
    pub survey_completeness_threshold: i32,
    pub stale_contact_days: i32,
    pub record_window_days: i32,
}

impl Default for SettingValues {
    fn default() -> Self {
        SettingValues {
            survey_completeness_threshold: DEFAULT_SURVEY_THRESHOLD,
            stale_contact_days: 60,
            record_window_days: 180,
        }
    }
}

impl From<&TenantSettings> for SettingValues {
    fn from(s: &TenantSettings) -> Self {
        SettingValues {
            survey_completeness_threshold: s.survey_completeness_threshold,
            stale_contact_days: s.stale_contact_days,
            record_window_days: s.record_window_days,
        }
    }
}

pub const DEFAULT_SURVEY_THRESHOLD: i32 = 80;

pub async fn settings(
    mut conn: &AsyncPgConnection,
    tenant: TenantId,
) -> QueryResult<Option<TenantSettings>> {
    ts::table
        .filter(ts::tenant_id.eq(tenant.get()))
        .select(TenantSettings::as_select())
        .first(&mut conn)
        .await
        .optional()
}

pub async fn upsert_settings(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    values: SettingValues,
    mappings: &serde_json::Value,
    by: &str,
) -> QueryResult<TenantSettings> {
    diesel::insert_into(ts::table)
        .values((
            ts::tenant_id.eq(tenant.get()),
            ts::survey_completeness_threshold.eq(values.survey_completeness_threshold),
            ts::stale_contact_days.eq(values.stale_contact_days),
            ts::record_window_days.eq(values.record_window_days),
            ts::import_mappings.eq(mappings),
            ts::updated_by.eq(by),
        ))
        .on_conflict(ts::tenant_id)
        .do_update()
        .set((
            values,
            ts::import_mappings.eq(mappings),
            ts::updated_by.eq(by),
            ts::updated_at.eq(diesel::dsl::now),
            ts::version.eq(ts::version + 1),
        ))
        .returning(TenantSettings::as_returning())
        .get_result(conn)
        .await
}
