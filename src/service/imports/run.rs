//! Running an import job (the worker's part). A job is run by the worker holding its lock (a
//! session lock on the worker's own connection: if the worker dies, the lock goes with its
//! connection and another worker resumes the job). Rows are written by reference, a chunk at a
//! time (`write`), as the user who uploaded the file; progress and report lines are recorded
//! with each chunk's commit, every few hundred
//! rows, so a resumed job starts after the last recorded row (rows after it are written again
//! by reference: none twice). A dry run writes inside a transaction it never commits.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::file::FileParts;
use super::rows::{self, Ctx, Write};
use super::write::{self, report_errors, Manager, Pending};
use crate::db;
use crate::db::imports::{self as q, ImportJob, ImportRow, Progress};
use crate::delimited::{Charset, DelimitedReader, Row};
use crate::domain::external_ref::ExternalRef;
use crate::domain::ids::TenantId;
use crate::domain::import::{ImportResource, ImportSource, JobStatus, Layout, RowStatus};
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::external_refs::{self, Kind};
use crate::service::{contacts, settings};
use crate::service::{Precondition, Principal, Role};

/// Progress is recorded at least this often (rows or time).
const FLUSH_ROWS: usize = 500;
const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// Runs the oldest pending job this worker can lock, on `meta` (which holds the lock and
/// records progress) and `work` (which writes the rows). Whether there was one.
pub async fn run_next(
    meta: &mut AsyncPgConnection,
    work: impl AsyncFnOnce() -> ApiResult<AsyncPgConnection>,
) -> ApiResult<bool> {
    for (tenant, id) in q::pending(meta, 20).await? {
        if !q::try_lock(meta, id).await? {
            continue;
        }
        let tenant = TenantId::new(tenant);
        let job = q::find(meta, tenant, id).await?;
        let result = match job {
            Some(job) if job.status == "queued" || job.status == "running" => {
                let mut conn = work().await?;
                run_job(meta, &mut conn, job).await
            }
            _ => Ok(()),
        };
        match result {
            // The database went away: the job is resumed once it is back.
            Err(e @ ApiError::Unavailable(_)) => {
                q::unlock(meta, id).await.ok();
                return Err(e);
            }
            // Anything else would fail again on every resume: the job fails, once.
            Err(e) => {
                log::error!("import job {id} failed: {e}");
                let why =
                    "an internal error stopped the job; its rows so far are written".to_string();
                q::finish(meta, tenant, id, JobStatus::Failed.as_str(), Some(why)).await?;
            }
            Ok(()) => {}
        }
        q::unlock(meta, id).await?;
        return Ok(true);
    }
    Ok(false)
}

/// The user a job writes as.
fn principal(job: &ImportJob) -> Principal {
    Principal {
        tenant: TenantId::new(job.tenant_id),
        sub: job.created_by.clone(),
        roles: job
            .roles
            .iter()
            .flatten()
            .filter_map(|r| Role::parse(r))
            .collect(),
    }
}

/// What a job has done so far.
struct Tally {
    progress: Progress,
    unmapped: BTreeSet<String>,
    lines: Vec<ImportRow>,
    last_flush: Instant,
}

impl Tally {
    /// Where `job` stands: from nothing for a dry run (which starts again), else where its
    /// last run recorded it.
    fn of(job: &ImportJob) -> Tally {
        let progress = if job.dry_run {
            Progress::default()
        } else {
            Progress {
                processed_rows: job.processed_rows,
                created: job.created,
                updated: job.updated,
                unchanged: job.unchanged,
                failed_rows: job.failed_rows,
                unmapped_values: job.unmapped_values.clone(),
            }
        };
        Tally {
            unmapped: progress.unmapped_values.iter().flatten().cloned().collect(),
            progress,
            lines: Vec::new(),
            last_flush: Instant::now(),
        }
    }

    /// Reads a row of the file (noting a stage value without a mapping).
    fn read(&mut self, ctx: &Ctx<'_>, row: &Row, number: i32) -> Pending {
        let mut read = rows::read(ctx, row);
        if let Some(v) = read.unmapped.take() {
            self.unmapped.insert(v);
        }
        Pending { number, read }
    }

    /// Writes rows read, and counts their lines.
    async fn write(
        &mut self,
        work: &mut AsyncPgConnection,
        who: &Principal,
        ctx: &Ctx<'_>,
        rows: Vec<Pending>,
        managers: &mut Vec<Manager>,
    ) -> ApiResult<()> {
        let Some(last) = rows.last().map(|p| p.number) else {
            return Ok(());
        };
        for line in write::write_chunk(work, who, ctx, rows, managers).await? {
            let status = db::code("import row status", line.row_number, &line.status)?;
            self.count(status, 1);
            self.lines.push(line);
        }
        self.progress.processed_rows = last;
        Ok(())
    }

    /// Whether to commit the chunk and record progress.
    fn due(&self) -> bool {
        self.lines.len() >= FLUSH_ROWS || self.last_flush.elapsed() >= FLUSH_EVERY
    }

    fn count(&mut self, status: RowStatus, delta: i32) {
        let p = &mut self.progress;
        match status {
            RowStatus::Created => p.created += delta,
            RowStatus::Updated => p.updated += delta,
            RowStatus::Unchanged => p.unchanged += delta,
            RowStatus::Error => p.failed_rows += delta,
        }
    }

    /// Records the lines and the counters; whether the job was asked to stop.
    async fn flush(&mut self, meta: &mut AsyncPgConnection, job: &ImportJob) -> ApiResult<bool> {
        let tenant = TenantId::new(job.tenant_id);
        for line in &mut self.lines {
            line.job_id = job.id;
        }
        q::record_rows(meta, &self.lines).await?;
        self.lines.clear();
        self.progress.unmapped_values = self.unmapped.iter().cloned().map(Some).collect();
        self.last_flush = Instant::now();
        Ok(q::progress(meta, tenant, job.id, &self.progress).await?)
    }
}

async fn run_job(
    meta: &mut AsyncPgConnection,
    work: &mut AsyncPgConnection,
    job: ImportJob,
) -> ApiResult<()> {
    let tenant = TenantId::new(job.tenant_id);
    q::start(meta, tenant, job.id).await?;
    let (mut file, source_bytes) = FileParts::new(tenant, job.id);
    if !file.top_up(meta).await? {
        return Ok(());
    }
    let (resource, source): (ImportResource, ImportSource) = (
        db::code("import_jobs.resource of", job.id, &job.resource)?,
        db::code("import_jobs.source of", job.id, &job.source)?,
    );
    let charset = job.charset.as_deref().and_then(Charset::from_label);
    let reader = match DelimitedReader::open(source_bytes, charset) {
        Ok(r) => r,
        Err(e) => {
            q::finish(meta, tenant, job.id, "failed", Some(e.to_string())).await?;
            return Ok(());
        }
    };
    let settings_row = db::surveys::settings(meta, tenant).await?;
    let mappings = settings::mappings_of(settings_row.as_ref())?;
    let layout = Layout::of(source, resource, &reader.headers);
    let ctx = Ctx {
        source,
        resource,
        layout: &layout,
        mappings: &mappings,
        currency: &job.currency,
    };
    let who = principal(&job);
    let resume = !job.dry_run;
    let mut tally = Tally::of(&job);
    if job.dry_run {
        // Never committed: the connection is dropped at the end, and its writes with it.
        work.begin_test_transaction().await?;
    } else {
        // Rows go in a transaction per flush (each row in a savepoint of its own: a bad row
        // takes only itself back), so the database syncs its log once a chunk, not once a row;
        // a chunk cut short by a crash is rolled back whole and done again on resume.
        Chunk::begin(work).await?;
    }
    let skip = if resume { job.processed_rows } else { 0 };
    let mut managers: Vec<Manager> = Vec::new();
    let batch = if write::together(&ctx) { FLUSH_ROWS } else { 1 };
    let mut pending: Vec<Pending> = Vec::with_capacity(batch);
    let mut reader = reader;
    // The file's parts are fetched ahead of the reader between rows.
    while let Some(row) = file.top_up(meta).await.map(|_| reader.next())? {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                q::finish(meta, tenant, job.id, "failed", Some(e.to_string())).await?;
                return Ok(());
            }
        };
        let number = i32::try_from(row.number).unwrap_or(i32::MAX);
        if number <= skip {
            if resource == ImportResource::Contacts {
                remember_manager(&ctx, &row, number, &mut managers);
            }
            continue;
        }
        pending.push(tally.read(&ctx, &row, number));
        if pending.len() >= batch {
            let rows = std::mem::replace(&mut pending, Vec::with_capacity(batch));
            tally.write(work, &who, &ctx, rows, &mut managers).await?;
            if tally.due() && !checkpoint(meta, work, &job, &mut tally).await? {
                return Ok(());
            }
        }
    }
    tally
        .write(work, &who, &ctx, pending, &mut managers)
        .await?;
    set_managers(work, &who, &ctx, managers, &mut tally).await?;
    Chunk::commit(work, job.dry_run).await?;
    if tally.flush(meta, &job).await? {
        q::finish(meta, tenant, job.id, JobStatus::Cancelled.as_str(), None).await?;
        return Ok(());
    }
    q::finish(meta, tenant, job.id, JobStatus::Succeeded.as_str(), None).await?;
    Ok(())
}

/// Commits the chunk and records progress; `false` when the job was cancelled (it is ended).
async fn checkpoint(
    meta: &mut AsyncPgConnection,
    work: &mut AsyncPgConnection,
    job: &ImportJob,
    tally: &mut Tally,
) -> ApiResult<bool> {
    Chunk::commit(work, job.dry_run).await?;
    if tally.flush(meta, job).await? {
        let tenant = TenantId::new(job.tenant_id);
        q::finish(meta, tenant, job.id, JobStatus::Cancelled.as_str(), None).await?;
        return Ok(false);
    }
    Chunk::begin_next(work, job.dry_run).await?;
    Ok(true)
}

fn remember_manager(ctx: &Ctx<'_>, row: &Row, number: i32, out: &mut Vec<Manager>) {
    let read = rows::read(ctx, row);
    if let (Some(r), Ok(Write::Contact(_, Some(m)))) = (read.reference, read.write) {
        out.push(Manager {
            number,
            contact: r,
            manager: m,
            status: None,
        });
    }
}

/// The transaction of the rows between two flushes.
struct Chunk;

impl Chunk {
    async fn begin(work: &mut AsyncPgConnection) -> ApiResult<()> {
        use diesel_async::TransactionManager;
        <AsyncPgConnection as AsyncConnection>::TransactionManager::begin_transaction(work).await?;
        Ok(())
    }

    /// Commits the chunk (a dry run's stays open, never committed).
    async fn commit(work: &mut AsyncPgConnection, dry_run: bool) -> ApiResult<()> {
        if !dry_run {
            use diesel_async::TransactionManager;
            <AsyncPgConnection as AsyncConnection>::TransactionManager::commit_transaction(work)
                .await?;
        }
        Ok(())
    }

    async fn begin_next(work: &mut AsyncPgConnection, dry_run: bool) -> ApiResult<()> {
        if !dry_run {
            Chunk::begin(work).await?;
        }
        Ok(())
    }
}

/// Sets the managers of the file's contacts once all of them are in (a manager may come later
/// in the file than the people reporting to it). A manager nobody holds, one in another account,
/// or a loop makes the row an error.
async fn set_managers(
    work: &mut AsyncPgConnection,
    who: &Principal,
    ctx: &Ctx<'_>,
    managers: Vec<Manager>,
    tally: &mut Tally,
) -> ApiResult<()> {
    let tenant = who.tenant;
    for Manager {
        number,
        contact: reference,
        manager,
        status,
    } in managers
    {
        let Some(contact) = external_refs::holder(work, tenant, Kind::Contact, &reference).await?
        else {
            continue;
        };
        let manager_ref = ExternalRef::new(reference.system.as_str(), &manager);
        let result = match external_refs::holder(work, tenant, Kind::Contact, &manager_ref).await? {
            None => Err(ApiError::validation("reports_to_ref", Code::NotFound)),
            Some(m) => {
                let account = db::external_refs::account_of_contact(work, tenant, contact).await?;
                let patch = contacts::PatchContact {
                    reports_to: Some(Some(m)),
                    ..Default::default()
                };
                match account {
                    Some(a) => contacts::write(work, who, a, contact, &Precondition::None, patch)
                        .await
                        .map(|_| ()),
                    None => Ok(()),
                }
            }
        };
        if let Err(e) = result {
            if matches!(e, ApiError::Unavailable(_) | ApiError::Internal(_)) {
                return Err(e);
            }
            let errors = report_errors(ctx.layout, &e);
            // The row's line replaces the one its write left (still unrecorded, when the
            // row was in the last chunk: one statement cannot record a row twice).
            tally.lines.retain(|l| l.row_number != number);
            tally.lines.push(ImportRow {
                tenant_id: tenant.get(),
                job_id: Uuid::nil(),
                row_number: number,
                status: RowStatus::Error.as_str().to_string(),
                resource_id: Some(contact),
                external_id: Some(reference.id.clone()),
                errors: Some(errors),
            });
            tally.count(RowStatus::Error, 1);
            if let Some(before) = status {
                tally.count(before, -1);
            }
        }
    }
    Ok(())
}
