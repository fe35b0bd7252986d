//! `/v1/accounts/{account_id}/activities` and `/v1/activities/{activity_id}`: what the seller did.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::activity::ActivityInput;
use crate::domain::activity::{ActivityKind, NextStep, Observation};
use crate::domain::assessment::Requirements;
use crate::domain::external_ref::ExternalRef;
use crate::error::ApiResult;
use crate::http::by_ref::ByRefPath;
use crate::http::etag::with_etag;
use crate::http::extract::JsonBody;
use crate::http::pagination::SyncPage;
use crate::service::activities::{self as svc, ActivityView, ListActivities, PutActivity};
use crate::service::{Precondition, Principal};
use crate::state::AppState;

fn respond(builder: actix_web::HttpResponseBuilder, v: ActivityView) -> HttpResponse {
    let version = v.version;
    with_etag(builder, version, &v)
}

/// A JSON merge patch (RFC 7396) of an activity: absent members stay, `null` removes, objects
/// merge, arrays are replaced. The merged activity must be valid (`ActivityInput`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // the body is read as a merge patch; this type documents it
pub struct ActivityPatch {
    /// Cannot be removed.
    #[schema(value_type = ActivityKind, required = false)]
    kind: Option<ActivityKind>,
    /// Cannot be removed.
    #[schema(value_type = DateTime<Utc>, required = false)]
    occurred_at: Option<DateTime<Utc>>,
    duration_minutes: Option<u32>,
    /// Cannot be removed.
    #[schema(value_type = String, required = false)]
    subject: Option<String>,
    notes: Option<String>,
    opportunity_id: Option<Uuid>,
    participants: Option<Vec<Uuid>>,
    our_attendees: Option<Vec<String>>,
    key_actions: Option<Vec<String>>,
    tools: Option<Vec<String>>,
    observations: Option<Vec<Observation>>,
    requirements: Option<Requirements>,
    outcome: Option<String>,
    next_step: Option<NextStep>,
    survey_record_id: Option<Uuid>,
    /// Replaces the whole list; `null` clears it.
    #[schema(max_items = 20)]
    external_refs: Option<Vec<ExternalRef>>,
}

/// A page of activities.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    pub items: Vec<ActivityView>,
    pub next_cursor: Option<String>,
}

/// Filters and paging of the activity list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListActivitiesQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Sync: only rows changed at or after this time (RFC 3339), archived ones included, in
    /// `(updated_at, id)` order; `cursor` then continues that order.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only activities of this opportunity.
    pub opportunity_id: Option<Uuid>,
    /// Only activities this contact took part in.
    pub contact_id: Option<Uuid>,
    pub kind: Option<ActivityKind>,
    /// Occurred at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before this time.
    pub to: Option<DateTime<Utc>>,
    /// Include archived activities (default false).
    pub include_archived: Option<bool>,
    /// Only the activity holding this reference of another system: `<system>:<id>`
    /// (`salesforce:00T5g00000MnOpQ`), exact.
    #[param(
        max_length = 289,
        pattern = r"^[a-z][a-z0-9_-]{0,31}:[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub external_ref: Option<String>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// Record an activity.
///
/// Reps record activities of the accounts they own; managers and admins of any account. Rules
/// the schema cannot state (422): `key_actions`, `tools` and observed `signal`s must be codes of
/// the tenant's current playbook; participants are active contacts, and the opportunity and the
/// survey record belong to the same account. An archived account or opportunity takes no new
/// activities (409).
#[utoipa::path(
    tag = "activities",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = ActivityInput, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The activity.", body = ActivityView,
               headers(("Location" = String, description = "URL of the activity"),
                       ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{account_id}/activities")]
pub async fn create_activity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    body: JsonBody<ActivityInput>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::create(&mut conn, &principal, path.into_inner(), body.0).await?;
    let mut b = HttpResponse::Created();
    b.insert_header((header::LOCATION, format!("/v1/activities/{}", v.id)));
    Ok(respond(b, v))
}

/// List the activities of an account.
///
/// Newest `occurred_at` first; filter by opportunity, participating contact, kind and time
/// (`from` inclusive, `to` exclusive). `cursor` must be a `next_cursor` this API returned (422
/// otherwise: the schema cannot tell a cursor it issued).
///
/// With `updated_since`: every row changed at or after that time, archived ones included (with
/// `archived_at`), in `(updated_at, id)` order, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "activities",
    params(("account_id" = Uuid, Path, description = "Account id"), ListActivitiesQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of activities, newest first.", body = ActivityList))
)]
#[get("/{account_id}/activities")]
pub async fn list_activities(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<ListActivitiesQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = SyncPage::<(DateTime<Utc>, Uuid)>::parse(
        query.limit,
        query.cursor.as_deref(),
        query.updated_since,
    )?;
    let filter = ListActivities {
        opportunity_id: query.opportunity_id,
        contact_id: query.contact_id,
        kind: query.kind,
        from: query.from,
        to: query.to,
        external_ref: query.external_ref,
        include_archived: query.include_archived.unwrap_or(false),
    };
    let mut conn = state.conn().await?;
    let views = svc::list(
        &mut conn,
        &principal,
        path.into_inner(),
        filter,
        page.keyset(),
        page.fetch(),
    )
    .await?;
    let (views, next_cursor) =
        page.finish(views, |v| (v.occurred_at, v.id), |v| (v.updated_at, v.id));
    Ok(HttpResponse::Ok().json(ActivityList {
        items: views,
        next_cursor,
    }))
}

/// Write an activity by its reference in another system.
///
/// The whole activity (`PUT`), found by the reference of another system in the path: created
/// when no activity holds it (201 + Location), else replaced (200) — members left out are
/// cleared, except `external_refs`, which stay; the path's reference is always kept. Its account
/// is `account_id` or `account_ref`, its opportunity `opportunity_id` or `opportunity_ref`, its
/// participants `participants` and `participant_refs` (references in the same system; an
/// unknown one is 422 naming it); the account cannot change once the activity exists (422
/// `fixed`). A write that changes nothing answers 200 with the same version and ETag and
/// publishes no event. `If-Match` is honoured (412 when no activity holds the reference). The
/// rules of recording and updating an activity apply.
#[utoipa::path(
    tag = "activities",
    params(ByRefPath,
           ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced")),
    request_body(content = PutActivity, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The activity was replaced (or already was so).", body = ActivityView,
         headers(("ETag" = String, description = "Version tag for If-Match"))),
        (status = 201, description = "The activity was recorded.", body = ActivityView,
         headers(("Location" = String, description = "URL of the new activity"),
                  ("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[put("/by-ref/{system}/{external_id}")]
pub async fn put_activity_by_ref(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<ByRefPath>,
    body: JsonBody<PutActivity>,
) -> ApiResult<HttpResponse> {
    let reference = path.reference()?;
    let mut conn = state.conn().await?;
    let written = svc::upsert(&mut conn, &principal, reference, &if_match, body.0).await?;
    if !written.is_created() {
        return Ok(respond(HttpResponse::Ok(), written.view));
    }
    let mut builder = HttpResponse::Created();
    let location = format!("/v1/activities/{}", written.view.id);
    builder.insert_header((header::LOCATION, location));
    Ok(respond(builder, written.view))
}

/// Get an activity.
///
/// Archived activities are answered too (with `archived_at`).
#[utoipa::path(
    tag = "activities",
    params(("activity_id" = Uuid, Path, description = "Activity id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The activity.", body = ActivityView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/{activity_id}")]
pub async fn get_activity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::get(&mut conn, &principal, path.into_inner()).await?;
    Ok(respond(HttpResponse::Ok(), v))
}

/// Update an activity (JSON merge patch).
///
/// Absent members stay, `null` removes, objects merge, arrays are replaced. The merged activity
/// must be valid as for recording one (422). A stale `If-Match` is 412; an archived activity, or
/// one of an archived account, is 409.
#[utoipa::path(
    tag = "activities",
    params(("activity_id" = Uuid, Path, description = "Activity id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = ActivityPatch, content_type = "application/merge-patch+json",
                 description = "A merge patch of the activity; every member is optional."),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated activity.", body = ActivityView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/{activity_id}")]
pub async fn patch_activity(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::update(&mut conn, &principal, path.into_inner(), &if_match, body.0).await?;
    Ok(respond(HttpResponse::Ok(), v))
}

/// Archive an activity.
///
/// The activity stays readable (with `archived_at`), is read-only until restored, and no longer
/// counts as evidence. A stale `If-Match` is 412.
#[utoipa::path(
    tag = "activities",
    params(("activity_id" = Uuid, Path, description = "Activity id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The activity is archived."))
)]
#[delete("/{activity_id}")]
pub async fn delete_activity(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    svc::archive(&mut conn, &principal, path.into_inner(), &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived activity.
///
/// Refused (409) while its account is archived.
#[utoipa::path(
    tag = "activities",
    params(("activity_id" = Uuid, Path, description = "Activity id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored activity.", body = ActivityView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{activity_id}/restore")]
pub async fn restore_activity(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let v = svc::restore(&mut conn, &principal, path.into_inner()).await?;
    Ok(respond(HttpResponse::Ok(), v))
}
