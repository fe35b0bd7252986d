//! Stage assessments: evidence in, the engine's judgement out; append-only. Creating one
//! gathers the facts (org chart, latest survey, the tenant's threshold and playbook), lets the
//! engine judge, stores input and judgement together and, with `apply`, moves the stage in the
//! same transaction.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{SubsecRound, Utc};
use futures_util::TryFutureExt;
use uuid::Uuid;

use crate::db::activities as activity_q;
use crate::db::contacts::Contact;
use crate::db::opportunities::{self as q, Assessment, Opportunity};
use crate::db::playbook as playbook_q;
use crate::db::surveys::{self as survey_q, SettingValues, SurveyRecord};
use crate::db::{documents, tx, AccountKey};
use crate::domain::assessment::{
    self, AssessmentInput, Basis, Facts, Judgement, RecordActivity, SurveyFact,
};
use crate::domain::event::EventType;
use crate::domain::ids::TenantId;
use crate::domain::opportunity::StageCode;
use crate::domain::org_chart::{coverage_with, Person, Recency};
use crate::domain::playbook::{Lang, Playbook};
use crate::domain::survey;
use crate::domain::texts;
use crate::domain::texts::Noun;
use crate::domain::validate::Code;
use crate::domain::validate::Violation;
use crate::error::{ApiError, ApiResult};
use crate::service::events;
use crate::service::{
    activities, contacts, corrupt, not_found, opportunities, playbook, settings, stage_moves,
    surveys,
};
use crate::service::{Conn, Principal};

mod view;
use view::{view, view_of};
pub use view::{AssessmentDraft, AssessmentView};

/// What a judgement reads besides the opportunity: the playbook, the settings, the org chart
/// and the latest survey. Sent to the database at once (pipelined on the one connection), and
/// with the opportunity's own read: the account is named through the opportunity.
struct Reads {
    playbook_version: i32,
    playbook: Cow<'static, Playbook>,
    values: SettingValues,
    people: Vec<(Contact, Person)>,
    survey: Option<(SurveyRecord, survey::Sections)>,
}

async fn reads_in(conn: &Conn, tenant: TenantId, opportunity_id: Uuid) -> ApiResult<Reads> {
    let account = AccountKey::OfOpportunity(opportunity_id);
    let (latest, settings_row, people, survey) = futures_util::try_join!(
        playbook_q::latest(conn, tenant).err_into(),
        survey_q::settings(conn, tenant).err_into(),
        contacts::people_reads(conn, tenant, account),
        survey_q::latest(conn, tenant, account).err_into(),
    )?;
    let (playbook_version, _, playbook) = playbook::current_of(latest)?;
    Ok(Reads {
        playbook_version,
        playbook,
        values: settings::values_of(settings_row.as_ref()),
        people: contacts::people_of(people)?,
        survey: surveys::latest_of(survey)?,
    })
}

/// The facts the engine checks claims against: the account's org chart and latest survey.
fn facts_of(
    tenant: TenantId,
    reads: &Reads,
    input: &AssessmentInput,
    lang: Lang,
) -> ApiResult<Facts> {
    let (playbook, values, people) = (&reads.playbook, &reads.values, &reads.people);
    // Contact sources must be active contacts of the account.
    let known: HashSet<Uuid> = people.iter().map(|(c, _)| c.id).collect();
    let unknown: Vec<Violation> = assessment::contact_sources(input)
        .into_iter()
        .filter(|(_, cid)| !known.contains(cid))
        .map(|(field, _)| Violation::new(field, Code::NotInAccount))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let people: Vec<Person> = people.iter().map(|(_, p)| p.clone()).collect();
    let recency = Recency {
        now: Utc::now(),
        stale_days: i64::from(values.stale_contact_days),
    };
    let survey = match &reads.survey {
        None => SurveyFact::Missing,
        Some((_, sections)) => {
            let c = survey::completeness(playbook, sections);
            SurveyFact::Latest {
                completeness_percent: c.percent,
                threshold_percent: settings::threshold_percent(values, tenant)?,
                missing_sections: survey::missing_names(&c, lang),
            }
        }
    };
    Ok(Facts {
        org: coverage_with(&people, Some(recency)),
        survey,
        stale_days: Some(recency.stale_days),
    })
}

/// A judgement with what it rests on.
pub(crate) struct Judged {
    pub playbook_version: i32,
    /// The evidence judged: the request's, or the one built from the record.
    pub input: AssessmentInput,
    pub judgement: Judgement,
    pub basis: Basis,
}

/// The record an assessment of `opp` judges from: its activities, and its account's activities
/// without an opportunity within the tenant's record window.
async fn record_in(
    conn: &mut Conn,
    tenant: TenantId,
    opp: &Opportunity,
    window: i32,
) -> ApiResult<Vec<RecordActivity>> {
    let since = Utc::now() - chrono::Duration::days(i64::from(window));
    activity_q::record_for(conn, tenant, opp.account_id, opp.id, since)
        .await?
        .into_iter()
        .map(|row| {
            let v = activities::view(row)?;
            Ok(RecordActivity {
                id: v.id,
                on_opportunity: v.opportunity_id == Some(opp.id),
                kind: v.kind,
                occurred_at: v.occurred_at,
                participants: v.participants,
                key_actions: v.key_actions,
                observations: v.observations,
                requirements: v.requirements,
            })
        })
        .collect()
}

/// Judges `input` for `opp` from `reads`: the claims as given, or, with `from_record`, the
/// record with the claims merged in.
async fn judge_in(
    conn: &mut Conn,
    tenant: TenantId,
    opp: &Opportunity,
    reads: Reads,
    input: &AssessmentInput,
    lang: Lang,
) -> ApiResult<Judged> {
    let (version, playbook) = (reads.playbook_version, &reads.playbook);
    let current = playbook.stage(&opp.current_stage).ok_or_else(|| {
        corrupt(
            "opportunity stage",
            opp.id,
            format!("{} is not in the playbook", opp.current_stage),
        )
    })?;
    assessment::validate(playbook, current, input)?;
    let facts = facts_of(tenant, &reads, input, lang)?;
    if !input.from_record {
        return Ok(Judged {
            playbook_version: version,
            input: input.clone(),
            judgement: assessment::judge(playbook, current, input, &facts, lang),
            basis: Basis::Claims,
        });
    }
    let record = record_in(conn, tenant, opp, reads.values.record_window_days).await?;
    let (built, support) = assessment::evidence_from_record(
        playbook,
        current,
        &record,
        input,
        &facts,
        Utc::now(),
        lang,
    );
    // Codes in the record were checked when recorded; the playbook may have changed since.
    assessment::validate(playbook, current, &built).map_err(|e| {
        let codes: Vec<String> = e
            .iter()
            .filter_map(|v| match &v.code {
                Code::UnknownCode { code, .. } => Some(code.clone()),
                Code::NotAssessable(m) => Some(m.code.clone()),
                _ => None,
            })
            .collect();
        ApiError::Conflict(texts::stale_codes(&codes))
    })?;
    let names = contacts::names_in(conn, tenant, opp.account_id).await?;
    let judgement = assessment::judge_with(
        playbook,
        current,
        &built,
        &facts,
        lang,
        Some(&support),
        &names,
    );
    Ok(Judged {
        playbook_version: version,
        input: built,
        judgement,
        basis: Basis::Record,
    })
}

/// Assesses the opportunity's stage as one pipelined transaction: `BEGIN` goes out with the
/// lock and every read the judgement needs, `COMMIT` with the writes. Lock and read → judge →
/// record → store (and move the stage) → publish.
async fn create_in(
    conn: &mut Conn,
    begin: tx::Begin,
    who: &Principal,
    opportunity_id: Uuid,
    input: &AssessmentInput,
    lang: Lang,
) -> ApiResult<(AssessmentView, tx::Committed)> {
    let (open, opp, reads) = {
        let conn: &Conn = conn;
        futures_util::try_join!(
            begin.send(conn).err_into::<ApiError>(),
            opportunities::mark_assessed_in(conn, who, opportunity_id),
            reads_in(conn, who.tenant, opportunity_id),
        )?
    };
    let mut judged = judge_in(conn, who.tenant, &opp, reads, input, lang).await?;
    let apply_to = match (&mut judged.judgement.stage_change, judged.input.apply) {
        (Some(change), true) => {
            change.applied = true;
            Some(change.to.clone())
        }
        _ => None,
    };
    let row = record(who, &opp, &judged, lang, apply_to.is_some())?;
    let data = created_event(who, &opp, &row, &judged.judgement)?;
    let Judged {
        playbook_version: version,
        input,
        judgement,
        basis,
    } = judged;
    // The answer is built from what was stored, not read back.
    let view = view_of(&row, basis, lang, input, judgement)?;
    let committed = match apply_to {
        None => store_in(conn, open, who, &row, data).await?,
        Some(stage) => {
            let stage = StageCode::parse(&stage).ok_or_else(|| {
                corrupt(
                    "playbook stage",
                    version,
                    format!("{stage} is not a stage code"),
                )
            })?;
            store_and_move_in(conn, open, who, &opp, &row, data, stage).await?
        }
    };
    Ok((view, committed))
}

/// The stored form of a judged assessment.
fn record(
    who: &Principal,
    opp: &Opportunity,
    judged: &Judged,
    lang: Lang,
    applied: bool,
) -> ApiResult<Assessment> {
    Ok(Assessment {
        id: Uuid::now_v7(),
        tenant_id: who.tenant.get(),
        opportunity_id: opp.id,
        playbook_version: judged.playbook_version,
        from_stage: opp.current_stage.clone(),
        evidence_stage: judged.judgement.stage.code.clone(),
        lang: lang.as_str().to_string(),
        input: documents::assessment::write_input(&judged.input).map_err(ApiError::internal)?,
        judgement: documents::assessment::write_judgement(&judged.judgement)
            .map_err(ApiError::internal)?,
        applied,
        basis: judged.basis.as_str().to_string(),
        created_by: who.sub.clone(),
        // As stored: PostgreSQL keeps microseconds.
        created_at: Utc::now().trunc_subsecs(6),
    })
}

/// Stores the assessment and its event in one statement (the id is made here), sent with the
/// COMMIT.
async fn store_in(
    conn: &mut Conn,
    open: tx::Open,
    who: &Principal,
    row: &Assessment,
    data: serde_json::Map<String, serde_json::Value>,
) -> ApiResult<tx::Committed> {
    let event = events::new_event(who.tenant, EventType::ASSESSMENT_CREATED, data)?;
    let conn: &Conn = conn;
    let ((), committed) = futures_util::try_join!(
        q::insert_assessment_with_event(conn, row, event).err_into::<ApiError>(),
        open.commit(conn).err_into(),
    )?;
    Ok(committed)
}

/// Stores the assessment, moves the stage (its history names the assessment), then publishes
/// the assessment's event, so the log shows the move first.
async fn store_and_move_in(
    conn: &mut Conn,
    open: tx::Open,
    who: &Principal,
    opp: &Opportunity,
    row: &Assessment,
    data: serde_json::Map<String, serde_json::Value>,
    stage: StageCode,
) -> ApiResult<tx::Committed> {
    q::insert_assessment(conn, row).await?;
    stage_moves::change_stage_in(
        conn,
        who,
        opp,
        stage,
        Some(format!("applied from stage assessment {}", row.id)),
        Some(row.id),
    )
    .await?;
    let conn: &Conn = conn;
    let ((), committed) = futures_util::try_join!(
        events::emit(conn, who.tenant, EventType::ASSESSMENT_CREATED, data),
        open.commit(conn).err_into(),
    )?;
    Ok(committed)
}

/// The data of `stage_assessment.created`.
fn created_event(
    who: &Principal,
    opp: &Opportunity,
    row: &Assessment,
    judgement: &Judgement,
) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    let mut data = events::ids(&[
        ("id", Some(row.id)),
        ("opportunity_id", Some(opp.id)),
        ("account_id", Some(opp.account_id)),
    ]);
    data.insert("stage".into(), judgement.stage.code.clone().into());
    data.insert("from_stage".into(), opp.current_stage.clone().into());
    data.insert("ready_to_advance".into(), judgement.ready_to_advance.into());
    data.insert(
        "risk_codes".into(),
        serde_json::to_value(judgement.risks.iter().map(|r| r.code).collect::<Vec<_>>())
            .map_err(ApiError::internal)?,
    );
    data.insert("applied".into(), row.applied.into());
    data.insert("basis".into(), row.basis.clone().into());
    data.insert("actor".into(), who.sub.clone().into());
    let object = view(row.clone())?;
    data.insert(
        "object".into(),
        serde_json::to_value(object).map_err(ApiError::internal)?,
    );
    Ok(data)
}

/// Assesses the opportunity's stage in its own transaction.
pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    input: AssessmentInput,
    lang: Lang,
) -> ApiResult<AssessmentView> {
    tx::run(conn, async |conn, begin| {
        create_in(conn, begin, who, opportunity_id, &input, lang).await
    })
    .await
}

/// The judgement the record supports now, without storing it (claims in `claims` are merged in
/// as for an assessment from the record).
pub async fn draft(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    lang: Lang,
) -> ApiResult<AssessmentDraft> {
    let (opp, reads) = {
        let conn: &Conn = conn;
        futures_util::try_join!(
            opportunities::find_in(conn, who.tenant, opportunity_id),
            reads_in(conn, who.tenant, opportunity_id),
        )?
    };
    let claims = AssessmentInput {
        from_record: true,
        ..AssessmentInput::default()
    };
    let judged = judge_in(conn, who.tenant, &opp, reads, &claims, lang).await?;
    Ok(AssessmentDraft {
        opportunity_id: opp.id,
        playbook_version: judged.playbook_version,
        opportunity_stage: crate::db::code(
            "opportunities.current_stage of",
            opp.id,
            &opp.current_stage,
        )?,
        lang,
        basis: judged.basis,
        input: judged.input,
        judgement: judged.judgement,
    })
}

/// Newest first (or oldest first from `since` when syncing).
pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    keyset: crate::service::Keyset<Uuid>,
    limit: i64,
) -> ApiResult<Vec<AssessmentView>> {
    opportunities::find_in(conn, who.tenant, opportunity_id).await?;
    q::list_assessments(conn, who.tenant, opportunity_id, &keyset, limit)
        .await?
        .into_iter()
        .map(view)
        .collect()
}

pub async fn get(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    id: Uuid,
) -> ApiResult<AssessmentView> {
    let row = q::find_assessment(conn, who.tenant, opportunity_id, id)
        .await?
        .ok_or_else(|| not_found(Noun::Assessment))?;
    view(row)
}
