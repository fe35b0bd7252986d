//! References of other systems on resources: reading them from rows, checking those a write
//! gives, finding a resource by one, and naming the resource that already holds one when a
//! write collides with it.

use uuid::Uuid;

use crate::db;
use crate::db::external_refs as q;
use crate::domain::external_ref::{self, including, ExternalRef};
use crate::domain::ids::TenantId;
use crate::domain::validate::{Checker, Code, Violation};
use crate::error::{ApiError, ApiResult};
use crate::service::Conn;

/// The resources that carry references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Account,
    Contact,
    Opportunity,
    Activity,
}

impl Kind {
    /// `resource_type` in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Account => "account",
            Kind::Contact => "contact",
            Kind::Opportunity => "opportunity",
            Kind::Activity => "activity",
        }
    }
}

/// The references a request gives for one resource, checked: `<system>:<id>` as stored.
pub fn check(c: &mut Checker, field: &str, refs: &[ExternalRef]) -> Vec<Option<String>> {
    external_ref::check(c, field, refs)
        .into_iter()
        .map(Some)
        .collect()
}

/// A row's references as the API shows them (`column`: the table's, for the log).
pub fn of_row(
    column: &'static str,
    id: Uuid,
    stored: &[Option<String>],
) -> ApiResult<Vec<ExternalRef>> {
    Ok(db::external_refs_of(column, id, stored)?)
}

/// The `external_ref` filter of a list: `<system>:<id>`, or 422 naming the parameter.
pub fn filter(c: &mut Checker, value: Option<&str>) -> Option<ExternalRef> {
    let v = value?;
    let parsed = ExternalRef::parse(v);
    if parsed.is_none() {
        c.add(
            "external_ref",
            Code::InvalidFormat(crate::domain::validate::Format::ExternalRef),
        );
    }
    parsed
}

/// The system of buyerpath's own ids: what its export writes, and what an import of it
/// (`source=buyerpath`) names resources by.
pub const OWN_SYSTEM: &str = "buyerpath";

/// The id of the resource of `kind` that holds `reference`, if any. A `buyerpath` reference
/// no resource holds names the tenant's resource with that id, if there is one (an export
/// imported again into the same tenant finds what it came from).
pub async fn holder(
    conn: &Conn,
    tenant: TenantId,
    kind: Kind,
    reference: &ExternalRef,
) -> ApiResult<Option<Uuid>> {
    if let Some(id) = q::holder(conn, tenant, kind.as_str(), reference).await? {
        return Ok(Some(id));
    }
    let own = match Uuid::parse_str(&reference.id) {
        Ok(id) if reference.system == OWN_SYSTEM => id,
        _ => return Ok(None),
    };
    use crate::db::table::VersionedTable;
    let exists = match kind {
        Kind::Account => crate::db::accounts::Account::find(conn, tenant, own)
            .await?
            .is_some(),
        Kind::Contact => q::account_of_contact(conn, tenant, own).await?.is_some(),
        Kind::Opportunity => crate::db::opportunities::Opportunity::find(conn, tenant, own)
            .await?
            .is_some(),
        Kind::Activity => crate::db::activities::Activity::find(conn, tenant, own)
            .await?
            .is_some(),
    };
    Ok(exists.then_some(own))
}

/// The references a write by `reference` gives its resource (`existing`, when there is one):
/// `refs` and the path's reference — unless that is the resource's own id.
pub fn with_path(
    refs: Vec<ExternalRef>,
    reference: &ExternalRef,
    existing: Option<Uuid>,
) -> Vec<ExternalRef> {
    let own =
        reference.system == OWN_SYSTEM && existing.is_some_and(|id| id.to_string() == reference.id);
    if own {
        refs
    } else {
        including(refs, reference)
    }
}

/// The path of a resource in the API.
async fn path_of(conn: &Conn, tenant: TenantId, kind: Kind, id: Uuid) -> ApiResult<String> {
    Ok(match kind {
        Kind::Account => format!("/v1/accounts/{id}"),
        Kind::Opportunity => format!("/v1/opportunities/{id}"),
        Kind::Activity => format!("/v1/activities/{id}"),
        Kind::Contact => match q::account_of_contact(conn, tenant, id).await? {
            Some(account) => format!("/v1/accounts/{account}/contacts/{id}"),
            None => format!("/v1/contacts/{id}"),
        },
    })
}

/// What a write that failed because a reference is held by another resource answers: 409
/// `external_ref_taken` naming the member (`field[i]`, `i` the reference's place in `keys`, as
/// the request gave them) and the resource holding it. Run after the write's transaction ended,
/// so the holder (a concurrent writer's, too) has committed. Other results pass through.
pub async fn name_holder<T>(
    conn: &mut Conn,
    tenant: TenantId,
    kind: Kind,
    field: &str,
    keys: &[Option<String>],
    this: Option<Uuid>,
    result: ApiResult<T>,
) -> ApiResult<T> {
    let Err(ApiError::ExternalRefTaken { key, .. }) = &result else {
        return result;
    };
    let keys: Vec<String> = keys.iter().flatten().cloned().collect();
    let held = q::held(conn, tenant, kind.as_str(), &keys).await?;
    let taken = keys.iter().enumerate().find_map(|(i, k)| {
        held.iter()
            .find(|(hk, holder)| hk == k && Some(*holder) != this)
            .map(|(_, holder)| (i, k.clone(), *holder))
    });
    let Some((i, key, holder)) = taken else {
        // Held while this write ran and released since: say so without a holder.
        return Err(ApiError::ExternalRefTaken {
            violation: Box::new(Violation::new(field, Code::Taken)),
            key: key.clone(),
            held_by: None,
        });
    };
    Err(ApiError::ExternalRefTaken {
        violation: Box::new(Violation::new(format!("{field}[{i}]"), Code::Taken)),
        key,
        held_by: Some(path_of(conn, tenant, kind, holder).await?),
    })
}

/// What a write by reference did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    /// The resource already was what the write said.
    Unchanged,
}

/// A write by reference: the resource it created, or the one it updated (or left as it was).
#[derive(Debug)]
pub struct Upserted<T> {
    pub view: T,
    pub outcome: Outcome,
}

impl<T> Upserted<T> {
    /// The answer of a write that created the resource.
    pub fn created(r: ApiResult<T>) -> ApiResult<Self> {
        r.map(|view| Upserted {
            view,
            outcome: Outcome::Created,
        })
    }

    /// The answer of a write to an existing resource: the resource, and whether it changed.
    pub fn updated(r: ApiResult<(T, bool)>) -> ApiResult<Self> {
        r.map(|(view, changed)| Upserted {
            view,
            outcome: if changed {
                Outcome::Updated
            } else {
                Outcome::Unchanged
            },
        })
    }

    pub fn is_created(&self) -> bool {
        self.outcome == Outcome::Created
    }
}

/// The reference a write by reference names in its path, checked (422 naming `system` or
/// `external_id`).
pub fn path_ref(system: &str, id: &str) -> ApiResult<ExternalRef> {
    let mut errors = Vec::new();
    if let Some(code) = external_ref::system_fault(system) {
        errors.push(Violation::at(
            crate::domain::validate::In::Path,
            "system",
            code,
        ));
    }
    if let Some(code) = external_ref::id_fault(id) {
        errors.push(Violation::at(
            crate::domain::validate::In::Path,
            "external_id",
            code,
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(ExternalRef::new(system, id))
}

/// The resource a write by `reference` updates, or `None`: it creates one. `If-Match` names a
/// version of an existing resource, so with none it is 412.
pub async fn target(
    conn: &Conn,
    tenant: TenantId,
    kind: Kind,
    reference: &ExternalRef,
    pre: &crate::service::Precondition,
) -> ApiResult<Option<Uuid>> {
    let id = holder(conn, tenant, kind, reference).await?;
    if id.is_none() && *pre != crate::service::Precondition::None {
        return Err(ApiError::PreconditionFailed {
            current_version: None,
        });
    }
    Ok(id)
}

/// Whether a create by `reference` lost a race with another create by it (which committed
/// first): the write is then an update of that one.
pub fn lost_race<T>(result: &ApiResult<T>, reference: &ExternalRef) -> bool {
    matches!(result, Err(ApiError::ExternalRefTaken { key, .. }) if *key == reference.key())
}

/// A resource named by its id or by its reference (`field`: the member holding the
/// reference), resolved: `None` when neither is given or the reference is unknown. A reference
/// nobody holds, or both given, is a violation pushed to `errors`.
pub async fn resolve(
    conn: &Conn,
    tenant: TenantId,
    kind: Kind,
    id: Option<Uuid>,
    (field, reference): (&str, Option<ExternalRef>),
    errors: &mut Vec<Violation>,
) -> ApiResult<Option<Uuid>> {
    match (id, reference) {
        (Some(_), Some(_)) => {
            errors.push(Violation::new(field, Code::NotAllowed));
            Ok(None)
        }
        (Some(id), None) => Ok(Some(id)),
        (None, Some(r)) => {
            let found = holder(conn, tenant, kind, &r).await?;
            if found.is_none() {
                errors.push(Violation::new(field, Code::NotFound));
            }
            Ok(found)
        }
        (None, None) => Ok(None),
    }
}

/// The account a write by reference names: `account_id`, or `account_ref` (its reference in
/// `system`); when the resource exists (`current`: its account), the same one. Violations name
/// the member at fault.
pub async fn account_of(
    conn: &Conn,
    tenant: TenantId,
    system: &str,
    (account_id, account_ref): (Option<Uuid>, Option<&str>),
    current: Option<Uuid>,
    errors: &mut Vec<Violation>,
) -> ApiResult<Option<Uuid>> {
    let reference = account_ref.map(|id| ExternalRef::new(system, id));
    let field = ("account_ref", reference);
    let account = resolve(conn, tenant, Kind::Account, account_id, field, errors).await?;
    let named = if account_ref.is_some() {
        "account_ref"
    } else {
        "account_id"
    };
    match (account_id, account_ref, account) {
        (None, None, _) => errors.push(Violation::new("account_id", Code::Required)),
        (Some(id), None, _) => {
            use crate::db::table::VersionedTable;
            if crate::db::accounts::Account::find(conn, tenant, id)
                .await?
                .is_none()
            {
                errors.push(Violation::new("account_id", Code::NotFound));
            }
        }
        _ => {}
    }
    if let (Some(current), Some(account)) = (current, account) {
        if current != account {
            errors.push(Violation::new(named, Code::Fixed));
        }
    }
    Ok(account)
}
