//! Backup and restore as the README says: `pg_dump -Fc` of a populated database, `pg_restore`
//! into an empty one, and the service started on the copy reads the same data.

use std::process::{Command, Stdio};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use serde_json::{json, Value};

use crate::common::RunOk;
use crate::common::{TestApp, SECRET};

#[actix_web::test]
async fn a_dump_restored_into_an_empty_database_serves_the_same_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // The source cluster is ahead of a fresh one in transaction ids (as any cluster that has
    // worked for a while is): burn a few thousand before the
    // events are made, so the restore below must align positions.
    let source = crate::common::database_url();
    let mut src = AsyncPgConnection::establish(&source).await.unwrap();
    src.batch_execute(
        "CREATE TEMP TABLE burn (i int); \
         DO $$ BEGIN FOR i IN 1..3000 LOOP \
           BEGIN INSERT INTO burn VALUES (i); EXCEPTION WHEN others THEN NULL; END; \
         END LOOP; END $$;",
    )
    .await
    .unwrap();
    let acc = app.account(&admin, "华东电力设计院").await;
    let opp = app
        .post(
            &format!("/v1/accounts/{acc}/opportunities"),
            &admin,
            json!({"name": "数据中心扩容", "estimated_amount": "1200000.00", "currency": "CNY"}),
        )
        .await
        .id();
    let assessment = app
        .post(
            &format!("/v1/opportunities/{opp}/stage-assessments"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(assessment.status, 201, "{}", assessment.text);
    let survey = app
        .post(
            &format!("/v1/accounts/{acc}/survey-records"),
            &admin,
            json!({"surveyed_at": "2026-11-20T09:30:00Z", "surveyor": "rita", "sections": {}}),
        )
        .await;
    assert_eq!(survey.status, 201, "{}", survey.text);
    let paths = [
        format!("/v1/accounts/{acc}"),
        format!("/v1/opportunities/{opp}"),
        format!(
            "/v1/opportunities/{opp}/stage-assessments/{}",
            assessment.id()
        ),
        format!("/v1/survey-records/{}", survey.id()),
        "/v1/events".to_string(),
    ];
    let mut before: Vec<Value> = Vec::new();
    for p in &paths {
        before.push(app.get(p, &admin).await.json);
    }

    let log_cursor = before[4]["next_cursor"].as_str().unwrap().to_string();

    // Back up.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("buyerpath.dump");
    Command::new(crate::common::pg_tool("pg_dump"))
        .args([
            "--format=custom",
            "--no-owner",
            "--dbname",
            &source,
            "--file",
        ])
        .arg(&dump)
        .run_ok();

    // Restore into an empty database of a new cluster.
    let cluster_dir = tempfile::Builder::new()
        .prefix("bp-restore-")
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    std::fs::set_permissions(
        &cluster_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let cluster = buyerpath::db::embedded_pg::EmbeddedPostgres::start(
        &cluster_dir,
        "restored",
        &buyerpath::db::embedded_pg::StartOptions {
            ephemeral: true,
            remove_dir_on_stop: true,
        },
    )
    .unwrap();
    let target = cluster.url("restored");
    Command::new(crate::common::pg_tool("pg_restore"))
        .args(["--no-owner", "--exit-on-error", "--dbname", &target])
        .arg(&dump)
        .run_ok();

    // The service on the copy answers the same.
    let port = crate::common::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", &target)
        .env("BUYERPATH_JWT_SECRET", SECRET)
        .env("BUYERPATH_WEBHOOK_WORKER", "false")
        .env("BUYERPATH_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    // Ready: the restored database has its migrations recorded.
    crate::common::wait_ready(&client, &base).await;
    for (p, b) in paths.iter().zip(&before) {
        if p == "/v1/events" {
            continue;
        }
        let after: Value = client
            .get(format!("{base}{p}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(&after, b, "{p}");
    }
    // The log reads the same, and a change made after the restore follows it: a reader's
    // cursor from before the restore sees it.
    let get = |path: String| {
        let client = client.clone();
        let admin = admin.clone();
        async move {
            client
                .get(path)
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(get(format!("{base}/v1/events")).await, before[4]);
    let r = client
        .post(format!("{base}/v1/accounts"))
        .bearer_auth(&admin)
        .json(&json!({"name": "After the restore"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let next = get(format!("{base}/v1/events?after={log_cursor}")).await;
    assert_eq!(next["items"][0]["type"], "account.created", "{next}");
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    crate::common::sigterm(child).await;
    cluster.stop().unwrap();
}
