//! The test harness: one migrated database per test binary (DATABASE_URL, or a throwaway
//! embedded cluster), one app per test on an ephemeral port, one tenant per test.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::OnceLock;

use actix_web::{web, HttpServer};
use buyerpath::auth::{JwtKeys, Role};
use buyerpath::config::Config;
use buyerpath::db::embedded_pg::{EmbeddedPostgres, StartOptions};
use buyerpath::db::{self, PoolSettings};
use buyerpath::state::AppState;
use serde_json::Value;
use uuid::Uuid;

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";

static DATABASE: OnceLock<Result<String, String>> = OnceLock::new();

/// The shared, migrated test database (started once per test binary).
pub fn database_url() -> String {
    let result = DATABASE.get_or_init(|| {
        let url = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("buyerpath-test-")
                    .tempdir_in("/tmp")
                    .map_err(|e| e.to_string())?
                    .keep();
                let pg = EmbeddedPostgres::start(
                    &dir,
                    "buyerpath_test",
                    &StartOptions {
                        ephemeral: true,
                        remove_dir_on_stop: true,
                    },
                )
                .map_err(|e| e.to_string())?;
                let url = pg.url("buyerpath_test");
                // The watchdog stops the cluster and removes its directory when this process exits.
                std::mem::forget(pg);
                url
            }
        };
        db::migrate::run_pending(&url)?;
        Ok(url)
    });
    match result {
        Ok(url) => url.clone(),
        Err(e) => panic!("test database unavailable: {e}"),
    }
}

/// Builds a config as the service would read it from `vars` (+ the test database and secret).
pub fn config_with(vars: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("DATABASE_URL".into(), database_url());
    map.insert("BUYERPATH_JWT_SECRET".into(), SECRET.into());
    for (k, v) in vars {
        map.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| map.get(k).cloned()).expect("valid test config")
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub tenant: Uuid,
    pub keys: JwtKeys,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.json["status"], status, "body: {}", self.text);
        assert_eq!(self.json["code"], code, "body: {}", self.text);
        assert!(self.json["title"].is_string());
        assert!(self.json["type"].is_string());
        assert!(self.json["detail"].is_string());
    }

    /// The `field`s of a 422 problem, body members written as paths (`tags[1]` for the
    /// pointer `/tags/1`), in the order the problem lists them (by pointer). Every item has
    /// `in`, `code` and `message`.
    #[track_caller]
    pub fn error_fields(&self) -> Vec<String> {
        self.assert_problem(422, "validation_failed");
        self.json["errors"]
            .as_array()
            .expect("errors array")
            .iter()
            .map(|e| {
                for member in ["in", "code", "message"] {
                    assert!(e[member].is_string(), "{member} missing in {e}");
                }
                let field = e["field"].as_str().unwrap_or_default();
                match e["in"].as_str() {
                    Some("body") => buyerpath::domain::validate::member_path(field),
                    _ => field.to_string(),
                }
            })
            .collect()
    }

    /// The `(field, code)`s of a 400 problem (parameters, headers, unreadable bodies).
    #[track_caller]
    pub fn malformed(&self) -> Vec<(String, String)> {
        self.assert_problem(400, "bad_request");
        self.json["errors"]
            .as_array()
            .expect("errors array")
            .iter()
            .map(|e| {
                let s = |m: &str| e[m].as_str().unwrap_or_default().to_string();
                (s("field"), s("code"))
            })
            .collect()
    }

    pub fn id(&self) -> String {
        self.json["id"].as_str().expect("id").to_string()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        let config = config_with(vars);
        let keys = buyerpath::server::jwt_keys(&config).expect("jwt keys").0;
        let url = config.database_url.clone().unwrap_or_else(database_url);
        TestApp::spawn_config(config, keys, &url).await
    }

    /// Spawns the app for `config` with verification `keys` against `url`.
    pub async fn spawn_config(config: Config, keys: JwtKeys, url: &str) -> TestApp {
        let settings = PoolSettings {
            max_size: config.db_pool_size,
            wait_timeout: config.db_pool_timeout,
            statement_timeout: config.db_statement_timeout,
        };
        let pool = db::build_pool(url, &settings).expect("pool");
        let requests = db::ThreadPools::new(url, &settings, 1).expect("pools");
        let state = web::Data::new(AppState::new(config, pool, requests, keys).expect("state"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || buyerpath::build_app(state.clone()))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        actix_web::rt::spawn(server);
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            tenant: Uuid::now_v7(),
            keys: JwtKeys::hs256(SECRET.as_bytes(), &config_with(&[]).jwt),
        }
    }

    pub fn token_for(&self, tenant: Uuid, sub: &str, roles: &[Role]) -> String {
        self.keys
            .mint(tenant, sub, roles, 600, None, None)
            .expect("mint")
    }

    /// A token of a fresh, unrelated tenant: everything of this test's tenant must be 404 to it.
    pub fn other_tenant(&self, role: Role) -> String {
        self.token_for(Uuid::now_v7(), "other-tenant-user", &[role])
    }

    pub fn token(&self, sub: &str, roles: &[Role]) -> String {
        self.token_for(self.tenant, sub, roles)
    }

    pub fn admin(&self) -> String {
        self.token("admin-user", &[Role::Admin])
    }
    pub fn manager(&self) -> String {
        self.token("manager-user", &[Role::Manager])
    }
    pub fn viewer(&self) -> String {
        self.token("viewer-user", &[Role::Viewer])
    }
    pub fn rep(&self, sub: &str) -> String {
        self.token(sub, &[Role::Rep])
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Resp {
        let mut req = self
            .client
            .patch(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        self.send(req).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value, if_match: Option<&str>) -> Resp {
        let mut req = self
            .client
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body);
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        self.send(req).await
    }

    pub async fn delete(&self, path: &str, token: &str, if_match: Option<&str>) -> Resp {
        let mut req = self.client.delete(self.url(path)).bearer_auth(token);
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        self.send(req).await
    }

    /// Creates an account as `token` and returns its id.
    pub async fn account(&self, token: &str, name: &str) -> String {
        let r = self
            .post("/v1/accounts", token, serde_json::json!({ "name": name }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.id()
    }

    /// Creates a contact and returns its id.
    pub async fn contact(&self, token: &str, account: &str, body: Value) -> String {
        let r = self
            .post(&format!("/v1/accounts/{account}/contacts"), token, body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.id()
    }
}

/// A free TCP port on loopback.
/// A port a child service can bind. Chosen below the kernel's ephemeral range (32768 and up by
/// default): a port the kernel handed out for `bind(0)` and that was then released could be
/// taken, before the child bound it, as the local port of one of the many connections the
/// other tests open (the child then failed to start).
pub fn free_port() -> u16 {
    loop {
        let port = rand::random_range(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A PostgreSQL tool of this machine (the newest `/usr/lib/postgresql/*/bin`, else `PATH`).
pub fn pg_tool(name: &str) -> std::path::PathBuf {
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| name.into())
}

/// Sends SIGTERM to a child process and waits for it to end.
pub async fn sigterm(child: std::process::Child) -> std::process::ExitStatus {
    let mut child = child;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait")
}

/// Runs a command to completion (no stdin) and asserts it succeeded, showing its stderr if not.
pub trait RunOk {
    fn run_ok(&mut self) -> std::process::Output;
}

impl RunOk for std::process::Command {
    #[track_caller]
    fn run_ok(&mut self) -> std::process::Output {
        let out = self
            .stdin(std::process::Stdio::null())
            .output()
            .expect("the command runs");
        assert!(
            out.status.success(),
            "{self:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Waits until the service at `base` answers `/readyz` with 200 (up to 10 s), else panics.
pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{base} did not become ready");
}
