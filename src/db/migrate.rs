//! Embedded migrations, applied under a Postgres advisory lock so several replicas never race.
//!
//! diesel-async's own migration harness panics under actix's runtime, so migrations run through
//! `AsyncConnectionWrapper` on a plain thread of their own (which gets its own small runtime).

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::RunQueryDsl;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Key of the advisory lock held while migrating ("buyerpath" in ASCII, truncated to i64).
const MIGRATION_LOCK_KEY: i64 = 0x6275_7965_7270_6174;

/// Versions of all migrations embedded in this binary, oldest first.
pub fn embedded_versions() -> Vec<String> {
    let migrations: Vec<_> = MigrationSource::<Pg>::migrations(&MIGRATIONS).unwrap_or_default();
    let mut v: Vec<String> = migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    v.sort();
    v
}

/// Applies pending migrations; returns the versions it applied. Blocks the calling thread.
pub fn run_pending(url: &str) -> Result<Vec<String>, String> {
    let url = url.to_string();
    std::thread::spawn(move || run_pending_on_this_thread(&url))
        .join()
        .map_err(|_| "migration thread panicked".to_string())?
}

/// A blocking connection (TLS as `DATABASE_URL` says) and the runtime driving it, which must
/// outlive it.
type Blocking = (
    tokio::runtime::Runtime,
    AsyncConnectionWrapper<AsyncPgConnection>,
);

fn blocking_connection(url: &str) -> Result<Blocking, String> {
    let target = super::tls::target(url)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let conn = rt
        .block_on(super::tls::connect(&target))
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    Ok((rt, AsyncConnectionWrapper::from(conn)))
}

fn run_pending_on_this_thread(url: &str) -> Result<Vec<String>, String> {
    let (_rt, mut conn) = blocking_connection(url)?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)
        .map_err(|e| format!("cannot take the migration lock: {e}"))?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.iter().map(|v| v.to_string()).collect())
        .map_err(|e| format!("migration failed: {e}"));
    let unlock = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn);
    let applied = result?;
    unlock.map_err(|e| format!("cannot release the migration lock: {e}"))?;
    Ok(applied)
}

/// Creates `name` through a maintenance connection when it does not exist yet. Blocks.
pub fn ensure_database(maintenance_url: &str, name: &str) -> Result<(), String> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("invalid database name {name:?}"));
    }
    let url = maintenance_url.to_string();
    let name = name.to_string();
    std::thread::spawn(move || -> Result<(), String> {
        use diesel::sql_types::{BigInt, Text};
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let (_rt, mut conn) = blocking_connection(&url)?;
        let existing: Count =
            diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
                .bind::<Text, _>(&name)
                .get_result(&mut conn)
                .map_err(|e| e.to_string())?;
        if existing.n == 0 {
            diesel::sql_query(format!("CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
                .execute(&mut conn)
                .map_err(|e| format!("cannot create database {name}: {e}"))?;
        }
        Ok(())
    })
    .join()
    .map_err(|_| "database creation thread panicked".to_string())?
}
