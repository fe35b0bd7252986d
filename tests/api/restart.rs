//! PostgreSQL restarts under load: while it is down the service answers 503 with
//! `Retry-After`, within 2 s of its return it answers 200 again (pooled connections broken by
//! the restart are dropped, not handed out), and no acknowledged write is lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use buyerpath::db::embedded_pg::{EmbeddedPostgres, StartOptions};
use serde_json::json;

use crate::common::{config_with, TestApp};

#[actix_web::test]
async fn a_restart_under_load_is_503_then_200_and_loses_no_acknowledged_write() {
    let dir = tempfile::Builder::new()
        .prefix("bp-restart-")
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let opts = StartOptions {
        ephemeral: false,
        remove_dir_on_stop: false,
    };
    let pg = Arc::new(EmbeddedPostgres::start(&dir, "restart", &opts).unwrap());
    let url = pg.url("restart");
    buyerpath::db::migrate::run_pending(&url).unwrap();
    let config = config_with(&[
        ("DATABASE_URL", url.as_str()),
        ("BUYERPATH_DB_POOL_SIZE", "8"),
        ("BUYERPATH_DB_POOL_TIMEOUT_MS", "300"),
        ("BUYERPATH_DB_STATEMENT_TIMEOUT_MS", "1000"),
        ("BUYERPATH_RATE_LIMIT_USER_PER_MINUTE", "0"),
        ("BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE", "0"),
    ]);
    let keys = buyerpath::server::jwt_keys(&config).unwrap().0;
    let app = Arc::new(TestApp::spawn_config(config, keys, &url).await);
    let admin = app.admin();

    // Writers: four loops creating accounts; every acknowledged (201) name is remembered.
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let statuses = Arc::new(Mutex::new(Vec::<(u16, bool)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (app, admin, ack, st, stop) = (
            app.clone(),
            admin.clone(),
            acknowledged.clone(),
            statuses.clone(),
            stop.clone(),
        );
        writers.push(actix_web::rt::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                i += 1;
                let name = format!("w{w}-{i}");
                let r = app
                    .post("/v1/accounts", &admin, json!({ "name": name }))
                    .await;
                st.lock()
                    .unwrap()
                    .push((r.status, r.header("retry-after").is_some()));
                if r.status == 201 {
                    ack.lock().unwrap().insert(name);
                }
                if r.status != 201 {
                    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let before_restart = acknowledged.lock().unwrap().len();
    assert!(before_restart > 10, "writes go through before the restart");

    // Down: 503 with Retry-After, never 500.
    let stopping = pg.clone();
    tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .unwrap()
        .unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let down: Vec<(u16, bool)> = std::mem::take(&mut *statuses.lock().unwrap());
    let unavailable = down.iter().filter(|(s, _)| *s == 503).count();
    assert!(unavailable > 0, "{down:?}");
    assert!(
        down.iter().all(|(s, ra)| *s == 201 || (*s == 503 && *ra)),
        "only 201 (before the stop) or 503 with Retry-After while down: {down:?}"
    );

    // Back: 200 within 2 s.
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir, "restart", &opts))
        .await
        .unwrap()
        .unwrap();
    let back = Instant::now();
    loop {
        let r = app.get("/v1/accounts?limit=1", &admin).await;
        if r.status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "still {} after {:?} with PostgreSQL back",
            r.status,
            back.elapsed()
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let after = statuses.lock().unwrap().clone();
    assert!(
        after.iter().all(|(s, _)| *s == 201 || *s == 503),
        "no other status around the return: {after:?}"
    );

    // Every acknowledged write is there.
    let mut stored = HashSet::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(&format!("/v1/accounts?limit=200&cursor={cursor}"), &admin)
            .await;
        for a in r.json["items"].as_array().unwrap() {
            stored.insert(a["name"].as_str().unwrap().to_string());
        }
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let ack = acknowledged.lock().unwrap();
    assert!(
        ack.len() > before_restart,
        "writes resume after the restart"
    );
    let lost: Vec<&String> = ack.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    pg.stop().unwrap();
    let _ = std::fs::remove_dir_all(pg.dir());
}
