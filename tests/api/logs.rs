//! Logs: one JSON object a line with the request's fields, the W3C trace id, and client
//! addresses believed from `X-Forwarded-For` only behind trusted proxies.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{TestApp, SECRET};

/// Runs the service with JSON logs and `env`, makes one request (then `more`: method and path,
/// whatever they answer), and returns the log lines.
async fn run_and_log(
    env: &[(&str, &str)],
    token: &str,
    more: &[(&str, &str)],
) -> Vec<serde_json::Value> {
    let port = crate::common::free_port();
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_buyerpath"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BUYERPATH_LOG_FORMAT", "json")
        .env("DATABASE_URL", crate::common::database_url())
        .env("BUYERPATH_JWT_SECRET", SECRET)
        .env("BUYERPATH_WEBHOOK_WORKER", "false")
        .env("BUYERPATH_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log.reopen().unwrap());
    cmd.envs(env.iter().copied());
    let child = cmd.spawn().unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok() {
            up = true;
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up);
    let r = client
        .get(format!("{base}/v1/accounts"))
        .bearer_auth(token)
        .header("x-request-id", "req-log-1")
        .header("x-forwarded-for", "198.51.100.7")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (method, path) in more {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
    }
    crate::common::sigterm(child).await;
    std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[actix_web::test]
async fn json_logs_carry_the_request_fields_and_trusted_proxies_decide_the_client() {
    let app = TestApp::spawn().await;
    let token = app.admin();
    let lines = run_and_log(
        &[
            ("RUST_LOG", "info"),
            ("BUYERPATH_TRUSTED_PROXIES", "127.0.0.1"),
        ],
        &token,
        &[],
    )
    .await;
    assert!(lines.iter().all(|l| l["time"].is_string()
        && l["level"].is_string()
        && l["target"].is_string()
        && l["message"].is_string()));
    let access = lines
        .iter()
        .find(|l| l["request_id"] == "req-log-1")
        .expect("an access line for the request");
    assert_eq!(access["target"], "buyerpath::access");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["route"], "/v1/accounts");
    assert_eq!(access["status"], 200);
    assert_eq!(access["tenant"], app.tenant.to_string());
    assert_eq!(access["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(access["client"], "198.51.100.7", "behind a trusted proxy");
    assert!(
        access["latency_ms"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            >= 0.0
    );

    // Without trusted proxies X-Forwarded-For is not believed.
    let lines = run_and_log(&[("RUST_LOG", "info")], &token, &[]).await;
    let access = lines
        .iter()
        .find(|l| l["request_id"] == "req-log-1")
        .unwrap();
    assert_eq!(access["client"], "127.0.0.1");
}

#[actix_web::test]
async fn slow_requests_are_logged_at_warn_when_the_access_log_is_off() {
    let app = TestApp::spawn().await;
    let token = app.admin();
    // A threshold of 0 makes every request slow.
    let lines = run_and_log(
        &[("RUST_LOG", "warn"), ("BUYERPATH_SLOW_REQUEST_MS", "0")],
        &token,
        &[],
    )
    .await;
    assert!(
        lines.iter().all(|l| l["target"] != "buyerpath::access"),
        "the access log is off at warn"
    );
    let slow = lines
        .iter()
        .find(|l| l["request_id"] == "req-log-1")
        .expect("a slow-request line for the request");
    assert_eq!(slow["target"], "buyerpath::slow");
    assert_eq!(slow["level"], "WARN");
    assert_eq!(slow["route"], "/v1/accounts");
    assert_eq!(slow["status"], 200);
    assert_eq!(slow["tenant"], app.tenant.to_string());
    assert_eq!(slow["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(slow["message"]
        .as_str()
        .unwrap()
        .starts_with("slow request: 127.0.0.1 \"GET /v1/accounts\" 200 "));

    // Under the threshold (and by default, 1 s) nothing is written for it.
    for env in [
        &[
            ("RUST_LOG", "warn"),
            ("BUYERPATH_SLOW_REQUEST_MS", "600000"),
        ][..],
        &[("RUST_LOG", "warn")][..],
    ] {
        let lines = run_and_log(env, &token, &[]).await;
        assert!(
            lines.iter().all(|l| l["request_id"] != "req-log-1"),
            "{env:?}: {lines:?}"
        );
    }
}

#[actix_web::test]
async fn metrics_on_their_own_listener_are_gone_from_the_api_port() {
    let free = || crate::common::free_port();
    let (port, metrics_port) = (free(), free());
    let child = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", crate::common::database_url())
        .env("BUYERPATH_JWT_SECRET", SECRET)
        .env("BUYERPATH_WEBHOOK_WORKER", "false")
        .env("BUYERPATH_BIND", format!("127.0.0.1:{port}"))
        .env(
            "BUYERPATH_METRICS_BIND",
            format!("127.0.0.1:{metrics_port}"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let on_api = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), 404);
    let m = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(m.status(), 200);
    let text = m.text().await.unwrap();
    assert!(text.contains("buyerpath_http_requests_total"), "{text}");
    assert!(text.contains("endpoint=\"/healthz\""));
    assert!(text.contains("buyerpath_webhook_queue_depth"));
    let status = crate::common::sigterm(child).await;
    assert!(status.success());
}

#[actix_web::test]
async fn ordinary_requests_log_no_warnings() {
    let app = TestApp::spawn().await;
    // (With `RUST_LOG=info,actix_web_prom=warn` this fails: the metrics middleware warns about
    // `/docs/{_:.*}` and 405s.)
    let lines = run_and_log(
        &[("RUST_LOG", "info")],
        &app.admin(),
        &[
            ("GET", "/docs/"),
            ("PUT", "/v1/accounts"),
            ("GET", "/openapi.json"),
        ],
    )
    .await;
    let warnings: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["level"] == "WARN" || l["level"] == "ERROR")
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}
