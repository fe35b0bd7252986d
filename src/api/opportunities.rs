//! Opportunities (purchase projects) and their stage history.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::opportunity::OpportunityStatus;
use crate::error::ApiResult;
use crate::http::by_ref::ByRefPath;
use crate::http::etag::with_computed_etag;
use crate::http::extract::JsonBody;
use crate::http::pagination::{SyncPage, SyncPageQuery};
use crate::service::opportunities::{
    self as svc, CreateOpportunity, ListOpportunities, OpportunityView, PatchOpportunity,
    PutOpportunity, StageChangeView,
};
use crate::service::{Precondition, Principal};
use crate::state::AppState;

fn respond(builder: actix_web::HttpResponseBuilder, v: OpportunityView) -> ApiResult<HttpResponse> {
    let version = v.version;
    // `latest_survey` changes with the account's survey records, not the opportunity's version.
    with_computed_etag(builder, version, &v)
}

fn page(views: Vec<OpportunityView>, page: SyncPage<Uuid>) -> ApiResult<HttpResponse> {
    let (items, next_cursor) = page.finish(views, |v| v.id, |v| (v.updated_at, v.id));
    Ok(HttpResponse::Ok().json(OpportunityList { items, next_cursor }))
}

/// A page of opportunities.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityList {
    pub items: Vec<OpportunityView>,
    pub next_cursor: Option<String>,
}

/// Filters and paging of the opportunity lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOpportunitiesQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Sync: only rows changed at or after this time (RFC 3339), archived ones included, in
    /// `(updated_at, id)` order; `cursor` then continues that order.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only opportunities in this stage.
    #[param(value_type = Option<crate::domain::opportunity::StageCode>)]
    pub stage: Option<String>,
    pub status: Option<OpportunityStatus>,
    #[param(max_length = 200)]
    pub owner: Option<String>,
    /// Only opportunities of this account.
    pub account_id: Option<Uuid>,
    /// Only the opportunity holding this reference of another system: `<system>:<id>`
    /// (`salesforce:0065g00000QrStU`), exact.
    #[param(
        max_length = 289,
        pattern = r"^[a-z][a-z0-9_-]{0,31}:[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub external_ref: Option<String>,
    pub include_archived: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageHistory {
    pub items: Vec<StageChangeView>,
    pub next_cursor: Option<String>,
}

/// Create an opportunity for an account.
///
/// Rules across fields the schema cannot state (422): `estimated_amount` and `currency` go
/// together, the amount has at most the currency's minor digits, `deadline` is not before
/// `expected_start`. An archived account takes no new opportunities (409).
#[utoipa::path(
    tag = "opportunities",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = CreateOpportunity, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The opportunity was created in stage S1.", body = OpportunityView,
               headers(("Location" = String, description = "URL of the new opportunity"),
                       ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{account_id}/opportunities")]
pub async fn create_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    body: JsonBody<CreateOpportunity>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::create(&mut conn, &principal, path.into_inner(), body.0).await?;
    let mut b = HttpResponse::Created();
    b.insert_header((header::LOCATION, format!("/v1/opportunities/{}", v.id)));
    respond(b, v)
}

/// List the opportunities of an account.
///
/// In creation order. `cursor` must be a `next_cursor` this API returned (422 otherwise: the
/// schema cannot tell a cursor it issued).
///
/// With `updated_since`: every row changed at or after that time, archived ones included (with
/// `archived_at`), in `(updated_at, id)` order, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "opportunities",
    params(("account_id" = Uuid, Path, description = "Account id"), SyncPageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of opportunities.", body = OpportunityList))
)]
#[get("/{account_id}/opportunities")]
pub async fn list_account_opportunities(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<SyncPageQuery>,
) -> ApiResult<HttpResponse> {
    let p = SyncPage::<Uuid>::parse(query.limit, query.cursor.as_deref(), query.updated_since)?;
    let mut conn = state.conn().await?;
    let views = svc::list_for_account(
        &mut conn,
        &principal,
        path.into_inner(),
        p.keyset(),
        p.fetch(),
    )
    .await?;
    page(views, p)
}

/// List opportunities across accounts.
///
/// Across the tenant's accounts, in creation order, filtered by stage, status, owner or account.
/// `cursor` must be a `next_cursor` this API returned (422 otherwise: the schema cannot tell a
/// cursor it issued).
///
/// With `updated_since`: every row changed at or after that time, archived ones included (with
/// `archived_at`), in `(updated_at, id)` order, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "opportunities",
    params(ListOpportunitiesQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of opportunities.", body = OpportunityList))
)]
#[get("")]
pub async fn list_opportunities(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListOpportunitiesQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let p = SyncPage::<Uuid>::parse(query.limit, query.cursor.as_deref(), query.updated_since)?;
    let filter = ListOpportunities {
        account_id: query.account_id,
        stage: query.stage,
        status: query.status,
        owner: query.owner,
        external_ref: query.external_ref,
        include_archived: query.include_archived.unwrap_or(false),
    };
    let mut conn = state.conn().await?;
    let views = svc::list(&mut conn, &principal, filter, p.keyset(), p.fetch()).await?;
    page(views, p)
}

/// Write an opportunity by its reference in another system.
///
/// The whole opportunity (`PUT`), found by the reference of another system in the path:
/// created when no opportunity holds it (201 + Location), else replaced (200) — members left out
/// are cleared, except `owner`, `current_stage` and `external_refs`, which stay; the path's
/// reference is always kept. Its account is `account_id` or `account_ref` (the account's
/// reference in the same system; an unknown one is 422 naming it) and cannot change once the
/// opportunity exists (422 `fixed`). A new opportunity starts in `current_stage` (default S1);
/// for an existing one a different `current_stage` is a stage change, recorded with
/// `stage_reason`. A write that changes nothing answers 200 with the same version and ETag and
/// publishes no event. `If-Match` is honoured (412 when no opportunity holds the reference). The
/// rules of create and update apply.
#[utoipa::path(
    tag = "opportunities",
    params(ByRefPath,
           ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced")),
    request_body(content = PutOpportunity, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The opportunity was replaced (or already was so).", body = OpportunityView,
         headers(("ETag" = String, description = "Version tag for If-Match"))),
        (status = 201, description = "The opportunity was created.", body = OpportunityView,
         headers(("Location" = String, description = "URL of the new opportunity"),
                  ("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[put("/by-ref/{system}/{external_id}")]
pub async fn put_opportunity_by_ref(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<ByRefPath>,
    body: JsonBody<PutOpportunity>,
) -> ApiResult<HttpResponse> {
    let reference = path.reference()?;
    let mut conn = state.conn().await?;
    let written = svc::upsert(&mut conn, &principal, reference, &if_match, body.0).await?;
    if !written.is_created() {
        return respond(HttpResponse::Ok(), written.view);
    }
    let mut builder = HttpResponse::Created();
    let location = format!("/v1/opportunities/{}", written.view.id);
    builder.insert_header((header::LOCATION, location));
    respond(builder, written.view)
}

/// Get an opportunity.
///
/// With the budget and timeline of its account's latest survey. Archived opportunities are
/// answered too (with `archived_at`).
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The opportunity.", body = OpportunityView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/{opportunity_id}")]
pub async fn get_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::get(&mut conn, &principal, path.into_inner()).await?;
    respond(HttpResponse::Ok(), v)
}

/// Update an opportunity (JSON merge patch).
///
/// Reps change the opportunities they own; managers and admins any, and only they reassign
/// owners. A new `current_stage` is recorded in the stage history with `stage_reason`.
///
/// Rules across fields the schema cannot state (422): `estimated_amount` and `currency` go
/// together, the amount is exact in the resulting currency (restate it when changing to a currency
/// with other minor digits), `deadline` is not before `expected_start`. A stale `If-Match` is 412.
/// An archived opportunity, or one of an archived account, is 409.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = PatchOpportunity, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated opportunity.", body = OpportunityView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/{opportunity_id}")]
pub async fn patch_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
    body: JsonBody<PatchOpportunity>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::update(&mut conn, &principal, path.into_inner(), &if_match, body.0).await?;
    respond(HttpResponse::Ok(), v)
}

/// Archive an opportunity.
///
/// The opportunity stays readable (with `archived_at`) and read-only (no changes, no new
/// assessments: 409) until restored. A stale `If-Match` is 412.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The opportunity is archived."))
)]
#[delete("/{opportunity_id}")]
pub async fn delete_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    svc::archive(&mut conn, &principal, path.into_inner(), &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived opportunity.
///
/// Refused (409) while its account is archived.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored opportunity.", body = OpportunityView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{opportunity_id}/restore")]
pub async fn restore_opportunity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::restore(&mut conn, &principal, path.into_inner()).await?;
    respond(HttpResponse::Ok(), v)
}

/// Get the stage history of an opportunity.
///
/// Every stage change, oldest first: manual changes (PATCH `current_stage`) and changes applied
/// by assessments (with their `assessment_id`).
///
/// `cursor` must be a `next_cursor` this API returned (422 otherwise: the schema cannot tell a
/// cursor it issued).
///
/// With `updated_since`: the records made at or after that time (they never change), oldest
/// first, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "opportunities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), SyncPageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of stage changes.", body = StageHistory))
)]
#[get("/{opportunity_id}/stage-history")]
pub async fn get_stage_history(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<SyncPageQuery>,
) -> ApiResult<HttpResponse> {
    let p = SyncPage::<Uuid>::parse(query.limit, query.cursor.as_deref(), query.updated_since)?;
    let mut conn = state.conn().await?;
    let rows = svc::stage_history(
        &mut conn,
        &principal,
        path.into_inner(),
        p.keyset(),
        p.fetch(),
    )
    .await?;
    let (rows, next_cursor) = p.finish(rows, |r| r.id, |r| (r.changed_at, r.id));
    Ok(HttpResponse::Ok().json(StageHistory {
        items: rows,
        next_cursor,
    }))
}
