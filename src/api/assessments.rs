//! `/v1/opportunities/{id}/stage-assessments`: evidence in, judgement out. Append-only.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::assessment::AssessmentInput;
use crate::error::ApiResult;
use crate::http::extract::JsonBody;
use crate::http::lang::{pick_lang, LangQuery};
use crate::http::pagination::{SyncPage, SyncPageQuery};
use crate::service::assessments::{self as svc, AssessmentDraft, AssessmentView};
use crate::service::Principal;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentList {
    pub items: Vec<AssessmentView>,
    pub next_cursor: Option<String>,
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
///
/// Rules the schema cannot state (422): every code must exist in the tenant's current playbook
/// (signals, milestones, key actions), milestones belong to the evidence stage or the current
/// stage, a `contact` source names an active contact of the account and other kinds name none. An
/// archived opportunity, or one of an archived account, is 409.
#[utoipa::path(
    tag = "assessments",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), LangQuery),
    request_body(content = AssessmentInput, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The assessment and its judgement.", body = AssessmentView,
               headers(("Location" = String, description = "URL of the assessment"))))
)]
#[post("/{opportunity_id}/stage-assessments")]
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
    let mut conn = state.conn().await?;
    let v = svc::create(&mut conn, &principal, id, body.0, lang).await?;
    let location = format!("/v1/opportunities/{id}/stage-assessments/{}", v.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .json(v))
}

/// List the assessments of an opportunity, newest first.
///
/// Newest first. `cursor` must be a `next_cursor` this API returned (422 otherwise: the schema
/// cannot tell a cursor it issued).
///
/// With `updated_since`: the records made at or after that time (they never change), oldest
/// first, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "assessments",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), SyncPageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of assessments, newest first.", body = AssessmentList))
)]
#[get("/{opportunity_id}/stage-assessments")]
pub async fn list_stage_assessments(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<SyncPageQuery>,
) -> ApiResult<HttpResponse> {
    let page = SyncPage::<Uuid>::parse(query.limit, query.cursor.as_deref(), query.updated_since)?;
    let mut conn = state.conn().await?;
    let views = svc::list(
        &mut conn,
        &principal,
        path.into_inner(),
        page.keyset(),
        page.fetch(),
    )
    .await?;
    let (views, next_cursor) = page.finish(views, |v| v.id, |v| (v.created_at, v.id));
    Ok(HttpResponse::Ok().json(AssessmentList {
        items: views,
        next_cursor,
    }))
}

/// Get one assessment.
///
/// As recorded: the input and the judgement, with the texts in the language the assessment was
/// made in.
#[utoipa::path(
    tag = "assessments",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"),
           ("assessment_id" = Uuid, Path, description = "Assessment id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The assessment.", body = AssessmentView))
)]
#[get("/{opportunity_id}/stage-assessments/{assessment_id}")]
pub async fn get_stage_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (opp, id) = path.into_inner();
    let mut conn = state.conn().await?;
    Ok(HttpResponse::Ok().json(svc::get(&mut conn, &principal, opp, id).await?))
}

/// Draft an assessment from the record.
///
/// The judgement the activities support now, as `POST` with `from_record: true` would make it,
/// without storing anything: observed signals from the activities' observations (`verified`
/// when seen in two or more activities on different days whose sources differ in contact or
/// kind, S1.N1), completed key actions, the latest stated requirements, milestones from data
/// (S1.M1 org chart, S1.M2 survey, S1.M3 activities that carried out S1.A09, S1.M4
/// requirements leaning to us); every item names the activities that support it.
#[utoipa::path(
    tag = "assessments",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), LangQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The judgement the record supports now.", body = AssessmentDraft,
               headers(("Content-Language" = String, description = "The language of the texts"))))
)]
#[get("/{opportunity_id}/stage-assessments/draft")]
pub async fn get_stage_assessment_draft(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<Uuid>,
    query: web::Query<LangQuery>,
) -> ApiResult<HttpResponse> {
    let lang = pick_lang(query.lang, &req);
    let mut conn = state.conn().await?;
    let draft = svc::draft(&mut conn, &principal, path.into_inner(), lang).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(draft))
}
