//! The outbox survives the process: a service killed after a commit and before any delivery
//! delivers after a restart. Runs the real binary on a database of its own (so the test
//! binary's worker cannot deliver in its place).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use serde_json::json;

use crate::common::{TestApp, SECRET};
use crate::receiver::Receiver;

fn serve(url: &str, port: u16, worker: bool) -> Child {
    Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", url)
        .env("BUYERPATH_JWT_SECRET", SECRET)
        .env("BUYERPATH_BIND", format!("127.0.0.1:{port}"))
        .env("BUYERPATH_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("BUYERPATH_WEBHOOK_WORKER", worker.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[actix_web::test]
async fn a_service_killed_between_commit_and_delivery_delivers_after_restart() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // A database of its own on the test cluster.
    let name = format!("bp_outbox_{}", uuid::Uuid::now_v7().simple());
    let mut server = AsyncPgConnection::establish(&crate::common::database_url())
        .await
        .unwrap();
    server
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut url = url::Url::parse(&crate::common::database_url()).unwrap();
    url.set_path(&format!("/{name}"));
    let url = url.to_string();

    let rx = Receiver::start().await;
    let client = reqwest::Client::new();
    // The first process commits but never delivers (its worker is off), then dies by SIGKILL.
    let port = crate::common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut first = serve(&url, port, false);
    crate::common::wait_ready(&client, &base).await;
    let r = client
        .post(format!("{base}/v1/webhook-endpoints"))
        .bearer_auth(&admin)
        .json(&json!({"url": rx.url, "event_types": ["account.*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let secret = r.json::<serde_json::Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{base}/v1/accounts"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Survivor Ltd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let account: serde_json::Value = r.json().await.unwrap();
    first.kill().unwrap();
    first.wait().unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(700)).await;
    assert!(
        rx.received().is_empty(),
        "nothing was delivered before the restart"
    );

    // The restarted service delivers what was committed.
    let port = crate::common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let second = serve(&url, port, true);
    crate::common::wait_ready(&client, &base).await;
    let got = rx.wait_for(1, 20).await;
    got[0].verify(&secret).unwrap();
    assert_eq!(got[0].json()["type"], "account.created");
    assert_eq!(got[0].json()["data"]["id"], account["id"]);

    // The worker's metrics are on /metrics.
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("buyerpath_webhook_attempts_total{outcome=\"succeeded\"} 1") {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        metrics.contains("buyerpath_webhook_attempts_total{outcome=\"succeeded\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("buyerpath_webhook_queue_depth"));
    assert!(metrics.contains("buyerpath_webhook_oldest_pending_seconds"));

    // SIGTERM stops the server and the worker cleanly.
    let status = crate::common::sigterm(second).await;
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    server
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}
