//! Customer current-state survey records (客户现状调查表) and the installed base across accounts.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::survey::{InventoryCategory, SectionDiff, Sections};
use crate::error::ApiResult;
use crate::http::etag::with_etag;
use crate::http::extract::JsonBody;
use crate::http::pagination::{Page, SyncPage};
use crate::http::upload::read_upload;
use crate::service::surveys::{self as svc, InventorySearch, SurveyInput, SurveyRecordView};
use crate::service::{Precondition, Principal};
use crate::state::AppState;

/// A JSON merge patch (RFC 7396) of a survey record: absent members stay, `null` removes,
/// objects merge member by member, arrays are replaced whole. The merged record must be a valid
/// record (`SurveyInput`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // the body is read as a merge patch; this type documents it
pub struct SurveyRecordPatch {
    /// Cannot be removed.
    #[schema(value_type = DateTime<Utc>, required = false)]
    surveyed_at: Option<DateTime<Utc>>,
    #[schema(nullable, max_length = 200, min_length = 1)]
    surveyor: Option<String>,
    #[schema(nullable)]
    respondents: Option<Vec<Uuid>>,
    #[schema(nullable)]
    opportunity_id: Option<Uuid>,
    /// Merged into the stored sections member by member.
    #[schema(nullable)]
    sections: Option<Sections>,
}

fn respond(builder: actix_web::HttpResponseBuilder, v: SurveyRecordView) -> HttpResponse {
    let version = v.version;
    with_etag(builder, version, &v)
}

fn created(v: SurveyRecordView) -> HttpResponse {
    let mut b = HttpResponse::Created();
    b.insert_header((header::LOCATION, format!("/v1/survey-records/{}", v.id)));
    respond(b, v)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyRecordList {
    pub items: Vec<SurveyRecordView>,
    pub next_cursor: Option<String>,
}

/// Paging of survey records.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSurveysQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Sync: only rows changed at or after this time (RFC 3339), archived ones included, in
    /// `(updated_at, id)` order; `cursor` then continues that order.
    pub updated_since: Option<DateTime<Utc>>,
    pub include_archived: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// The base of a diff.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
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
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Brand (case-insensitive, exact).
    #[param(max_length = 100)]
    pub brand: Option<String>,
    /// Model (case-insensitive, exact).
    #[param(max_length = 100)]
    pub model: Option<String>,
    pub category: Option<InventoryCategory>,
    /// Deployed before this year.
    pub deployed_before: Option<i32>,
    /// End of support before this date.
    pub end_of_support_before: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
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

/// Record a survey.
///
/// A new survey is a new record (records are history). Sections follow the survey form; each
/// is typed and validated, and the response carries the record's completeness.
///
/// Rules the schema cannot state (422): respondents are active contacts and the opportunity one of
/// the same account; a budget amount needs a currency and has at most its minor digits; the
/// timeline's deadline is not before its start.
#[utoipa::path(
    tag = "surveys",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = SurveyInput, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The survey record.", body = SurveyRecordView,
               headers(("Location" = String, description = "URL of the record"),
                       ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{account_id}/survey-records")]
pub async fn create_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    body: JsonBody<SurveyInput>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::create(&mut conn, &principal, path.into_inner(), body.0).await?;
    Ok(created(v))
}

/// List the survey records of an account, newest first.
///
/// Newest `surveyed_at` first. `cursor` must be a `next_cursor` this API returned (422 otherwise:
/// the schema cannot tell a cursor it issued).
///
/// With `updated_since`: every row changed at or after that time, archived ones included (with
/// `archived_at`), in `(updated_at, id)` order, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "surveys",
    params(("account_id" = Uuid, Path, description = "Account id"), ListSurveysQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of records, newest `surveyed_at` first.", body = SurveyRecordList))
)]
#[get("/{account_id}/survey-records")]
pub async fn list_survey_records(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<ListSurveysQuery>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let page = SyncPage::<(DateTime<Utc>, Uuid)>::parse(
        query.limit,
        query.cursor.as_deref(),
        query.updated_since,
    )?;
    let mut conn = state.conn().await?;
    let views = svc::list(
        &mut conn,
        &principal,
        account_id,
        query.include_archived.unwrap_or(false),
        page.keyset(),
        page.fetch(),
    )
    .await?;
    let (views, next_cursor) =
        page.finish(views, |v| (v.surveyed_at, v.id), |v| (v.updated_at, v.id));
    Ok(HttpResponse::Ok().json(SurveyRecordList {
        items: views,
        next_cursor,
    }))
}

/// Get a survey record.
///
/// With its completeness. Archived records are answered too (with `archived_at`).
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The record.", body = SurveyRecordView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/{survey_id}")]
pub async fn get_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::get(&mut conn, &principal, path.into_inner()).await?;
    Ok(respond(HttpResponse::Ok(), v))
}

/// Update a survey record (JSON merge patch).
///
/// Objects merge member by member (e.g. `{"sections": {"budget": {"ceiling": 900000}}}` changes
/// only the ceiling); arrays are replaced whole; `null` removes.
///
/// The merged record must be valid (as for creating one, 422); whether a patch is depends on the
/// record it is merged into, so a stale `If-Match` (412) is answered before the content is judged.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = SurveyRecordPatch, content_type = "application/merge-patch+json",
                 description = "A merge patch of the record's editable content; every member is optional."),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated record.", body = SurveyRecordView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/{survey_id}")]
pub async fn patch_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::update(&mut conn, &principal, path.into_inner(), &if_match, body.0).await?;
    Ok(respond(HttpResponse::Ok(), v))
}

/// Archive a survey record.
///
/// The record stays readable (with `archived_at`) and read-only until restored; the account's
/// latest survey is recomputed. A stale `If-Match` is 412.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The record is archived; the account's latest survey is recomputed."))
)]
#[delete("/{survey_id}")]
pub async fn delete_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    svc::archive(&mut conn, &principal, path.into_inner(), &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived survey record.
///
/// Refused (409) while its account is archived; the account's latest survey is recomputed.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored record.", body = SurveyRecordView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{survey_id}/restore")]
pub async fn restore_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::restore(&mut conn, &principal, path.into_inner()).await?;
    Ok(respond(HttpResponse::Ok(), v))
}

/// Compare two survey records of the same account.
///
/// Lists per section what was added, removed and changed since `base` (inventory items are
/// matched by category + brand + model).
///
/// `base` must be a record of the same account (422).
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id"), DiffQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The differences.", body = SurveyDiff))
)]
#[get("/{survey_id}/diff")]
pub async fn diff_survey_records(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<DiffQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut conn = state.conn().await?;
    let sections = svc::diff(&mut conn, &principal, id, query.base).await?;
    Ok(HttpResponse::Ok().json(SurveyDiff {
        survey_id: id,
        base_id: query.base,
        sections,
    }))
}

/// Search the installed base.
///
/// Inventory items from each account's latest survey, across the tenant's accounts, with the
/// account: find refresh opportunities (old equipment, end of support).
///
/// `cursor` must be a `next_cursor` this API returned (422 otherwise: the schema cannot tell a
/// cursor it issued).
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
    let search = InventorySearch {
        brand: query.brand,
        model: query.model,
        category: query.category,
        deployed_before: query.deployed_before,
        end_of_support_before: query.end_of_support_before,
    };
    let mut conn = state.conn().await?;
    let rows =
        svc::search_inventory(&mut conn, &principal, search, page.after, page.fetch()).await?;
    let (rows, next_cursor) = page.finish(rows, |(r, _)| r.id);
    Ok(HttpResponse::Ok().json(InstalledBase {
        items: rows
            .into_iter()
            .map(|(r, category)| InstalledItem {
                account_id: r.account_id,
                account_name: r.account_name,
                survey_id: r.survey_id,
                surveyed_at: r.surveyed_at,
                category,
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
    responses((status = 200, description = "A blank survey form.", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = inline(crate::service::input::Binary),
               headers(("Content-Disposition" = String, description = "`attachment; filename=\"survey-template.xlsx\"`"))))
)]
#[get("/template.xlsx")]
pub async fn get_survey_template(_principal: Principal) -> ApiResult<HttpResponse> {
    Ok(xlsx_response(svc::template()?, "survey-template.xlsx"))
}

/// Export a survey record as the survey form (XLSX).
///
/// One sheet per section with bilingual (zh/en) headers; the account and the survey date on
/// top. Importing the file again gives an equal record.
#[utoipa::path(
    tag = "surveys",
    params(("survey_id" = Uuid, Path, description = "Survey record id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The filled survey form.", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = inline(crate::service::input::Binary),
               headers(("Content-Disposition" = String, description = "`attachment; filename=\"survey-<date>-<id>.xlsx\"`"))))
)]
#[get("/{survey_id}/export.xlsx")]
pub async fn export_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let id = path.into_inner();
    let wb = svc::export(&mut conn, &principal, id).await?;
    let date = wb.surveyed_at.format("%Y%m%d");
    Ok(xlsx_response(wb.bytes, &format!("survey-{date}-{id}.xlsx")))
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
    request_body(description = "The workbook: as the body, or as the `file` part of a form.",
                 content(
                     (crate::service::input::WorkbookForm = "multipart/form-data"),
                     (inline(crate::service::input::Binary) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                 )),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The imported record.", body = SurveyRecordView,
               headers(("Location" = String, description = "URL of the record"),
                       ("ETag" = String, description = "Version tag for If-Match"))),
              (status = 413, description = "The workbook exceeds the upload limit.", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 415, description = "The body is not a workbook.", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 422, description = "The workbook is not a valid survey form; `errors` name the cells.", body = crate::error::Problem, content_type = "application/problem+json"))
)]
#[post("/{account_id}/survey-records/import")]
pub async fn import_survey_record(
    state: web::Data<AppState>,
    principal: Principal,
    req: actix_web::HttpRequest,
    path: web::Path<Uuid>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    // Refuse read-only callers before reading an upload; the service checks again.
    principal.require_create()?;
    let bytes = read_upload(
        &req,
        payload,
        state.config.upload_limit,
        &[XLSX_MIME, "application/octet-stream"],
    )
    .await?
    .0;
    let mut conn = state.conn().await?;
    let v = svc::import(&mut conn, &principal, account_id, bytes).await?;
    Ok(created(v))
}
