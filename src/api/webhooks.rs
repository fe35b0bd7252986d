//! `/v1/webhook-endpoints`: subscriptions that receive events as signed HTTP POSTs (admins).

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::http::etag::with_etag;
use crate::http::extract::JsonBody;
use crate::http::pagination::{PageQuery, PageRequest, SyncPage};
use crate::service::webhooks::{
    self as svc, CreateEndpoint, PatchEndpoint, UrlPolicy, WebhookDeliveryView,
    WebhookEndpointView, WebhookEndpointWithSecret,
};
use crate::service::{Precondition, Principal};
use crate::state::AppState;

fn with_secret(
    builder: actix_web::HttpResponseBuilder,
    e: WebhookEndpointWithSecret,
) -> HttpResponse {
    let version = e.endpoint.version;
    with_etag(builder, version, &e)
}

/// A page of endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointList {
    pub items: Vec<WebhookEndpointView>,
    pub next_cursor: Option<String>,
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryList {
    pub items: Vec<WebhookDeliveryView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEndpointsQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Only endpoints changed at or after this time, in `(updated_at, id)` order.
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (of the same order).
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

fn policy(state: &AppState) -> UrlPolicy {
    UrlPolicy {
        allow_private: state.config.webhook_allow_private,
    }
}

/// Create a webhook endpoint.
///
/// Admins only. The response carries the signing `secret`, shown this once. Deliveries follow
/// the Standard Webhooks specification: headers `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`). Only 2xx
/// counts as delivered; redirects are not followed; 15 s timeout; 410 disables the endpoint;
/// 429/503 with `Retry-After` is honoured; retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
/// 10 h (with jitter); five days of failures disable it.
///
/// `url` must be https and resolve to public addresses unless
/// `BUYERPATH_WEBHOOK_ALLOW_PRIVATE=true` (422 naming `url`); unknown `event_types` are 422.
#[utoipa::path(
    tag = "webhooks",
    request_body(content = CreateEndpoint, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The endpoint, with its secret.", body = WebhookEndpointWithSecret,
               headers(("Location" = String, description = "URL of the new endpoint"),
                       ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("")]
pub async fn create_webhook_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<CreateEndpoint>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let e = svc::create(&mut conn, &principal, policy(&state), body.0).await?;
    let mut b = HttpResponse::Created();
    b.insert_header((
        header::LOCATION,
        format!("/v1/webhook-endpoints/{}", e.endpoint.id),
    ));
    Ok(with_secret(b, e))
}

/// List webhook endpoints.
///
/// Admins only. In creation order, or with `updated_since` in `(updated_at, id)` order.
#[utoipa::path(
    tag = "webhooks",
    params(ListEndpointsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of endpoints.", body = WebhookEndpointList))
)]
#[get("")]
pub async fn list_webhook_endpoints(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListEndpointsQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = SyncPage::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.updated_since)?;
    let mut conn = state.conn().await?;
    let rows = svc::list(&mut conn, &principal, page.keyset(), page.fetch()).await?;
    let (rows, next_cursor) = page.finish(rows, |e| e.id, |e| (e.updated_at, e.id));
    Ok(HttpResponse::Ok().json(WebhookEndpointList {
        items: rows,
        next_cursor,
    }))
}

/// Get a webhook endpoint.
///
/// Admins only; another tenant's endpoint is 404.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The endpoint.", body = WebhookEndpointView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/{endpoint_id}")]
pub async fn get_webhook_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let e = svc::get(&mut conn, &principal, path.into_inner()).await?;
    Ok(with_etag(HttpResponse::Ok(), e.version, &e))
}

/// Update a webhook endpoint (JSON merge patch).
///
/// Admins only. `enabled: true` re-enables a disabled endpoint and clears its failure state;
/// `enabled: false` pauses it (pending deliveries then fail). A stale `If-Match` is 412.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = PatchEndpoint, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated endpoint.", body = WebhookEndpointView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/{endpoint_id}")]
pub async fn patch_webhook_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
    body: JsonBody<PatchEndpoint>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let e = svc::update(
        &mut conn,
        &principal,
        path.into_inner(),
        &if_match,
        policy(&state),
        body.0,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), e.version, &e))
}

/// Delete a webhook endpoint.
///
/// Admins only. The endpoint and its deliveries are deleted; events stay in the log. A stale
/// `If-Match` is 412.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The endpoint is deleted."))
)]
#[delete("/{endpoint_id}")]
pub async fn delete_webhook_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    svc::delete(&mut conn, &principal, path.into_inner(), &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an endpoint's signing secret.
///
/// Admins only. The response carries the new secret; for 24 hours the old one keeps signing
/// too, so every delivery carries both signatures (space-separated) while receivers switch.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The endpoint, with its new secret.", body = WebhookEndpointWithSecret,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{endpoint_id}/rotate-secret")]
pub async fn rotate_webhook_endpoint_secret(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let e = svc::rotate_secret(&mut conn, &principal, path.into_inner()).await?;
    Ok(with_secret(HttpResponse::Ok(), e))
}

/// Send a test event.
///
/// Admins only. Queues a `webhook.test` event for the endpoint, sent at once; follow it in the
/// deliveries. A disabled endpoint is 409.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")),
    security(("bearer_auth" = [])),
    responses((status = 202, description = "The queued delivery.", body = WebhookDeliveryView))
)]
#[post("/{endpoint_id}/test")]
pub async fn test_webhook_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let d = svc::send_test(&mut conn, &principal, path.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(d))
}

/// List an endpoint's deliveries.
///
/// Admins only. Newest first, each with its attempts (status, response code, duration, the
/// first 1 KiB of the response). Finished deliveries are kept as long as events.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id"), PageQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of deliveries.", body = WebhookDeliveryList))
)]
#[get("/{endpoint_id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    let rows = svc::deliveries(
        &mut conn,
        &principal,
        path.into_inner(),
        page.after,
        page.fetch(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |d| d.id);
    Ok(HttpResponse::Ok().json(WebhookDeliveryList {
        items: rows.into_iter().collect(),
        next_cursor,
    }))
}

/// Redeliver a delivery.
///
/// Admins only. Sends the delivery again now, whatever its state, with the same `webhook-id`.
/// A disabled endpoint is 409.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id"),
           ("delivery_id" = Uuid, Path, description = "Delivery id")),
    security(("bearer_auth" = [])),
    responses((status = 202, description = "The delivery, due now.", body = WebhookDeliveryView))
)]
#[post("/{endpoint_id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (endpoint_id, delivery_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let d = svc::redeliver(&mut conn, &principal, endpoint_id, delivery_id).await?;
    Ok(HttpResponse::Accepted().json(d))
}
