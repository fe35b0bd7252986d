//! An activity written whole by its reference in another system
//! (`PUT /v1/activities/by-ref/…`): its account, opportunity and participants may be named by
//! their references in the same system.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{create, write, ActivityView, KIND};
use crate::db::activities::Activity;
use crate::db::table::VersionedTable;
use crate::domain::activity::{ActivityInput, ActivityKind, NextStep, Observation};
use crate::domain::assessment::Requirements;
use crate::domain::external_ref::{including, ExternalRef};
use crate::domain::validate::{Code, Violation};
use crate::error::{ApiError, ApiResult};
use crate::service::external_refs::{self, account_of, resolve, Kind, Upserted};
use crate::service::{Conn, Precondition, Principal};

/// An activity written whole by its reference in another system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutActivity {
    /// The activity's account (this or `account_ref`); it cannot change once the activity
    /// exists.
    pub account_id: Option<Uuid>,
    /// The account by its reference in the path's system (this or `account_id`).
    #[schema(
        example = "0015g00000AbCdE",
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub account_ref: Option<String>,
    pub kind: ActivityKind,
    /// When it happened (RFC 3339).
    pub occurred_at: DateTime<Utc>,
    pub duration_minutes: Option<u32>,
    #[schema(example = "拜访信息中心王主任")]
    pub subject: String,
    pub notes: Option<String>,
    /// An opportunity of the same account (this or `opportunity_ref`).
    pub opportunity_id: Option<Uuid>,
    /// The opportunity by its reference in the path's system (this or `opportunity_id`).
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub opportunity_ref: Option<String>,
    /// Contacts of the same account who took part.
    #[serde(default)]
    pub participants: Vec<Uuid>,
    /// Contacts who took part, by their references in the path's system (with `participants`).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub participant_refs: Vec<ParticipantRef>,
    /// `sub`s of our people who took part; defaults to the caller.
    pub our_attendees: Option<Vec<String>>,
    /// Key actions of the playbook this activity carried out, e.g. `S1.A03`.
    #[serde(default)]
    pub key_actions: Vec<String>,
    /// Named tools of the playbook used, e.g. `technical_exchange`.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Buying signals seen or heard.
    #[serde(default)]
    pub observations: Vec<Observation>,
    /// What was heard about the customer's requirements.
    pub requirements: Option<Requirements>,
    pub outcome: Option<String>,
    pub next_step: Option<NextStep>,
    /// The survey record, when the activity was the survey.
    pub survey_record_id: Option<Uuid>,
    /// References of other systems; left out, the current ones stay. The path's is always kept.
    #[schema(max_items = 20)]
    pub external_refs: Option<Vec<ExternalRef>>,
}

/// A contact's id in the path's system (schema only).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1F\x7F-\x9F]+$")]
pub struct ParticipantRef(pub String);

/// The ids `b` names by reference, resolved; violations name the members at fault.
struct Resolved {
    account: Option<Uuid>,
    opportunity: Option<Uuid>,
    participants: Vec<Uuid>,
}

async fn resolve_all(
    conn: &Conn,
    who: &Principal,
    system: &str,
    b: &PutActivity,
    current: Option<Uuid>,
    errors: &mut Vec<Violation>,
) -> ApiResult<Resolved> {
    let tenant = who.tenant;
    let named = |id: &Option<String>| id.as_ref().map(|id| ExternalRef::new(system, id));
    let given = (b.account_id, b.account_ref.as_deref());
    let account = account_of(conn, tenant, system, given, current, errors).await?;
    let opportunity_ref = ("opportunity_ref", named(&b.opportunity_ref));
    let opportunity = resolve(
        conn,
        tenant,
        Kind::Opportunity,
        b.opportunity_id,
        opportunity_ref,
        errors,
    )
    .await?;
    let mut participants = b.participants.clone();
    for (i, r) in b.participant_refs.iter().enumerate() {
        let reference = ExternalRef::new(system, &r.0);
        match external_refs::holder(conn, tenant, Kind::Contact, &reference).await? {
            Some(id) if !participants.contains(&id) => participants.push(id),
            Some(_) => {}
            None => errors.push(Violation::new(
                format!("participant_refs[{i}]"),
                Code::NotFound,
            )),
        }
    }
    Ok(Resolved {
        account,
        opportunity,
        participants,
    })
}

/// Writes the activity known by `reference` whole: creates it, or replaces what `b` gives
/// (left-out members are cleared, except `external_refs`, which stay).
pub async fn upsert(
    conn: &mut Conn,
    who: &Principal,
    reference: ExternalRef,
    pre: &Precondition,
    mut b: PutActivity,
) -> ApiResult<Upserted<ActivityView>> {
    let existing = external_refs::target(conn, who.tenant, KIND, &reference, pre).await?;
    let current = match existing {
        Some(id) => Activity::find(conn, who.tenant, id)
            .await?
            .map(|a| a.account_id),
        None => None,
    };
    let mut errors = Vec::new();
    let r = resolve_all(conn, who, &reference.system, &b, current, &mut errors).await?;
    let (Some(account), true) = (r.account, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    b.external_refs = b
        .external_refs
        .map(|refs| external_refs::with_path(refs, &reference, existing));
    let Some(id) = existing else {
        let refs = Some(including(
            b.external_refs.take().unwrap_or_default(),
            &reference,
        ));
        let input = input(&b, &r, refs.clone());
        let created = create(conn, who, account, input.clone()).await;
        if !external_refs::lost_race(&created, &reference) {
            return Upserted::created(created);
        }
        let Some(id) = external_refs::holder(conn, who.tenant, KIND, &reference).await? else {
            return Upserted::created(created);
        };
        return Upserted::updated(write(conn, who, id, pre, replacing(&input)?).await);
    };
    let refs = b.external_refs.take();
    let patch = replacing(&input(&b, &r, refs))?;
    Upserted::updated(write(conn, who, id, pre, patch).await)
}

fn input(b: &PutActivity, r: &Resolved, refs: Option<Vec<ExternalRef>>) -> ActivityInput {
    ActivityInput {
        kind: b.kind,
        occurred_at: b.occurred_at,
        duration_minutes: b.duration_minutes,
        subject: b.subject.clone(),
        notes: b.notes.clone(),
        opportunity_id: r.opportunity,
        participants: r.participants.clone(),
        our_attendees: b.our_attendees.clone(),
        key_actions: b.key_actions.clone(),
        tools: b.tools.clone(),
        observations: b.observations.clone(),
        requirements: b.requirements.clone(),
        outcome: b.outcome.clone(),
        next_step: b.next_step.clone(),
        survey_record_id: b.survey_record_id,
        external_refs: refs,
    }
}

/// The merge patch that makes an activity what `input` says: every member, `null` where it has
/// none (cleared), except `external_refs` when left out (not written: they stay).
fn replacing(input: &ActivityInput) -> ApiResult<serde_json::Value> {
    serde_json::to_value(input).map_err(ApiError::internal)
}
