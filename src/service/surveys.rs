//! Survey records (客户现状调查表): record, read, change by merge patch, archive/restore,
//! compare, import/export as XLSX, and the installed base across accounts.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::db::documents;
use crate::db::opportunities::Opportunity;
use crate::db::surveys::{
    self as q, InventoryFilter, InventoryHit, NewInventoryItem, NewSurveyRecord, SurveyRecord,
    SurveyRecordChanges,
};
use crate::db::table::VersionedTable;
use crate::domain::event::Lifecycle;
use crate::domain::ids::TenantId;
use crate::domain::playbook::built_in;
use crate::domain::survey::{self, InventoryCategory, SectionDiff, Sections, SurveySummary};
use crate::domain::texts::Noun;
use crate::domain::validate::member_path;
use crate::domain::validate::Code;
use crate::domain::validate::{Checker, Violation};
use crate::error::{ApiError, ApiResult};
use crate::service::archive::{self, Archivable, Guarded};
use crate::service::events::{self, Changes};
use crate::service::input::{decode, merge_patch};
use crate::service::unchanged::{publish_or_keep, settle, Step};
use crate::service::{accounts, not_found, Conn, Keyset, Precondition, Principal};

/// The editable content of a survey record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// When the survey was made (RFC 3339).
    pub surveyed_at: DateTime<Utc>,
    /// `sub` of who made the survey; defaults to the caller.
    #[schema(min_length = 1, max_length = 200)]
    pub surveyor: Option<String>,
    /// Contacts of the same account who answered.
    #[serde(default)]
    pub respondents: Vec<Uuid>,
    /// An opportunity of the same account the survey belongs to.
    pub opportunity_id: Option<Uuid>,
    #[serde(default)]
    pub sections: Sections,
}

mod view;
use view::view;
pub use view::SurveyRecordView;

/// Filters of the installed-base search (as given; checked here).
#[derive(Debug, Default)]
pub struct InventorySearch {
    pub brand: Option<String>,
    pub model: Option<String>,
    pub category: Option<InventoryCategory>,
    pub deployed_before: Option<i32>,
    pub end_of_support_before: Option<NaiveDate>,
}

/// A filled survey form and the date of the survey it holds.
pub struct Workbook {
    pub bytes: Vec<u8>,
    pub surveyed_at: DateTime<Utc>,
}

/// The stored sections of a record.
pub(crate) fn sections_of(row: &SurveyRecord) -> ApiResult<Sections> {
    Ok(documents::survey::read_sections(
        row.sections.clone(),
        row.id,
    )?)
}

events::published!(SurveyRecord, SurveyRecord, SurveyRecordView, view_in, "id" => id, "account_id" => account_id, "opportunity_id" => opportunity_id);

async fn view_in(_: &mut Conn, _: TenantId, row: SurveyRecord) -> ApiResult<SurveyRecordView> {
    view(row)
}

impl Archivable for SurveyRecord {
    const NAME: Noun = Noun::SurveyRecord;

    async fn lock(conn: &mut Conn, tenant: TenantId, id: Uuid) -> ApiResult<Option<Guarded<Self>>> {
        archive::lock_under_account(conn, tenant, id, |r: &Self| r.account_id).await
    }

    archive::row_state!();

    async fn after_change(&self, conn: &mut Conn, tenant: TenantId) -> ApiResult<()> {
        q::refresh_latest(conn, tenant, self.account_id).await?;
        Ok(())
    }
}

/// A validated survey ready to store.
struct Prepared {
    surveyed_at: DateTime<Utc>,
    surveyor: String,
    respondents: Vec<Uuid>,
    opportunity_id: Option<Uuid>,
    sections: Sections,
    completeness_percent: i32,
}

fn prepare(input: SurveyInput, who: &Principal) -> ApiResult<Prepared> {
    let mut c = Checker::new();
    let surveyor = match &input.surveyor {
        Some(s) => c.required_text("surveyor", s, 200),
        None => who.sub.clone(),
    };
    let mut respondents = Vec::new();
    for r in &input.respondents {
        if !respondents.contains(r) {
            respondents.push(*r);
        }
    }
    if respondents.len() > 100 {
        c.add("respondents", Code::TooMany { max: 100 });
    }
    let sections = match survey::validate(&input.sections) {
        Ok(s) => s,
        Err(e) => {
            c.extend(e);
            Sections::default()
        }
    };
    c.finish()?;
    let playbook = built_in().map_err(ApiError::internal)?;
    let completeness_percent = i32::from(survey::completeness(playbook, &sections).percent);
    Ok(Prepared {
        surveyed_at: input.surveyed_at,
        surveyor,
        respondents,
        opportunity_id: input.opportunity_id,
        sections,
        completeness_percent,
    })
}

/// Respondents must be active contacts, and the opportunity one, of the same account.
async fn check_references(
    conn: &mut Conn,
    tenant: TenantId,
    account: Uuid,
    p: &Prepared,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if !p.respondents.is_empty() {
        let known = crate::service::contacts::active_ids(conn, tenant, account).await?;
        for (i, r) in p.respondents.iter().enumerate() {
            if !known.contains(r) {
                errors.push(Violation::new(
                    format!("respondents[{i}]"),
                    Code::NotInAccount,
                ));
            }
        }
    }
    if let Some(o) = p.opportunity_id {
        match Opportunity::find(conn, tenant, o).await? {
            Some(opp) if opp.account_id == account => {}
            _ => errors.push(Violation::new("opportunity_id", Code::NotInAccount)),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn items_of(tenant: TenantId, survey: Uuid, account: Uuid, s: &Sections) -> Vec<NewInventoryItem> {
    s.inventory
        .iter()
        .enumerate()
        .map(|(i, it)| NewInventoryItem {
            tenant_id: tenant.get(),
            survey_id: survey,
            account_id: account,
            position: i32::try_from(i).unwrap_or(i32::MAX),
            category: it.category.as_str().to_string(),
            brand: it.brand.clone(),
            model: it.model.clone(),
            quantity: i32::try_from(it.quantity).unwrap_or(i32::MAX),
            deployed_year: it.deployed_year,
            end_of_support: it.end_of_support,
            notes: it.notes.clone(),
        })
        .collect()
}

/// Stores the record's inventory items for the installed-base search and refreshes which
/// record is the account's latest, in the caller's transaction.
async fn store_items_in(
    conn: &mut Conn,
    tenant: TenantId,
    id: Uuid,
    account_id: Uuid,
    sections: &Sections,
) -> ApiResult<()> {
    q::replace_items(conn, tenant, id, items_of(tenant, id, account_id, sections)).await?;
    q::refresh_latest(conn, tenant, account_id).await?;
    Ok(())
}

fn sections_json(s: &Sections) -> ApiResult<serde_json::Value> {
    documents::survey::write_sections(s).map_err(ApiError::internal)
}

/// Stores a new record for the account.
pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    input: SurveyInput,
) -> ApiResult<SurveyRecordView> {
    let p = prepare(input, who)?;
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            accounts::lock_writable_in(conn, who, account_id).await?;
            check_references(conn, who.tenant, account_id, &p).await?;
            let id = Uuid::now_v7();
            let row = SurveyRecord::insert(
                conn,
                NewSurveyRecord {
                    id,
                    tenant_id: who.tenant.get(),
                    account_id,
                    opportunity_id: p.opportunity_id,
                    surveyed_at: p.surveyed_at,
                    surveyor: p.surveyor.clone(),
                    respondents: p.respondents.iter().copied().map(Some).collect(),
                    sections: sections_json(&p.sections)?,
                    completeness_percent: p.completeness_percent,
                    created_by: who.sub.clone(),
                },
            )
            .await?;
            store_items_in(conn, who.tenant, id, account_id, &p.sections).await?;
            events::lifecycle(conn, who, &row, Lifecycle::Created).await?;
            Ok(row)
        })
        .await?;
    view(row)
}

/// Newest `surveyed_at` first, after the `(surveyed_at, id)` cursor.
pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    include_archived: bool,
    keyset: Keyset<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> ApiResult<Vec<SurveyRecordView>> {
    accounts::find_in(conn, who.tenant, account_id).await?;
    q::list(
        conn,
        who.tenant,
        account_id,
        include_archived,
        &keyset,
        limit,
    )
    .await?
    .into_iter()
    .map(view)
    .collect()
}

async fn find_in(conn: &mut Conn, tenant: TenantId, id: Uuid) -> ApiResult<SurveyRecord> {
    SurveyRecord::find(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::SurveyRecord))
}

pub async fn get(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<SurveyRecordView> {
    view(find_in(conn, who.tenant, id).await?)
}

fn input_of(v: &SurveyRecordView) -> SurveyInput {
    SurveyInput {
        surveyed_at: v.surveyed_at,
        surveyor: Some(v.surveyor.clone()),
        respondents: v.respondents.clone(),
        opportunity_id: v.opportunity_id,
        sections: v.sections.clone(),
    }
}

/// Applies a JSON merge patch to the record's editable content.
pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    patch: serde_json::Value,
) -> ApiResult<SurveyRecordView> {
    if !patch.is_object() {
        return Err(ApiError::validation(
            "",
            Code::InvalidType {
                expected: "object".into(),
            },
        ));
    }
    let written = conn
        .transaction::<_, Step<SurveyRecordView>, _>(async |conn| {
            let current = archive::lock_for_write::<SurveyRecord>(conn, who, id, pre).await?;
            let account_id = current.account_id;
            let before = view(current)?;
            let mut doc = serde_json::to_value(input_of(&before)).map_err(ApiError::internal)?;
            merge_patch(&mut doc, &patch);
            let input: SurveyInput = decode(doc)?;
            let p = prepare(input, who)?;
            check_references(conn, who.tenant, account_id, &p).await?;
            let row = SurveyRecord::update(
                conn,
                who.tenant,
                id,
                SurveyRecordChanges {
                    opportunity_id: p.opportunity_id,
                    surveyed_at: p.surveyed_at,
                    surveyor: p.surveyor.clone(),
                    respondents: p.respondents.iter().copied().map(Some).collect(),
                    sections: sections_json(&p.sections)?,
                    completeness_percent: p.completeness_percent,
                },
            )
            .await?;
            store_items_in(conn, who.tenant, id, account_id, &p.sections).await?;
            let after = view(row.clone())?;
            let changes = Changes::of(&before, changed_fields(&before, &after)?)?;
            publish_or_keep(conn, who, &row, changes, before).await?;
            Ok(after)
        })
        .await;
    settle(written)
}

/// The fields a patch changed, with the changed sections named one by one
/// (`sections.<name>`).
fn changed_fields(before: &SurveyRecordView, after: &SurveyRecordView) -> ApiResult<Vec<String>> {
    let mut fields = events::changed_fields(before, after)?;
    fields.retain(|f| f != "sections");
    let old = serde_json::to_value(&before.sections).map_err(ApiError::internal)?;
    let new = serde_json::to_value(&after.sections).map_err(ApiError::internal)?;
    fields.extend(events::members_changed(&old, &new, "sections."));
    Ok(fields)
}

pub async fn archive(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
) -> ApiResult<SurveyRecord> {
    archive::set_archived::<SurveyRecord>(conn, who, id, pre, true).await
}

pub async fn restore(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<SurveyRecordView> {
    view(archive::set_archived::<SurveyRecord>(conn, who, id, &Precondition::None, false).await?)
}

/// Per-section differences of `id` against `base` (same account).
pub async fn diff(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    base: Uuid,
) -> ApiResult<Vec<SectionDiff>> {
    let this = find_in(conn, who.tenant, id).await?;
    let base = match SurveyRecord::find(conn, who.tenant, base).await? {
        Some(b) if b.account_id == this.account_id => b,
        _ => return Err(ApiError::validation("base", Code::NotInAccount)),
    };
    Ok(survey::diff(&sections_of(&base)?, &sections_of(&this)?))
}

/// Items of each account's latest survey across the tenant.
pub async fn search_inventory(
    conn: &mut Conn,
    who: &Principal,
    s: InventorySearch,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<(InventoryHit, InventoryCategory)>> {
    let mut c = Checker::query();
    let filter = InventoryFilter {
        brand: c.optional_text("brand", s.brand.as_deref(), 100),
        model: c.optional_text("model", s.model.as_deref(), 100),
        category: s.category.map(|c| c.as_str().to_string()),
        deployed_before: s.deployed_before,
        end_of_support_before: s.end_of_support_before,
    };
    c.finish()?;
    q::search_inventory(conn, who.tenant, &filter, after, limit)
        .await?
        .into_iter()
        .map(|hit| {
            let category = db::code("survey_inventory_items.category of", hit.id, &hit.category)?;
            Ok((hit, category))
        })
        .collect()
}

/// The latest survey summary of each of `accounts`.
pub(crate) async fn latest_summaries_in(
    conn: &mut Conn,
    tenant: TenantId,
    accounts: &[Uuid],
) -> ApiResult<HashMap<Uuid, SurveySummary>> {
    q::latest_for_accounts(conn, tenant, accounts)
        .await?
        .iter()
        .map(|r| {
            let s = sections_of(r)?;
            Ok((
                r.account_id,
                SurveySummary {
                    survey_id: r.id,
                    surveyed_at: r.surveyed_at,
                    budget: s.budget,
                    timeline: s.timeline,
                },
            ))
        })
        .collect()
}

/// A stored latest record with its sections.
pub(crate) fn latest_of(row: Option<SurveyRecord>) -> ApiResult<Option<(SurveyRecord, Sections)>> {
    match row {
        None => Ok(None),
        Some(row) => {
            let s = sections_of(&row)?;
            Ok(Some((row, s)))
        }
    }
}

/// The blank survey form.
pub fn template() -> ApiResult<Vec<u8>> {
    let banner = crate::xlsx::Banner {
        account_name: String::new(),
        surveyed_at: None,
    };
    crate::xlsx::export(&banner, &serde_json::json!({"sections": {}})).map_err(ApiError::internal)
}

/// The record as the filled survey form.
pub async fn export(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<Workbook> {
    let row = view(find_in(conn, who.tenant, id).await?)?;
    let account = accounts::find_in(conn, who.tenant, row.account_id).await?;
    let record = serde_json::to_value(input_of(&row)).map_err(ApiError::internal)?;
    let banner = crate::xlsx::Banner {
        account_name: account.name,
        surveyed_at: Some(row.surveyed_at),
    };
    let bytes = tokio::task::spawn_blocking(move || crate::xlsx::export(&banner, &record))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Workbook {
        bytes,
        surveyed_at: row.surveyed_at,
    })
}

/// Points validation errors of an imported record at the cells they came from.
fn to_cells(e: ApiError) -> ApiError {
    match e {
        ApiError::Validation(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|v| {
                    let path = member_path(&v.path);
                    match crate::xlsx::locate(&path).or_else(|| crate::xlsx::locate_overview(&path))
                    {
                        Some(cell) => Violation::new(cell, v.code),
                        None => v,
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

/// Imports a survey form (XLSX bytes) as a new record of the account. Problems name sheet,
/// row and column; nothing half-imported is stored.
pub async fn import(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    bytes: Vec<u8>,
) -> ApiResult<SurveyRecordView> {
    who.require_create()?;
    let json = tokio::task::spawn_blocking(move || crate::xlsx::import(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::Validation)?;
    let input: SurveyInput = decode(json).map_err(to_cells)?;
    create(conn, who, account_id, input).await.map_err(to_cells)
}
