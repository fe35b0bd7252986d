//! New contacts written together (an import's chunk, `service::batch`): their accounts are
//! locked and checked once, their managers against the contacts of the batch and those already
//! there, with the rules of a single create.

use std::collections::HashMap;

use uuid::Uuid;

use super::by_ref::{creating, PutContact};
use super::view::view;
use super::{prepare, ContactView};
use crate::db::accounts::Account;
use crate::db::contacts::{Contact, NewContact};
use crate::domain::external_ref::{including, ExternalRef};
use crate::domain::validate::Code;
use crate::error::{ApiError, ApiResult};
use crate::service::batch::{self, Created, Prepared};
use crate::service::{accounts, archive, Conn, Precondition, Principal};

/// A new contact of a batch, known by `reference`.
pub struct NewByRef<'a> {
    /// Its id, chosen by the caller: later contacts of the batch can report to it.
    pub id: Uuid,
    pub reference: &'a ExternalRef,
    pub account: Uuid,
    /// Its manager: a contact already there, or one earlier in the batch.
    pub manager: Option<Uuid>,
    pub body: &'a PutContact,
}

/// Creates the contacts of `items` (references no resource holds yet) in one statement with
/// their events, in the caller's transaction (which keeps their accounts locked): each one's
/// view or the 4xx of a create. `None` when the database refused the batch: nothing of it is
/// stored.
pub async fn create_all(
    conn: &mut Conn,
    who: &Principal,
    items: &[NewByRef<'_>],
) -> ApiResult<Created<ContactView>> {
    let tenant = who.tenant;
    let mut account_ids: Vec<Uuid> = items.iter().map(|i| i.account).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let locked: HashMap<Uuid, Account> = crate::db::accounts::lock_all(conn, tenant, &account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let ours: HashMap<Uuid, Uuid> = items.iter().map(|i| (i.id, i.account)).collect();
    let outside: Vec<Uuid> = items
        .iter()
        .filter_map(|i| i.manager)
        .filter(|m| !ours.contains_key(m))
        .collect();
    let managers = crate::db::external_refs::contacts_of(conn, tenant, &outside).await?;
    let mut places: HashMap<Uuid, (Uuid, bool)> = managers
        .into_iter()
        .map(|(id, account, archived)| (id, (account, archived)))
        .collect();
    places.extend(ours.iter().map(|(id, account)| (*id, (*account, false))));
    let mut prepared = Prepared::with_capacity(items.len());
    for item in items {
        prepared.push(one(who, item, &locked, &places).map(|new| (new.id, new)));
    }
    batch::insert::<Contact, _>(conn, who, prepared, |c| view(c, None), |c| c.id).await
}

/// The row of one new contact, or why it is refused: its body's checks, then its account's,
/// then its manager's (`places`: each known contact's account and whether it is archived).
fn one(
    who: &Principal,
    item: &NewByRef<'_>,
    locked: &HashMap<Uuid, Account>,
    places: &HashMap<Uuid, (Uuid, bool)>,
) -> ApiResult<NewContact> {
    let refs = including(
        item.body.external_refs.clone().unwrap_or_default(),
        item.reference,
    );
    let body = creating(item.body, item.manager, Some(refs));
    let new = prepare(who, item.id, item.account, &body)?;
    let account = locked.get(&item.account).cloned().map(accounts::guarded);
    archive::check_for_write(who, account, &Precondition::None)?;
    if let Some(m) = item.manager {
        let code = match places.get(&m) {
            _ if m == item.id => Some(Code::Cycle),
            Some((account, _)) if *account != item.account => Some(Code::NotInAccount),
            None => Some(Code::NotInAccount),
            Some((_, true)) => Some(Code::Archived),
            Some((_, false)) => None,
        };
        if let Some(code) = code {
            return Err(ApiError::validation("reports_to", code));
        }
    }
    Ok(new)
}
