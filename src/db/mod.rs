//! Database access: the pool, migrations, the embedded cluster and one module of queries per
//! aggregate. Every query function takes the tenant first; a row of another tenant is not found.

pub mod account_key;
pub mod accounts;
pub mod activities;
mod cached;
pub mod contacts;
pub mod documents;
pub mod embedded_pg;
pub mod error;
pub mod events;
pub mod external_refs;
pub mod idempotency;
pub mod imports;
pub mod keyset;
pub mod migrate;
pub mod opportunities;
pub mod playbook;
pub mod pool;
pub mod schema;
pub mod surveys;
pub mod table;
pub mod timeline;
pub mod tls;
pub mod tx;
pub mod webhooks;

pub use account_key::AccountKey;
pub use cached::{cached, Cached};
pub use keyset::Keyset;
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
    "external_refs",
    "idempotency_keys",
    "import_file_parts",
    "import_jobs",
    "import_rows",
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

/// The references of other systems a row holds (`<system>:<id>` elements); an element of
/// another form is an error naming the row and the column.
pub fn external_refs_of(
    column: &'static str,
    row: impl std::fmt::Display,
    stored: &[Option<String>],
) -> Result<Vec<crate::domain::external_ref::ExternalRef>, documents::DecodeError> {
    crate::domain::external_ref::from_stored(stored).map_err(|bad| {
        documents::DecodeError::new(column, row, format!("not <system>:<id>: {bad}"))
    })
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
