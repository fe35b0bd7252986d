//! `/v1/events`: the tenant's event log, for integrations that pull instead of (or besides)
//! receiving webhooks.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::event::TypeFilter;
use crate::domain::validate::{Code, Format, In, Violation};
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{decode_cursor, encode_cursor, Page};
use crate::service::events as svc;
use crate::service::Principal;
use crate::state::AppState;

/// A page of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<svc::EventView>,
    /// Pass as `after` to read on. Always set: on an empty page it is the position you asked
    /// from, so polling with it never misses or repeats an event.
    pub next_cursor: Option<String>,
    /// Whether more events are there now.
    pub has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEventsQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// `next_cursor` of the previous page; from the oldest retained event when absent.
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// Comma-separated event types or patterns: `opportunity.*,stage_assessment.created`.
    #[param(max_length = 2000, example = "opportunity.*,stage_assessment.created")]
    pub types: Option<String>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// List events.
///
/// The tenant's changes in commit order: every committed change to an account, contact,
/// opportunity, survey record or activity (`<resource>.created|updated|archived|restored`),
/// stage moves (`opportunity.stage_changed`), assessments (`stage_assessment.created`) and
/// playbook versions (`playbook.updated`). An event is listed once every transaction that
/// started before it has ended, so a reader following `next_cursor` never skips one.
///
/// Events are kept for `BUYERPATH_EVENT_RETENTION_DAYS` (default 30). An unknown type or
/// pattern in `types`, or a cursor this API did not issue, is 422. Each item is one of the
/// event types' schemas (`Event`, told apart by `type`); `GET /v1/event-types` lists them.
#[utoipa::path(
    tag = "events",
    params(ListEventsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of events, oldest first.", body = EventPage))
)]
#[get("/v1/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListEventsQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let mut page: Page<(i64, i64)> = Page::parse(query.limit, None)?;
    page.after = match query.after.as_deref() {
        None | Some("") => None,
        Some(a) => Some(decode_cursor(a).ok_or_else(|| {
            ApiError::Validation(vec![Violation::at(
                In::Query,
                "after",
                Code::InvalidFormat(Format::Cursor),
            )])
        })?),
    };
    let types = TypeFilter::parse(
        "types",
        query
            .types
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty()),
    )
    .map_err(|v| ApiError::Validation(vec![Violation::at(In::Query, v.path, v.code)]))?;
    let mut conn = state.conn().await?;
    let rows = svc::list(&mut conn, &principal, &types, page.after, page.fetch()).await?;
    let has_more = rows.len() > page.limit as usize;
    let rows: Vec<svc::Event> = rows.into_iter().take(page.limit as usize).collect();
    let next_cursor = rows
        .last()
        .map(|e| encode_cursor(e.position))
        .or_else(|| {
            query
                .after
                .filter(|a| decode_cursor::<(i64, i64)>(a).is_some())
        })
        .or_else(|| Some(encode_cursor((0i64, 0i64))));
    Ok(HttpResponse::Ok().json(EventPage {
        items: rows.into_iter().map(|e| e.view()).collect(),
        next_cursor,
        has_more,
    }))
}

/// List event types.
///
/// Every type of the event log (and `webhook.test`, sent to webhooks only), with what it means
/// in zh and en and the name of its schema in this document (`components.schemas`; also the
/// body of its entry in `webhooks`).
#[utoipa::path(
    tag = "events",
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The event types.", body = svc::EventTypeList))
)]
#[get("/v1/event-types")]
pub async fn list_event_types(_principal: Principal) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::types()))
}
