//! Customer current-state survey records (客户现状调查表) and the installed base across accounts.

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::accounts::{ensure_active, lock_account};
use crate::api::{ensure_not_archived, not_found, with_etag};
use crate::auth::Principal;
use crate::db::accounts as account_q;
use crate::db::contacts as contact_q;
use crate::db::opportunities as opp_q;
use crate::db::surveys::{
    self as q, InventoryFilter, NewInventoryItem, NewSurveyRecord, SurveyRecord,
    SurveyRecordChanges,
};
use crate::domain::playbook::built_in;
use crate::domain::survey::{
    self, Budget, Completeness, InventoryCategory, SectionDiff, Sections, Timeline,
};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::etag::IfMatch;
use crate::http::extract::{decode, JsonBody};
use crate::http::pagination::Page;
use crate::http::patch::merge_patch;
use crate::http::validate::Checker;
use crate::state::AppState;

/// The editable content of a survey record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// When the survey was made (RFC 3339).
    pub surveyed_at: DateTime<Utc>,
    /// `sub` of who made the survey; defaults to the caller.
    pub surveyor: Option<String>,
    /// Contacts of the same account who answered.
    #[serde(default)]
    pub respondents: Vec<Uuid>,
    /// An opportunity of the same account the survey belongs to.
    pub opportunity_id: Option<Uuid>,
    #[serde(default)]
    pub sections: Sections,
}

/// A survey record.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyRecordDto {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub account_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub surveyed_at: DateTime<Utc>,
    pub surveyor: String,
    pub respondents: Vec<Uuid>,
    pub sections: Sections,
    /// Which of the 12 sections are filled ("servers and storage" counts when the inventory has
    /// server or storage items).
    #[schema(read_only)]
    pub completeness: Completeness,
    #[schema(read_only)]
    pub created_by: String,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    #[schema(read_only)]
    pub archived_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub version: i32,
}

pub(crate) fn sections_of(row: &SurveyRecord) -> ApiResult<Sections> {
    serde_json::from_value(row.sections.clone())
        .map_err(|e| ApiError::internal(format!("stored survey sections {}: {e}", row.id)))
}

fn to_dto(row: SurveyRecord) -> ApiResult<SurveyRecordDto> {
    let sections = sections_of(&row)?;
    let playbook = built_in().map_err(ApiError::Internal)?;
    Ok(SurveyRecordDto {
        id: row.id,
        account_id: row.account_id,
        opportunity_id: row.opportunity_id,
        surveyed_at: row.surveyed_at,
        surveyor: row.surveyor,
        respondents: row.respondents.into_iter().flatten().collect(),
        completeness: survey::completeness(playbook, &sections),
        sections,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        archived_at: row.archived_at,
        version: row.version,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyRecordList {
    pub items: Vec<SurveyRecordDto>,
    pub next_cursor: Option<String>,
}

/// Paging of survey records.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSurveysQuery {
    pub include_archived: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The base of a diff.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// Another record of the same account to compare with.
    pub base: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyDiff {
    pub survey_id: Uuid,
    pub base_id: Uuid,
    /// Sections that differ, in form order.
    pub sections: Vec<SectionDiff>,
}

/// Filters of the installed-base search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// Brand (case-insensitive, exact).
    pub brand: Option<String>,
    /// Model (case-insensitive, exact).
    pub model: Option<String>,
    pub category: Option<InventoryCategory>,
    /// Deployed before this year.
    pub deployed_before: Option<i32>,
    /// End of support before this date.
    pub end_of_support_before: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// An installed item at a customer, from the account's latest survey.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstalledItem {
    pub account_id: Uuid,
    pub account_name: String,
    pub survey_id: Uuid,
    pub surveyed_at: DateTime<Utc>,
    pub category: InventoryCategory,
    pub brand: String,
    pub model: Option<String>,
    pub quantity: i32,
    pub deployed_year: Option<i32>,
    pub end_of_support: Option<NaiveDate>,
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstalledBase {
    pub items: Vec<InstalledItem>,
    pub next_cursor: Option<String>,
}

/// The latest survey's budget and timeline, shown next to an opportunity's own.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SurveySummary {
    pub survey_id: Uuid,
    pub surveyed_at: DateTime<Utc>,
    pub budget: Option<Budget>,
    pub timeline: Option<Timeline>,
}

pub(crate) fn summary_of(row: &SurveyRecord) -> Option<SurveySummary> {
    let s = sections_of(row).ok()?;
    Some(SurveySummary {
        survey_id: row.id,
        surveyed_at: row.surveyed_at,
        budget: s.budget,
        timeline: s.timeline,
    })
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

fn prepare(input: SurveyInput, principal: &Principal) -> ApiResult<Prepared> {
    let mut c = Checker::new();
    let surveyor = match &input.surveyor {
        Some(s) => c.required_text("surveyor", s, 200),
        None => principal.sub.clone(),
    };
    let mut respondents = Vec::new();
    for r in &input.respondents {
        if !respondents.contains(r) {
            respondents.push(*r);
        }
    }
    if respondents.len() > 100 {
        c.add("respondents", "at most 100 respondents");
    }
    let mut errors = match c.finish() {
        Ok(()) => Vec::new(),
        Err(ApiError::Validation(e)) => e,
        Err(other) => return Err(other),
    };
    let sections = match survey::validate(&input.sections) {
        Ok(s) => s,
        Err(e) => {
            errors.extend(e);
            Sections::default()
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let playbook = built_in().map_err(ApiError::Internal)?;
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
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    account: Uuid,
    p: &Prepared,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if !p.respondents.is_empty() {
        let known: HashSet<Uuid> = contact_q::active_for_account(conn, tenant, account)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        for (i, r) in p.respondents.iter().enumerate() {
            if !known.contains(r) {
                errors.push(FieldError::new(
                    format!("respondents[{i}]"),
                    "must be an active contact of the same account",
                ));
            }
        }
    }
    if let Some(o) = p.opportunity_id {
        match opp_q::find(conn, tenant, o).await? {
            Some(opp) if opp.account_id == account => {}
            _ => errors.push(FieldError::new(
                "opportunity_id",
                "must be an opportunity of the same account",
            )),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn items_of(tenant: Uuid, survey: Uuid, account: Uuid, s: &Sections) -> Vec<NewInventoryItem> {
    s.inventory
        .iter()
        .enumerate()
        .map(|(i, it)| NewInventoryItem {
            tenant_id: tenant,
            survey_id: survey,
            account_id: account,
            position: i as i32,
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

fn sections_json(s: &Sections) -> ApiResult<serde_json::Value> {
    serde_json::to_value(s).map_err(ApiError::internal)
}

/// Stores a new record for the account (used by create and import).
pub(crate) async fn store_new(
    state: &AppState,
    principal: &Principal,
    account_id: Uuid,
    input: SurveyInput,
) -> ApiResult<SurveyRecord> {
    let p = prepare(input, principal)?;
    let mut conn = state.conn().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let account = lock_account(conn, principal.tenant, account_id).await?;
        principal.require_write_owned_by(&account.owner)?;
        ensure_active(&account)?;
        check_references(conn, principal.tenant, account_id, &p).await?;
        let id = Uuid::now_v7();
        let row = q::insert(
            conn,
            NewSurveyRecord {
                id,
                tenant_id: principal.tenant,
                account_id,
                opportunity_id: p.opportunity_id,
                surveyed_at: p.surveyed_at,
                surveyor: p.surveyor.clone(),
                respondents: p.respondents.iter().copied().map(Some).collect(),
                sections: sections_json(&p.sections)?,
                completeness_percent: p.completeness_percent,
                created_by: principal.sub.clone(),
            },
        )
        .await?;
        q::replace_items(
            conn,
            principal.tenant,
            id,
            items_of(principal.tenant, id, account_id, &p.sections),
        )
        .await?;
        q::refresh_latest(conn, principal.tenant, account_id).await?;
        Ok(row)
    })
    .await
}

pub(crate) fn created(row: SurveyRecord) -> ApiResult<HttpResponse> {
    let mut b = HttpResponse::Created();
    b.insert_header((header::LOCATION, format!("/v1/survey-records/{}", row.id)));
    let version = row.version;
    Ok(with_etag(b, version, &to_dto(row)?))
}

/// Record a survey.
///
/// A new survey is a new record (records are history). Sections follow the survey form; each
/// is typed and validated, and the response carries the record's completeness.
#[utoipa::path(
    tag = "surveys",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = SurveyInput, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The survey record.", body = SurveyRecordDto,
               headers(("Location" = String, description = "URL of the record"),
                       ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/v1/accounts/{account_id}/survey-records")]
pub async fn create_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    body: JsonBody<SurveyInput>,
) -> ApiResult<HttpResponse> {
    let row = store_new(&state, &principal, path.into_inner(), body.0).await?;
    created(row)
}

/// List the survey records of an account, newest first.
#[utoipa::path(
    tag = "surveys",
    params(("account_id" = Uuid, Path, description = "Account id"), ListSurveysQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of records, newest `surveyed_at` first.", body = SurveyRecordList))
)]
#[get("/v1/accounts/{account_id}/survey-records")]
pub async fn list_survey_records(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<ListSurveysQuery>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let page = Page::<(i64, Uuid)>::parse(query.limit, query.cursor.as_deref())?;
    let after = match page.after {
        Some((micros, id)) => Some((
            DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(|| {
                ApiError::validation("cursor", "not a cursor returned by this API")
            })?,
            id,
        )),
        None => None,
    };
    let mut conn = state.conn().await?;
    account_q::find(&mut conn, principal.tenant, account_id)
        .await?
        .ok_or_else(|| not_found("account"))?;
    let rows = q::list(
        &mut conn,
        principal.tenant,
        account_id,
        query.include_archived.unwrap_or(false),
        after,
        page.fetch(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |r| (r.surveyed_at.timestamp_micros(), r.id));
    let items = rows
        .into_iter()
        .map(to_dto)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(SurveyRecordList { items, next_cursor }))
}

async fn load(conn: &mut AsyncPgConnection, tenant: Uuid, id: Uuid) -> ApiResult<SurveyRecord> {
    q::find(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found("survey record"))
}

/// Get a survey record.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The record.", body = SurveyRecordDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/v1/survey-records/{survey_id}")]
pub async fn get_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let row = load(&mut conn, principal.tenant, path.into_inner()).await?;
    let version = row.version;
    Ok(with_etag(HttpResponse::Ok(), version, &to_dto(row)?))
}

/// Update a survey record (JSON merge patch).
///
/// Objects merge member by member (e.g. `{"sections": {"budget": {"ceiling": 900000}}}` changes
/// only the ceiling); arrays are replaced whole; `null` removes.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = SurveyInput, content_type = "application/merge-patch+json",
                 description = "A merge patch of the record's editable content; every member is optional."),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated record.", body = SurveyRecordDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/v1/survey-records/{survey_id}")]
pub async fn patch_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<Uuid>,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let patch = body.0;
    if !patch.is_object() {
        return Err(ApiError::validation(
            "body",
            "a merge patch must be a JSON object",
        ));
    }
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = load(conn, principal.tenant, id).await?;
            let account = lock_account(conn, principal.tenant, current.account_id).await?;
            principal.require_write_owned_by(&account.owner)?;
            if_match.check(current.version)?;
            ensure_active(&account)?;
            ensure_not_archived(current.archived_at, "survey record")?;
            let mut doc = serde_json::to_value(SurveyInput {
                surveyed_at: current.surveyed_at,
                surveyor: Some(current.surveyor.clone()),
                respondents: current.respondents.iter().flatten().copied().collect(),
                opportunity_id: current.opportunity_id,
                sections: sections_of(&current)?,
            })
            .map_err(ApiError::internal)?;
            merge_patch(&mut doc, &patch);
            let input: SurveyInput = decode(doc)?;
            let p = prepare(input, &principal)?;
            check_references(conn, principal.tenant, current.account_id, &p).await?;
            let row = q::update(
                conn,
                principal.tenant,
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
            q::replace_items(
                conn,
                principal.tenant,
                id,
                items_of(principal.tenant, id, current.account_id, &p.sections),
            )
            .await?;
            q::refresh_latest(conn, principal.tenant, current.account_id).await?;
            Ok(row)
        })
        .await?;
    let version = row.version;
    Ok(with_etag(HttpResponse::Ok(), version, &to_dto(row)?))
}

async fn set_archived(
    state: &AppState,
    principal: &Principal,
    if_match: &IfMatch,
    id: Uuid,
    archived: bool,
) -> ApiResult<SurveyRecord> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load(conn, principal.tenant, id).await?;
        let account = lock_account(conn, principal.tenant, current.account_id).await?;
        principal.require_write_owned_by(&account.owner)?;
        if_match.check(current.version)?;
        if current.archived_at.is_some() == archived {
            return Ok(current);
        }
        let row = q::set_archived(conn, principal.tenant, id, archived).await?;
        q::refresh_latest(conn, principal.tenant, current.account_id).await?;
        Ok(row)
    })
    .await
}

/// Archive a survey record.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The record is archived; the account's latest survey is recomputed."))
)]
#[delete("/v1/survey-records/{survey_id}")]
pub async fn delete_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    set_archived(&state, &principal, &if_match, path.into_inner(), true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived survey record.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored record.", body = SurveyRecordDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/v1/survey-records/{survey_id}/restore")]
pub async fn restore_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let row = set_archived(
        &state,
        &principal,
        &IfMatch::Absent,
        path.into_inner(),
        false,
    )
    .await?;
    let version = row.version;
    Ok(with_etag(HttpResponse::Ok(), version, &to_dto(row)?))
}

/// Compare two survey records of the same account.
///
/// Lists per section what was added, removed and changed since `base` (inventory items are
/// matched by category + brand + model).
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id"), DiffQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The differences.", body = SurveyDiff))
)]
#[get("/v1/survey-records/{survey_id}/diff")]
pub async fn diff_survey_records(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<DiffQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut conn = state.conn().await?;
    let this = load(&mut conn, principal.tenant, id).await?;
    let base = q::find(&mut conn, principal.tenant, query.base).await?;
    let base = match base {
        Some(b) if b.account_id == this.account_id => b,
        _ => {
            return Err(ApiError::validation(
                "base",
                "must be a survey record of the same account",
            ))
        }
    };
    Ok(HttpResponse::Ok().json(SurveyDiff {
        survey_id: this.id,
        base_id: base.id,
        sections: survey::diff(&sections_of(&base)?, &sections_of(&this)?),
    }))
}

/// Search the installed base.
///
/// Inventory items from each account's latest survey, across the tenant's accounts, with the
/// account: find refresh opportunities (old equipment, end of support).
#[utoipa::path(
    tag = "surveys",
    params(InventoryQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of installed items.", body = InstalledBase))
)]
#[get("/v1/inventory")]
pub async fn list_inventory(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<InventoryQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::<i64>::parse(query.limit, query.cursor.as_deref())?;
    let mut c = Checker::new();
    let filter = InventoryFilter {
        brand: c.optional_text("brand", query.brand.as_deref(), 100),
        model: c.optional_text("model", query.model.as_deref(), 100),
        category: query.category.map(|c| c.as_str().to_string()),
        deployed_before: query.deployed_before,
        end_of_support_before: query.end_of_support_before,
    };
    c.finish()?;
    let mut conn = state.conn().await?;
    let rows = q::search_inventory(
        &mut conn,
        principal.tenant,
        &filter,
        page.after,
        page.fetch(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id);
    Ok(HttpResponse::Ok().json(InstalledBase {
        items: rows
            .into_iter()
            .map(|r| InstalledItem {
                account_id: r.account_id,
                account_name: r.account_name,
                survey_id: r.survey_id,
                surveyed_at: r.surveyed_at,
                category: InventoryCategory::parse(&r.category).unwrap_or(InventoryCategory::Other),
                brand: r.brand,
                model: r.model,
                quantity: r.quantity,
                deployed_year: r.deployed_year,
                end_of_support: r.end_of_support,
                notes: r.notes,
            })
            .collect(),
        next_cursor,
    }))
}

/// The latest survey summary of each of `accounts`.
pub(crate) async fn latest_summaries(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    accounts: &[Uuid],
) -> ApiResult<HashMap<Uuid, SurveySummary>> {
    Ok(q::latest_for_accounts(conn, tenant, accounts)
        .await?
        .iter()
        .filter_map(|r| summary_of(r).map(|s| (r.account_id, s)))
        .collect())
}

const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn xlsx_response(bytes: Vec<u8>, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, XLSX_MIME))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(bytes)
}

/// Download a blank survey form.
///
/// The workbook that `import` reads: one sheet per section, bilingual headers.
#[utoipa::path(
    tag = "surveys",
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A blank survey form.", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>))
)]
#[get("/v1/survey-records/template.xlsx")]
pub async fn get_survey_template(_principal: Principal) -> ApiResult<HttpResponse> {
    let banner = crate::xlsx::Banner {
        account_name: String::new(),
        surveyed_at: None,
    };
    let bytes = crate::xlsx::export(&banner, &serde_json::json!({"sections": {}}))
        .map_err(ApiError::internal)?;
    Ok(xlsx_response(bytes, "survey-template.xlsx"))
}

/// Export a survey record as the survey form (XLSX).
///
/// One sheet per section with bilingual (zh/en) headers; the account and the survey date on
/// top. Importing the file again gives an equal record.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The filled survey form.", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>))
)]
#[get("/v1/survey-records/{survey_id}/export.xlsx")]
pub async fn export_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let row = load(&mut conn, principal.tenant, path.into_inner()).await?;
    let account = account_q::find(&mut conn, principal.tenant, row.account_id)
        .await?
        .ok_or_else(|| not_found("account"))?;
    let record = serde_json::to_value(SurveyInput {
        surveyed_at: row.surveyed_at,
        surveyor: Some(row.surveyor.clone()),
        respondents: row.respondents.iter().flatten().copied().collect(),
        opportunity_id: row.opportunity_id,
        sections: sections_of(&row)?,
    })
    .map_err(ApiError::internal)?;
    let banner = crate::xlsx::Banner {
        account_name: account.name,
        surveyed_at: Some(row.surveyed_at),
    };
    let bytes = web::block(move || crate::xlsx::export(&banner, &record))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(xlsx_response(
        bytes,
        &format!(
            "survey-{}-{}.xlsx",
            row.surveyed_at.format("%Y%m%d"),
            row.id
        ),
    ))
}

/// Reads the uploaded workbook: a raw XLSX body, or the first file of a multipart form.
async fn read_upload(
    req: &actix_web::HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> ApiResult<Vec<u8>> {
    use futures_util::StreamExt;
    let too_large = || ApiError::PayloadTooLarge(format!("the workbook exceeds {limit} bytes"));
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = actix_multipart::Multipart::new(req.headers(), payload);
        while let Some(field) = form.next().await {
            let mut field = field
                .map_err(|e| ApiError::BadRequest(format!("malformed multipart body: {e}")))?;
            let is_file = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .is_some();
            let mut buf = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk
                    .map_err(|e| ApiError::BadRequest(format!("malformed multipart body: {e}")))?;
                if buf.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            if is_file {
                return Ok(buf);
            }
        }
        return Err(ApiError::validation(
            "file",
            "the multipart form has no file",
        ));
    }
    if !(content_type.starts_with(XLSX_MIME)
        || content_type.starts_with("application/octet-stream"))
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the workbook as {XLSX_MIME} (or application/octet-stream), or as a file in multipart/form-data"
        )));
    }
    let mut payload = payload;
    let mut buf = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Points validation errors of an imported record at the cells they came from.
fn to_cells(e: ApiError) -> ApiError {
    match e {
        ApiError::Validation(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|fe| {
                    match crate::xlsx::locate(&fe.field)
                        .or_else(|| crate::xlsx::locate_overview(&fe.field))
                    {
                        Some(cell) => FieldError::new(
                            cell.clone(),
                            format!("{} ({}): {}", cell, fe.field, fe.message),
                        ),
                        None => fe,
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

/// Import a survey form (XLSX) as a new record.
///
/// Accepts the workbook of `export.xlsx` or `template.xlsx` as a raw body
/// (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`) or as the file of a
/// `multipart/form-data` form. Problems (wrong sheets, non-numeric quantities, unknown
/// categories, ...) answer 422 naming sheet, row and column (`inventory!D5`); nothing
/// half-imported is stored.
#[utoipa::path(
    tag = "surveys",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 description = "The workbook (or multipart/form-data with a file field)."),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The imported record.", body = SurveyRecordDto,
               headers(("Location" = String, description = "URL of the record"))),
              (status = 413, description = "The workbook exceeds the upload limit.", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 415, description = "The body is not a workbook.", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 422, description = "The workbook is not a valid survey form; `errors` name the cells.", body = crate::error::Problem, content_type = "application/problem+json"))
)]
#[post("/v1/accounts/{account_id}/survey-records/import")]
pub async fn import_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    req: actix_web::HttpRequest,
    path: web::Path<Uuid>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    principal.require_create()?;
    let bytes = read_upload(&req, payload, state.config.upload_limit).await?;
    let json = web::block(move || crate::xlsx::import(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::Validation)?;
    let input: SurveyInput = decode(json).map_err(to_cells)?;
    let row = store_new(&state, &principal, account_id, input)
        .await
        .map_err(to_cells)?;
    created(row)
}
