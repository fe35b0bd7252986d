//! Writing the rows of an import's chunk: rows that create a resource go in together where
//! they can (accounts and contacts of another system whose reference nobody holds yet, each
//! named once in the chunk: `service::batch`), every other row one by one, by reference, as a
//! write of the API would. Each row gets its report line; problems are named by the file's
//! column.

use std::collections::HashMap;

use uuid::Uuid;

use super::rows::{Ctx, Links, Read, Write};
use crate::db;
use crate::db::imports::ImportRow;
use crate::domain::external_ref::ExternalRef;
use crate::domain::import::{Field, ImportResource, ImportSource, Layout, RowStatus};
use crate::domain::playbook::Lang;
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::activities::ParticipantRef;
use crate::service::external_refs::{self, Kind, Outcome};
use crate::service::{accounts, activities, contacts, opportunities};
use crate::service::{Conn, Precondition, Principal};

/// A contact of the file with a manager to set once all rows are in.
pub(super) struct Manager {
    /// Its row's number in the file.
    pub number: i32,
    pub contact: ExternalRef,
    pub manager: String,
    /// What its row did (none: written by an earlier run of the job).
    pub status: Option<RowStatus>,
}

/// A row read, with its number in the file.
pub(super) struct Pending {
    pub number: i32,
    pub read: Read,
}

/// Writes the rows of a chunk; their report lines. Rows that create a resource go in together
/// where they can, first; the others then one by one, in the file's order.
pub(super) async fn write_chunk(
    work: &mut Conn,
    who: &Principal,
    ctx: &Ctx<'_>,
    rows: Vec<Pending>,
    managers: &mut Vec<Manager>,
) -> ApiResult<Vec<ImportRow>> {
    let mut rest = Vec::new();
    let fresh = fresh(work, who, ctx, rows, &mut rest).await?;
    let mut lines = match ctx.resource {
        ImportResource::Accounts => accounts_together(work, who, ctx, fresh, &mut rest).await?,
        ImportResource::Contacts => {
            contacts_together(work, who, ctx, fresh, &mut rest, managers).await?
        }
        _ => {
            rest.extend(fresh);
            Vec::new()
        }
    };
    rest.sort_by_key(|p| p.number);
    for p in rest {
        lines.push(write_row(work, who, ctx, p, managers).await?);
    }
    Ok(lines)
}

/// Whether rows of the job can create resources together (`fresh`).
pub(super) fn together(ctx: &Ctx<'_>) -> bool {
    ctx.source != ImportSource::Buyerpath
        && matches!(
            ctx.resource,
            ImportResource::Accounts | ImportResource::Contacts
        )
}

/// The rows of `rows` that create a resource together with others: readable, of another
/// system than buyerpath (whose ids name resources without a reference), for accounts or
/// contacts, their reference named once in the chunk and held by nobody. The others go to
/// `rest`.
async fn fresh(
    work: &mut Conn,
    who: &Principal,
    ctx: &Ctx<'_>,
    rows: Vec<Pending>,
    rest: &mut Vec<Pending>,
) -> ApiResult<Vec<Pending>> {
    let kind = match ctx.resource {
        ImportResource::Contacts => Kind::Contact,
        _ => Kind::Account,
    };
    if !together(ctx) || rows.len() < 2 {
        rest.extend(rows);
        return Ok(Vec::new());
    }
    let mut named: HashMap<String, usize> = HashMap::new();
    for p in &rows {
        if let Some(r) = &p.read.reference {
            *named.entry(r.id.clone()).or_default() += 1;
        }
    }
    let once = |p: &Pending| {
        p.read.write.is_ok()
            && p.read
                .reference
                .as_ref()
                .is_some_and(|r| named.get(&r.id) == Some(&1))
    };
    let (candidates, others): (Vec<Pending>, Vec<Pending>) = rows.into_iter().partition(once);
    rest.extend(others);
    let ids: Vec<&str> = candidates
        .iter()
        .filter_map(|p| p.read.reference.as_ref().map(|r| r.id.as_str()))
        .collect();
    let system = ctx.source.as_str();
    let held = db::external_refs::held_in(work, who.tenant, kind.as_str(), system, &ids).await?;
    let held: std::collections::HashSet<String> = held.into_iter().map(|(id, _)| id).collect();
    let (held_rows, fresh): (Vec<Pending>, Vec<Pending>) = candidates.into_iter().partition(|p| {
        p.read
            .reference
            .as_ref()
            .is_some_and(|r| held.contains(&r.id))
    });
    rest.extend(held_rows);
    Ok(fresh)
}

/// The report line of a row created with others.
fn created<V: HasId>(
    who: &Principal,
    ctx: &Ctx<'_>,
    p: &Pending,
    answer: ApiResult<V>,
) -> ApiResult<ImportRow> {
    let external_id = p.read.reference.as_ref().map(|r| r.id.clone());
    let result = answer.map(|v| (v.id(), RowStatus::Created));
    line(who, ctx.layout, p.number, external_id, result)
}

/// New accounts, together: their report lines (all of them go to `rest`, to be written one by
/// one, when the database refuses them together).
async fn accounts_together(
    work: &mut Conn,
    who: &Principal,
    ctx: &Ctx<'_>,
    fresh: Vec<Pending>,
    rest: &mut Vec<Pending>,
) -> ApiResult<Vec<ImportRow>> {
    let bodies: Vec<(&ExternalRef, &accounts::CreateAccount)> = fresh
        .iter()
        .filter_map(|p| match (&p.read.reference, &p.read.write) {
            (Some(r), Ok(Write::Account(b))) => Some((r, b)),
            _ => None,
        })
        .collect();
    let answers = match bodies.len() == fresh.len() && !bodies.is_empty() {
        true => accounts::create_all(work, who, &bodies).await?,
        false => None,
    };
    let Some(answers) = answers else {
        rest.extend(fresh);
        return Ok(Vec::new());
    };
    fresh
        .iter()
        .zip(answers)
        .map(|(p, a)| created(who, ctx, p, a))
        .collect()
}

/// New contacts, together: their report lines. A contact whose account no reference names
/// goes to `rest`, to be written one by one (which names the problem), and all of them when
/// the database refuses them together; a manager not known yet (later in the file) is set once
/// all rows are in.
async fn contacts_together(
    work: &mut Conn,
    who: &Principal,
    ctx: &Ctx<'_>,
    fresh: Vec<Pending>,
    rest: &mut Vec<Pending>,
    managers: &mut Vec<Manager>,
) -> ApiResult<Vec<ImportRow>> {
    let (accounts, mut known) = contact_links(work, who, ctx, &fresh).await?;
    let (fresh, unplaced): (Vec<Pending>, Vec<Pending>) = fresh.into_iter().partition(|p| {
        matches!(&p.read.write, Ok(Write::Contact(b, _))
            if b.account_ref.as_ref().is_some_and(|r| accounts.contains_key(r)))
    });
    rest.extend(unplaced);
    let mut items = Vec::with_capacity(fresh.len());
    let mut later = Vec::new();
    for p in &fresh {
        let (Some(reference), Ok(Write::Contact(b, m))) = (&p.read.reference, &p.read.write) else {
            continue;
        };
        let Some(account) = b.account_ref.as_ref().and_then(|r| accounts.get(r)) else {
            continue;
        };
        let id = Uuid::now_v7();
        let manager = m.as_ref().and_then(|m| known.get(m).copied());
        if let (Some(m), None) = (m, manager) {
            later.push((items.len(), m.clone()));
        }
        known.insert(reference.id.clone(), id);
        items.push(contacts::NewByRef {
            id,
            reference,
            account: *account,
            manager,
            body: b,
        });
    }
    let answers = match items.len() == fresh.len() && !items.is_empty() {
        true => contacts::create_all(work, who, &items).await?,
        false => None,
    };
    let Some(answers) = answers else {
        rest.extend(fresh);
        return Ok(Vec::new());
    };
    for (i, manager) in later {
        if answers.get(i).is_some_and(|a| a.is_ok()) {
            managers.push(Manager {
                number: fresh[i].number,
                contact: items[i].reference.clone(),
                manager,
                status: Some(RowStatus::Created),
            });
        }
    }
    fresh
        .iter()
        .zip(answers)
        .map(|(p, a)| created(who, ctx, p, a))
        .collect()
}

/// The accounts and the managers the contacts of `fresh` name, by reference: those held.
async fn contact_links(
    work: &mut Conn,
    who: &Principal,
    ctx: &Ctx<'_>,
    fresh: &[Pending],
) -> ApiResult<(HashMap<String, Uuid>, HashMap<String, Uuid>)> {
    let system = ctx.source.as_str();
    let mut account_refs: Vec<&str> = Vec::new();
    let mut manager_refs: Vec<&str> = Vec::new();
    for p in fresh {
        if let Ok(Write::Contact(b, m)) = &p.read.write {
            account_refs.extend(b.account_ref.as_deref());
            manager_refs.extend(m.as_deref());
        }
    }
    let tenant = who.tenant;
    let accounts =
        db::external_refs::held_in(work, tenant, Kind::Account.as_str(), system, &account_refs);
    let accounts = accounts.await?.into_iter().collect();
    let managers =
        db::external_refs::held_in(work, tenant, Kind::Contact.as_str(), system, &manager_refs);
    let managers = managers.await?.into_iter().collect();
    Ok((accounts, managers))
}

/// Writes one row by reference, as the API's `PUT …/by-ref/…` would; its report line.
async fn write_row(
    work: &mut Conn,
    who: &Principal,
    ctx: &Ctx<'_>,
    p: Pending,
    managers: &mut Vec<Manager>,
) -> ApiResult<ImportRow> {
    let Pending { number, read } = p;
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
                            number,
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
    conn: &mut Conn,
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
pub(super) fn line(
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
pub(super) fn report_errors(layout: &Layout, e: &ApiError) -> String {
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
