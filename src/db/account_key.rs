//! An account named by its id, or as the account of one of its opportunities.
//!
//! Reads about an opportunity's account (its contacts, their activity figures, its latest
//! survey) need the account's id, which is in the opportunity's row. Naming the account through
//! the opportunity (`account_id = (SELECT account_id FROM opportunities WHERE …)`) lets those
//! reads go out in the same batch as the opportunity's own read, one round trip instead of two.
//! An opportunity never changes its account, so the sub-select and the opportunity's row agree.

use diesel::expression::ValidGrouping;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types;
use diesel::QueryResult;
use uuid::Uuid;

use crate::domain::ids::TenantId;

/// How a query names the account it reads about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKey {
    /// The account with this id.
    Id(Uuid),
    /// The account of the opportunity with this id (none when the tenant has no such
    /// opportunity: the read then finds nothing).
    OfOpportunity(Uuid),
}

impl AccountKey {
    /// The account's id as an SQL expression, within `tenant`.
    pub(crate) fn expr(self, tenant: TenantId) -> AccountIdExpr {
        AccountIdExpr {
            tenant: tenant.get(),
            key: self,
        }
    }

    /// The account's id as SQL text for `sql_query`, where `$tenant` and `$key` are the numbers
    /// of the parameters bound to the tenant and to this key's id.
    pub(crate) fn sql(self, tenant: usize, key: usize) -> String {
        match self {
            AccountKey::Id(_) => format!("${key}"),
            AccountKey::OfOpportunity(_) => format!(
                "(SELECT account_id FROM opportunities WHERE tenant_id = ${tenant} AND id = ${key})"
            ),
        }
    }

    /// The id bound for this key: the account's or the opportunity's.
    pub(crate) fn id(self) -> Uuid {
        match self {
            AccountKey::Id(id) | AccountKey::OfOpportunity(id) => id,
        }
    }
}

/// `AccountKey` as a diesel expression of type `uuid` (compare a column with it).
#[derive(Debug, Clone, Copy)]
pub struct AccountIdExpr {
    tenant: Uuid,
    key: AccountKey,
}

impl Expression for AccountIdExpr {
    type SqlType = sql_types::Uuid;
}

impl<QS> AppearsOnTable<QS> for AccountIdExpr {}

impl<QS> SelectableExpression<QS> for AccountIdExpr {}

impl<GB> ValidGrouping<GB> for AccountIdExpr {
    type IsAggregate = is_aggregate::Never;
}

/// Two shapes of SQL: the statement cache keys them by their text.
impl QueryId for AccountIdExpr {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for AccountIdExpr {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match &self.key {
            AccountKey::Id(id) => out.push_bind_param::<sql_types::Uuid, _>(id),
            AccountKey::OfOpportunity(id) => {
                out.push_sql("(SELECT account_id FROM opportunities WHERE tenant_id = ");
                out.push_bind_param::<sql_types::Uuid, _>(&self.tenant)?;
                out.push_sql(" AND id = ");
                out.push_bind_param::<sql_types::Uuid, _>(id)?;
                out.push_sql(")");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::schema::contacts;
    use diesel::prelude::*;

    fn sql_of(key: AccountKey) -> String {
        let tenant = TenantId::new(Uuid::nil());
        let q = contacts::table
            .filter(contacts::account_id.eq(key.expr(tenant)))
            .select(contacts::id);
        diesel::debug_query::<Pg, _>(&q).to_string()
    }

    #[test]
    fn an_id_is_a_parameter_and_an_opportunity_a_sub_select() {
        let by_id = sql_of(AccountKey::Id(Uuid::nil()));
        assert!(
            by_id.contains("\"contacts\".\"account_id\" = $1"),
            "{by_id}"
        );
        let by_opp = sql_of(AccountKey::OfOpportunity(Uuid::nil()));
        assert!(
            by_opp.contains(
                "\"contacts\".\"account_id\" = (SELECT account_id FROM opportunities \
                 WHERE tenant_id = $1 AND id = $2)"
            ),
            "{by_opp}"
        );
        assert_eq!(AccountKey::Id(Uuid::nil()).sql(1, 2), "$2");
        assert_eq!(
            AccountKey::OfOpportunity(Uuid::nil()).sql(1, 2),
            "(SELECT account_id FROM opportunities WHERE tenant_id = $1 AND id = $2)"
        );
    }
}
