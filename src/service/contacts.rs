//! Contacts (people at the customer) and the org chart of an account.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use diesel_async::AsyncConnection;
use futures_util::TryFutureExt;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::accounts::Account;
use crate::db::contacts::{self as q, Contact, ContactChanges, ContactFilter, NewContact};
use crate::db::table::VersionedTable;
use crate::db::{self, AccountKey};
use crate::domain::event::Lifecycle;
use crate::domain::external_ref::ExternalRef;
use crate::domain::ids::TenantId;
use crate::domain::org_chart::{
    self, Attitude, Coverage, Department, Influence, MethodologyRole, OrgNode, Person, Recency,
    Relationship,
};
use crate::domain::texts::Noun;
use crate::domain::validate::Checker;
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::archive::{self, Archivable, Guarded, Parent};
use crate::service::events::{self, Changes};
use crate::service::external_refs::{self, Kind};
use crate::service::input::double_option;
use crate::service::unchanged::{publish_or_keep, settle_changed, Step};
use crate::service::{accounts, settings, Conn, Keyset, Precondition, Principal};

/// Filters of the contact list (as given; checked here).
#[derive(Debug, Default)]
pub struct ListContacts {
    pub include_archived: bool,
    pub external_ref: Option<String>,
}

const KIND: Kind = Kind::Contact;

mod batch;
mod by_ref;
mod view;
pub use batch::{create_all, NewByRef};
pub use by_ref::{upsert, PutContact};
pub use view::ContactView;
use view::{one_in, view, views_in};

/// Creates a contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    #[schema(example = "王建国", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 200)]
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
    /// References of other systems, up to 20, each unique in the tenant (409
    /// `external_ref_taken`).
    #[schema(max_items = 20)]
    pub external_refs: Option<Vec<ExternalRef>>,
}

/// A JSON merge patch (RFC 7396) of a contact: absent members stay, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchContact {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
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
    #[schema(value_type = Option<String>, max_length = 50, pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*[0-9][0-9 +\-().#/xet]*)?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 320, pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([^@\s\x00-\x1F\x7F-\x9F]+@[^@\s.\x00-\x1F\x7F-\x9F][^@\s\x00-\x1F\x7F-\x9F]*\.[^@\s\x00-\x1F\x7F-\x9F]*[^@\s.\x00-\x1F\x7F-\x9F])?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub notes: Option<Option<String>>,
    /// Replaces the whole list; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<ExternalRef>>, max_items = 20)]
    pub external_refs: Option<Option<Vec<ExternalRef>>>,
}

/// The person behind a stored contact; an unknown stored code is an error naming the contact.
pub fn person_of(c: &Contact) -> ApiResult<Person> {
    Ok(Person {
        id: c.id,
        name: c.name.clone(),
        title: c.title.clone(),
        department: db::code("contacts.department of", c.id, &c.department)?,
        methodology_role: db::optional_code(
            "contacts.methodology_role of",
            c.id,
            c.methodology_role.as_deref(),
        )?,
        reports_to: c.reports_to,
        attitude: db::code("contacts.attitude of", c.id, &c.attitude)?,
        relationship: db::code("contacts.relationship of", c.id, &c.relationship)?,
        influence: db::optional_code("contacts.influence of", c.id, c.influence.as_deref())?,
        key_person: c.key_person,
        last_contacted_at: None,
    })
}

events::published!(Contact, Contact, ContactView, one_in, "id" => id, "account_id" => account_id);

impl Archivable for Contact {
    const NAME: Noun = Noun::Contact;

    async fn lock(
        conn: &mut Conn,
        tenant: TenantId,
        (account_id, contact_id): (Uuid, Uuid),
    ) -> ApiResult<Option<Guarded<Self>>> {
        // The account row is the lock that serialises writers of its org chart.
        let Some(account) = Account::find_for_update(conn, tenant, account_id).await? else {
            return Ok(None);
        };
        Ok(Contact::find(conn, tenant, (account_id, contact_id))
            .await?
            .map(|row| Guarded {
                locked: row,
                owner: account.owner.clone(),
                parent: Some(Parent {
                    name: Noun::Account,
                    archived: account.archived_at.is_some(),
                }),
            }))
    }

    archive::row_state!();
}

/// Checks a new manager for `contact` (None for a contact being created).
async fn check_reports_to(
    conn: &mut Conn,
    tenant: TenantId,
    account: Uuid,
    contact: Option<Uuid>,
    manager: Uuid,
) -> ApiResult<()> {
    if Some(manager) == contact {
        return Err(ApiError::validation("reports_to", Code::Cycle));
    }
    let target = Contact::find(conn, tenant, (account, manager)).await?;
    match target {
        None => Err(ApiError::validation("reports_to", Code::NotInAccount)),
        Some(t) if t.archived_at.is_some() => {
            Err(ApiError::validation("reports_to", Code::Archived))
        }
        Some(_) => {
            if let Some(contact) = contact {
                let edges: HashMap<Uuid, Option<Uuid>> =
                    q::edges(conn, tenant, account).await?.into_iter().collect();
                if org_chart::would_create_cycle(&edges, contact, manager) {
                    return Err(ApiError::validation("reports_to", Code::Cycle));
                }
            }
            Ok(())
        }
    }
}

/// The row a new contact `id` of `account_id` is: the checks of a create (422 naming the
/// fields); its account and manager are checked when it is written.
fn prepare(
    who: &Principal,
    id: Uuid,
    account_id: Uuid,
    b: &CreateContact,
) -> ApiResult<NewContact> {
    let mut c = Checker::new();
    let name = c.name("name", &b.name).into_string();
    let title = c.optional_text("title", b.title.as_deref(), 200);
    let phone = c.optional_phone("phone", b.phone.as_deref());
    let email = c.optional_email("email", b.email.as_deref());
    let notes = c.optional_text("notes", b.notes.as_deref(), 10_000);
    let refs = external_refs::check(
        &mut c,
        "external_refs",
        b.external_refs.as_deref().unwrap_or_default(),
    );
    c.finish()?;
    let department = b.department.unwrap_or(Department::Other);
    let attitude = b.attitude.unwrap_or(Attitude::Unknown);
    Ok(NewContact {
        id,
        tenant_id: who.tenant.get(),
        account_id,
        name,
        title,
        department: department.as_str().to_string(),
        methodology_role: b.methodology_role.map(|r| r.as_str().to_string()),
        reports_to: b.reports_to,
        attitude: attitude.as_str().to_string(),
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
        external_refs: refs,
    })
}

pub async fn create(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    b: CreateContact,
) -> ApiResult<ContactView> {
    let new = prepare(who, Uuid::now_v7(), account_id, &b)?;
    let refs = new.external_refs.clone();
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            accounts::lock_writable_in(conn, who, account_id).await?;
            if let Some(m) = new.reports_to {
                check_reports_to(conn, who.tenant, account_id, None, m).await?;
            }
            let row = Contact::insert(conn, new).await?;
            events::lifecycle(conn, who, &row, Lifecycle::Created).await?;
            Ok(row)
        })
        .await;
    let row = external_refs::name_holder(conn, who.tenant, KIND, "external_refs", &refs, None, row)
        .await?;
    view(row, None)
}

pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    f: ListContacts,
    keyset: Keyset<Uuid>,
    limit: i64,
) -> ApiResult<Vec<ContactView>> {
    let mut c = Checker::query();
    let filter = ContactFilter {
        include_archived: f.include_archived,
        external_ref: external_refs::filter(&mut c, f.external_ref.as_deref()),
    };
    c.finish()?;
    accounts::find_in(conn, who.tenant, account_id).await?;
    let rows = q::list(conn, who.tenant, account_id, &filter, &keyset, limit).await?;
    views_in(conn, who.tenant, account_id, rows).await
}

pub async fn get(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    id: Uuid,
) -> ApiResult<ContactView> {
    let row = Contact::find(conn, who.tenant, (account_id, id))
        .await?
        .ok_or_else(|| crate::service::not_found(Noun::Contact))?;
    one_in(conn, who.tenant, row).await
}

fn changes(p: &PatchContact) -> ApiResult<ContactChanges> {
    let mut c = Checker::new();
    let mut ch = ContactChanges::default();
    match &p.name {
        Some(Some(n)) => ch.name = Some(c.name("name", n).into_string()),
        Some(None) => c.add("name", Code::Required),
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
    if let Some(v) = &p.external_refs {
        let refs = v.as_deref().unwrap_or_default();
        ch.external_refs = Some(external_refs::check(&mut c, "external_refs", refs));
    }
    c.finish()?;
    Ok(ch)
}

pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    contact_id: Uuid,
    pre: &Precondition,
    patch: PatchContact,
) -> ApiResult<ContactView> {
    Ok(write(conn, who, account_id, contact_id, pre, patch)
        .await?
        .0)
}

/// `update`, telling whether it changed anything (a write that changes nothing leaves the
/// resource as it was).
pub(crate) async fn write(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    contact_id: Uuid,
    pre: &Precondition,
    patch: PatchContact,
) -> ApiResult<(ContactView, bool)> {
    let ch = changes(&patch)?;
    let refs = ch.external_refs.clone().unwrap_or_default();
    let written = conn
        .transaction::<_, Step<Contact>, _>(async |conn| {
            let current =
                archive::lock_for_write::<Contact>(conn, who, (account_id, contact_id), pre)
                    .await?;
            if let Some(Some(m)) = ch.reports_to {
                if Some(m) != current.reports_to {
                    check_reports_to(conn, who.tenant, account_id, Some(contact_id), m).await?;
                }
            }
            let row = Contact::update(conn, who.tenant, (account_id, contact_id), ch).await?;
            let (before, after) = (view(current.clone(), None)?, view(row.clone(), None)?);
            let changes = Changes::of(&before, events::changed_fields(&before, &after)?)?;
            publish_or_keep(conn, who, &row, changes, current).await?;
            Ok(row)
        })
        .await;
    let written = settle_changed(written);
    let (row, changed) = external_refs::name_holder(
        conn,
        who.tenant,
        KIND,
        "external_refs",
        &refs,
        Some(contact_id),
        written,
    )
    .await?;
    Ok((one_in(conn, who.tenant, row).await?, changed))
}

pub async fn archive(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    contact_id: Uuid,
    pre: &Precondition,
) -> ApiResult<()> {
    archive::set_archived::<Contact>(conn, who, (account_id, contact_id), pre, true).await?;
    Ok(())
}

pub async fn restore(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
    contact_id: Uuid,
) -> ApiResult<ContactView> {
    let row = archive::set_archived::<Contact>(
        conn,
        who,
        (account_id, contact_id),
        &Precondition::None,
        false,
    )
    .await?;
    one_in(conn, who.tenant, row).await
}

/// The ids of the account's active contacts (for checking references to them).
pub(crate) async fn active_ids(
    conn: &Conn,
    tenant: TenantId,
    account: Uuid,
) -> ApiResult<HashSet<Uuid>> {
    Ok(q::active_for_account(conn, tenant, AccountKey::Id(account))
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// The reads behind an org chart's people (contacts, their activity figures), pipelined.
pub(crate) async fn people_reads(
    conn: &Conn,
    tenant: TenantId,
    account: AccountKey,
) -> ApiResult<Vec<q::ContactWithActivity>> {
    Ok(q::active_with_activity(conn, tenant, account).await?)
}

/// The people of an org chart from its contacts with their activity statistics.
pub(crate) fn people_of(rows: Vec<q::ContactWithActivity>) -> ApiResult<Vec<(Contact, Person)>> {
    rows.into_iter()
        .map(|r| {
            let mut p = person_of(&r.contact)?;
            p.last_contacted_at = r.last_contacted_at;
            Ok((r.contact, p))
        })
        .collect()
}

/// The names of the account's contacts, archived ones included (for texts about the record).
pub(crate) async fn names_in(
    conn: &mut Conn,
    tenant: TenantId,
    account_id: Uuid,
) -> ApiResult<HashMap<Uuid, String>> {
    let all = ContactFilter {
        include_archived: true,
        external_ref: None,
    };
    Ok(q::list(
        conn,
        tenant,
        account_id,
        &all,
        &Keyset::After(None),
        i64::MAX,
    )
    .await?
    .into_iter()
    .map(|c| (c.id, c.name))
    .collect())
}

/// The org chart of an account: the tree and its coverage.
pub async fn org_chart(
    conn: &mut Conn,
    who: &Principal,
    account_id: Uuid,
) -> ApiResult<(Vec<OrgNode>, Coverage)> {
    // Three reads sent at once (pipelined on the one connection).
    let conn: &Conn = conn;
    let (account, rows, settings_row) = futures_util::try_join!(
        Account::find(conn, who.tenant, account_id).err_into::<ApiError>(),
        people_reads(conn, who.tenant, AccountKey::Id(account_id)),
        crate::db::surveys::settings(conn, who.tenant).err_into(),
    )?;
    account.ok_or_else(|| crate::service::not_found(Noun::Account))?;
    let people: Vec<Person> = people_of(rows)?.into_iter().map(|(_, p)| p).collect();
    let recency = Recency {
        now: Utc::now(),
        stale_days: i64::from(settings::values_of(settings_row.as_ref()).stale_contact_days),
    };
    Ok((
        org_chart::build_tree(&people),
        org_chart::coverage_with(&people, Some(recency)),
    ))
}

/// The tenant's contacts in id order after `after` (of one account when given), without
/// activity figures: a page of the export.
pub async fn export_page(
    conn: &mut Conn,
    who: &Principal,
    account: Option<Uuid>,
    include_archived: bool,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<ContactView>> {
    let rows = q::page(conn, who.tenant, account, include_archived, after, limit).await?;
    rows.into_iter().map(|c| view(c, None)).collect()
}
