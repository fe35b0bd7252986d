//! One trait for the tenant-scoped, id-keyed, versioned tables (in the spirit of Lemmy's
//! `Crud`): `find`, `find_for_update`, `insert`, `update` and, for archivable tables,
//! `set_archived` are written once here, as real functions, over what each table states in its
//! `impl` (its row types, and the filter that finds one row of a tenant).
//!
//! A table implements [`VersionedTable`] in its query module (`db/accounts.rs`: `impl
//! VersionedTable for Account`), and [`ArchivableTable`] when it has `archived_at`; callers write
//! `Account::find(conn, tenant, id)`. `find` and `find_for_update` are prepared once per
//! connection (diesel keeps them by type), `set_archived` through `db::cached` (its text is
//! fixed); `insert` and `update` are sent as diesel builds them (their text follows the values).

use std::future::Future;

use chrono::{DateTime, Utc};
use diesel::associations::HasTable;
use diesel::dsl;
use diesel::expression::{is_aggregate, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{
    AsChangeset, AsQuery, AstPass, InsertStatement, IntoUpdateTarget, Query, QueryFragment,
    QueryId, ReturningClause, UpdateStatement,
};
use diesel::query_dsl::methods::SelectDsl;
use diesel_async::methods::LoadQuery;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::{cached, Cached};
use crate::domain::ids::TenantId;

/// `SELECT <row> … WHERE <key>`.
pub type SelectRow<T> = dsl::Select<<T as VersionedTable>::ByKey, dsl::AsSelect<T, Pg>>;

/// A tenant-scoped, id-keyed table whose rows carry `version` and `updated_at`; `Self` is its
/// row.
pub trait VersionedTable:
    Selectable<
        Pg,
        SelectExpression: QueryId
                              + ValidGrouping<(), IsAggregate = is_aggregate::No>
                              + SelectableExpression<Self::Table>,
    > + Sized
    + Send
    + 'static
{
    /// The table.
    type Table: Table + QuerySource + Default;
    /// How one row is named: its id, or `(parent id, id)`.
    type Key: Copy + Send + Sync;
    /// The type of `by_key`'s filter.
    type ByKey: SelectDsl<dsl::AsSelect<Self, Pg>>
        + IntoUpdateTarget
        + HasTable<Table = Self::Table>
        + Send;
    /// `version = version + 1, updated_at = now()`: what every change of a row also sets.
    type Bump;

    /// The filter that finds the row `key` of `tenant`: `tenant_id = $1 AND id = $2` (and its
    /// parent's id where the key has one).
    fn by_key(tenant: TenantId, key: Self::Key) -> Self::ByKey;

    /// See [`VersionedTable::Bump`].
    fn bump() -> Self::Bump;

    /// The row, or `None`. Takes a shared connection: can be pipelined with other reads.
    fn find(
        mut conn: &AsyncPgConnection,
        tenant: TenantId,
        key: Self::Key,
    ) -> impl Future<Output = QueryResult<Option<Self>>> + Send
    where
        for<'a> SelectRow<Self>: LoadQuery<'static, &'a AsyncPgConnection, Self> + Send,
    {
        async move {
            Self::by_key(tenant, key)
                .select(Self::as_select())
                .get_result(&mut conn)
                .await
                .optional()
        }
    }

    /// The row, locked until the transaction ends (`FOR UPDATE`), or `None`.
    fn find_for_update(
        mut conn: &AsyncPgConnection,
        tenant: TenantId,
        key: Self::Key,
    ) -> impl Future<Output = QueryResult<Option<Self>>> + Send
    where
        for<'a> ForUpdate<SelectRow<Self>>: LoadQuery<'static, &'a AsyncPgConnection, Self> + Send,
    {
        async move {
            ForUpdate(Self::by_key(tenant, key).select(Self::as_select()))
                .get_result(&mut conn)
                .await
                .optional()
        }
    }

    /// Inserts a new row and returns it as stored.
    fn insert<N>(
        conn: &mut AsyncPgConnection,
        new: N,
    ) -> impl Future<Output = QueryResult<Self>> + Send
    where
        N: Insertable<Self::Table> + Send,
        InsertStatement<Self::Table, N::Values>: Send,
        InsertRow<Self, N>: Query + LoadQuery<'static, AsyncPgConnection, Self> + Send + 'static,
    {
        async move {
            diesel::insert_into(Self::Table::default())
                .values(new)
                .returning(Self::as_returning())
                .get_result(conn)
                .await
        }
    }

    /// Inserts new rows in one statement and returns them as stored (callers match them by
    /// key: the order is not promised).
    fn insert_all<N>(
        conn: &mut AsyncPgConnection,
        new: Vec<N>,
    ) -> impl Future<Output = QueryResult<Vec<Self>>> + Send
    where
        Vec<N>: Insertable<Self::Table> + Send,
        InsertStatement<Self::Table, <Vec<N> as Insertable<Self::Table>>::Values>: Send,
        InsertRow<Self, Vec<N>>:
            Query + LoadQuery<'static, AsyncPgConnection, Self> + Send + 'static,
    {
        async move {
            if new.is_empty() {
                return Ok(Vec::new());
            }
            diesel::insert_into(Self::Table::default())
                .values(new)
                .returning(Self::as_returning())
                .get_results(conn)
                .await
        }
    }

    /// Applies `changes` (a changeset: `None` leaves a column alone), bumps the version and
    /// returns the row as stored.
    fn update<C>(
        conn: &mut AsyncPgConnection,
        tenant: TenantId,
        key: Self::Key,
        changes: C,
    ) -> impl Future<Output = QueryResult<Self>> + Send
    where
        C: Send,
        (C, Self::Bump): AsChangeset<Target = Self::Table>,
        UpdateStatement<Self::Table, Where<Self>, Changeset<Self, C>>: AsQuery,
        UpdateRow<Self, C>: LoadQuery<'static, AsyncPgConnection, Self> + Send + 'static,
    {
        async move {
            update_statement::<Self, C>(tenant, key, changes)
                .get_result(conn)
                .await
        }
    }
}

/// A table whose rows are archived instead of deleted (`archived_at`).
pub trait ArchivableTable: VersionedTable {
    /// `archived_at = $n`.
    type SetArchived;

    /// See [`ArchivableTable::SetArchived`].
    fn set_archived_at(at: Option<DateTime<Utc>>) -> Self::SetArchived;

    /// Archives (`archived = true`: `archived_at = now()`) or restores the row, bumping its
    /// version; returns it as stored.
    fn set_archived(
        conn: &mut AsyncPgConnection,
        tenant: TenantId,
        key: Self::Key,
        archived: bool,
    ) -> impl Future<Output = QueryResult<Self>> + Send
    where
        Self::SetArchived: Send,
        (Self::SetArchived, Self::Bump): AsChangeset<Target = Self::Table>,
        UpdateStatement<Self::Table, Where<Self>, Changeset<Self, Self::SetArchived>>: AsQuery,
        Cached<UpdateRow<Self, Self::SetArchived>>:
            LoadQuery<'static, AsyncPgConnection, Self> + Send + 'static,
    {
        let at = archived.then(Utc::now);
        async move {
            // One fixed text: kept prepared.
            cached(update_statement::<Self, _>(
                tenant,
                key,
                Self::set_archived_at(at),
            ))
            .get_result(conn)
            .await
        }
    }
}

/// `ArchivableTable::set_archived` for generic callers: the bounds of its statement are met
/// for every archivable table (this blanket `impl` states them once), so code generic over
/// tables needs only `R: SetArchived`.
pub trait SetArchived: ArchivableTable {
    fn set_archived_row(
        conn: &mut AsyncPgConnection,
        tenant: TenantId,
        key: Self::Key,
        archived: bool,
    ) -> impl Future<Output = QueryResult<Self>> + Send;
}

impl<T> SetArchived for T
where
    T: ArchivableTable,
    T::SetArchived: Send,
    (T::SetArchived, T::Bump): AsChangeset<Target = T::Table>,
    UpdateStatement<T::Table, Where<T>, Changeset<T, T::SetArchived>>: AsQuery,
    Cached<UpdateRow<T, T::SetArchived>>: LoadQuery<'static, AsyncPgConnection, T> + Send + 'static,
{
    fn set_archived_row(
        conn: &mut AsyncPgConnection,
        tenant: TenantId,
        key: T::Key,
        archived: bool,
    ) -> impl Future<Output = QueryResult<T>> + Send {
        T::set_archived(conn, tenant, key, archived)
    }
}

/// `VersionedTable::find` for generic callers (see [`SetArchived`]).
pub trait Find: VersionedTable {
    fn find_row(
        conn: &AsyncPgConnection,
        tenant: TenantId,
        key: Self::Key,
    ) -> impl Future<Output = QueryResult<Option<Self>>> + Send;
}

impl<T> Find for T
where
    T: VersionedTable,
    for<'a> SelectRow<T>: LoadQuery<'static, &'a AsyncPgConnection, T> + Send,
{
    fn find_row(
        conn: &AsyncPgConnection,
        tenant: TenantId,
        key: T::Key,
    ) -> impl Future<Output = QueryResult<Option<T>>> + Send {
        T::find(conn, tenant, key)
    }
}

/// `UPDATE … SET <changes>, version = version + 1, updated_at = now() WHERE <key> RETURNING
/// <row>`.
fn update_statement<T, C>(tenant: TenantId, key: T::Key, changes: C) -> UpdateRow<T, C>
where
    T: VersionedTable,
    (C, T::Bump): AsChangeset<Target = T::Table>,
    UpdateStatement<T::Table, Where<T>, Changeset<T, C>>: AsQuery,
{
    diesel::update(T::by_key(tenant, key))
        .set((changes, T::bump()))
        .returning(T::as_returning())
}

type Where<T> = <<T as VersionedTable>::ByKey as IntoUpdateTarget>::WhereClause;
type Changeset<T, C> = <(C, <T as VersionedTable>::Bump) as AsChangeset>::Changeset;

/// `INSERT … RETURNING <row>`.
pub type InsertRow<T, N> = dsl::Returning<
    dsl::Values<dsl::insert_into<<T as VersionedTable>::Table>, N>,
    dsl::AsSelect<T, Pg>,
>;

/// `UPDATE … SET <changes> WHERE <key> RETURNING <row>`.
pub type UpdateRow<T, C> = UpdateStatement<
    <T as VersionedTable>::Table,
    Where<T>,
    Changeset<T, C>,
    ReturningClause<dsl::AsSelect<T, Pg>>,
>;

/// `<select> FOR UPDATE`.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct ForUpdate<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for ForUpdate<Q> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass.reborrow())?;
        pass.push_sql(" FOR UPDATE");
        Ok(())
    }
}

impl<Q: Query> Query for ForUpdate<Q> {
    type SqlType = Q::SqlType;
}
