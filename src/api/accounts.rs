//! `/v1/accounts`: customer accounts.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::http::by_ref::ByRefPath;
use crate::http::etag::with_etag;
use crate::http::extract::JsonBody;
use crate::http::pagination::SyncPage;
use crate::service::accounts::{
    self as svc, AccountView, CreateAccount, ListAccounts, PatchAccount,
};
use crate::service::{Precondition, Principal};
use crate::state::AppState;

fn ok(account: AccountView) -> HttpResponse {
    respond(HttpResponse::Ok(), account)
}

fn respond(builder: actix_web::HttpResponseBuilder, account: AccountView) -> HttpResponse {
    let version = account.version;
    with_etag(builder, version, &account)
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<AccountView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAccountsQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Case-insensitive substring of the name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only accounts owned by this `sub`.
    #[param(max_length = 200)]
    pub owner: Option<String>,
    /// Only accounts of this industry (exact).
    #[param(max_length = 100)]
    pub industry: Option<String>,
    /// Only accounts carrying this tag.
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// Only the account holding this reference of another system: `<system>:<id>`
    /// (`salesforce:0015g00000AbCdE`), exact.
    #[param(
        max_length = 289,
        pattern = r"^[a-z][a-z0-9_-]{0,31}:[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub external_ref: Option<String>,
    /// Include archived accounts (default false).
    pub include_archived: Option<bool>,
    /// Sync: only rows changed at or after this time (RFC 3339), archived ones included, in
    /// `(updated_at, id)` order; `cursor` then continues that order.
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// Create an account.
///
/// The caller becomes the owner unless a manager or admin names another `owner`.
#[utoipa::path(
    tag = "accounts",
    request_body(content = CreateAccount, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The account was created.", body = AccountView,
         headers(("Location" = String, description = "URL of the new account"),
                  ("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[post("")]
pub async fn create_account(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<CreateAccount>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let account = svc::create(&mut conn, &principal, body.0).await?;
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::LOCATION, format!("/v1/accounts/{}", account.id)));
    Ok(respond(builder, account))
}

/// Write an account by its reference in another system.
///
/// The whole account (`PUT`), found by the reference of another system in the path
/// (`salesforce`, `0015g00000AbCdE`): created when no account holds it (201 + Location), else
/// replaced (200) — members left out are cleared, except `owner` and `external_refs`, which stay
/// as they are; the path's reference is always kept. A write that changes nothing answers 200
/// with the same version and ETag and publishes no event, so a sync can send every record every
/// time. `If-Match` is honoured (412 when no account holds the reference). The rules of create
/// and update apply (roles, 409 archived, 422 naming fields, 409 `external_ref_taken`).
#[utoipa::path(
    tag = "accounts",
    params(ByRefPath,
           ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced")),
    request_body(content = CreateAccount, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The account was replaced (or already was so).", body = AccountView,
         headers(("ETag" = String, description = "Version tag for If-Match"))),
        (status = 201, description = "The account was created.", body = AccountView,
         headers(("Location" = String, description = "URL of the new account"),
                  ("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[put("/by-ref/{system}/{external_id}")]
pub async fn put_account_by_ref(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<ByRefPath>,
    body: JsonBody<CreateAccount>,
) -> ApiResult<HttpResponse> {
    let reference = path.reference()?;
    let mut conn = state.conn().await?;
    let written = svc::upsert(&mut conn, &principal, reference, &if_match, body.0).await?;
    if !written.is_created() {
        return Ok(ok(written.view));
    }
    let mut builder = HttpResponse::Created();
    builder.insert_header((
        header::LOCATION,
        format!("/v1/accounts/{}", written.view.id),
    ));
    Ok(respond(builder, written.view))
}

/// List accounts.
///
/// Keyset-paginated in creation order. Archived accounts are left out unless
/// `include_archived=true`.
///
/// `cursor` must be a `next_cursor` this API returned (422 otherwise: the schema cannot tell a
/// cursor it issued).
///
/// With `updated_since`: every row changed at or after that time, archived ones included (with
/// `archived_at`), in `(updated_at, id)` order, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "accounts",
    params(ListAccountsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of accounts.", body = AccountList))
)]
#[get("")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListAccountsQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = SyncPage::<Uuid>::parse(query.limit, query.cursor.as_deref(), query.updated_since)?;
    let filter = ListAccounts {
        q: query.q,
        owner: query.owner,
        industry: query.industry,
        tag: query.tag,
        external_ref: query.external_ref,
        include_archived: query.include_archived.unwrap_or(false),
    };
    let mut conn = state.conn().await?;
    let rows = svc::list(&mut conn, &principal, filter, page.keyset(), page.fetch()).await?;
    let (rows, next_cursor) = page.finish(rows, |a| a.id, |a| (a.updated_at, a.id));
    Ok(HttpResponse::Ok().json(AccountList {
        items: rows,
        next_cursor,
    }))
}

/// Get an account.
///
/// Archived accounts are answered too (with `archived_at`); another tenant's account is 404.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The account.", body = AccountView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/{account_id}")]
pub async fn get_account(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let account = svc::get(&mut conn, &principal, path.into_inner()).await?;
    Ok(ok(account))
}

/// Update an account (JSON merge patch).
///
/// Reps may change the accounts they own; managers and admins any account, and only they may
/// change `owner`. Send `If-Match` with the ETag you read to avoid lost updates.
///
/// A stale `If-Match` is 412.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = PatchAccount, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated account.", body = AccountView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/{account_id}")]
pub async fn patch_account(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
    body: JsonBody<PatchAccount>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let account = svc::update(&mut conn, &principal, path.into_inner(), &if_match, body.0).await?;
    Ok(ok(account))
}

/// Archive an account.
///
/// Nothing is destroyed: the account disappears from lists and becomes read-only until
/// restored. Archiving an archived account changes nothing.
///
/// The account stays readable (with `archived_at`); it and its contacts, opportunities and survey
/// records are read-only (409) until it is restored. A stale `If-Match` is 412.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The account is archived."))
)]
#[delete("/{account_id}")]
pub async fn delete_account(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    svc::archive(&mut conn, &principal, path.into_inner(), &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived account.
///
/// Its contacts, opportunities and survey records become writable again.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored account.", body = AccountView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{account_id}/restore")]
pub async fn restore_account(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let account = svc::restore(&mut conn, &principal, path.into_inner()).await?;
    Ok(ok(account))
}
