//! CSV import jobs (issue 21): a manager or admin uploads a CRM's export of one resource; the
//! worker (`run`) writes its rows by reference as the uploader (new ones together where it can,
//! `write`), each as a write of the API would; the job reports its progress, and each row's
//! outcome in a report.

mod file;
mod rows;
pub mod run;
mod write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::db::imports::{self as q, ImportJob, ImportRow, NewImportJob};
use crate::delimited::{Charset, DelimitedReader};
use crate::domain::import::{
    ImportResource, ImportSource, JobStatus, Layout, MAX_FILE_BYTES, MAX_ROWS,
};
use crate::domain::money::Currency;
use crate::domain::texts::{self, Noun, Refusal};
use crate::domain::validate::{Code, Format, Violation};
use crate::error::{ApiError, ApiResult};
use crate::service::{not_found, Conn, Principal};

/// An import job.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportJobDto)]
pub struct ImportJobView {
    pub id: Uuid,
    pub resource: ImportResource,
    pub source: ImportSource,
    /// Every check, nothing stored.
    pub dry_run: bool,
    pub status: JobStatus,
    /// Data rows in the file (the header not counted).
    pub total_rows: Option<i32>,
    pub processed_rows: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed_rows: i32,
    /// Columns of the file nothing is read from.
    pub ignored_columns: Vec<String>,
    /// Values of the file without a mapping (stages): write them in the settings'
    /// `stage_mappings`, then import again.
    pub unmapped_values: Vec<String>,
    /// Why the job failed.
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn strings(v: Vec<Option<String>>) -> Vec<String> {
    v.into_iter().flatten().collect()
}

pub(crate) fn view(j: ImportJob) -> ApiResult<ImportJobView> {
    Ok(ImportJobView {
        resource: db::code("import_jobs.resource of", j.id, &j.resource)?,
        source: db::code("import_jobs.source of", j.id, &j.source)?,
        status: db::code("import_jobs.status of", j.id, &j.status)?,
        id: j.id,
        dry_run: j.dry_run,
        total_rows: j.total_rows,
        processed_rows: j.processed_rows,
        created: j.created,
        updated: j.updated,
        unchanged: j.unchanged,
        failed_rows: j.failed_rows,
        ignored_columns: strings(j.ignored_columns),
        unmapped_values: strings(j.unmapped_values),
        error: j.error,
        created_by: j.created_by,
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
        version: j.version,
    })
}

/// What a new job is asked to do.
#[derive(Debug, Clone)]
pub struct NewImport {
    pub resource: ImportResource,
    pub source: ImportSource,
    pub dry_run: bool,
    /// The currency of amounts in a file without a currency column (default CNY).
    pub currency: Option<String>,
    /// The charset the upload declared.
    pub charset: Option<Charset>,
}

fn require_importer(who: &Principal) -> ApiResult<()> {
    if who.writes_all() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(texts::forbidden(&Refusal::Imports)))
    }
}

/// The columns a file must have.
fn required_columns(
    source: ImportSource,
) -> &'static [(crate::domain::import::Field, &'static str)] {
    use crate::domain::import::Field;
    match source {
        ImportSource::Salesforce | ImportSource::Hubspot => &[(Field::Id, "Id")],
        ImportSource::Buyerpath => &[(Field::OwnId, "id")],
    }
}

/// Reads the whole file once: that it is a delimited file with the columns it needs, within
/// the row limit. Gives its layout and row count.
fn survey(n: &NewImport, file: &[u8]) -> ApiResult<(Layout, u64)> {
    let bad = |code| ApiError::Validation(vec![Violation::new("file", code)]);
    let reader = DelimitedReader::open(file, n.charset)
        .map_err(|_| bad(Code::InvalidFormat(Format::Csv)))?;
    let layout = Layout::of(n.source, n.resource, &reader.headers);
    for (field, name) in required_columns(n.source) {
        if !layout.has(*field) {
            return Err(bad(Code::MissingColumn {
                column: (*name).to_string(),
            }));
        }
    }
    let mut rows = 0u64;
    for row in reader {
        row.map_err(|_| bad(Code::InvalidFormat(Format::Csv)))?;
        rows += 1;
        if rows > MAX_ROWS {
            return Err(bad(Code::TooMany { max: MAX_ROWS }));
        }
    }
    Ok((layout, rows))
}

/// Queues a job for `file` (managers and admins; one job of a tenant at a time: 409).
pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    n: NewImport,
    file: Vec<u8>,
) -> ApiResult<ImportJobView> {
    require_importer(who)?;
    if file.len() > MAX_FILE_BYTES {
        return Err(ApiError::PayloadTooLarge(Box::new(Violation::new(
            "file",
            Code::TooLarge {
                max_bytes: MAX_FILE_BYTES as u64,
            },
        ))));
    }
    let currency = match &n.currency {
        Some(c) => Currency::parse(c).map_err(|code| {
            ApiError::Validation(vec![Violation::at(
                crate::domain::validate::In::Query,
                "currency",
                code,
            )])
        })?,
        None => Currency::parse("CNY").map_err(|c| ApiError::internal(format!("{c:?}")))?,
    };
    let (layout, rows) = survey(&n, &file)?;
    let new = NewImportJob {
        id: Uuid::now_v7(),
        tenant_id: who.tenant.get(),
        resource: n.resource.as_str().to_string(),
        source: n.source.as_str().to_string(),
        dry_run: n.dry_run,
        status: JobStatus::Queued.as_str().to_string(),
        charset: n.charset.map(|c| c.label().to_string()),
        currency: currency.as_str().to_string(),
        total_rows: i32::try_from(rows).ok(),
        ignored_columns: layout.ignored.into_iter().map(Some).collect(),
        created_by: who.sub.clone(),
        roles: who
            .roles
            .iter()
            .map(|r| Some(r.as_str().to_string()))
            .collect(),
    };
    match q::insert(conn, new, &file).await {
        Ok(job) => view(job),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        )) if info.constraint_name() == Some(q::ONE_ACTIVE) => {
            Err(ApiError::Conflict(texts::import_running()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn get(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<ImportJobView> {
    require_importer(who)?;
    view(find(conn, who, id).await?)
}

async fn find(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<ImportJob> {
    q::find(conn, who.tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::ImportJob))
}

/// The tenant's jobs, newest first.
pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    before: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<ImportJobView>> {
    require_importer(who)?;
    q::list(conn, who.tenant, before, limit)
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// Cancels a job: a queued one at once, a running one after the row it is on (the rows
/// before it stay written). Cancelling a job that has ended changes nothing.
pub async fn cancel(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<ImportJobView> {
    require_importer(who)?;
    let job = q::request_cancel(conn, who.tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::ImportJob))?;
    view(job)
}

/// Report lines a page of the report holds.
const REPORT_PAGE: i64 = 5000;

/// One page of the job's row report as CSV lines (the header line first when `after` is none),
/// and the row to continue after (none on the last page): `row,status,id,external_id,errors`,
/// errors in `lang`.
pub async fn report_page(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    after: Option<i32>,
    lang: crate::domain::playbook::Lang,
) -> ApiResult<(Vec<u8>, Option<i32>)> {
    require_importer(who)?;
    find(conn, who, id).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    if after.is_none() {
        let header = ["row", "status", "id", "external_id", "errors"];
        out.write_record(header).map_err(ApiError::internal)?;
    }
    let page: Vec<ImportRow> =
        q::rows(conn, who.tenant, id, after.unwrap_or(0), REPORT_PAGE).await?;
    for r in &page {
        let id = r.resource_id.map(|u| u.to_string()).unwrap_or_default();
        let line = [
            r.row_number.to_string(),
            r.status.clone(),
            id,
            r.external_id.clone().unwrap_or_default(),
            errors_in(r.errors.as_deref(), lang),
        ];
        out.write_record(&line).map_err(ApiError::internal)?;
    }
    let next = match page.last() {
        Some(last) if page.len() as i64 == REPORT_PAGE => Some(last.row_number),
        _ => None,
    };
    Ok((out.into_inner().map_err(ApiError::internal)?, next))
}

/// A row's stored errors (`{"zh": …, "en": …}`) in `lang`.
fn errors_in(stored: Option<&str>, lang: crate::domain::playbook::Lang) -> String {
    let Some(s) = stored else {
        return String::new();
    };
    let doc: serde_json::Value = serde_json::from_str(s).unwrap_or_default();
    let key = match lang {
        crate::domain::playbook::Lang::Zh => "zh",
        crate::domain::playbook::Lang::En => "en",
    };
    doc[key]
        .as_str()
        .map_or_else(|| s.to_string(), str::to_string)
}
