//! `/v1/accounts/{account_id}/timeline` and `/v1/opportunities/{opportunity_id}/timeline`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::playbook::Lang;
use crate::domain::timeline::TimelineItem;
use crate::error::ApiResult;
use crate::http::lang::pick_lang;
use crate::http::pagination::Page;
use crate::service::timeline as svc;
use crate::service::Principal;
use crate::state::AppState;

/// Language and paging of a timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// `zh` (default) or `en`; overrides `Accept-Language`.
    pub lang: Option<Lang>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// A page of the timeline, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineItem>,
    pub next_cursor: Option<String>,
}

type Cursor = Page<(DateTime<Utc>, Uuid)>;

fn respond(page: Cursor, items: Vec<TimelineItem>, lang: Lang) -> HttpResponse {
    let (items, next_cursor) = page.finish(items, |i| (i.at, i.id));
    HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .json(TimelinePage { items, next_cursor })
}

/// Get the timeline of an account.
///
/// Activities, stage assessments, stage changes and survey records of the account and all its
/// opportunities, newest first, each with a one-line summary in `?lang` / `Accept-Language`.
/// Archived activities and survey records are left out. `cursor` must be a `next_cursor` this
/// API returned (422 otherwise).
#[utoipa::path(
    tag = "activities",
    params(("account_id" = Uuid, Path, description = "Account id"), TimelineQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of the timeline, newest first.", body = TimelinePage))
)]
#[get("/{account_id}/timeline")]
pub async fn get_account_timeline(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<Uuid>,
    query: web::Query<TimelineQuery>,
) -> ApiResult<HttpResponse> {
    let lang = pick_lang(query.lang, &req);
    let page = Cursor::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    let items = svc::of_account(
        &mut conn,
        &principal,
        path.into_inner(),
        lang,
        page.after,
        page.fetch(),
    )
    .await?;
    Ok(respond(page, items, lang))
}

/// Get the timeline of an opportunity.
///
/// Its activities, stage assessments, stage changes and survey records, newest first, each with
/// a one-line summary in `?lang` / `Accept-Language`. `cursor` must be a `next_cursor` this API
/// returned (422 otherwise).
#[utoipa::path(
    tag = "activities",
    params(("opportunity_id" = Uuid, Path, description = "Opportunity id"), TimelineQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of the timeline, newest first.", body = TimelinePage))
)]
#[get("/{opportunity_id}/timeline")]
pub async fn get_opportunity_timeline(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<Uuid>,
    query: web::Query<TimelineQuery>,
) -> ApiResult<HttpResponse> {
    let lang = pick_lang(query.lang, &req);
    let page = Cursor::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    let items = svc::of_opportunity(
        &mut conn,
        &principal,
        path.into_inner(),
        lang,
        page.after,
        page.fetch(),
    )
    .await?;
    Ok(respond(page, items, lang))
}
