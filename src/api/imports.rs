//! `/v1/imports`: CSV import jobs from a CRM of record.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::delimited::Charset;
use crate::domain::import::{ImportResource, ImportSource, MAX_FILE_BYTES};
use crate::error::ApiResult;
use crate::http::lang::request_lang;
use crate::http::pages;
use crate::http::pagination::{PageQuery, PageRequest};
use crate::http::upload::read_upload;
use crate::service::imports::{self as svc, ImportJobView, NewImport};
use crate::service::Principal;
use crate::state::AppState;

/// Content types a CSV upload may have (Excel on Windows sends `application/vnd.ms-excel`).
const CSV_TYPES: &[&str] = &[
    "text/csv",
    "text/plain",
    "text/tab-separated-values",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

/// What to import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CreateImportQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// What the file holds.
    pub resource: ImportResource,
    /// Whose export it is: its column names, and the system of its ids.
    pub source: ImportSource,
    /// Run every check and store nothing (default false).
    pub dry_run: Option<bool>,
    /// The currency of amounts when the file has no currency column (default CNY).
    #[param(pattern = r"^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// A page of import jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportJobList {
    pub items: Vec<ImportJobView>,
    pub next_cursor: Option<String>,
}

/// A CSV file (schema only).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct CsvFile(#[allow(dead_code)] Vec<u8>);

/// Import a CSV export of a CRM.
///
/// Managers and admins. The file — the body (`text/csv`, `charset=` honoured) or the `file` part
/// of a `multipart/form-data` form — is checked at once (a delimited file with the source's id
/// column, at most 200,000 rows and 50 MiB: 422/413 naming the limit) and queued; the job then
/// runs in the background: `GET` its `Location` for progress, its `report.csv` for what became
/// of each row. Each row is written by reference (the source's id, in the system named like the
/// source), so importing the same file again changes nothing. A tenant runs one job at a time
/// (409).
#[utoipa::path(
    tag = "imports",
    params(CreateImportQuery),
    request_body(description = "The CSV file: as the body, or as the `file` part of a form.",
                 content(
                     (inline(CsvFile) = "text/csv"),
                     (crate::service::input::CsvForm = "multipart/form-data"),
                 )),
    security(("bearer_auth" = [])),
    responses((status = 202, description = "The job is queued.", body = ImportJobView,
               headers(("Location" = String, description = "URL of the job"))))
)]
#[post("")]
pub async fn create_import(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: web::Query<CreateImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let (file, charset) = read_upload(&req, payload, MAX_FILE_BYTES, CSV_TYPES).await?;
    let n = NewImport {
        resource: q.resource,
        source: q.source,
        dry_run: q.dry_run.unwrap_or(false),
        currency: q.currency,
        charset: charset.as_deref().and_then(Charset::from_label),
    };
    let mut conn = state.conn().await?;
    let job = svc::create(&mut conn, &principal, n, file).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/imports/{}", job.id)))
        .json(job))
}

/// List import jobs.
///
/// Managers and admins; newest first.
#[utoipa::path(
    tag = "imports",
    params(PageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of jobs.", body = ImportJobList))
)]
#[get("")]
pub async fn list_imports(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    let jobs = svc::list(&mut conn, &principal, page.after, page.fetch()).await?;
    let (items, next_cursor) = page.finish(jobs, |j| j.id);
    Ok(HttpResponse::Ok().json(ImportJobList { items, next_cursor }))
}

/// Get an import job.
///
/// Its progress while it runs (`processed_rows` of `total_rows`), its counts when it ends.
#[utoipa::path(
    tag = "imports",
    params(("import_id" = Uuid, Path, description = "Import job id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The job.", body = ImportJobView))
)]
#[get("/{import_id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    Ok(HttpResponse::Ok().json(svc::get(&mut conn, &principal, path.into_inner()).await?))
}

/// Cancel an import job.
///
/// A queued job ends at once; a running one after the row it is on (the rows before stay
/// written). A job that has ended is answered as it is.
#[utoipa::path(
    tag = "imports",
    params(("import_id" = Uuid, Path, description = "Import job id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The job.", body = ImportJobView))
)]
#[post("/{import_id}/cancel")]
pub async fn cancel_import(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    Ok(HttpResponse::Ok().json(svc::cancel(&mut conn, &principal, path.into_inner()).await?))
}

/// Get an import job's row report.
///
/// CSV (UTF-8 with a BOM, for Excel): `row,status,id,external_id,errors`, one line per row
/// processed so far; `status` is `created`, `updated`, `unchanged` or `error`, `errors`
/// `column: code: message; …` in the request's language.
#[utoipa::path(
    tag = "imports",
    params(("import_id" = Uuid, Path, description = "Import job id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The report.", content_type = "text/csv", body = String))
)]
#[get("/{import_id}/report.csv")]
pub async fn get_import_report(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let (lang, id) = (request_lang(&req), path.into_inner());
    let first = svc::report_page(&mut conn, &principal, id, None, lang).await?;
    drop(conn);
    // Streamed a page at a time (`http::pages`): a report of 200,000 lines is not held whole.
    Ok(pages::csv(state, first, move |state, after| {
        let who = principal.clone();
        async move {
            let mut conn = state.conn().await?;
            svc::report_page(&mut conn, &who, id, Some(after), lang).await
        }
    }))
}
