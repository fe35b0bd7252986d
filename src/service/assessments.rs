//! Stage assessments: evidence in, the engine's judgement out; append-only. Creating one
//! gathers the facts (org chart, latest survey, the tenant's threshold and playbook), lets the
//! engine judge, stores input and judgement together and, with `apply`, moves the stage in the
//! same transaction.

use std::collections::HashSet;

use chrono::Utc;
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::db::documents;
use crate::db::opportunities::{self as q, Assessment, Opportunity};
use crate::domain::assessment::{self, AssessmentInput, Facts, Judgement, SurveyFact};
use crate::domain::ids::TenantId;
use crate::domain::opportunity::StageCode;
use crate::domain::org_chart::{coverage, Person};
use crate::domain::playbook::{Lang, Playbook};
use crate::domain::survey;
use crate::domain::validate::Violation;
use crate::error::{ApiError, ApiResult};
use crate::service::{contacts, corrupt, not_found, opportunities, playbook, settings, surveys};
use crate::service::{Conn, Principal};

/// A stored assessment, decoded.
#[derive(Debug)]
pub struct AssessmentView {
    pub row: Assessment,
    pub lang: Lang,
    pub input: AssessmentInput,
    pub judgement: Judgement,
}

fn view(row: Assessment) -> ApiResult<AssessmentView> {
    let lang = Lang::parse(&row.lang).ok_or_else(|| {
        corrupt(
            "assessment language",
            row.id,
            format!("unknown value {:?}", row.lang),
        )
    })?;
    let input = documents::assessment::read_input(row.input.clone(), row.id)?;
    let judgement = documents::assessment::read_judgement(row.judgement.clone(), row.id)?;
    Ok(AssessmentView {
        row,
        lang,
        input,
        judgement,
    })
}

/// The facts the engine checks claims against: the account's org chart and latest survey.
async fn facts_in(
    conn: &mut Conn,
    tenant: TenantId,
    opp: &Opportunity,
    playbook: &Playbook,
    input: &AssessmentInput,
    lang: Lang,
) -> ApiResult<Facts> {
    let people = contacts::people_in(conn, tenant, opp.account_id).await?;
    // Contact sources must be active contacts of the account.
    let known: HashSet<Uuid> = people.iter().map(|(c, _)| c.id).collect();
    let unknown: Vec<Violation> = assessment::contact_sources(input)
        .into_iter()
        .filter(|(_, cid)| !known.contains(cid))
        .map(|(field, _)| {
            Violation::new(
                field,
                "must be an active contact of the opportunity's account",
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let people: Vec<Person> = people.into_iter().map(|(_, p)| p).collect();
    let survey = match surveys::latest_in(conn, tenant, opp.account_id).await? {
        None => SurveyFact::Missing,
        Some((_, sections)) => {
            let c = survey::completeness(playbook, &sections);
            SurveyFact::Latest {
                completeness_percent: c.percent,
                threshold_percent: settings::survey_threshold_in(conn, tenant).await?,
                missing_sections: survey::missing_names(&c, lang),
            }
        }
    };
    Ok(Facts {
        org: coverage(&people),
        survey,
    })
}

/// Assesses the opportunity's stage, in the caller's transaction.
pub async fn create_in(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    input: &AssessmentInput,
    lang: Lang,
) -> ApiResult<Assessment> {
    let opp = opportunities::lock_writable_in(conn, who, opportunity_id).await?;
    let (version, _, playbook) = playbook::current_in(conn, who.tenant).await?;
    let current = playbook.stage(&opp.current_stage).ok_or_else(|| {
        corrupt(
            "opportunity stage",
            opp.id,
            format!("{} is not in the playbook", opp.current_stage),
        )
    })?;
    assessment::validate(&playbook, current, input)?;
    let facts = facts_in(conn, who.tenant, &opp, &playbook, input, lang).await?;
    let mut judgement = assessment::judge(&playbook, current, input, &facts, lang);
    let apply_to = match (&mut judgement.stage_change, input.apply) {
        (Some(change), true) => {
            change.applied = true;
            Some(change.to.clone())
        }
        _ => None,
    };
    let row = q::insert_assessment(
        conn,
        Assessment {
            id: Uuid::now_v7(),
            tenant_id: who.tenant.get(),
            opportunity_id: opp.id,
            playbook_version: version,
            from_stage: opp.current_stage.clone(),
            evidence_stage: judgement.stage.code.clone(),
            lang: lang.as_str().to_string(),
            input: documents::assessment::write_input(input).map_err(ApiError::internal)?,
            judgement: documents::assessment::write_judgement(&judgement)
                .map_err(ApiError::internal)?,
            applied: apply_to.is_some(),
            created_by: who.sub.clone(),
            created_at: Utc::now(),
        },
    )
    .await?;
    if let Some(stage) = apply_to {
        let stage = StageCode::parse(&stage).ok_or_else(|| {
            corrupt(
                "playbook stage",
                version,
                format!("{stage} is not a stage code"),
            )
        })?;
        q::change_stage(
            conn,
            who.tenant,
            &opp,
            stage,
            &who.sub,
            Some(format!("applied from stage assessment {}", row.id)),
            Some(row.id),
        )
        .await?;
    }
    q::mark_assessed(conn, who.tenant, opp.id).await?;
    Ok(row)
}

/// Assesses the opportunity's stage in its own transaction.
pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    input: AssessmentInput,
    lang: Lang,
) -> ApiResult<AssessmentView> {
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            create_in(conn, who, opportunity_id, &input, lang).await
        })
        .await?;
    view(row)
}

/// Newest first.
pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    opportunity_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<AssessmentView>> {
    opportunities::find_in(conn, who.tenant, opportunity_id).await?;
    q::list_assessments(conn, who.tenant, opportunity_id, before, limit)
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
        .ok_or_else(|| not_found("assessment"))?;
    view(row)
}
