//! Activities: what the seller did (visits, meetings, calls, ...), recorded against an account
//! and optionally an opportunity, with the playbook's key actions and tools they carried out and
//! the buying signals they observed.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::db::activities::{self as q, Activity, ActivityContent, ActivityFilter, NewActivity};
use crate::db::documents::activity::{read_findings, write_findings, Findings};
use crate::db::opportunities::Opportunity;
use crate::db::surveys::SurveyRecord;
use crate::db::table::VersionedTable;
use crate::domain::activity::{
    self, ActivityInput, ActivityKind, CheckedActivity, NextStep, Observation,
};
use crate::domain::assessment::Requirements;
use crate::domain::event::Lifecycle;
use crate::domain::external_ref::ExternalRef;
use crate::domain::ids::TenantId;
use crate::domain::playbook::Playbook;
use crate::domain::texts;
use crate::domain::texts::Noun;
use crate::domain::validate::Checker;
use crate::domain::validate::Code;
use crate::domain::validate::Violation;
use crate::error::{ApiError, ApiResult};
use crate::service::archive::{self, Archivable, Guarded};
use crate::service::events::{self, Changes};
use crate::service::external_refs::{self, Kind};
use crate::service::input::{decode, merge_patch};
use crate::service::unchanged::{publish_or_keep, settle_changed, Step};
use crate::service::{accounts, not_found, playbook, Conn, Keyset, Precondition, Principal};

mod by_ref;
pub use by_ref::{upsert, ParticipantRef, PutActivity};

const KIND: Kind = Kind::Activity;

/// Filters of the activity list (as given).
#[derive(Debug, Default)]
pub struct ListActivities {
    pub opportunity_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub kind: Option<ActivityKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub external_ref: Option<String>,
    pub include_archived: bool,
}

/// An activity: a visit, meeting, call, e-mail, event or document, with what it carried out and
/// what it observed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActivityDto)]
pub struct ActivityView {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub account_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub kind: ActivityKind,
    pub occurred_at: DateTime<Utc>,
    pub duration_minutes: Option<i32>,
    pub subject: String,
    pub notes: Option<String>,
    pub participants: Vec<Uuid>,
    pub our_attendees: Vec<String>,
    pub key_actions: Vec<String>,
    pub tools: Vec<String>,
    pub observations: Vec<Observation>,
    pub requirements: Option<Requirements>,
    pub outcome: Option<String>,
    pub next_step: Option<NextStep>,
    pub survey_record_id: Option<Uuid>,
    /// References of other systems (the CRM of record's ids).
    pub external_refs: Vec<ExternalRef>,
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

/// The view of a stored activity.
pub(crate) fn view(r: Activity) -> ApiResult<ActivityView> {
    let kind = db::code("activities.kind of", r.id, &r.kind)?;
    let findings: Findings = read_findings(r.findings, r.id)?;
    Ok(ActivityView {
        id: r.id,
        account_id: r.account_id,
        opportunity_id: r.opportunity_id,
        kind,
        occurred_at: r.occurred_at,
        duration_minutes: r.duration_minutes,
        subject: r.subject,
        notes: r.notes,
        participants: r.participants.into_iter().flatten().collect(),
        our_attendees: r.our_attendees.into_iter().flatten().collect(),
        key_actions: r.key_actions.into_iter().flatten().collect(),
        tools: r.tools.into_iter().flatten().collect(),
        observations: findings.observations,
        requirements: findings.requirements,
        outcome: r.outcome,
        next_step: r.next_step_text.map(|text| NextStep {
            text,
            due_at: r.next_step_due_at,
        }),
        survey_record_id: r.survey_record_id,
        external_refs: external_refs::of_row(
            "activities.external_refs of",
            r.id,
            &r.external_refs,
        )?,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        archived_at: r.archived_at,
        version: r.version,
    })
}

events::published!(Activity, Activity, ActivityView, view_in, "id" => id, "account_id" => account_id, "opportunity_id" => opportunity_id);

async fn view_in(_: &mut Conn, _: TenantId, row: Activity) -> ApiResult<ActivityView> {
    view(row)
}

impl Archivable for Activity {
    const NAME: Noun = Noun::Activity;

    async fn lock(conn: &mut Conn, tenant: TenantId, id: Uuid) -> ApiResult<Option<Guarded<Self>>> {
        archive::lock_under_account(conn, tenant, id, |r: &Self| r.account_id).await
    }

    archive::row_state!();
}

/// The row content of a checked activity.
fn content_of(a: CheckedActivity) -> ApiResult<ActivityContent> {
    let findings = write_findings(&Findings {
        observations: a.observations,
        requirements: a.requirements,
    })
    .map_err(ApiError::internal)?;
    Ok(ActivityContent {
        opportunity_id: a.opportunity_id,
        kind: a.kind.as_str().to_string(),
        occurred_at: a.occurred_at,
        duration_minutes: a.duration_minutes.and_then(|d| i32::try_from(d).ok()),
        subject: a.subject,
        notes: a.notes,
        participants: a.participants.into_iter().map(Some).collect(),
        our_attendees: a.our_attendees.into_iter().map(Some).collect(),
        key_actions: a.key_actions.into_iter().map(Some).collect(),
        tools: a.tools.into_iter().map(Some).collect(),
        findings,
        outcome: a.outcome,
        next_step_text: a.next_step.as_ref().map(|n| n.text.clone()),
        next_step_due_at: a.next_step.and_then(|n| n.due_at),
        survey_record_id: a.survey_record_id,
        external_refs: a.external_refs.into_iter().map(Some).collect(),
    })
}

/// Checks the input against the tenant's playbook and the activity rules; gives the row content.
fn prepare(
    input: ActivityInput,
    who: &Principal,
    playbook: &Playbook,
) -> ApiResult<ActivityContent> {
    content_of(activity::check(input, &who.sub, playbook)?)
}

/// Participants, the opportunity and the survey record belong to the account; an archived
/// opportunity takes no new activities.
async fn check_references(
    conn: &mut Conn,
    tenant: TenantId,
    account: Uuid,
    content: &ActivityContent,
    new: bool,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if !content.participants.is_empty() {
        let known = crate::service::contacts::active_ids(conn, tenant, account).await?;
        for (i, p) in content.participants.iter().flatten().enumerate() {
            if !known.contains(p) {
                errors.push(Violation::new(
                    format!("participants[{i}]"),
                    Code::NotInAccount,
                ));
            }
        }
    }
    if let Some(o) = content.opportunity_id {
        match Opportunity::find(conn, tenant, o).await? {
            Some(opp) if opp.account_id == account => {
                if new && opp.archived_at.is_some() {
                    return Err(ApiError::Conflict(texts::archived(Noun::Opportunity)));
                }
            }
            _ => errors.push(Violation::new("opportunity_id", Code::NotInAccount)),
        }
    }
    if let Some(s) = content.survey_record_id {
        match SurveyRecord::find(conn, tenant, s).await? {
            Some(r) if r.account_id == account => {}
            _ => errors.push(Violation::new("survey_record_id", Code::NotInAccount)),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    input: ActivityInput,
) -> ApiResult<ActivityView> {
    let refs = refs_of(&input);
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            accounts::lock_writable_in(conn, who, account_id).await?;
            let (_, _, playbook) = playbook::current_in(conn, who.tenant).await?;
            let content = prepare(input, who, &playbook)?;
            check_references(conn, who.tenant, account_id, &content, true).await?;
            let new = NewActivity {
                id: Uuid::now_v7(),
                tenant_id: who.tenant.get(),
                account_id,
                created_by: who.sub.clone(),
            };
            let row = Activity::insert(conn, (new, content)).await?;
            events::lifecycle(conn, who, &row, Lifecycle::Created).await?;
            Ok(row)
        })
        .await;
    view(
        external_refs::name_holder(conn, who.tenant, KIND, "external_refs", &refs, None, row)
            .await?,
    )
}

/// The references an input gives, as stored (to name the holder of one that is taken).
fn refs_of(input: &ActivityInput) -> Vec<Option<String>> {
    let refs = input.external_refs.as_deref().unwrap_or_default();
    refs.iter().map(|r| Some(r.key())).collect()
}

pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    f: ListActivities,
    keyset: Keyset<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> ApiResult<Vec<ActivityView>> {
    let mut c = Checker::query();
    let external_ref = external_refs::filter(&mut c, f.external_ref.as_deref());
    c.finish()?;
    accounts::find_in(conn, who.tenant, account_id).await?;
    let filter = ActivityFilter {
        external_ref,
        opportunity_id: f.opportunity_id,
        contact_id: f.contact_id,
        kind: f.kind.map(|k| k.as_str().to_string()),
        from: f.from,
        to: f.to,
        include_archived: f.include_archived,
    };
    q::list(conn, who.tenant, account_id, &filter, &keyset, limit)
        .await?
        .into_iter()
        .map(view)
        .collect()
}

pub async fn get(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<ActivityView> {
    let row = Activity::find(conn, who.tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::Activity))?;
    view(row)
}

/// The activity as its input document (what PATCH merges into).
fn input_of(v: &ActivityView) -> ActivityInput {
    ActivityInput {
        kind: v.kind,
        occurred_at: v.occurred_at,
        duration_minutes: v.duration_minutes.and_then(|d| u32::try_from(d).ok()),
        subject: v.subject.clone(),
        notes: v.notes.clone(),
        opportunity_id: v.opportunity_id,
        participants: v.participants.clone(),
        our_attendees: Some(v.our_attendees.clone()),
        key_actions: v.key_actions.clone(),
        tools: v.tools.clone(),
        observations: v.observations.clone(),
        requirements: v.requirements.clone(),
        outcome: v.outcome.clone(),
        next_step: v.next_step.clone(),
        survey_record_id: v.survey_record_id,
        external_refs: Some(v.external_refs.clone()),
    }
}

/// Applies a JSON merge patch to the activity.
pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    patch: serde_json::Value,
) -> ApiResult<ActivityView> {
    Ok(write(conn, who, id, pre, patch).await?.0)
}

/// `update`, telling whether it changed anything (a write that changes nothing leaves the
/// resource as it was).
pub(crate) async fn write(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    patch: serde_json::Value,
) -> ApiResult<(ActivityView, bool)> {
    if !patch.is_object() {
        return Err(ApiError::validation(
            "",
            Code::InvalidType {
                expected: "object".into(),
            },
        ));
    }
    let mut refs = Vec::new();
    let written = conn
        .transaction::<_, Step<ActivityView>, _>(async |conn| {
            let current = archive::lock_for_write::<Activity>(conn, who, id, pre).await?;
            let account_id = current.account_id;
            let before = view(current)?;
            let mut doc = serde_json::to_value(input_of(&before)).map_err(ApiError::internal)?;
            merge_patch(&mut doc, &patch);
            let input: ActivityInput = decode(doc)?;
            refs = refs_of(&input);
            let (_, _, playbook) = playbook::current_in(conn, who.tenant).await?;
            let content = prepare(input, who, &playbook)?;
            check_references(conn, who.tenant, account_id, &content, false).await?;
            let row = Activity::update(conn, who.tenant, id, content).await?;
            let after = view(row.clone())?;
            let changes = Changes::of(&before, events::changed_fields(&before, &after)?)?;
            publish_or_keep(conn, who, &row, changes, before).await?;
            Ok(after)
        })
        .await;
    let written = settle_changed(written);
    external_refs::name_holder(
        conn,
        who.tenant,
        KIND,
        "external_refs",
        &refs,
        Some(id),
        written,
    )
    .await
}

pub async fn archive(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
) -> ApiResult<()> {
    archive::set_archived::<Activity>(conn, who, id, pre, true).await?;
    Ok(())
}

pub async fn restore(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<ActivityView> {
    view(archive::set_archived::<Activity>(conn, who, id, &Precondition::None, false).await?)
}

/// The tenant's activities in id order after `after` (of one account when given): a page of
/// the export.
pub async fn export_page(
    conn: &mut Conn,
    who: &Principal,
    account: Option<Uuid>,
    include_archived: bool,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<ActivityView>> {
    let rows = q::page(conn, who.tenant, account, include_archived, after, limit).await?;
    rows.into_iter().map(view).collect()
}
