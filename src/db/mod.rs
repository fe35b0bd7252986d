//! Database access: the pool, migrations, the embedded cluster and one module of queries per
//! aggregate. Every query function takes the tenant first; a row of another tenant is not found.

/// The queries every tenant-scoped, id-keyed, versioned and archivable table shares: `find`,
/// `find_for_update` (locks the row until the transaction ends), `update` (applies a changeset,
/// bumps the version) and `set_archived` (archives or restores, bumps the version).
macro_rules! versioned_table {
    ($t:ident, $row:ty, $changes:ty) => {
        /// Takes a shared connection: can be pipelined with other reads.
        pub async fn find(
            mut conn: &diesel_async::AsyncPgConnection,
            tenant: $crate::domain::ids::TenantId,
            id: uuid::Uuid,
        ) -> diesel::QueryResult<Option<$row>> {
            $t::table
                .filter($t::tenant_id.eq(tenant.get()))
                .filter($t::id.eq(id))
                .select(<$row>::as_select())
                .first(&mut conn)
                .await
                .optional()
        }

        pub async fn find_for_update(
            mut conn: &diesel_async::AsyncPgConnection,
            tenant: $crate::domain::ids::TenantId,
            id: uuid::Uuid,
        ) -> diesel::QueryResult<Option<$row>> {
            $t::table
                .filter($t::tenant_id.eq(tenant.get()))
                .filter($t::id.eq(id))
                .select(<$row>::as_select())
                .for_update()
                .first(&mut conn)
                .await
                .optional()
        }

        pub async fn update(
            conn: &mut diesel_async::AsyncPgConnection,
            tenant: $crate::domain::ids::TenantId,
            id: uuid::Uuid,
            changes: $changes,
        ) -> diesel::QueryResult<$row> {
            diesel::update(
                $t::table
                    .filter($t::tenant_id.eq(tenant.get()))
                    .filter($t::id.eq(id)),
            )
            .set((
                changes,
                $t::version.eq($t::version + 1),
                $t::updated_at.eq(diesel::dsl::now),
            ))
            .returning(<$row>::as_returning())
            .get_result(conn)
            .await
        }

        pub async fn set_archived(
            conn: &mut diesel_async::AsyncPgConnection,
            tenant: $crate::domain::ids::TenantId,
            id: uuid::Uuid,
            archived: bool,
        ) -> diesel::QueryResult<$row> {
            let archived_at: Option<chrono::DateTime<chrono::Utc>> =
                archived.then(chrono::Utc::now);
            $crate::db::cached(
                diesel::update(
                    $t::table
                        .filter($t::tenant_id.eq(tenant.get()))
                        .filter($t::id.eq(id)),
                )
                .set((
                    $t::archived_at.eq(archived_at),
                    $t::version.eq($t::version + 1),
                    $t::updated_at.eq(diesel::dsl::now),
                ))
                .returning(<$row>::as_returning()),
            )
            .get_result(conn)
            .await
        }
    };
}
pub(crate) use versioned_table;

/// Where a page of a list starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyset<K> {
    /// The list's own order, after this key.
    After(Option<K>),
    /// Sync: rows changed at or after `since` (archived ones included), in `(updated_at, id)`
    /// order, after this key.
    Changed {
        since: chrono::DateTime<chrono::Utc>,
        after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
    },
}

impl<K> Keyset<K> {
    /// Whether archived rows are listed: always when syncing.
    pub fn with_archived(&self, asked: bool) -> bool {
        asked || matches!(self, Keyset::Changed { .. })
    }
}

/// Orders and starts a boxed query of table `$t` at `$ks` (a `&Keyset<Uuid>`): id order, or
/// `(updated_at, id)` order from `since` when syncing.
macro_rules! keyset {
    ($q:expr, $t:ident, $ks:expr) => {{
        let mut q = $q;
        match $ks {
            $crate::db::Keyset::After(after) => {
                q = q.order($t::id.asc());
                if let Some(a) = after {
                    q = q.filter($t::id.gt(*a));
                }
            }
            $crate::db::Keyset::Changed { since, after } => {
                q = $crate::db::changed_since!(q, $t, updated_at, since, after);
            }
        }
        q
    }};
}
pub(crate) use keyset;

/// `keyset!` for lists whose own order is a time, newest first: `(col DESC, id DESC)` after a
/// `(time, id)` cursor, or the sync order from `since`.
macro_rules! newest_first {
    ($q:expr, $t:ident, $col:ident, $ks:expr) => {{
        let mut q = $q;
        match $ks {
            $crate::db::Keyset::After(after) => {
                q = q.order(($t::$col.desc(), $t::id.desc()));
                if let Some((at, id)) = after {
                    q = q.filter($t::$col.lt(*at).or($t::$col.eq(*at).and($t::id.lt(*id))));
                }
            }
            $crate::db::Keyset::Changed { since, after } => {
                q = $crate::db::changed_since!(q, $t, updated_at, since, after);
            }
        }
        q
    }};
}
pub(crate) use newest_first;

/// The `Keyset::Changed` arm alone (for lists whose own order is not the id): `(column, id)`
/// order from `since`; `column` is `updated_at`, or the creation time of append-only rows.
macro_rules! changed_since {
    ($q:expr, $t:ident, $col:ident, $since:expr, $after:expr) => {{
        let mut q = $q
            .order(($t::$col.asc(), $t::id.asc()))
            .filter($t::$col.ge(*$since));
        if let Some((ts, id)) = $after {
            q = q.filter($t::$col.gt(*ts).or($t::$col.eq(*ts).and($t::id.gt(*id))));
        }
        q
    }};
}
pub(crate) use changed_since;

pub mod account_key;
pub mod accounts;
pub mod activities;
mod cached;
pub mod contacts;
pub mod documents;
pub mod embedded_pg;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod migrate;
pub mod opportunities;
pub mod playbook;
pub mod pool;
pub mod schema;
pub mod surveys;
pub mod timeline;
pub mod tls;
pub mod tx;
pub mod webhooks;

pub use account_key::AccountKey;
pub use cached::{cached, Cached};
pub use pool::{build_pool, Pool, PoolError, PoolSettings, PooledConn, ThreadPools};

use diesel::sql_types::Text;

use crate::domain::Vocabulary;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Every table of `schema.rs` (a test keeps the two in step), for naming constraint errors.
pub const TABLES: &[&str] = &[
    "accounts",
    "activities",
    "contacts",
    "event_clock",
    "event_dispatch",
    "events",
    "idempotency_keys",
    "opportunities",
    "playbook_versions",
    "stage_assessments",
    "stage_history",
    "survey_inventory_items",
    "survey_records",
    "tenant_settings",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
];

/// Reads the stored code of a closed vocabulary (the one mechanism for text enums read from
/// rows): an unknown code is an error naming the row and the column, never a default.
pub fn code<T: Vocabulary>(
    column: &'static str,
    row: impl std::fmt::Display,
    s: &str,
) -> Result<T, documents::DecodeError> {
    T::from_code(s)
        .ok_or_else(|| documents::DecodeError::new(column, row, format!("unknown code {s:?}")))
}

/// `code` for a nullable column.
pub fn optional_code<T: Vocabulary>(
    column: &'static str,
    row: impl std::fmt::Display,
    s: Option<&str>,
) -> Result<Option<T>, documents::DecodeError> {
    s.map(|s| code(column, row, s)).transpose()
}

/// Escapes `%`, `_` and `\` for a LIKE/ILIKE pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Versions recorded in diesel's migration table, for the readiness check.
pub async fn applied_migrations(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Vec<String>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let rows: Vec<Row> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_match_the_schema() {
        let schema = include_str!("schema.rs");
        let mut found: Vec<&str> = schema
            .split("diesel::table! {")
            .skip(1)
            .filter_map(|block| block.split_whitespace().next())
            .collect();
        found.sort();
        assert_eq!(found, super::TABLES);
    }

    #[test]
    fn like_escape_escapes_wildcards() {
        assert_eq!(super::like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(super::like_escape("华为"), "华为");
    }
}
