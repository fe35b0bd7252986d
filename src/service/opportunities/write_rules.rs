//! An opportunity's write rules: its lock (for edits, archiving, and a new assessment's mark)
//! with what the rules need, its owner and whether its account is archived.

use uuid::Uuid;

use crate::db::opportunities::{self as q, Opportunity};
use crate::db::table::VersionedTable;
use crate::db::{accounts as account_q, AccountKey};
use crate::domain::ids::TenantId;
use crate::domain::texts::Noun;
use crate::error::ApiResult;
use crate::service::archive::{self, Archivable, Guarded, Parent};
use crate::service::{Conn, Precondition, Principal};

impl Archivable for Opportunity {
    const NAME: Noun = Noun::Opportunity;

    async fn lock(conn: &mut Conn, tenant: TenantId, id: Uuid) -> ApiResult<Option<Guarded<Self>>> {
        let conn: &Conn = conn;
        guarded_by(
            conn,
            tenant,
            id,
            Opportunity::find_for_update(conn, tenant, id),
        )
        .await
    }

    archive::row_state!();
}

/// The opportunity `locking` reads and locks, with what its write rules need: its owner and
/// whether its account is archived (read in the same batch; a missing account counts as
/// archived).
async fn guarded_by(
    conn: &Conn,
    tenant: TenantId,
    id: Uuid,
    locking: impl std::future::Future<Output = diesel::QueryResult<Option<Opportunity>>>,
) -> ApiResult<Option<Guarded<Opportunity>>> {
    let (row, account_archived) = futures_util::try_join!(
        locking,
        account_q::archived(conn, tenant, AccountKey::OfOpportunity(id)),
    )?;
    Ok(row.map(|row| guarded(row, account_archived)))
}

/// The opportunity with what its write rules need (a missing account counts as archived).
fn guarded(row: Opportunity, account_archived: Option<bool>) -> Guarded<Opportunity> {
    Guarded {
        owner: row.owner.clone(),
        parent: Some(Parent {
            name: Noun::Account,
            archived: account_archived.unwrap_or(true),
        }),
        locked: row,
    }
}

/// Locks the opportunity for a new assessment by marking it assessed, under the write rules of
/// `archive::lock_for_write` (an assessment that fails rolls the mark back with it). A shared
/// connection: pipelined with the judgement's reads.
pub(crate) async fn mark_assessed_in(
    conn: &Conn,
    who: &Principal,
    id: Uuid,
) -> ApiResult<Opportunity> {
    let g = q::mark_assessed(conn, who.tenant, id)
        .await?
        .map(|(row, account_archived)| guarded(row, account_archived));
    archive::check_for_write(who, g, &Precondition::None)
}
