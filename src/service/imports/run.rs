//! Running an import job (the worker's part). A job is run by the worker holding its lock (a
//! session lock on the worker's own connection: if the worker dies, the lock goes with its
//! connection and another worker resumes the job). Rows are written one by one, by reference,
//! as the user who uploaded the file; progress and report lines are recorded every few hundred
//! rows, so a resumed job starts after the last recorded row (rows after it are written again
//! by reference: none twice). A dry run writes inside a transaction it never commits.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::rows::{self, Ctx, Links, Write};
use crate::db;
use crate::db::imports::{self as q, ImportJob, ImportRow, Progress};
use crate::delimited::{Charset, DelimitedReader, Row};
use crate::domain::external_ref::ExternalRef;
use crate::domain::ids::TenantId;
use crate::domain::import::{Field, ImportResource, ImportSource, JobStatus, Layout, RowStatus};
use crate::domain::playbook::Lang;
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::activities::ParticipantRef;
use crate::service::external_refs::{self, Kind, Outcome};
use crate::service::{accounts, activities, contacts, opportunities, settings};
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
    let Some(file) = q::file(meta, tenant, job.id).await? else {
        return Ok(());
    };
    let (resource, source): (ImportResource, ImportSource) = (
        db::code("import_jobs.resource of", job.id, &job.resource)?,
        db::code("import_jobs.source of", job.id, &job.source)?,
    );
    let charset = job.charset.as_deref().and_then(Charset::from_label);
    let reader = match DelimitedReader::open(std::io::Cursor::new(file), charset) {
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
    for row in reader {
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
        let line = write_row(work, &who, &ctx, &row, &mut tally, &mut managers).await?;
        tally.count(db::code("import row status", number, &line.status)?, 1);
        tally.progress.processed_rows = number;
        tally.lines.push(line);
        if tally.due() && !checkpoint(meta, work, &job, &mut tally).await? {
            return Ok(());
        }
    }
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
            row: number,
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

/// A contact of the file with a manager to set once all rows are in.
struct Manager {
    row: i32,
    contact: ExternalRef,
    manager: String,
    /// What its row did (none: written by an earlier run of the job).
    status: Option<RowStatus>,
}

/// Writes one row; its report line.
async fn write_row(
    work: &mut AsyncPgConnection,
    who: &Principal,
    ctx: &Ctx<'_>,
    row: &Row,
    tally: &mut Tally,
    managers: &mut Vec<Manager>,
) -> ApiResult<ImportRow> {
    let number = i32::try_from(row.number).unwrap_or(i32::MAX);
    let read = rows::read(ctx, row);
    if let Some(v) = read.unmapped {
        tally.unmapped.insert(v);
    }
    let external_id = read.reference.as_ref().map(|r| r.id.clone());
    let result = match (read.reference, read.write) {
        (_, Err(violations)) => Err(ApiError::Validation(violations)),
        (None, Ok(_)) => Err(ApiError::validation("Id", Code::Required)),
        (Some(reference), Ok(write)) => {
            let pre = &Precondition::None;
            match write {
                Write::Account(b) => outcome(accounts::upsert(work, who, reference, pre, b).await),
                Write::Contact(mut b, mut manager) => {
                    // A manager already known is set with the row; one later in the file after
                    // all rows are in.
                    if let Some(m) = manager.take() {
                        let r = ExternalRef::new(reference.system.as_str(), &m);
                        match external_refs::holder(work, who.tenant, Kind::Contact, &r).await? {
                            Some(_) => b.reports_to_ref = Some(m),
                            None => manager = Some(m),
                        }
                    }
                    let contact = reference.clone();
                    let written = outcome(contacts::upsert(work, who, reference, pre, b).await);
                    if let (Some(m), Ok((_, status))) = (manager, &written) {
                        managers.push(Manager {
                            row: number,
                            contact,
                            manager: m,
                            status: Some(*status),
                        });
                    }
                    written
                }
                Write::Opportunity(b) => {
                    outcome(opportunities::upsert(work, who, reference, pre, b).await)
                }
                Write::Activity(mut b, links) => {
                    link(work, who, &reference.system, &mut b, links).await?;
                    outcome(activities::upsert(work, who, reference, pre, *b).await)
                }
            }
        }
    };
    line(who, ctx.layout, number, external_id, result)
}

fn outcome<T: HasId>(r: ApiResult<external_refs::Upserted<T>>) -> ApiResult<(Uuid, RowStatus)> {
    r.map(|u| {
        let status = match u.outcome {
            Outcome::Created => RowStatus::Created,
            Outcome::Updated => RowStatus::Updated,
            Outcome::Unchanged => RowStatus::Unchanged,
        };
        (u.view.id(), status)
    })
}

/// A view's id.
pub(super) trait HasId {
    fn id(&self) -> Uuid;
}

impl HasId for accounts::AccountView {
    fn id(&self) -> Uuid {
        self.id
    }
}
impl HasId for contacts::ContactView {
    fn id(&self) -> Uuid {
        self.id
    }
}
impl HasId for opportunities::OpportunityView {
    fn id(&self) -> Uuid {
        self.id
    }
}
impl HasId for activities::ActivityView {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// An activity's links in the source, as the write needs them: `WhatId` names an opportunity
/// (then its account is the activity's) or an account; the account is otherwise the first
/// participant's.
async fn link(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    system: &str,
    b: &mut activities::PutActivity,
    links: Links,
) -> ApiResult<()> {
    let tenant = who.tenant;
    b.participant_refs
        .extend(links.who.iter().cloned().map(ParticipantRef));
    if let Some(what) = links.what {
        let r = ExternalRef::new(system, &what);
        match external_refs::holder(conn, tenant, Kind::Opportunity, &r).await? {
            Some(id) => {
                b.opportunity_ref = Some(what);
                if b.account_ref.is_none() {
                    use crate::db::table::VersionedTable;
                    let opp = crate::db::opportunities::Opportunity::find(conn, tenant, id).await?;
                    b.account_id = opp.map(|o| o.account_id);
                }
            }
            None if b.account_ref.is_none() => b.account_ref = Some(what),
            None => {}
        }
    }
    if b.account_id.is_none() && b.account_ref.is_none() {
        if let Some(first) = links.who.first() {
            let r = ExternalRef::new(system, first);
            if let Some(contact) = external_refs::holder(conn, tenant, Kind::Contact, &r).await? {
                b.account_id = db::external_refs::account_of_contact(conn, tenant, contact).await?;
            }
        }
    }
    Ok(())
}

/// The report line of a row's result. Errors the row caused are reported; others (the
/// database going away) end the run, to be resumed.
fn line(
    who: &Principal,
    layout: &Layout,
    number: i32,
    external_id: Option<String>,
    result: ApiResult<(Uuid, RowStatus)>,
) -> ApiResult<ImportRow> {
    let (resource_id, status, errors) = match result {
        Ok((id, status)) => (Some(id), status, None),
        Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => return Err(e),
        Err(e) => (None, RowStatus::Error, Some(report_errors(layout, &e))),
    };
    Ok(ImportRow {
        tenant_id: who.tenant.get(),
        job_id: Uuid::nil(),
        row_number: number,
        status: status.as_str().to_string(),
        resource_id,
        external_id,
        errors,
    })
}

/// The errors of a row in both languages, `column: code: message; …`, stored as
/// `{"zh": …, "en": …}`.
fn report_errors(layout: &Layout, e: &ApiError) -> String {
    let render = |lang: Lang| {
        let problem = e.problem(lang);
        match problem.errors {
            Some(list) if !list.is_empty() => list
                .iter()
                .map(|f| {
                    let column = column_for(layout, &f.field);
                    format!("{column}: {}: {}", f.code.0, f.message)
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => format!(": {}: {}", problem.code, problem.detail),
        }
    };
    serde_json::json!({"zh": render(Lang::Zh), "en": render(Lang::En)}).to_string()
}

/// The file's column a body member of a write came from (`/name` → `Account Name`).
fn column_for(layout: &Layout, pointer: &str) -> String {
    let member = pointer
        .trim_start_matches('/')
        .split(['/', '.', '['])
        .next()
        .unwrap_or_default();
    use Field as F;
    let candidates: &[Field] = match member {
        "name" => &[F::Name, F::LastName, F::FirstName],
        "industry" => &[F::Industry],
        "region" => &[F::Region, F::State, F::City],
        "website" => &[F::Website, F::Domain],
        "tags" => &[F::Tags],
        "notes" => &[F::Notes],
        "owner" => &[F::Owner],
        "account_id" | "account_ref" => &[F::AccountRef, F::WhatRef, F::WhoRef],
        "title" => &[F::Title],
        "phone" => &[F::Phone, F::Mobile],
        "email" => &[F::Email],
        "reports_to" | "reports_to_ref" => &[F::ReportsToRef],
        "estimated_amount" => &[F::Amount],
        "currency" => &[F::Currency, F::Amount],
        "deadline" => &[F::CloseDate],
        "expected_start" => &[F::ExpectedStart],
        "current_stage" | "stage_reason" => &[F::Stage],
        "description" => &[F::Description],
        "subject" => &[F::Subject],
        "occurred_at" => &[F::StartAt, F::OccurredAt],
        "duration_minutes" => &[F::Duration],
        "opportunity_id" | "opportunity_ref" => &[F::OpportunityRef, F::WhatRef],
        "participants" | "participant_refs" => &[F::WhoRef, F::Participants],
        "external_refs" => &[F::ExternalRefs, F::Id, F::OwnId],
        _ => &[],
    };
    candidates
        .iter()
        .find_map(|f| layout.header(*f))
        .map_or_else(|| member.to_string(), str::to_string)
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
        row: number,
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
