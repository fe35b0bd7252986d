//! `/v1/opportunities/{id}/stage-assessments`: evidence in, judgement out. Append-only.

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::not_found;
use crate::api::opportunities::{ensure_open_record, lock_opportunity, PageQuery};
use crate::api::playbook::{pick_lang, tenant_playbook, LangQuery};
use crate::api::settings::survey_threshold;
use crate::api::survey_records::sections_of;
use crate::auth::Principal;
use crate::db::contacts as contact_q;
use crate::db::opportunities::{self as q, Assessment};
use crate::db::surveys as survey_q;
use crate::domain::assessment::{self, AssessmentInput, Facts, Judgement, SurveyFact};
use crate::domain::org_chart::{coverage, Person};
use crate::domain::playbook::Lang;
use crate::domain::survey;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::JsonBody;
use crate::http::pagination::PageRequest;
use crate::state::AppState;

/// A recorded stage assessment: what the seller knew and the engine's judgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentDto {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    /// The playbook version the judgement used.
    pub playbook_version: i32,
    /// The opportunity's stage when the assessment was made.
    pub opportunity_stage: String,
    /// The language of the judgement's texts.
    pub lang: Lang,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The evidence as submitted.
    pub input: AssessmentInput,
    #[serde(flatten)]
    pub judgement: Judgement,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentList {
    pub items: Vec<AssessmentDto>,
    pub next_cursor: Option<String>,
}

fn to_dto(row: Assessment) -> ApiResult<AssessmentDto> {
    Ok(AssessmentDto {
        id: row.id,
        opportunity_id: row.opportunity_id,
        playbook_version: row.playbook_version,
        opportunity_stage: row.from_stage,
        lang: Lang::parse(&row.lang).unwrap_or_default(),
        created_by: row.created_by,
        created_at: row.created_at,
        input: serde_json::from_value(row.input).map_err(ApiError::internal)?,
        judgement: serde_json::from_value(row.judgement).map_err(ApiError::internal)?,
    })
}

/// Assess an opportunity's purchase stage.
///
/// Records what the seller knows now (a complete snapshot: observed buying signals, milestone
/// claims with their sources, completed key actions, requirements) and returns the engine's
/// judgement: the evidence stage and its purchase progress, the verification of each claim
/// (two or more sources differing in kind or contact = `verified`, S1.N1), data checks against
/// the org chart, milestone completion, readiness to advance, recommended key actions with
/// their tools, risks, and the proposed stage change. With `apply: true` the owner (or a
/// manager) moves the opportunity to the evidence stage; the stage history records it.
#[utoipa::path(
    tag = "assessments",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), LangQuery),
    request_body(content = AssessmentInput, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The assessment and its judgement.", body = AssessmentDto,
               headers(("Location" = String, description = "URL of the assessment"))))
)]
#[post("/v1/opportunities/{opportunity_id}/stage-assessments")]
pub async fn create_stage_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<Uuid>,
    query: web::Query<LangQuery>,
    body: JsonBody<AssessmentInput>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let lang = pick_lang(query.lang, &req);
    let input = body.0;
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let opp = lock_opportunity(conn, principal.tenant, id).await?;
            principal.require_write_owned_by(&opp.owner)?;
            ensure_open_record(&opp)?;
            let (version, _, playbook) = tenant_playbook(conn, principal.tenant).await?;
            let current = playbook.stage(&opp.current_stage).ok_or_else(|| {
                ApiError::internal(format!("stage {} missing from playbook", opp.current_stage))
            })?;
            assessment::validate(&playbook, current, &input).map_err(ApiError::Validation)?;

            // Facts: the account's org chart; contact sources must be its contacts.
            let contacts =
                contact_q::active_for_account(conn, principal.tenant, opp.account_id).await?;
            let known: HashSet<Uuid> = contacts.iter().map(|c| c.id).collect();
            let unknown: Vec<FieldError> = assessment::contact_sources(&input)
                .into_iter()
                .filter(|(_, cid)| !known.contains(cid))
                .map(|(field, _)| {
                    FieldError::new(
                        field,
                        "must be an active contact of the opportunity's account",
                    )
                })
                .collect();
            if !unknown.is_empty() {
                return Err(ApiError::Validation(unknown));
            }
            let people: Vec<Person> = contacts.iter().map(Person::from).collect();
            let survey = match survey_q::latest(conn, principal.tenant, opp.account_id).await? {
                None => SurveyFact::Missing,
                Some(row) => {
                    let c = survey::completeness(&playbook, &sections_of(&row)?);
                    let threshold = survey_threshold(conn, principal.tenant).await?;
                    SurveyFact::Latest {
                        completeness_percent: c.percent,
                        threshold_percent: u8::try_from(threshold).unwrap_or(80),
                        missing_sections: survey::missing_names(&c, lang),
                    }
                }
            };
            let facts = Facts {
                org: coverage(&people),
                survey,
            };
            let mut judgement = assessment::judge(&playbook, current, &input, &facts, lang);
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
                    tenant_id: principal.tenant,
                    opportunity_id: opp.id,
                    playbook_version: version,
                    from_stage: opp.current_stage.clone(),
                    evidence_stage: judgement.stage.code.clone(),
                    lang: lang.as_str().to_string(),
                    input: serde_json::to_value(&input).map_err(ApiError::internal)?,
                    judgement: serde_json::to_value(&judgement).map_err(ApiError::internal)?,
                    applied: apply_to.is_some(),
                    created_by: principal.sub.clone(),
                    created_at: Utc::now(),
                },
            )
            .await?;
            if let Some(stage) = apply_to {
                q::change_stage(
                    conn,
                    principal.tenant,
                    &opp,
                    &stage,
                    &principal.sub,
                    Some(format!("applied from stage assessment {}", row.id)),
                    Some(row.id),
                )
                .await?;
            }
            q::mark_assessed(conn, principal.tenant, opp.id).await?;
            Ok(row)
        })
        .await?;
    let location = format!("/v1/opportunities/{id}/stage-assessments/{}", row.id);
    let dto = to_dto(row)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .json(dto))
}

/// List the assessments of an opportunity, newest first.
#[utoipa::path(
    tag = "assessments",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), PageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of assessments, newest first.", body = AssessmentList))
)]
#[get("/v1/opportunities/{opportunity_id}/stage-assessments")]
pub async fn list_stage_assessments(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    q::find(&mut conn, principal.tenant, id)
        .await?
        .ok_or_else(|| not_found("opportunity"))?;
    let rows =
        q::list_assessments(&mut conn, principal.tenant, id, page.after, page.fetch()).await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id);
    let items = rows
        .into_iter()
        .map(to_dto)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(AssessmentList { items, next_cursor }))
}

/// Get one assessment.
#[utoipa::path(
    tag = "assessments",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"),
           ("assessment_id" = Uuid, Path, description = "Assessment id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The assessment.", body = AssessmentDto))
)]
#[get("/v1/opportunities/{opportunity_id}/stage-assessments/{assessment_id}")]
pub async fn get_stage_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (opp, id) = path.into_inner();
    let mut conn = state.conn().await?;
    let row = q::find_assessment(&mut conn, principal.tenant, opp, id)
        .await?
        .ok_or_else(|| not_found("assessment"))?;
    Ok(HttpResponse::Ok().json(to_dto(row)?))
}
