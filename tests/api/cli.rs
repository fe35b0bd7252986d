//! The binary's commands.

use std::process::Command;

use crate::common::RunOk;
use crate::common::{TestApp, SECRET};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_buyerpath"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    c
}

#[test]
fn help_lists_every_command() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "token", "openapi", "healthcheck"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
}

#[test]
fn openapi_command_prints_the_committed_spec() {
    let out = bin().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let generated = serde_json::to_value(buyerpath::api::openapi()).unwrap();
    assert_eq!(printed, generated);
}

#[test]
fn bad_config_fails_with_one_line_naming_the_variable() {
    let out = bin()
        .arg("token")
        .args([
            "--tenant",
            &uuid::Uuid::now_v7().to_string(),
            "--sub",
            "a",
            "--role",
            "rep",
        ])
        .env("BUYERPATH_JWT_SECRET", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("BUYERPATH_JWT_SECRET"), "{err}");
    assert!(!err.contains("short"), "the secret is not echoed: {err}");

    let out = bin()
        .arg("migrate")
        .env("BUYERPATH_DB_POOL_SIZE", "zero")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("BUYERPATH_DB_POOL_SIZE"));

    for (var, value) in [
        ("BUYERPATH_LOG_FORMAT", "xml"),
        ("BUYERPATH_TRUSTED_PROXIES", "proxy.local"),
        ("BUYERPATH_RATE_LIMIT_USER_PER_MINUTE", "-1"),
        ("BUYERPATH_EVENT_RETENTION_DAYS", "0"),
        ("BUYERPATH_WEBHOOK_ALLOW_PRIVATE", "maybe"),
    ] {
        let out = bin().arg("migrate").env(var, value).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{var}: {err}");
        assert!(err.contains(var), "{err}");
    }
}

#[actix_web::test]
async fn token_command_mints_working_tokens() {
    let app = TestApp::spawn().await;
    let out = bin()
        .arg("token")
        .args([
            "--tenant",
            &app.tenant.to_string(),
            "--sub",
            "cli-user",
            "--role",
            "rep",
            "--role",
            "viewer",
            "--ttl",
            "10m",
        ])
        .env("BUYERPATH_JWT_SECRET", SECRET)
        .run_ok();
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let r = app
        .post(
            "/v1/accounts",
            &token,
            serde_json::json!({"name": "via cli token"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["owner"], "cli-user");

    let out = bin()
        .arg("token")
        .args([
            "--tenant",
            &app.tenant.to_string(),
            "--sub",
            "x",
            "--role",
            "god",
        ])
        .env("BUYERPATH_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success(), "unknown roles are refused");

    // With the embedded default, a data directory without the service's secret is refused
    // (a token signed with a new secret would only get 401), and no secret is made there.
    let empty = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("token")
        .args([
            "--tenant",
            &app.tenant.to_string(),
            "--sub",
            "x",
            "--role",
            "rep",
        ])
        .env("BUYERPATH_DATA_DIR", empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("BUYERPATH_DATA_DIR"), "{err}");
    assert!(!empty.path().join("jwt-secret").exists());
}

#[actix_web::test]
async fn healthcheck_command() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let status = tokio::task::spawn_blocking(move || {
        bin()
            .arg("healthcheck")
            .args(["--addr", &addr])
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.success());
    let status = tokio::task::spawn_blocking(|| {
        bin()
            .arg("healthcheck")
            .args(["--addr", "127.0.0.1:1"])
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!status.success());
}

/// The README's run command, end to end: embedded default from an empty data directory, the
/// printed token works, SIGTERM stops the service and the cluster cleanly.
#[actix_web::test]
async fn serve_on_the_embedded_default_and_stop_on_sigterm() {
    use std::io::BufRead;
    use std::process::Stdio;
    let dir = tempfile::Builder::new()
        .prefix("bp-serve-")
        .tempdir_in("/tmp")
        .unwrap();
    // As root the cluster runs as `postgres`, which must reach the directory.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let port = crate::common::free_port();
    let mut child = bin()
        .arg("serve")
        .env("BUYERPATH_DATA_DIR", dir.path())
        .env("BUYERPATH_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.contains("admin token") {
                if let Some(Ok(token)) = lines.next() {
                    let _ = tx.send(token);
                }
            }
        }
    });
    let token =
        tokio::task::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(60)))
            .await
            .unwrap()
            .expect("the service prints an admin token");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    crate::common::wait_ready(&client, &base).await;
    let r = client
        .get(format!("{base}/v1/accounts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the printed token works");
    assert!(dir.path().join("jwt-secret").exists());
    assert!(dir.path().join("postgres/pgdata/postmaster.pid").exists());

    let status = crate::common::sigterm(child).await;
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    assert!(
        !dir.path().join("postgres/pgdata/postmaster.pid").exists(),
        "the embedded cluster is stopped"
    );
}

/// Runs `serve` (the README's first command, built) in `cwd` with the default data directory;
/// returns the child, its base URL, the printed token and the printed lines.
async fn serve_in(cwd: &std::path::Path) -> (std::process::Child, String, String, Vec<String>) {
    use std::io::BufRead;
    use std::process::Stdio;
    let port = crate::common::free_port();
    let mut child = bin()
        .arg("serve")
        .current_dir(cwd)
        .env("BUYERPATH_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<(String, Vec<String>)>();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut lines = std::io::BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            seen.push(line.clone());
            if line.contains("admin token") {
                if let Some(Ok(token)) = lines.next() {
                    let _ = tx.send((token, seen.clone()));
                }
            }
        }
    });
    let (token, lines) =
        tokio::task::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(60)))
            .await
            .unwrap()
            .expect("the service prints an admin token");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    crate::common::wait_ready(&client, &base).await;
    (child, base, token, lines)
}

async fn stop(child: std::process::Child) {
    let status = crate::common::sigterm(child).await;
    assert!(status.success(), "clean exit: {status}");
}

/// The quick start from a private (0700) checkout, as root on a fresh VM would run it: the
/// cluster moves where `postgres` can reach it, says so, and is found again on the next run.
#[actix_web::test]
async fn the_quick_start_works_from_a_private_directory() {
    use std::os::unix::fs::PermissionsExt;
    let checkout = tempfile::Builder::new()
        .prefix("bp-private-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(checkout.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let client = reqwest::Client::new();

    let (child, base, token, lines) = serve_in(checkout.path()).await;
    let moved_to = lines
        .iter()
        .find_map(|l| l.split("lives in ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap_or("").to_string());
    if root {
        let dir = moved_to
            .clone()
            .expect("root is told where the cluster lives");
        assert!(dir.starts_with("/var/lib/buyerpath/"), "{dir}");
        assert!(std::path::Path::new(&dir)
            .join("pgdata/PG_VERSION")
            .exists());
    } else {
        assert!(moved_to.is_none(), "{lines:?}");
        assert!(checkout
            .path()
            .join(".buyerpath/postgres/pgdata/PG_VERSION")
            .exists());
    }
    let r = client
        .post(format!("{base}/v1/accounts"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Kept across runs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    stop(child).await;

    // The next run finds the same cluster, with its data.
    let (child, base, token, lines) = serve_in(checkout.path()).await;
    let again = lines
        .iter()
        .find_map(|l| l.split("lives in ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap_or("").to_string());
    assert_eq!(again, moved_to);
    let r: serde_json::Value = client
        .get(format!("{base}/v1/accounts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["items"][0]["name"], "Kept across runs");
    stop(child).await;
    if let Some(dir) = moved_to {
        let _ = std::fs::remove_dir_all(dir);
    }
}
