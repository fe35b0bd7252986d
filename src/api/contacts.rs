//! `/v1/accounts/{account_id}/contacts` and the org chart.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::accounts::{ensure_active, lock_account};
use crate::api::{ensure_not_archived, not_found, with_etag};
use crate::auth::Principal;
use crate::db::accounts as account_q;
use crate::db::contacts::{self as q, Contact, ContactChanges, NewContact};
use crate::domain::org_chart::{
    self, Attitude, Coverage, Department, Influence, MethodologyRole, OrgNode, Person, Relationship,
};
use crate::error::{ApiError, ApiResult};
use crate::http::etag::IfMatch;
use crate::http::extract::JsonBody;
use crate::http::pagination::PageRequest;
use crate::http::patch::double_option;
use crate::http::validate::Checker;
use crate::state::AppState;

/// A person at the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactDto {
    #[schema(read_only)]
    pub id: Uuid,
    #[schema(read_only)]
    pub account_id: Uuid,
    #[schema(example = "王建国")]
    pub name: String,
    #[schema(example = "信息中心主任")]
    pub title: Option<String>,
    pub department: Department,
    /// Role in the IT department as the methodology names it (S1.A03), if any.
    pub methodology_role: Option<MethodologyRole>,
    /// The contact this one reports to (same account).
    pub reports_to: Option<Uuid>,
    pub attitude: Attitude,
    pub relationship: Relationship,
    pub influence: Option<Influence>,
    pub key_person: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    #[schema(read_only)]
    pub created_at: DateTime<Utc>,
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
    #[schema(read_only)]
    pub archived_at: Option<DateTime<Utc>>,
    #[schema(read_only)]
    pub version: i32,
}

impl From<Contact> for ContactDto {
    fn from(c: Contact) -> Self {
        let p = Person::from(&c);
        ContactDto {
            id: c.id,
            account_id: c.account_id,
            name: c.name,
            title: c.title,
            department: p.department,
            methodology_role: p.methodology_role,
            reports_to: c.reports_to,
            attitude: p.attitude,
            relationship: p.relationship,
            influence: p.influence,
            key_person: c.key_person,
            phone: c.phone,
            email: c.email,
            notes: c.notes,
            created_at: c.created_at,
            updated_at: c.updated_at,
            archived_at: c.archived_at,
            version: c.version,
        }
    }
}

impl From<&Contact> for Person {
    fn from(c: &Contact) -> Self {
        Person {
            id: c.id,
            name: c.name.clone(),
            title: c.title.clone(),
            department: Department::parse(&c.department).unwrap_or(Department::Other),
            methodology_role: c
                .methodology_role
                .as_deref()
                .and_then(MethodologyRole::parse),
            reports_to: c.reports_to,
            attitude: Attitude::parse(&c.attitude).unwrap_or(Attitude::Unknown),
            relationship: Relationship::parse(&c.relationship).unwrap_or(Relationship::None),
            influence: c.influence.as_deref().and_then(Influence::parse),
            key_person: c.key_person,
        }
    }
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub items: Vec<ContactDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Creates a contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    #[schema(example = "王建国")]
    pub name: String,
    pub title: Option<String>,
    /// Defaults to `other`.
    pub department: Option<Department>,
    pub methodology_role: Option<MethodologyRole>,
    /// A contact of the same account; loops are rejected.
    pub reports_to: Option<Uuid>,
    /// Defaults to `unknown`.
    pub attitude: Option<Attitude>,
    /// Defaults to `none`.
    pub relationship: Option<Relationship>,
    pub influence: Option<Influence>,
    #[serde(default)]
    pub key_person: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
}

/// A JSON merge patch (RFC 7396) of a contact: absent members stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchContact {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// `null` resets to `other`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Department>)]
    pub department: Option<Option<Department>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<MethodologyRole>)]
    pub methodology_role: Option<Option<MethodologyRole>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub reports_to: Option<Option<Uuid>>,
    /// `null` resets to `unknown`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Attitude>)]
    pub attitude: Option<Option<Attitude>>,
    /// `null` resets to `none`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Relationship>)]
    pub relationship: Option<Option<Relationship>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Influence>)]
    pub influence: Option<Option<Influence>>,
    /// `null` resets to false.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<bool>)]
    pub key_person: Option<Option<bool>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// Paging of the contact list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListContactsQuery {
    /// Include archived contacts (default false).
    pub include_archived: Option<bool>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
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

/// Checks a new manager for `contact` (None for a contact being created).
async fn check_reports_to(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    account: Uuid,
    contact: Option<Uuid>,
    manager: Uuid,
) -> ApiResult<()> {
    if Some(manager) == contact {
        return Err(ApiError::validation(
            "reports_to",
            "a contact cannot report to itself",
        ));
    }
    let target = q::find(conn, tenant, account, manager).await?;
    match target {
        None => Err(ApiError::validation(
            "reports_to",
            "must be a contact of the same account",
        )),
        Some(t) if t.archived_at.is_some() => Err(ApiError::validation(
            "reports_to",
            "refers to an archived contact",
        )),
        Some(_) => {
            if let Some(contact) = contact {
                let edges: HashMap<Uuid, Option<Uuid>> =
                    q::edges(conn, tenant, account).await?.into_iter().collect();
                if org_chart::would_create_cycle(&edges, contact, manager) {
                    return Err(ApiError::validation(
                        "reports_to",
                        "would create a reporting loop",
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Create a contact.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id")),
    request_body(content = CreateContact, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 201, description = "The contact was created.", body = ContactDto,
               headers(("Location" = String, description = "URL of the new contact"),
                        ("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/v1/accounts/{account_id}/contacts")]
pub async fn create_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    body: JsonBody<CreateContact>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let b = body.0;
    let mut c = Checker::new();
    let name = c.required_text("name", &b.name, 200);
    let title = c.optional_text("title", b.title.as_deref(), 200);
    let phone = c.optional_phone("phone", b.phone.as_deref());
    let email = c.optional_email("email", b.email.as_deref());
    let notes = c.optional_text("notes", b.notes.as_deref(), 10_000);
    c.finish()?;
    let new = NewContact {
        id: Uuid::now_v7(),
        tenant_id: principal.tenant,
        account_id,
        name,
        title,
        department: b
            .department
            .unwrap_or(Department::Other)
            .as_str()
            .to_string(),
        methodology_role: b.methodology_role.map(|r| r.as_str().to_string()),
        reports_to: b.reports_to,
        attitude: b.attitude.unwrap_or(Attitude::Unknown).as_str().to_string(),
        relationship: b
            .relationship
            .unwrap_or(Relationship::None)
            .as_str()
            .to_string(),
        influence: b.influence.map(|i| i.as_str().to_string()),
        key_person: b.key_person,
        phone,
        email,
        notes,
    };
    let mut conn = state.conn().await?;
    let contact = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let account = lock_account(conn, principal.tenant, account_id).await?;
            principal.require_write_owned_by(&account.owner)?;
            ensure_active(&account)?;
            if let Some(m) = new.reports_to {
                check_reports_to(conn, principal.tenant, account_id, None, m).await?;
            }
            Ok(q::insert(conn, new).await?)
        })
        .await?;
    let mut builder = HttpResponse::Created();
    builder.insert_header((
        header::LOCATION,
        format!("/v1/accounts/{account_id}/contacts/{}", contact.id),
    ));
    Ok(with_etag(
        builder,
        contact.version,
        &ContactDto::from(contact),
    ))
}

async fn require_account(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    account_id: Uuid,
) -> ApiResult<crate::db::accounts::Account> {
    account_q::find(conn, tenant, account_id)
        .await?
        .ok_or_else(|| not_found("account"))
}

/// List the contacts of an account.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"), ListContactsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of contacts.", body = ContactList))
)]
#[get("/v1/accounts/{account_id}/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    query: web::Query<ListContactsQuery>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    require_account(&mut conn, principal.tenant, account_id).await?;
    let rows = q::list(
        &mut conn,
        principal.tenant,
        account_id,
        query.include_archived.unwrap_or(false),
        page.after,
        page.fetch(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |c| c.id);
    Ok(HttpResponse::Ok().json(ContactList {
        items: rows.into_iter().map(ContactDto::from).collect(),
        next_cursor,
    }))
}

/// Get a contact.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The contact.", body = ContactDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[get("/v1/accounts/{account_id}/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let contact = q::find(&mut conn, principal.tenant, account_id, contact_id)
        .await?
        .ok_or_else(|| not_found("contact"))?;
    Ok(with_etag(
        HttpResponse::Ok(),
        contact.version,
        &ContactDto::from(contact),
    ))
}

/// Update a contact (JSON merge patch).
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = PatchContact, content_type = "application/merge-patch+json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The updated contact.", body = ContactDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[patch("/v1/accounts/{account_id}/contacts/{contact_id}")]
pub async fn patch_contact(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<PatchContact>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    let p = body.0;
    let mut c = Checker::new();
    let mut ch = ContactChanges::default();
    match &p.name {
        Some(Some(n)) => ch.name = Some(c.required_text("name", n, 200)),
        Some(None) => c.add("name", "is required and cannot be removed"),
        None => {}
    }
    if let Some(v) = &p.title {
        ch.title = Some(c.optional_text("title", v.as_deref(), 200));
    }
    if let Some(v) = p.department {
        ch.department = Some(v.unwrap_or(Department::Other).as_str().to_string());
    }
    if let Some(v) = p.methodology_role {
        ch.methodology_role = Some(v.map(|r| r.as_str().to_string()));
    }
    if let Some(v) = p.reports_to {
        ch.reports_to = Some(v);
    }
    if let Some(v) = p.attitude {
        ch.attitude = Some(v.unwrap_or(Attitude::Unknown).as_str().to_string());
    }
    if let Some(v) = p.relationship {
        ch.relationship = Some(v.unwrap_or(Relationship::None).as_str().to_string());
    }
    if let Some(v) = p.influence {
        ch.influence = Some(v.map(|i| i.as_str().to_string()));
    }
    if let Some(v) = p.key_person {
        ch.key_person = Some(v.unwrap_or(false));
    }
    if let Some(v) = &p.phone {
        ch.phone = Some(c.optional_phone("phone", v.as_deref()));
    }
    if let Some(v) = &p.email {
        ch.email = Some(c.optional_email("email", v.as_deref()));
    }
    if let Some(v) = &p.notes {
        ch.notes = Some(c.optional_text("notes", v.as_deref(), 10_000));
    }
    c.finish()?;

    let mut conn = state.conn().await?;
    let contact = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let account = lock_account(conn, principal.tenant, account_id).await?;
            let current = q::find(conn, principal.tenant, account_id, contact_id)
                .await?
                .ok_or_else(|| not_found("contact"))?;
            principal.require_write_owned_by(&account.owner)?;
            if_match.check(current.version)?;
            ensure_active(&account)?;
            ensure_not_archived(current.archived_at, "contact")?;
            if let Some(Some(m)) = ch.reports_to {
                if Some(m) != current.reports_to {
                    check_reports_to(conn, principal.tenant, account_id, Some(contact_id), m)
                        .await?;
                }
            }
            Ok(q::update(conn, principal.tenant, account_id, contact_id, ch).await?)
        })
        .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        contact.version,
        &ContactDto::from(contact),
    ))
}

/// Archive a contact.
///
/// Contacts reporting to it appear as roots of the org chart until re-pointed.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being archived")),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "The contact is archived."))
)]
#[delete("/v1/accounts/{account_id}/contacts/{contact_id}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    set_archived(&state, &principal, &if_match, account_id, contact_id, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore an archived contact.
#[utoipa::path(
    tag = "contacts",
    params(("account_id" = Uuid, Path, description = "Account id"),
           ("contact_id" = Uuid, Path, description = "Contact id")),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The restored contact.", body = ContactDto,
               headers(("ETag" = String, description = "Version tag for If-Match"))))
)]
#[post("/v1/accounts/{account_id}/contacts/{contact_id}/restore")]
pub async fn restore_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (account_id, contact_id) = path.into_inner();
    let contact = set_archived(
        &state,
        &principal,
        &IfMatch::Absent,
        account_id,
        contact_id,
        false,
    )
    .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        contact.version,
        &ContactDto::from(contact),
    ))
}

async fn set_archived(
    state: &AppState,
    principal: &Principal,
    if_match: &IfMatch,
    account_id: Uuid,
    contact_id: Uuid,
    archived: bool,
) -> ApiResult<Contact> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let account = lock_account(conn, principal.tenant, account_id).await?;
        let current = q::find(conn, principal.tenant, account_id, contact_id)
            .await?
            .ok_or_else(|| not_found("contact"))?;
        principal.require_write_owned_by(&account.owner)?;
        if_match.check(current.version)?;
        ensure_active(&account)?;
        if current.archived_at.is_some() == archived {
            return Ok(current);
        }
        Ok(q::set_archived(conn, principal.tenant, account_id, contact_id, archived).await?)
    })
    .await
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
#[get("/v1/accounts/{account_id}/org-chart")]
pub async fn get_org_chart(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let account_id = path.into_inner();
    let mut conn = state.conn().await?;
    require_account(&mut conn, principal.tenant, account_id).await?;
    let contacts = q::active_for_account(&mut conn, principal.tenant, account_id).await?;
    let people: Vec<Person> = contacts.iter().map(Person::from).collect();
    Ok(HttpResponse::Ok().json(OrgChart {
        account_id,
        roots: org_chart::build_tree(&people),
        coverage: org_chart::coverage(&people),
    }))
}
