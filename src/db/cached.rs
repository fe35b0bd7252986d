//! Prepared once per connection: statements whose SQL text diesel will not cache by itself.
//!
//! diesel caches a prepared statement only when it can prove the SQL takes a bounded number of
//! shapes; it gives up on every `UPDATE`, every `INSERT` and every `sql_query`. Those are then
//! parsed and planned again on every call, which costs PostgreSQL a second round trip (prepare,
//! then execute) per statement. `cached(query)` tells the connection the statement's text is one
//! of a few shapes, so it is prepared once and then found by its text.
//!
//! Only for statements whose SQL is fixed, or varies in a bounded way (a one-row insert whose
//! optional columns are `DEFAULT` or a parameter): never for an `IN` list, a batch insert of a
//! variable number of rows, a changeset of optional fields, or text built from input.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::QueryResult;

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(Q);

/// Marks `query` as safe to keep prepared by its SQL text.
pub fn cached<Q>(query: Q) -> Cached<Q> {
    Cached(query)
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No type id: the cache key is the SQL text (and the parameter types), never the type.
impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}
