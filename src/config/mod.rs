//! Typed configuration, read once from the environment.
//!
//! Every variable is documented here and in the README table. A bad value fails start-up with one
//! line naming the variable; secrets are never echoed back.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::Algorithm;

/// Where JWT verification keys come from.
#[derive(Clone)]
pub enum JwtKeySource {
    /// `BUYERPATH_JWT_SECRET`: HS256 with a shared secret of at least 32 bytes.
    Secret(Vec<u8>),
    /// `BUYERPATH_JWT_PUBLIC_KEY` (a PEM file) with `BUYERPATH_JWT_ALGORITHM` (RS256, ES256 or EdDSA).
    PublicKey { algorithm: Algorithm, pem: Vec<u8> },
    /// `BUYERPATH_JWT_JWKS_URL`: an identity provider's keys (RS256, ES256, EdDSA) by `kid`.
    Jwks { url: String, refresh: Duration },
    /// Neither is set and `DATABASE_URL` is unset: the embedded default keeps a generated HS256
    /// secret in the data directory.
    DataDir,
}

impl fmt::Debug for JwtKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtKeySource::Secret(_) => f.write_str("Secret(<redacted>)"),
            JwtKeySource::PublicKey { algorithm, .. } => write!(f, "PublicKey({algorithm:?})"),
            JwtKeySource::Jwks { url, refresh } => write!(f, "Jwks({url}, every {refresh:?})"),
            JwtKeySource::DataDir => f.write_str("DataDir"),
        }
    }
}

/// JWT verification settings.
#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub key: JwtKeySource,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway_secs: u64,
}

/// The whole service configuration.
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`; `None` means the embedded default cluster.
    pub database_url: Option<String>,
    pub bind: String,
    pub data_dir: PathBuf,
    pub jwt: JwtConfig,
    pub db_pool_size: usize,
    pub db_pool_timeout: Duration,
    pub db_statement_timeout: Duration,
    pub body_limit: usize,
    /// `BUYERPATH_UPLOAD_LIMIT`: the largest workbook accepted by survey import.
    pub upload_limit: usize,
    pub migrate_on_start: bool,
    pub cors_origins: Vec<String>,
    pub shutdown_timeout_secs: u64,
    pub workers: Option<usize>,
    /// `BUYERPATH_EVENT_RETENTION_DAYS`: how long events and finished webhook deliveries are kept.
    pub event_retention_days: u64,
    /// `BUYERPATH_WEBHOOK_ALLOW_PRIVATE`: webhooks may use http and private addresses.
    pub webhook_allow_private: bool,
    /// `BUYERPATH_WEBHOOK_WORKER`: whether `serve` runs the webhook delivery worker.
    pub webhook_worker: bool,
    /// `BUYERPATH_IMPORT_WORKER`: whether `serve` runs the import worker.
    pub import_worker: bool,
    /// `BUYERPATH_RATE_LIMIT_USER_PER_MINUTE` (0 = off).
    pub rate_limit_user_per_minute: u32,
    /// `BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE` (0 = off).
    pub rate_limit_tenant_per_minute: u32,
    /// `BUYERPATH_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `BUYERPATH_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpRange>,
    /// `BUYERPATH_METRICS_BIND`: when set, `/metrics` is served only on this address.
    pub metrics_bind: Option<String>,
    /// `BUYERPATH_SLOW_REQUEST_MS`: requests taking at least this long are logged at `warn`.
    pub slow_request: Duration,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// env_logger's text lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// `BUYERPATH_LOG_FORMAT` alone (the logger starts before the rest of the configuration is read).
pub fn log_format_from(value: Option<&str>) -> Result<LogFormat, ConfigError> {
    match value.map(str::trim) {
        None | Some("") | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(_) => Err(err("BUYERPATH_LOG_FORMAT", "expected text or json")),
    }
}

/// An address range: an IP and a prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Option<IpRange> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (
                ip.parse::<std::net::IpAddr>().ok()?,
                Some(p.parse::<u8>().ok()?),
            ),
            None => (s.parse::<std::net::IpAddr>().ok()?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange { addr: ip, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (std::net::IpAddr::V6(a), std::net::IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<set, redacted>"),
            )
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("jwt", &self.jwt)
            .field("db_pool_size", &self.db_pool_size)
            .field("db_pool_timeout", &self.db_pool_timeout)
            .field("db_statement_timeout", &self.db_statement_timeout)
            .field("body_limit", &self.body_limit)
            .field("upload_limit", &self.upload_limit)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("cors_origins", &self.cors_origins)
            .field("shutdown_timeout_secs", &self.shutdown_timeout_secs)
            .field("workers", &self.workers)
            .field("event_retention_days", &self.event_retention_days)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .field("webhook_worker", &self.webhook_worker)
            .field("import_worker", &self.import_worker)
            .field(
                "rate_limit_user_per_minute",
                &self.rate_limit_user_per_minute,
            )
            .field(
                "rate_limit_tenant_per_minute",
                &self.rate_limit_tenant_per_minute,
            )
            .field("log_format", &self.log_format)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_bind", &self.metrics_bind)
            .field("slow_request", &self.slow_request)
            .finish()
    }
}

/// A configuration error: the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./.buyerpath";
pub const MIN_HS_SECRET_BYTES: usize = 32;

/// Secrets that appear in the repository's examples and documentation: public, so refused.
const EXAMPLE_SECRETS: &[&str] = &[
    "change-me-to-a-long-random-secret-of-at-least-32-bytes",
    "replace-me-with-the-output-of-openssl-rand-base64-48",
];

/// Why a shared secret is unfit, if it is: published in the examples, or obviously weak.
pub fn secret_weakness(secret: &str) -> Option<String> {
    let bytes = secret.as_bytes();
    let distinct: std::collections::HashSet<u8> = bytes.iter().copied().collect();
    if EXAMPLE_SECRETS.contains(&secret) {
        Some(
            "is the example value from the documentation; generate one (openssl rand -base64 48)"
                .into(),
        )
    } else if bytes.len() < MIN_HS_SECRET_BYTES {
        Some(format!("must be at least {MIN_HS_SECRET_BYTES} bytes"))
    } else if distinct.len() < 8 {
        Some("is too weak: it needs at least 8 distinct characters".into())
    } else {
        None
    }
}

/// A value given directly (`NAME`) or in a file (`NAME_FILE`, as compose `secrets:` mount them),
/// never both. A trailing newline of the file is dropped.
fn value_or_file(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    file_var: &'static str,
) -> Result<Option<String>, ConfigError> {
    match (get(name), get(file_var)) {
        (Some(_), Some(_)) => Err(err(name, format!("set {name} or {file_var}, not both"))),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => {
            let v = std::fs::read_to_string(&path)
                .map_err(|e| err(file_var, format!("cannot read {path}: {e}")))?;
            let v = v.trim_end_matches(['\n', '\r']).to_string();
            if v.trim().is_empty() {
                return Err(err(file_var, format!("{path} is empty")));
            }
            Ok(Some(v))
        }
        (None, None) => Ok(None),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());

        let database_url = value_or_file(&get, "DATABASE_URL", "DATABASE_URL_FILE")?;
        let bind = get("BUYERPATH_BIND").unwrap_or_else(|| DEFAULT_BIND.to_string());
        check_host_port("BUYERPATH_BIND", &bind, "127.0.0.1:8080")?;
        let data_dir = PathBuf::from(
            get("BUYERPATH_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_string()),
        );

        let jwt = jwt_from(&get, database_url.is_some())?;

        let metrics_bind = get("BUYERPATH_METRICS_BIND");
        if let Some(b) = &metrics_bind {
            check_host_port("BUYERPATH_METRICS_BIND", b, "0.0.0.0:9090")?;
        }
        let workers = match get("BUYERPATH_WORKERS") {
            None => None,
            Some(_) => Some(parse_num(&get, "BUYERPATH_WORKERS", 1, 1, 256)? as usize),
        };
        Ok(Config {
            database_url,
            bind,
            data_dir,
            jwt,
            db_pool_size: parse_num(&get, "BUYERPATH_DB_POOL_SIZE", 10, 1, 1000)? as usize,
            db_pool_timeout: millis(&get, "BUYERPATH_DB_POOL_TIMEOUT_MS", 3000, 10, 600_000)?,
            db_statement_timeout: millis(
                &get,
                "BUYERPATH_DB_STATEMENT_TIMEOUT_MS",
                5000,
                10,
                3_600_000,
            )?,
            body_limit: parse_num(&get, "BUYERPATH_BODY_LIMIT", 1 << 20, 1024, 1 << 30)? as usize,
            upload_limit: parse_num(&get, "BUYERPATH_UPLOAD_LIMIT", 10 << 20, 1024, 1 << 30)?
                as usize,
            migrate_on_start: parse_bool(&get, "BUYERPATH_MIGRATE_ON_START", true)?,
            cors_origins: cors_origins_from(get("BUYERPATH_CORS_ORIGINS"))?,
            shutdown_timeout_secs: parse_num(&get, "BUYERPATH_SHUTDOWN_TIMEOUT_SECS", 30, 1, 3600)?,
            workers,
            event_retention_days: parse_num(&get, "BUYERPATH_EVENT_RETENTION_DAYS", 30, 1, 3650)?,
            webhook_allow_private: parse_bool(&get, "BUYERPATH_WEBHOOK_ALLOW_PRIVATE", false)?,
            webhook_worker: parse_bool(&get, "BUYERPATH_WEBHOOK_WORKER", true)?,
            import_worker: parse_bool(&get, "BUYERPATH_IMPORT_WORKER", true)?,
            rate_limit_user_per_minute: parse_num(
                &get,
                "BUYERPATH_RATE_LIMIT_USER_PER_MINUTE",
                1200,
                0,
                1_000_000,
            )? as u32,
            rate_limit_tenant_per_minute: parse_num(
                &get,
                "BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE",
                12_000,
                0,
                10_000_000,
            )? as u32,
            log_format: log_format_from(get("BUYERPATH_LOG_FORMAT").as_deref())?,
            trusted_proxies: trusted_proxies_from(get("BUYERPATH_TRUSTED_PROXIES"))?,
            slow_request: millis(&get, "BUYERPATH_SLOW_REQUEST_MS", 1000, 0, 3_600_000)?,
            metrics_bind,
        })
    }
}

/// A number of milliseconds (see `parse_num`).
fn millis(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<Duration, ConfigError> {
    Ok(Duration::from_millis(parse_num(
        get, var, default, min, max,
    )?))
}

fn check_host_port(var: &'static str, value: &str, example: &str) -> Result<(), ConfigError> {
    if value.parse::<std::net::SocketAddr>().is_err() && !value.contains(':') {
        return Err(err(var, format!("expected host:port, e.g. {example}")));
    }
    Ok(())
}

/// `BUYERPATH_TRUSTED_PROXIES`: addresses or ranges, comma-separated.
fn trusted_proxies_from(list: Option<String>) -> Result<Vec<IpRange>, ConfigError> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            IpRange::parse(p).ok_or_else(|| {
                err(
                    "BUYERPATH_TRUSTED_PROXIES",
                    format!("'{p}' is not an IP address or a range like 10.0.0.0/8"),
                )
            })
        })
        .collect()
}

/// `BUYERPATH_CORS_ORIGINS`: origins, comma-separated.
fn cors_origins_from(list: Option<String>) -> Result<Vec<String>, ConfigError> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && !o.ends_with('/')
                && !o.contains(char::is_whitespace);
            if ok {
                Ok(o.to_string())
            } else {
                Err(err(
                    "BUYERPATH_CORS_ORIGINS",
                    format!("'{o}' is not an origin like https://crm.example.com"),
                ))
            }
        })
        .collect()
}

/// The JWT settings: one key source (a shared secret, a public key, an identity provider's
/// JWKS, or the data dir's own secret when no database is configured), issuer, audience,
/// leeway.
fn jwt_from(
    get: &impl Fn(&str) -> Option<String>,
    database_url_set: bool,
) -> Result<JwtConfig, ConfigError> {
    let secret = value_or_file(get, "BUYERPATH_JWT_SECRET", "BUYERPATH_JWT_SECRET_FILE")?;
    let public_key = get("BUYERPATH_JWT_PUBLIC_KEY");
    let algorithm = get("BUYERPATH_JWT_ALGORITHM");
    let jwks_url = get("BUYERPATH_JWT_JWKS_URL");
    let jwks_refresh = Duration::from_secs(parse_num(
        get,
        "BUYERPATH_JWT_JWKS_REFRESH_SECS",
        300,
        30,
        86_400,
    )?);
    if let Some(url) = &jwks_url {
        if secret.is_some() || public_key.is_some() {
            return Err(err(
                "BUYERPATH_JWT_JWKS_URL",
                "set one of BUYERPATH_JWT_SECRET, BUYERPATH_JWT_PUBLIC_KEY and BUYERPATH_JWT_JWKS_URL",
            ));
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err("BUYERPATH_JWT_JWKS_URL", "expected an http(s) URL"));
        }
    }
    check_algorithm(
        algorithm.as_deref(),
        public_key.is_some(),
        jwks_url.is_some(),
    )?;
    let key = match (secret, public_key, jwks_url) {
        (None, None, Some(url)) => JwtKeySource::Jwks {
            url,
            refresh: jwks_refresh,
        },
        (Some(_), Some(_), _) => {
            return Err(err(
                "BUYERPATH_JWT_SECRET",
                "set either BUYERPATH_JWT_SECRET or BUYERPATH_JWT_PUBLIC_KEY, not both",
            ))
        }
        (Some(secret), None, _) => secret_key(secret, algorithm.as_deref())?,
        (None, Some(path), _) => public_key_source(&path, algorithm.as_deref())?,
        (None, None, None) => {
            if database_url_set {
                return Err(err(
                    "BUYERPATH_JWT_SECRET",
                    "set BUYERPATH_JWT_SECRET (HS256) or BUYERPATH_JWT_PUBLIC_KEY when DATABASE_URL is set",
                ));
            }
            JwtKeySource::DataDir
        }
    };
    Ok(JwtConfig {
        key,
        issuer: get("BUYERPATH_JWT_ISSUER"),
        audience: get("BUYERPATH_JWT_AUDIENCE"),
        leeway_secs: parse_num(get, "BUYERPATH_JWT_LEEWAY_SECS", 30, 0, 300)?,
    })
}

/// `BUYERPATH_JWT_ALGORITHM`, when set, is one this service verifies and fits the key: a
/// public key's (RS256, ES256, EdDSA) only with `BUYERPATH_JWT_PUBLIC_KEY`; none with a JWKS (its
/// keys name their own).
fn check_algorithm(
    algorithm: Option<&str>,
    public_key: bool,
    jwks: bool,
) -> Result<(), ConfigError> {
    const VAR: &str = "BUYERPATH_JWT_ALGORITHM";
    let Some(a) = algorithm else { return Ok(()) };
    if !matches!(a, "HS256" | "RS256" | "ES256" | "EdDSA") {
        return Err(err(
            VAR,
            format!("'{a}' is not one of HS256, RS256, ES256, EdDSA"),
        ));
    }
    if jwks {
        return Err(err(
            VAR,
            "not used with BUYERPATH_JWT_JWKS_URL (the provider's keys name their algorithms); leave it unset",
        ));
    }
    if a != "HS256" && !public_key {
        return Err(err(VAR, format!("{a} needs BUYERPATH_JWT_PUBLIC_KEY")));
    }
    Ok(())
}

/// A shared secret (HS256 only), strong enough.
fn secret_key(secret: String, algorithm: Option<&str>) -> Result<JwtKeySource, ConfigError> {
    if algorithm.is_some_and(|a| a != "HS256") {
        return Err(err(
            "BUYERPATH_JWT_ALGORITHM",
            "a shared secret is only used with HS256",
        ));
    }
    if let Some(why) = secret_weakness(&secret) {
        return Err(err("BUYERPATH_JWT_SECRET", why));
    }
    Ok(JwtKeySource::Secret(secret.into_bytes()))
}

/// A public key file with its algorithm.
fn public_key_source(path: &str, algorithm: Option<&str>) -> Result<JwtKeySource, ConfigError> {
    let algorithm = match algorithm {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        Some("EdDSA") => Algorithm::EdDSA,
        Some(_) => {
            return Err(err(
                "BUYERPATH_JWT_ALGORITHM",
                "with a public key, expected RS256, ES256 or EdDSA",
            ))
        }
        None => {
            return Err(err(
                "BUYERPATH_JWT_ALGORITHM",
                "required with BUYERPATH_JWT_PUBLIC_KEY: RS256, ES256 or EdDSA",
            ))
        }
    };
    let pem = std::fs::read(path).map_err(|e| {
        err(
            "BUYERPATH_JWT_PUBLIC_KEY",
            format!("cannot read {path}: {e}"),
        )
    })?;
    Ok(JwtKeySource::PublicKey { algorithm, pem })
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(err(var, "expected true or false")),
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(err(
                var,
                format!("expected a whole number from {min} to {max}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests;
