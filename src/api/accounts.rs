//! `/v1/accounts`: customer accounts.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::{ensure_not_archived, not_found, with_etag};
use crate::auth::Principal;
use crate::db::accounts::{self as q, Account, AccountChanges, AccountFilter, NewAccount};
use crate::domain::SizeBand;
use crate::error::{ApiError, ApiResult};
use crate::http::etag::IfMatch;
use crate::http::extract::JsonBody;
use crate::http::pagination::PageRequest;
use crate::http::patch::double_option;
use crate::http::validate::Checker;
use crate::state::AppState;

/// A customer account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDto {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(example = "华东电力设计院")]
    pub name: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub size_band: Option<SizeBand>,
    pub website: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// `sub` of the user who owns the account.
    pub owner: String,
    #[schema(read_only)]
    pub created_by: String,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    /// Set when the account is archived (deleted); archived accounts are read-only.
    #[schema(read_only)]
    pub archived_at: Option<DateTime<Utc>>,
    /// Incremented by every change; the ETag is this number in quotes.
    #[schema(read_only)]
    pub version: i32,
}

impl From<Account> for AccountDto {
    fn from(a: Account) -> Self {
        AccountDto {
            id: a.id,
            name: a.name,
            industry: a.industry,
            region: a.region,
            size_band: a.size_band.as_deref().and_then(SizeBand::parse),
            website: a.website,
            tags: a.tags.into_iter().flatten().collect(),
            notes: a.notes,
            owner: a.owner,
            created_by: a.created_by,
            created_at: a.created_at,
            updated_at: a.updated_at,
            archived_at: a.archived_at,
            version: a.version,
        }
    }
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<AccountDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Creates an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// 1-200 characters.
    #[schema(example = "华东电力设计院")]
    pub name: String,
    #[schema(example = "energy")]
    pub industry: Option<String>,
    #[schema(example = "华东")]
    pub region: Option<String>,
    pub size_band: Option<SizeBand>,
    /// An http(s) URL.
    pub website: Option<String>,
    /// Up to 50 tags of 1-50 characters; duplicates are dropped.
    #[serde(default)]
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// Defaults to the caller. Only managers and admins may name someone else.
    pub owner: Option<String>,
}

/// A JSON merge patch (RFC 7396) of an account: absent members stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAccount {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<SizeBand>)]
    pub size_band: Option<Option<SizeBand>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    /// Replaces the whole list; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// Managers and admins only.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String)]
    pub owner: Option<Option<String>>,
}

/// Filters and paging of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAccountsQuery {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    /// Only accounts owned by this `sub`.
    pub owner: Option<String>,
    /// Only accounts of this industry (exact).
    pub industry: Option<String>,
    /// Only accounts carrying this tag.
    pub tag: Option<String>,
    /// Include archived accounts (default false).
    pub include_archived: Option<bool>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Loads the account (locked for the transaction) or answers 404.
pub(crate) async fn lock_account(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> ApiResult<Account> {
    q::find_for_update(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found("account"))
}

pub(crate) fn ensure_active(account: &Account) -> ApiResult<()> {
    ensure_not_archived(account.archived_at, "account")
}

fn check_owner(c: &mut Checker, field: &str, owner: &str) -> String {
    c.required_text(field, owner, 200)
}

/// Create an account.
///
/// The caller becomes the owner unless a manager or admin names another `owner`.
#[utoipa::path(
    tag = "accounts",
    request_body(content = CreateAccount, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The account was created.", body = AccountDto,
         headers(("Location" = String, description = "URL of the new account"),
                  ("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[post("/v1/accounts")]
pub async fn create_account(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<CreateAccount>,
) -> ApiResult<HttpResponse> {
    principal.require_create()?;
    let b = body.0;
    let mut c = Checker::new();
    let name = c.required_text("name", &b.name, 200);
    let industry = c.optional_text("industry", b.industry.as_deref(), 100);
    let region = c.optional_text("region", b.region.as_deref(), 100);
    let website = c.optional_url("website", b.website.as_deref());
    let tags = c.tags("tags", &b.tags);
    let notes = c.optional_text("notes", b.notes.as_deref(), 10_000);
    let owner = match &b.owner {
        Some(o) => check_owner(&mut c, "owner", o),
        None => principal.sub.clone(),
    };
    c.finish()?;
    if owner != principal.sub && !principal.writes_all() {
        return Err(ApiError::Forbidden(
            "only managers and admins may create accounts for another owner".to_string(),
        ));
    }
    let new = NewAccount {
        id: Uuid::now_v7(),
        tenant_id: principal.tenant,
        name,
        industry,
        region,
        size_band: b.size_band.map(|s| s.as_str().to_string()),
        website,
        tags: tags.into_iter().map(Some).collect(),
        notes,
        owner,
        created_by: principal.sub.clone(),
    };
    let mut conn = state.conn().await?;
    let account = q::insert(&mut conn, new).await?;
    let location = format!("/v1/accounts/{}", account.id);
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::LOCATION, location));
    Ok(with_etag(
        builder,
        account.version,
        &AccountDto::from(account),
    ))
}

/// List accounts.
///
/// Keyset-paginated in creation order. Archived accounts are left out unless
/// `include_archived=true`.
#[utoipa::path(
    tag = "accounts",
    params(ListAccountsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of accounts.", body = AccountList))
)]
#[get("/v1/accounts")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListAccountsQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut c = Checker::new();
    let filter = AccountFilter {
        q: c.optional_text("q", query.q.as_deref(), 200),
        owner: c.optional_text("owner", query.owner.as_deref(), 200),
        industry: c.optional_text("industry", query.industry.as_deref(), 100),
        tag: c.optional_text("tag", query.tag.as_deref(), 50),
        include_archived: query.include_archived.unwrap_or(false),
    };
    c.finish()?;
    let mut conn = state.conn().await?;
    let rows = q::list(
        &mut conn,
        principal.tenant,
        &filter,
        page.after,
        page.fetch(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |a| a.id);
    Ok(HttpResponse::Ok().json(AccountList {
        items: rows.into_iter().map(AccountDto::from).collect(),
        next_cursor,
    }))
}

/// Get an account.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The account.", body = AccountDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/v1/accounts/{account_id}")]
pub async fn get_account(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let account = q::find(&mut conn, principal.tenant, path.into_inner())
        .await?
        .ok_or_else(|| not_found("account"))?;
    Ok(with_etag(
        HttpResponse::Ok(),
        account.version,
        &AccountDto::from(account),
    ))
}

/// Update an account (JSON merge patch).
///
/// Reps may change the accounts they own; managers and admins any account, and only they may
/// change `owner`. Send `If-Match` with the ETag you read to avoid lost updates.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = PatchAccount, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated account.", body = AccountDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/v1/accounts/{account_id}")]
pub async fn patch_account(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<Uuid>,
    body: JsonBody<PatchAccount>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let p = body.0;
    let mut c = Checker::new();
    let mut changes = AccountChanges::default();
    match &p.name {
        Some(Some(n)) => changes.name = Some(c.required_text("name", n, 200)),
        Some(None) => c.add("name", "is required and cannot be removed"),
        None => {}
    }
    if let Some(v) = &p.industry {
        changes.industry = Some(c.optional_text("industry", v.as_deref(), 100));
    }
    if let Some(v) = &p.region {
        changes.region = Some(c.optional_text("region", v.as_deref(), 100));
    }
    if let Some(v) = p.size_band {
        changes.size_band = Some(v.map(|s| s.as_str().to_string()));
    }
    if let Some(v) = &p.website {
        changes.website = Some(c.optional_url("website", v.as_deref()));
    }
    if let Some(v) = &p.tags {
        let tags = c.tags("tags", v.as_deref().unwrap_or_default());
        changes.tags = Some(tags.into_iter().map(Some).collect());
    }
    if let Some(v) = &p.notes {
        changes.notes = Some(c.optional_text("notes", v.as_deref(), 10_000));
    }
    match &p.owner {
        Some(Some(o)) => changes.owner = Some(check_owner(&mut c, "owner", o)),
        Some(None) => c.add("owner", "is required and cannot be removed"),
        None => {}
    }
    c.finish()?;

    let mut conn = state.conn().await?;
    let account = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = lock_account(conn, principal.tenant, id).await?;
            principal.require_write_owned_by(&current.owner)?;
            if_match.check(current.version)?;
            ensure_active(&current)?;
            if let Some(owner) = &changes.owner {
                if *owner != current.owner && !principal.writes_all() {
                    return Err(ApiError::Forbidden(
                        "only managers and admins may reassign owners".to_string(),
                    ));
                }
            }
            Ok(q::update(conn, principal.tenant, id, changes).await?)
        })
        .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        account.version,
        &AccountDto::from(account),
    ))
}

/// Archive an account.
///
/// Nothing is destroyed: the account disappears from lists and becomes read-only until
/// restored. Archiving an archived account changes nothing.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The account is archived."))
)]
#[delete("/v1/accounts/{account_id}")]
pub async fn delete_account(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut conn = state.conn().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = lock_account(conn, principal.tenant, id).await?;
        principal.require_write_owned_by(&current.owner)?;
        if_match.check(current.version)?;
        if current.archived_at.is_none() {
            q::set_archived(conn, principal.tenant, id, true).await?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived account.
#[utoipa::path(
    tag = "accounts",
    params(("account_id" = Uuid, Path, description = "Account id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored account.", body = AccountDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/v1/accounts/{account_id}/restore")]
pub async fn restore_account(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut conn = state.conn().await?;
    let account = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = lock_account(conn, principal.tenant, id).await?;
            principal.require_write_owned_by(&current.owner)?;
            if current.archived_at.is_none() {
                return Ok(current);
            }
            Ok(q::set_archived(conn, principal.tenant, id, false).await?)
        })
        .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        account.version,
        &AccountDto::from(account),
    ))
}
