//! Accounts: create, read, list, change, archive/restore.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::db::accounts::{self as q, Account, AccountChanges, AccountFilter, NewAccount};
use crate::db::table::VersionedTable;
use crate::domain::event::Lifecycle;
use crate::domain::external_ref::{including, ExternalRef};
use crate::domain::ids::TenantId;
use crate::domain::texts::Noun;
use crate::domain::texts::{self, Refusal};
use crate::domain::validate::{Checker, Code};
use crate::domain::SizeBand;
use crate::error::{ApiError, ApiResult};
use crate::service::archive::{self, Archivable, Guarded};
use crate::service::batch::{self, Created, Prepared};
use crate::service::events::{self, Changes};
use crate::service::external_refs::{self, Kind, Upserted};
use crate::service::input::{double_option, Tag};
use crate::service::unchanged::{publish_or_keep, settle_changed, Step};
use crate::service::{not_found, Conn, Keyset, Precondition, Principal};

/// An account as created (`POST`), or written whole by reference (`PUT …/by-ref/…`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// 1-200 characters.
    #[schema(example = "华东电力设计院", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(example = "energy", max_length = 100)]
    pub industry: Option<String>,
    #[schema(example = "华东", max_length = 100)]
    pub region: Option<String>,
    pub size_band: Option<SizeBand>,
    /// An http(s) URL.
    #[schema(
        max_length = 500,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(https?://[^\s\x00-\x1F\x7F-\x9F]+)?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub website: Option<String>,
    /// Up to 50 tags of 1-50 characters; duplicates are dropped.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<Tag>)]
    pub tags: Vec<String>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    /// Defaults to the caller (a write by reference keeps the current owner). Only managers and
    /// admins may name someone else.
    #[schema(min_length = 1, max_length = 200)]
    pub owner: Option<String>,
    /// References of other systems, up to 20, each unique in the tenant (409
    /// `external_ref_taken`). A write by reference keeps the current ones when this is left out,
    /// and always keeps the reference of its path.
    #[schema(max_items = 20)]
    pub external_refs: Option<Vec<ExternalRef>>,
}

/// A JSON merge patch (RFC 7396) of an account: absent members stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAccount {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<SizeBand>)]
    pub size_band: Option<Option<SizeBand>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(https?://[^\s\x00-\x1F\x7F-\x9F]+)?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$")]
    pub website: Option<Option<String>>,
    /// Replaces the whole list; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<Tag>>, max_items = 50)]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub notes: Option<Option<String>>,
    /// Managers and admins only.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub owner: Option<Option<String>>,
    /// Replaces the whole list; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<ExternalRef>>, max_items = 20)]
    pub external_refs: Option<Option<Vec<ExternalRef>>>,
}

/// Filters of the account list (as given; checked here).
#[derive(Debug, Default)]
pub struct ListAccounts {
    pub q: Option<String>,
    pub owner: Option<String>,
    pub industry: Option<String>,
    pub tag: Option<String>,
    pub external_ref: Option<String>,
    pub include_archived: bool,
}

const KIND: Kind = Kind::Account;

events::published!(Account, Account, AccountView, view_in, "id" => id);

async fn view_in(_: &mut Conn, _: TenantId, row: Account) -> ApiResult<AccountView> {
    view(row)
}

impl Archivable for Account {
    const NAME: Noun = Noun::Account;

    async fn lock(conn: &mut Conn, tenant: TenantId, id: Uuid) -> ApiResult<Option<Guarded<Self>>> {
        Ok(Account::find_for_update(conn, tenant, id)
            .await?
            .map(guarded))
    }

    archive::row_state!();
}

/// A locked account, for the rules of a write (`archive::check_for_write`).
pub(crate) fn guarded(a: Account) -> Guarded<Account> {
    Guarded {
        owner: a.owner.clone(),
        parent: None,
        locked: a,
    }
}

/// A customer account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountDto)]
pub struct AccountView {
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
    /// References of other systems (the CRM of record's ids).
    pub external_refs: Vec<ExternalRef>,
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

/// The view of a stored account.
fn view(a: Account) -> ApiResult<AccountView> {
    let size_band = db::optional_code("accounts.size_band of", a.id, a.size_band.as_deref())?;
    Ok(AccountView {
        id: a.id,
        name: a.name,
        industry: a.industry,
        region: a.region,
        size_band,
        website: a.website,
        tags: a.tags.into_iter().flatten().collect(),
        notes: a.notes,
        owner: a.owner,
        external_refs: external_refs::of_row("accounts.external_refs of", a.id, &a.external_refs)?,
        created_by: a.created_by,
        created_at: a.created_at,
        updated_at: a.updated_at,
        archived_at: a.archived_at,
        version: a.version,
    })
}

/// Locks the account for a write to it or to one of its children: the caller may write it,
/// and it is active. In the caller's transaction.
pub(crate) async fn lock_writable_in(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
) -> ApiResult<Account> {
    archive::lock_for_write::<Account>(conn, who, id, &Precondition::None).await
}

/// The account, or 404.
pub(crate) async fn find_in(conn: &mut Conn, tenant: TenantId, id: Uuid) -> ApiResult<Account> {
    Account::find(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(Noun::Account))
}

fn forbid_other_owner(who: &Principal, owner: &str, current: &str) -> ApiResult<()> {
    if owner != current && !who.writes_all() {
        return Err(ApiError::Forbidden(texts::forbidden(&Refusal::OtherOwner)));
    }
    Ok(())
}

/// The row a new account is: the checks of a create (422 naming the fields; 403 for another
/// owner than the caller, unless a manager or admin).
fn prepare(who: &Principal, b: &CreateAccount, refs: &[ExternalRef]) -> ApiResult<NewAccount> {
    who.require_create()?;
    let mut c = Checker::new();
    let name = c.name("name", &b.name).into_string();
    let industry = c.optional_text("industry", b.industry.as_deref(), 100);
    let region = c.optional_text("region", b.region.as_deref(), 100);
    let website = c.optional_url("website", b.website.as_deref());
    let tags = c.tags("tags", &b.tags);
    let notes = c.optional_text("notes", b.notes.as_deref(), 10_000);
    let refs = external_refs::check(&mut c, "external_refs", refs);
    let owner = match &b.owner {
        Some(o) => c.required_text("owner", o, 200),
        None => who.sub.clone(),
    };
    c.finish()?;
    forbid_other_owner(who, &owner, &who.sub)?;
    Ok(NewAccount {
        id: Uuid::now_v7(),
        tenant_id: who.tenant.get(),
        name,
        industry,
        region,
        size_band: b.size_band.map(|s| s.as_str().to_string()),
        website,
        tags: tags.into_iter().map(Some).collect(),
        notes,
        owner,
        created_by: who.sub.clone(),
        external_refs: refs,
    })
}

pub async fn create(conn: &mut Conn, who: &Principal, b: CreateAccount) -> ApiResult<AccountView> {
    let new = prepare(who, &b, b.external_refs.as_deref().unwrap_or_default())?;
    let refs = new.external_refs.clone();
    let created = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let row = Account::insert(conn, new).await?;
            events::lifecycle(conn, who, &row, Lifecycle::Created).await?;
            view(row)
        })
        .await;
    external_refs::name_holder(
        conn,
        who.tenant,
        KIND,
        "external_refs",
        &refs,
        None,
        created,
    )
    .await
}

/// Creates the accounts of `bodies` (each with the reference it is known by, which no resource
/// holds yet) in one statement with their events: each body's view or the 4xx of a create.
/// `None` when the database refused the batch (a reference another resource holds): nothing
/// of it is stored.
pub async fn create_all(
    conn: &mut Conn,
    who: &Principal,
    bodies: &[(&ExternalRef, &CreateAccount)],
) -> ApiResult<Created<AccountView>> {
    let mut prepared = Prepared::with_capacity(bodies.len());
    for (reference, b) in bodies {
        let refs = including(b.external_refs.clone().unwrap_or_default(), reference);
        prepared.push(prepare(who, b, &refs).map(|new| (new.id, new)));
    }
    batch::insert::<Account, _>(conn, who, prepared, view, |a| a.id).await
}

pub async fn get(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<AccountView> {
    view(find_in(conn, who.tenant, id).await?)
}

pub async fn list(
    conn: &mut Conn,
    who: &Principal,
    f: ListAccounts,
    keyset: Keyset<Uuid>,
    limit: i64,
) -> ApiResult<Vec<AccountView>> {
    let mut c = Checker::query();
    let filter = AccountFilter {
        q: c.optional_text("q", f.q.as_deref(), 200),
        owner: c.optional_text("owner", f.owner.as_deref(), 200),
        industry: c.optional_text("industry", f.industry.as_deref(), 100),
        tag: c.optional_text("tag", f.tag.as_deref(), 50),
        external_ref: external_refs::filter(&mut c, f.external_ref.as_deref()),
        include_archived: f.include_archived,
    };
    c.finish()?;
    let rows = q::list(conn, who.tenant, &filter, &keyset, limit).await?;
    rows.into_iter().map(view).collect()
}

fn changes(p: &PatchAccount) -> ApiResult<AccountChanges> {
    let mut c = Checker::new();
    let mut changes = AccountChanges::default();
    match &p.name {
        Some(Some(n)) => changes.name = Some(c.name("name", n).into_string()),
        Some(None) => c.add("name", Code::Required),
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
        Some(Some(o)) => changes.owner = Some(c.required_text("owner", o, 200)),
        Some(None) => c.add("owner", Code::Required),
        None => {}
    }
    if let Some(v) = &p.external_refs {
        let refs = v.as_deref().unwrap_or_default();
        changes.external_refs = Some(external_refs::check(&mut c, "external_refs", refs));
    }
    c.finish()?;
    Ok(changes)
}

pub async fn update(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    patch: PatchAccount,
) -> ApiResult<AccountView> {
    Ok(write(conn, who, id, pre, patch).await?.0)
}

/// `update`, telling whether it changed anything (a write that changes nothing leaves the
/// resource as it was).
pub(crate) async fn write(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
    patch: PatchAccount,
) -> ApiResult<(AccountView, bool)> {
    let changes = changes(&patch)?;
    let refs = changes.external_refs.clone().unwrap_or_default();
    let written = conn
        .transaction::<_, Step<AccountView>, _>(async |conn| {
            let current = archive::lock_for_write::<Account>(conn, who, id, pre).await?;
            if let Some(owner) = &changes.owner {
                forbid_other_owner(who, owner, &current.owner)?;
            }
            let row = Account::update(conn, who.tenant, id, changes).await?;
            let (before, after) = (view(current)?, view(row.clone())?);
            let changes = Changes::of(&before, events::changed_fields(&before, &after)?)?;
            publish_or_keep(conn, who, &row, changes, before).await?;
            Ok(after)
        })
        .await;
    let written = settle_changed(written);
    external_refs::name_holder(
        conn,
        who.tenant,
        KIND,
        "external_refs",
        &refs,
        Some(id),
        written,
    )
    .await
}

/// Writes the account known by `reference` whole (`PUT`): creates it, or replaces what `b`
/// gives (left-out members are cleared, except `owner` and `external_refs`, which stay).
pub async fn upsert(
    conn: &mut Conn,
    who: &Principal,
    reference: ExternalRef,
    pre: &Precondition,
    mut b: CreateAccount,
) -> ApiResult<Upserted<AccountView>> {
    let existing = external_refs::target(conn, who.tenant, KIND, &reference, pre).await?;
    b.external_refs = b
        .external_refs
        .map(|refs| external_refs::with_path(refs, &reference, existing));
    let id = match existing {
        Some(id) => id,
        None => {
            let refs = Some(including(
                b.external_refs.take().unwrap_or_default(),
                &reference,
            ));
            let retry = replacing(&b, refs.clone());
            let created = create(
                conn,
                who,
                CreateAccount {
                    external_refs: refs,
                    ..b
                },
            )
            .await;
            if !external_refs::lost_race(&created, &reference) {
                return Upserted::created(created);
            }
            match external_refs::holder(conn, who.tenant, KIND, &reference).await? {
                Some(id) => return Upserted::updated(write(conn, who, id, pre, retry).await),
                None => return Upserted::created(created),
            }
        }
    };
    let refs = b.external_refs.take();
    Upserted::updated(write(conn, who, id, pre, replacing(&b, refs)).await)
}

/// The merge patch that makes an account what `b` says (a `PUT`).
fn replacing(b: &CreateAccount, refs: Option<Vec<ExternalRef>>) -> PatchAccount {
    PatchAccount {
        name: Some(Some(b.name.clone())),
        industry: Some(b.industry.clone()),
        region: Some(b.region.clone()),
        size_band: Some(b.size_band),
        website: Some(b.website.clone()),
        tags: Some(Some(b.tags.clone())),
        notes: Some(b.notes.clone()),
        owner: b.owner.clone().map(Some),
        external_refs: refs.map(Some),
    }
}

pub async fn archive(
    conn: &mut Conn,
    who: &Principal,
    id: Uuid,
    pre: &Precondition,
) -> ApiResult<()> {
    archive::set_archived::<Account>(conn, who, id, pre, true).await?;
    Ok(())
}

pub async fn restore(conn: &mut Conn, who: &Principal, id: Uuid) -> ApiResult<AccountView> {
    view(archive::set_archived::<Account>(conn, who, id, &Precondition::None, false).await?)
}
