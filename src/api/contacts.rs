//! `/v1/accounts/{account_id}/contacts` and the org chart.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::org_chart::{Coverage, OrgNode};
use crate::error::ApiResult;
use crate::http::by_ref::ByRefPath;
use crate::http::etag::with_computed_etag;
use crate::http::extract::JsonBody;
use crate::http::pagination::SyncPage;
use crate::service::contacts::{self as svc, ContactView, CreateContact, PatchContact, PutContact};
use crate::service::{Precondition, Principal};
use crate::state::AppState;

fn ok(contact: ContactView) -> ApiResult<HttpResponse> {
    respond(HttpResponse::Ok(), contact)
}

fn respond(
    builder: actix_web::HttpResponseBuilder,
    contact: ContactView,
) -> ApiResult<HttpResponse> {
    let version = contact.version;
    // `last_contacted_at` and `activity_count` come from activities, not the contact's version.
    with_computed_etag(builder, version, &contact)
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub items: Vec<ContactView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Paging of the contact list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListContactsQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Sync: only rows changed at or after this time (RFC 3339), archived ones included, in
    /// `(updated_at, id)` order; `cursor` then continues that order.
    pub updated_since: Option<DateTime<Utc>>,
    /// Include archived contacts (default false).
    pub include_archived: Option<bool>,
    /// Only the contact holding this reference of another system: `<system>:<id>`
    /// (`salesforce:0035g00000XyZaB`), exact.
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

/// The org chart of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgChart {
    pub account_id: Uuid,
    /// Active contacts as a forest by `reports_to`; contacts whose manager is unknown or
    /// archived are roots.
    pub roots: Vec<OrgNode>,
    pub coverage: Coverage,
}

/// Create a contact.
///
/// Reps add contacts to the accounts they own; managers and admins to any. `reports_to` must be an
/// active contact of the same account (422: a rule across rows the schema cannot state). An
/// archived account takes no new contacts (409).
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = CreateContact, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The contact was created.", body = ContactView,
               headers(("Location" = String, description = "URL of the new contact"),
                        ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{account_id}/contacts")]
pub async fn create_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    body: JsonBody<CreateContact>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let mut conn = state.conn().await?;
    let contact = svc::create(&mut conn, &principal, account_id, body.0).await?;
    let mut builder = HttpResponse::Created();
    builder.insert_header((
        header::LOCATION,
        format!("/v1/accounts/{account_id}/contacts/{}", contact.id),
    ));
    respond(builder, contact)
}

/// Write a contact by its reference in another system.
///
/// The whole contact (`PUT`), found by the reference of another system in the path: created
/// when no contact holds it (201 + Location), else replaced (200) — members left out are
/// cleared, except `external_refs`, which stay; the path's reference is always kept. Its account
/// is `account_id` or `account_ref` (the account's reference in the same system), and its
/// manager `reports_to` or `reports_to_ref`; an unknown reference is 422 naming the member, and
/// the account cannot change once the contact exists (422 `fixed`). A write that changes nothing
/// answers 200 with the same version and ETag and publishes no event. `If-Match` is honoured
/// (412 when no contact holds the reference). The rules of create and update apply.
#[utoipa::path(
    tag = "contacts",
    params(ByRefPath,
           ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced")),
    request_body(content = PutContact, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The contact was replaced (or already was so).", body = ContactView,
         headers(("ETag" = String, description = "Version tag for If-Match"))),
        (status = 201, description = "The contact was created.", body = ContactView,
         headers(("Location" = String, description = "URL of the new contact"),
                  ("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[put("/by-ref/{system}/{external_id}")]
pub async fn put_contact_by_ref(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<ByRefPath>,
    body: JsonBody<PutContact>,
) -> ApiResult<HttpResponse> {
    let reference = path.reference()?;
    let mut conn = state.conn().await?;
    let written = svc::upsert(&mut conn, &principal, reference, &if_match, body.0).await?;
    if !written.is_created() {
        return ok(written.view);
    }
    let mut builder = HttpResponse::Created();
    let (account_id, id) = (written.view.account_id, written.view.id);
    builder.insert_header((
        header::LOCATION,
        format!("/v1/accounts/{account_id}/contacts/{id}"),
    ));
    respond(builder, written.view)
}

/// List the contacts of an account.
///
/// Active contacts in creation order; `include_archived=true` adds the archived ones. `cursor`
/// must be a `next_cursor` this API returned (422 otherwise: the schema cannot tell a cursor it
/// issued).
///
/// With `updated_since`: every row changed at or after that time, archived ones included (with
/// `archived_at`), in `(updated_at, id)` order, for delta sync; its cursors are of that order.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"), ListContactsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of contacts.", body = ContactList))
)]
#[get("/{account_id}/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<ListContactsQuery>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let query = query.into_inner();
    let page = SyncPage::<Uuid>::parse(query.limit, query.cursor.as_deref(), query.updated_since)?;
    let mut conn = state.conn().await?;
    let rows = svc::list(
        &mut conn,
        &principal,
        account_id,
        svc::ListContacts {
            include_archived: query.include_archived.unwrap_or(false),
            external_ref: query.external_ref,
        },
        page.keyset(),
        page.fetch(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |c| c.id, |c| (c.updated_at, c.id));
    Ok(HttpResponse::Ok().json(ContactList {
        items: rows,
        next_cursor,
    }))
}

/// Get a contact.
///
/// Archived contacts are answered too (with `archived_at`).
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The contact.", body = ContactView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/{account_id}/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    let mut conn = state.conn().await?;
    ok(svc::get(&mut conn, &principal, account_id, contact_id).await?)
}

/// Update a contact (JSON merge patch).
///
/// Absent members stay; `null` clears a member or resets it to its default. `reports_to` must be
/// an active contact of the same account and must not close a reporting loop (422). A stale `If-
/// Match` is 412. An archived contact, or a contact of an archived account, is 409.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = PatchContact, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated contact.", body = ContactView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/{account_id}/contacts/{contact_id}")]
pub async fn patch_contact(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<PatchContact>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let contact = svc::update(
        &mut conn, &principal, account_id, contact_id, &if_match, body.0,
    )
    .await?;
    ok(contact)
}

/// Archive a contact.
///
/// Contacts reporting to it appear as roots of the org chart until re-pointed.
///
/// The contact stays readable (with `archived_at`) and read-only until restored. A stale `If-
/// Match` is 412.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The contact is archived."))
)]
#[delete("/{account_id}/contacts/{contact_id}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: Precondition,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    let mut conn = state.conn().await?;
    svc::archive(&mut conn, &principal, account_id, contact_id, &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived contact.
///
/// Refused (409) while the account is archived: restore the account first.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored contact.", body = ContactView,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/{account_id}/contacts/{contact_id}/restore")]
pub async fn restore_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    let mut conn = state.conn().await?;
    ok(svc::restore(&mut conn, &principal, account_id, contact_id).await?)
}

/// Get the org chart of an account.
///
/// The active contacts as a tree by `reports_to`, with a coverage summary: departments and
/// methodology roles mapped, supporters, key persons, whether senior leadership is reached,
/// and the S1.A03 visit order (IT head, deputy head, technical authority, general staff).
/// This is the evidence for milestone S1.M1.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The org chart.", body = OrgChart))
)]
#[get("/{account_id}/org-chart")]
pub async fn get_org_chart(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let mut conn = state.conn().await?;
    let (roots, coverage) = svc::org_chart(&mut conn, &principal, account_id).await?;
    Ok(HttpResponse::Ok().json(OrgChart {
        account_id,
        roots,
        coverage,
    }))
}
