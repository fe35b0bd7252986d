//! A contact written whole by its reference in another system (`PUT /v1/contacts/by-ref/…`):
//! its account and its manager may be named by their references in the same system.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{create, write, ContactView, CreateContact, PatchContact, KIND};
use crate::domain::external_ref::{including, ExternalRef};
use crate::domain::org_chart::{Attitude, Department, Influence, MethodologyRole, Relationship};
use crate::error::{ApiError, ApiResult};
use crate::service::external_refs::{self, account_of, resolve, Kind, Upserted};
use crate::service::{Conn, Precondition, Principal};

/// A contact written whole by its reference in another system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutContact {
    /// The contact's account (this or `account_ref`); it cannot change once the contact exists.
    pub account_id: Option<Uuid>,
    /// The account by its reference in the path's system (this or `account_id`).
    #[schema(
        example = "0015g00000AbCdE",
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub account_ref: Option<String>,
    #[schema(example = "王建国", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// Defaults to `other`.
    pub department: Option<Department>,
    pub methodology_role: Option<MethodologyRole>,
    /// A contact of the same account (this or `reports_to_ref`); loops are rejected.
    pub reports_to: Option<Uuid>,
    /// The manager by its reference in the path's system (this or `reports_to`).
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$"
    )]
    pub reports_to_ref: Option<String>,
    /// Defaults to `unknown`.
    pub attitude: Option<Attitude>,
    /// Defaults to `none`.
    pub relationship: Option<Relationship>,
    pub influence: Option<Influence>,
    #[serde(default)]
    pub key_person: bool,
    #[schema(
        max_length = 50,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*)?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub phone: Option<String>,
    #[schema(
        max_length = 320,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([^@\s\x00-\x1F\x7F-\x9F]+@[^@\s.\x00-\x1F\x7F-\x9F][^@\s\x00-\x1F\x7F-\x9F]*\.[^@\s\x00-\x1F\x7F-\x9F]*[^@\s.\x00-\x1F\x7F-\x9F])?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub email: Option<String>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    /// References of other systems; left out, the current ones stay. The path's is always kept.
    #[schema(max_items = 20)]
    pub external_refs: Option<Vec<ExternalRef>>,
}

/// Writes the contact known by `reference` whole: creates it, or replaces what `b` gives
/// (left-out members are cleared, except `external_refs`, which stay).
pub async fn upsert(
    conn: &mut Conn,
    who: &Principal,
    reference: ExternalRef,
    pre: &Precondition,
    mut b: PutContact,
) -> ApiResult<Upserted<ContactView>> {
    let tenant = who.tenant;
    let system = reference.system.as_str();
    let existing = external_refs::target(conn, tenant, KIND, &reference, pre).await?;
    let current = match existing {
        Some(id) => crate::db::external_refs::account_of_contact(conn, tenant, id).await?,
        None => None,
    };
    let mut errors = Vec::new();
    let named = (b.account_id, b.account_ref.as_deref());
    let account = account_of(conn, tenant, system, named, current, &mut errors).await?;
    let manager_ref = b
        .reports_to_ref
        .as_ref()
        .map(|id| ExternalRef::new(system, id));
    let manager_ref = ("reports_to_ref", manager_ref);
    let manager = resolve(
        conn,
        tenant,
        Kind::Contact,
        b.reports_to,
        manager_ref,
        &mut errors,
    )
    .await?;
    let (Some(account), true) = (account, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    b.external_refs = b
        .external_refs
        .map(|refs| external_refs::with_path(refs, &reference, existing));
    let Some(id) = existing else {
        let refs = Some(including(
            b.external_refs.take().unwrap_or_default(),
            &reference,
        ));
        let created = create(conn, who, account, creating(&b, manager, refs.clone())).await;
        if !external_refs::lost_race(&created, &reference) {
            return Upserted::created(created);
        }
        let Some(id) = external_refs::holder(conn, who.tenant, KIND, &reference).await? else {
            return Upserted::created(created);
        };
        let patch = replacing(&b, manager, refs);
        return Upserted::updated(write(conn, who, account, id, pre, patch).await);
    };
    let refs = b.external_refs.take();
    Upserted::updated(write(conn, who, account, id, pre, replacing(&b, manager, refs)).await)
}

pub(super) fn creating(
    b: &PutContact,
    manager: Option<Uuid>,
    refs: Option<Vec<ExternalRef>>,
) -> CreateContact {
    CreateContact {
        name: b.name.clone(),
        title: b.title.clone(),
        department: b.department,
        methodology_role: b.methodology_role,
        reports_to: manager,
        attitude: b.attitude,
        relationship: b.relationship,
        influence: b.influence,
        key_person: b.key_person,
        phone: b.phone.clone(),
        email: b.email.clone(),
        notes: b.notes.clone(),
        external_refs: refs,
    }
}

/// The merge patch that makes a contact what `b` says (a `PUT`).
fn replacing(
    b: &PutContact,
    manager: Option<Uuid>,
    refs: Option<Vec<ExternalRef>>,
) -> PatchContact {
    PatchContact {
        name: Some(Some(b.name.clone())),
        title: Some(b.title.clone()),
        department: Some(b.department),
        methodology_role: Some(b.methodology_role),
        reports_to: Some(manager),
        attitude: Some(b.attitude),
        relationship: Some(b.relationship),
        influence: Some(b.influence),
        key_person: Some(Some(b.key_person)),
        phone: Some(b.phone.clone()),
        email: Some(b.email.clone()),
        notes: Some(b.notes.clone()),
        external_refs: refs.map(Some),
    }
}
