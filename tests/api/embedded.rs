//! The embedded cluster starts from an empty data directory and is reusable across restarts.

use buyerpath::db::embedded_pg::{EmbeddedPostgres, StartOptions};
use diesel::{Connection, RunQueryDsl};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;

#[test]
fn embedded_cluster_from_an_empty_data_dir() {
    let dir = tempfile::Builder::new()
        .prefix("bp-embedded-")
        .tempdir_in("/tmp")
        .unwrap();
    let pgdir = dir.path().join("postgres");
    let pg = EmbeddedPostgres::start(
        &pgdir,
        "buyerpath",
        &StartOptions {
            ephemeral: true,
            remove_dir_on_stop: false,
        },
    )
    .expect("starts from an empty directory");
    let url = pg.url("buyerpath");
    assert!(url.contains("host=/"), "unix socket only: {url}");
    let applied = buyerpath::db::migrate::run_pending(&url).unwrap();
    assert!(!applied.is_empty());
    assert!(
        buyerpath::db::migrate::run_pending(&url)
            .unwrap()
            .is_empty(),
        "idempotent"
    );
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
    diesel::sql_query("INSERT INTO accounts (id, tenant_id, name, owner, created_by) VALUES (gen_random_uuid(), gen_random_uuid(), 'kept', 'x', 'x')")
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    // No TCP listener: listen_addresses is empty.
    let conf = std::fs::read_to_string(pgdir.join("pgdata/postgresql.auto.conf")).unwrap();
    assert!(conf.contains("listen_addresses = ''"));
    pg.stop().unwrap();
    assert!(
        !pgdir.join("pgdata/postmaster.pid").exists(),
        "stopped cleanly"
    );

    // Data is kept between runs.
    let pg = EmbeddedPostgres::start(&pgdir, "buyerpath", &StartOptions::default()).unwrap();
    let mut conn =
        AsyncConnectionWrapper::<AsyncPgConnection>::establish(&pg.url("buyerpath")).unwrap();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM accounts WHERE name = 'kept'")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(n.n, 1);
    drop(conn);
    pg.stop().unwrap();
}
