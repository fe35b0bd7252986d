//! One archive/restore mechanism for every archivable resource, and the one rule for writes:
//!
//! - an archived resource is read-only until restored (409);
//! - a resource whose parent (the account) is archived is read-only too: no write, no archive,
//!   no restore (409) until the parent is restored;
//! - archiving an archived resource, or restoring an active one, changes nothing.

use std::future::Future;

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::db::accounts::Account;
use crate::db::table::{Find, SetArchived, VersionedTable};
use crate::domain::texts::{self, Noun};

use crate::domain::event::Lifecycle;
use crate::domain::ids::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::service::events::{self, Published};
use crate::service::{not_found, Conn, Precondition, Principal};

/// A resource loaded for a write: the locked row, who owns it for authorisation, and whether
/// its parent is archived.
pub struct Guarded<R> {
    pub(crate) locked: R,
    pub(crate) owner: String,
    pub(crate) parent: Option<Parent>,
}

/// The parent of a resource, as far as the write rules care.
#[derive(Debug, Clone, Copy)]
pub struct Parent {
    pub name: Noun,
    pub archived: bool,
}

/// A resource that is archived instead of deleted.
pub trait Archivable: Published + SetArchived + Sized + Send {
    /// Its name in messages ("survey record").
    const NAME: Noun;

    /// Loads the row (locking what the write needs); `None` when not in the tenant.
    fn lock(
        conn: &mut Conn,
        tenant: TenantId,
        key: Self::Key,
    ) -> impl Future<Output = ApiResult<Option<Guarded<Self>>>> + Send;

    fn archived_at(&self) -> Option<DateTime<Utc>>;

    fn version(&self) -> i32;

    /// Derived state to refresh in the same transaction (e.g. the account's latest survey).
    fn after_change(
        &self,
        _conn: &mut Conn,
        _tenant: TenantId,
    ) -> impl Future<Output = ApiResult<()>> + Send {
        async { Ok(()) }
    }
}

/// Locks the account a row belongs to (every writer of an account's rows takes this lock
/// first, so a row read after it is current) and gives who owns it and whether it is archived.
pub(crate) async fn account_guard(
    conn: &mut Conn,
    tenant: TenantId,
    account_id: Uuid,
) -> ApiResult<(String, Parent)> {
    let account = Account::find_for_update(conn, tenant, account_id)
        .await?
        .ok_or_else(|| not_found(Noun::Account))?;
    let parent = Parent {
        name: Noun::Account,
        archived: account.archived_at.is_some(),
    };
    Ok((account.owner, parent))
}

/// 409 when `name` is archived.
pub fn ensure_active(name: Noun, archived_at: Option<DateTime<Utc>>) -> ApiResult<()> {
    match archived_at {
        Some(_) => Err(ApiError::Conflict(texts::archived(name))),
        None => Ok(()),
    }
}

/// 409 when the parent is archived.
pub fn ensure_parent_active(parent: Option<Parent>) -> ApiResult<()> {
    match parent {
        Some(p) if p.archived => ensure_active(p.name, Some(Utc::now())),
        _ => Ok(()),
    }
}

/// Loads `R` for any write by `who`: found in the tenant, owned by them (or they write all),
/// the precondition met, the parent active.
async fn lock_writable<R: Archivable>(
    conn: &mut Conn,
    who: &Principal,
    key: R::Key,
    pre: &Precondition,
) -> ApiResult<R> {
    let g = R::lock(conn, who.tenant, key).await?;
    check_writable(who, g, pre)
}

fn check_writable<R: Archivable>(
    who: &Principal,
    g: Option<Guarded<R>>,
    pre: &Precondition,
) -> ApiResult<R> {
    let g = g.ok_or_else(|| not_found(R::NAME))?;
    who.require_write_owned_by(&g.owner)?;
    pre.check(g.locked.version())?;
    ensure_parent_active(g.parent)?;
    Ok(g.locked)
}

/// Loads `R` for a change of its content: writable, and not archived itself.
pub async fn lock_for_write<R: Archivable>(
    conn: &mut Conn,
    who: &Principal,
    key: R::Key,
    pre: &Precondition,
) -> ApiResult<R> {
    let g = R::lock(conn, who.tenant, key).await?;
    check_for_write(who, g, pre)
}

/// The rules of `lock_for_write` for a row its caller loaded and locked itself.
pub fn check_for_write<R: Archivable>(
    who: &Principal,
    g: Option<Guarded<R>>,
    pre: &Precondition,
) -> ApiResult<R> {
    let row = check_writable(who, g, pre)?;
    ensure_active(R::NAME, row.archived_at())?;
    Ok(row)
}

/// Archives (`archived = true`) or restores `R`, in one transaction with its event.
pub async fn set_archived<R: Archivable>(
    conn: &mut Conn,
    who: &Principal,
    key: R::Key,
    pre: &Precondition,
    archived: bool,
) -> ApiResult<R> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = lock_writable::<R>(conn, who, key, pre).await?;
        if current.archived_at().is_some() == archived {
            return Ok(current);
        }
        let row = R::set_archived_row(conn, who.tenant, key, archived).await?;
        row.after_change(conn, who.tenant).await?;
        let what = if archived {
            Lifecycle::Archived
        } else {
            Lifecycle::Restored
        };
        events::lifecycle(conn, who, &row, what).await?;
        Ok(row)
    })
    .await
}

/// `archived_at` and `version` of row types that have both columns.
macro_rules! row_state {
    () => {
        fn archived_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
            self.archived_at
        }

        fn version(&self) -> i32 {
            self.version
        }
    };
}
pub(crate) use row_state;

/// `Archivable::lock` of a row that belongs to an account and is written under the account's
/// lock (`account_guard`): read, lock its account, read again (the version checked is then the
/// current one).
pub(crate) async fn lock_under_account<R>(
    conn: &mut Conn,
    tenant: TenantId,
    id: Uuid,
    account_of: fn(&R) -> Uuid,
) -> ApiResult<Option<Guarded<R>>>
where
    R: Archivable + Find + VersionedTable<Key = Uuid>,
{
    let Some(row) = R::find_row(conn, tenant, id).await? else {
        return Ok(None);
    };
    let (owner, parent) = account_guard(conn, tenant, account_of(&row)).await?;
    let row = R::find_row(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(R::NAME))?;
    Ok(Some(Guarded {
        locked: row,
        owner,
        parent: Some(parent),
    }))
}
