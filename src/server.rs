//! What the CLI commands do: resolve the database (embedded default or `DATABASE_URL`),
//! migrate, load JWT keys, serve, and shut down cleanly.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use actix_web::{web, HttpServer};
use uuid::Uuid;

use crate::auth::{JwtKeys, Role};
use crate::config::{Config, JwtKeySource, MIN_HS_SECRET_BYTES};
use crate::db::embedded_pg::{EmbeddedPostgres, StartOptions};
use crate::db::{self, PoolSettings};
use crate::state::AppState;

pub const EMBEDDED_DB_NAME: &str = "buyerpath";

/// The database the service talks to, and the embedded cluster when it owns one.
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// `DATABASE_URL`, or the private cluster under `BUYERPATH_DATA_DIR/postgres`.
    pub fn resolve(config: &Config) -> Result<Database, String> {
        match &config.database_url {
            Some(url) => Ok(Database {
                url: url.clone(),
                embedded: None,
            }),
            None => {
                std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                    format!(
                        "BUYERPATH_DATA_DIR: cannot create {}: {e}",
                        config.data_dir.display()
                    )
                })?;
                let (dir, moved) =
                    crate::db::embedded_pg::placement(&config.data_dir.join("postgres"))
                        .map_err(|e| e.to_string())?;
                if moved {
                    println!(
                        "buyerpath: the postgres user cannot reach {}; the embedded cluster \
                         lives in {} (found there again on every run from this directory)",
                        config.data_dir.display(),
                        dir.display()
                    );
                }
                let pg = EmbeddedPostgres::start(&dir, EMBEDDED_DB_NAME, &StartOptions::default())
                    .map_err(|e| e.to_string())?;
                log::info!(
                    "embedded PostgreSQL running in {} (unix socket only)",
                    pg.dir().display()
                );
                Ok(Database {
                    url: pg.url(EMBEDDED_DB_NAME),
                    embedded: Some(pg),
                })
            }
        }
    }

    pub fn stop(&self) {
        if let Some(pg) = &self.embedded {
            match pg.stop() {
                Ok(()) => log::info!("embedded PostgreSQL stopped"),
                Err(e) => log::error!("stopping embedded PostgreSQL: {e}"),
            }
        }
    }
}

/// The embedded default's secret and tenant, kept in the data directory.
pub struct DevIdentity {
    pub secret: Vec<u8>,
    pub tenant: Uuid,
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(contents)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Loads (or creates once) the development secret and tenant in `data_dir`.
pub fn dev_identity(data_dir: &Path) -> Result<DevIdentity, String> {
    use base64::Engine;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        format!(
            "BUYERPATH_DATA_DIR: cannot create {}: {e}",
            data_dir.display()
        )
    })?;
    let secret_path = data_dir.join("jwt-secret");
    if !secret_path.exists() {
        let mut bytes = [0u8; 48];
        rand::fill(&mut bytes);
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        write_private(&secret_path, encoded.as_bytes())?;
    }
    let secret = std::fs::read_to_string(&secret_path)
        .map_err(|e| format!("cannot read {}: {e}", secret_path.display()))?
        .trim()
        .as_bytes()
        .to_vec();
    if secret.len() < MIN_HS_SECRET_BYTES {
        return Err(format!(
            "{} holds fewer than {MIN_HS_SECRET_BYTES} bytes; delete it to regenerate",
            secret_path.display()
        ));
    }
    let tenant_path = data_dir.join("default-tenant");
    if !tenant_path.exists() {
        write_private(&tenant_path, Uuid::now_v7().to_string().as_bytes())?;
    }
    let tenant = std::fs::read_to_string(&tenant_path)
        .map_err(|e| format!("cannot read {}: {e}", tenant_path.display()))?
        .trim()
        .parse::<Uuid>()
        .map_err(|_| format!("{} does not hold a UUID", tenant_path.display()))?;
    Ok(DevIdentity { secret, tenant })
}

/// JWT keys from the configuration (and the data directory for the embedded default).
pub fn jwt_keys(config: &Config) -> Result<(JwtKeys, Option<DevIdentity>), String> {
    match &config.jwt.key {
        JwtKeySource::Secret(s) => Ok((JwtKeys::hs256(s, &config.jwt), None)),
        JwtKeySource::PublicKey { algorithm, pem } => {
            Ok((JwtKeys::public_key(*algorithm, pem, &config.jwt)?, None))
        }
        JwtKeySource::Jwks { url, .. } => Ok((JwtKeys::jwks_url(url, &config.jwt)?, None)),
        JwtKeySource::DataDir => {
            let dev = dev_identity(&config.data_dir)?;
            Ok((JwtKeys::hs256(&dev.secret, &config.jwt), Some(dev)))
        }
    }
}

/// `buyerpath migrate`.
pub fn migrate(config: &Config) -> Result<(), String> {
    let database = Database::resolve(config)?;
    let result = db::migrate::run_pending(&database.url);
    database.stop();
    let applied = result?;
    if applied.is_empty() {
        println!("database is up to date");
    } else {
        for v in applied {
            println!("applied {v}");
        }
    }
    Ok(())
}

/// `buyerpath token`. With the embedded default the secret is the running service's, in its
/// data directory: without one there, a token would be signed with a new secret the service
/// does not know (401), so the command refuses.
pub fn token(config: &Config, args: &crate::cli::TokenArgs) -> Result<String, String> {
    if matches!(config.jwt.key, JwtKeySource::DataDir)
        && !config.data_dir.join("jwt-secret").exists()
    {
        return Err(format!(
            "BUYERPATH_DATA_DIR: no jwt-secret in {}; run the command where the service keeps its \
             data (its BUYERPATH_DATA_DIR), or set BUYERPATH_JWT_SECRET",
            config.data_dir.display()
        ));
    }
    let (keys, _) = jwt_keys(config)?;
    let sub = args.sub.trim();
    if sub.is_empty() || sub.len() > 200 {
        return Err("--sub must be 1-200 characters".to_string());
    }
    keys.mint(
        args.tenant,
        sub,
        &args.roles,
        args.ttl,
        config.jwt.issuer.as_deref(),
        config.jwt.audience.as_deref(),
    )
}

/// `buyerpath serve`.
pub fn serve(config: Config) -> Result<(), String> {
    let (keys, dev) = jwt_keys(&config)?;
    let database = Database::resolve(&config)?;
    let result = serve_with(config, keys, dev, &database);
    database.stop();
    result
}

fn serve_with(
    config: Config,
    keys: JwtKeys,
    dev: Option<DevIdentity>,
    database: &Database,
) -> Result<(), String> {
    if config.migrate_on_start {
        for v in db::migrate::run_pending(&database.url)? {
            log::info!("applied migration {v}");
        }
    }
    let settings = PoolSettings {
        max_size: config.db_pool_size,
        wait_timeout: config.db_pool_timeout,
        statement_timeout: config.db_statement_timeout,
    };
    let bind = config.bind.clone();
    // actix's default: one worker per CPU.
    let workers = config.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let shutdown_timeout = config.shutdown_timeout_secs;
    if let Some(dev) = &dev {
        announce_development(dev, &keys, &config, &bind)?;
    }

    actix_web::rt::System::new().block_on(async move {
        let pool = db::build_pool(&database.url, &settings)?;
        align_event_clock(&pool).await;
        start_jwks(&keys, &config).await?;
        let requests = db::ThreadPools::new(&database.url, &settings, workers)?;
        log::info!(
            "{workers} HTTP workers, up to {} database connections each",
            requests.per_thread()
        );
        let state = web::Data::new(AppState::new(config, pool.clone(), requests, keys)?);
        let (stop_worker, stop_rx) = tokio::sync::watch::channel(false);
        if state.config.import_worker {
            actix_web::rt::spawn(crate::import_worker::run(
                database.url.clone(),
                stop_rx.clone(),
            ));
        }
        let worker = spawn_worker(&state, &pool, stop_rx);
        let metrics_server = match state.config.metrics_bind.clone() {
            None => None,
            Some(addr) => Some(metrics_listener(state.clone(), &addr)?),
        };
        let server = HttpServer::new(move || crate::build_app(state.clone()))
            .shutdown_timeout(shutdown_timeout)
            .disable_signals()
            .workers(workers)
            .bind(&bind)
            .map_err(|e| format!("BUYERPATH_BIND: cannot listen on {bind}: {e}"))?
            .run();
        log::info!("listening on http://{bind}");
        let handle = server.handle();
        let metrics_handle = metrics_server.as_ref().map(|s| s.handle());
        if let Some(m) = metrics_server {
            actix_web::rt::spawn(m);
        }
        actix_web::rt::spawn(async move {
            let signal = stop_signal().await;
            log::info!("{signal}: draining requests and stopping the webhook worker");
            let _ = stop_worker.send(true);
            handle.stop(true).await;
            if let Some(m) = metrics_handle {
                m.stop(true).await;
            }
        });
        let result = server.await;
        if let Some(worker) = worker {
            await_worker(worker).await;
        }
        log::info!("server stopped; closing the database pool");
        pool.close();
        result.map_err(|e| format!("server error: {e}"))
    })
}

/// The URL of the database the service uses: `DATABASE_URL`, or the embedded cluster's socket
/// (found where `serve` puts it; it answers while the service runs).
pub fn db_url(config: &Config) -> Result<String, String> {
    match &config.database_url {
        Some(url) => Ok(url.clone()),
        None => {
            let (dir, _) = crate::db::embedded_pg::placement(&config.data_dir.join("postgres"))
                .map_err(|e| e.to_string())?;
            Ok(crate::db::embedded_pg::socket_url(&dir, EMBEDDED_DB_NAME))
        }
    }
}

/// Development mode: prints an admin token and where to try it.
fn announce_development(
    dev: &DevIdentity,
    keys: &JwtKeys,
    config: &Config,
    bind: &str,
) -> Result<(), String> {
    let token = keys.mint(
        dev.tenant,
        "admin",
        &[Role::Admin],
        24 * 3600,
        config.jwt.issuer.as_deref(),
        config.jwt.audience.as_deref(),
    )?;
    let shown = bind.replace("0.0.0.0", "127.0.0.1");
    println!("buyerpath: development mode (embedded PostgreSQL, generated JWT secret)");
    println!(
        "buyerpath: admin token for tenant {} (valid 24 h):",
        dev.tenant
    );
    println!("{token}");
    println!(
        "buyerpath: try  curl -H \"Authorization: Bearer {token}\" http://{shown}/v1/accounts"
    );
    println!("buyerpath: API docs at http://{shown}/docs/");
    Ok(())
}

/// With an identity provider: its keys now (start-up fails without them), then refreshed.
async fn start_jwks(keys: &JwtKeys, config: &Config) -> Result<(), String> {
    if let Some(set) = keys.jwks() {
        let n = set.fetch().await?;
        log::info!("{n} signing keys from the JWKS");
        if let JwtKeySource::Jwks { refresh, .. } = &config.jwt.key {
            actix_web::rt::spawn(set.refresh_forever(*refresh));
        }
    }
    Ok(())
}

/// The webhook worker, unless this process runs without it.
fn spawn_worker(
    state: &web::Data<AppState>,
    pool: &db::Pool,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Option<actix_web::rt::task::JoinHandle<()>> {
    let c = &state.config;
    let settings = crate::worker::Settings {
        allow_private: c.webhook_allow_private,
        retention: Duration::from_secs(c.event_retention_days * 86_400),
    };
    c.webhook_worker.then(|| {
        actix_web::rt::spawn(crate::worker::run(
            pool.clone(),
            settings,
            state.webhook_metrics.clone(),
            stop,
        ))
    })
}

/// In-flight webhook attempts finish (each is bounded by its 15 s timeout).
async fn await_worker(worker: actix_web::rt::task::JoinHandle<()>) {
    if tokio::time::timeout(Duration::from_secs(20), worker)
        .await
        .is_err()
    {
        log::warn!("the webhook worker did not stop in time; its claims will expire");
    }
}

/// After a restore into another cluster, new events must still sort after the restored ones.
async fn align_event_clock(pool: &db::Pool) {
    let result = async {
        let mut c = pool.get().await.map_err(|e| e.to_string())?;
        db::events::align_clock(&mut c)
            .await
            .map_err(|e| e.to_string())
    };
    match result.await {
        Ok(0) => {}
        Ok(by) => {
            log::info!("event positions raised by {by}: the database came from another cluster")
        }
        Err(e) => log::error!("cannot align event positions with this cluster: {e}"),
    }
}

/// `/metrics` on a listener of its own (`BUYERPATH_METRICS_BIND`).
fn metrics_listener(
    state: web::Data<AppState>,
    addr: &str,
) -> Result<actix_web::dev::Server, String> {
    let server = HttpServer::new(move || {
        actix_web::App::new().app_data(state.clone()).route(
            "/metrics",
            web::get().to(|state: web::Data<AppState>| async move {
                match state.render_metrics() {
                    Ok(text) => actix_web::HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(text),
                    Err(e) => {
                        log::error!("cannot render metrics: {e}");
                        actix_web::HttpResponse::InternalServerError().finish()
                    }
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(addr)
    .map_err(|e| format!("BUYERPATH_METRICS_BIND: cannot listen on {addr}: {e}"))?
    .run();
    log::info!("metrics on http://{addr}/metrics");
    Ok(server)
}

/// Waits for SIGTERM or SIGINT and names it.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        _ => {
            log::error!("cannot listen for signals; stop with SIGKILL");
            std::future::pending().await
        }
    }
}

/// `buyerpath healthcheck`: a minimal HTTP/1.1 GET of /readyz (no client library needed).
pub fn healthcheck(addr: &str, timeout: Duration) -> Result<(), String> {
    let addr = addr
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    let target = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {addr}"))?;
    let mut stream = TcpStream::connect_timeout(&target, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: buyerpath-healthcheck\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("cannot send request: {e}"))?;
    let mut buf = [0u8; 64];
    let n = stream
        .read(&mut buf)
        .map_err(|e| format!("no answer: {e}"))?;
    let head = String::from_utf8_lossy(&buf[..n]);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(format!("/readyz answered {status:?}"))
    }
}
