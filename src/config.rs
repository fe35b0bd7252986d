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
    /// Neither is set and `DATABASE_URL` is unset: the embedded default keeps a generated HS256
    /// secret in the data directory.
    DataDir,
}

impl fmt::Debug for JwtKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtKeySource::Secret(_) => f.write_str("Secret(<redacted>)"),
            JwtKeySource::PublicKey { algorithm, .. } => write!(f, "PublicKey({algorithm:?})"),
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
    /// `BUYERPATH_RATE_LIMIT_USER_PER_MINUTE` (0 = off).
    pub rate_limit_user_per_minute: u32,
    /// `BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE` (0 = off).
    pub rate_limit_tenant_per_minute: u32,
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
            .field(
                "rate_limit_user_per_minute",
                &self.rate_limit_user_per_minute,
            )
            .field(
                "rate_limit_tenant_per_minute",
                &self.rate_limit_tenant_per_minute,
            )
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
        if bind.parse::<std::net::SocketAddr>().is_err() && !bind.contains(':') {
            return Err(err(
                "BUYERPATH_BIND",
                "expected host:port, e.g. 127.0.0.1:8080",
            ));
        }
        let data_dir = PathBuf::from(
            get("BUYERPATH_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_string()),
        );

        let secret = value_or_file(&get, "BUYERPATH_JWT_SECRET", "BUYERPATH_JWT_SECRET_FILE")?;
        let public_key = get("BUYERPATH_JWT_PUBLIC_KEY");
        let algorithm = get("BUYERPATH_JWT_ALGORITHM");
        let key = match (secret, public_key) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "BUYERPATH_JWT_SECRET",
                    "set either BUYERPATH_JWT_SECRET or BUYERPATH_JWT_PUBLIC_KEY, not both",
                ))
            }
            (Some(secret), None) => {
                if let Some(a) = algorithm.as_deref() {
                    if a != "HS256" {
                        return Err(err(
                            "BUYERPATH_JWT_ALGORITHM",
                            "a shared secret is only used with HS256",
                        ));
                    }
                }
                if let Some(why) = secret_weakness(&secret) {
                    return Err(err("BUYERPATH_JWT_SECRET", why));
                }
                JwtKeySource::Secret(secret.into_bytes())
            }
            (None, Some(path)) => {
                let algorithm = match algorithm.as_deref() {
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
                let pem = std::fs::read(&path).map_err(|e| {
                    err(
                        "BUYERPATH_JWT_PUBLIC_KEY",
                        format!("cannot read {path}: {e}"),
                    )
                })?;
                JwtKeySource::PublicKey { algorithm, pem }
            }
            (None, None) => {
                if database_url.is_some() {
                    return Err(err(
                        "BUYERPATH_JWT_SECRET",
                        "set BUYERPATH_JWT_SECRET (HS256) or BUYERPATH_JWT_PUBLIC_KEY when DATABASE_URL is set",
                    ));
                }
                JwtKeySource::DataDir
            }
        };

        let jwt = JwtConfig {
            key,
            issuer: get("BUYERPATH_JWT_ISSUER"),
            audience: get("BUYERPATH_JWT_AUDIENCE"),
            leeway_secs: parse_num(&get, "BUYERPATH_JWT_LEEWAY_SECS", 30, 0, 300)?,
        };

        let db_pool_size = parse_num(&get, "BUYERPATH_DB_POOL_SIZE", 10, 1, 1000)? as usize;
        let db_pool_timeout = Duration::from_millis(parse_num(
            &get,
            "BUYERPATH_DB_POOL_TIMEOUT_MS",
            3000,
            10,
            600_000,
        )?);
        let db_statement_timeout = Duration::from_millis(parse_num(
            &get,
            "BUYERPATH_DB_STATEMENT_TIMEOUT_MS",
            5000,
            10,
            3_600_000,
        )?);
        let body_limit =
            parse_num(&get, "BUYERPATH_BODY_LIMIT", 1_048_576, 1024, 1 << 30)? as usize;
        let upload_limit = parse_num(
            &get,
            "BUYERPATH_UPLOAD_LIMIT",
            10 * 1_048_576,
            1024,
            1 << 30,
        )? as usize;
        let migrate_on_start = parse_bool(&get, "BUYERPATH_MIGRATE_ON_START", true)?;
        let event_retention_days = parse_num(&get, "BUYERPATH_EVENT_RETENTION_DAYS", 30, 1, 3650)?;
        let webhook_allow_private = parse_bool(&get, "BUYERPATH_WEBHOOK_ALLOW_PRIVATE", false)?;
        let webhook_worker = parse_bool(&get, "BUYERPATH_WEBHOOK_WORKER", true)?;
        let rate_limit_user_per_minute = parse_num(
            &get,
            "BUYERPATH_RATE_LIMIT_USER_PER_MINUTE",
            1200,
            0,
            1_000_000,
        )? as u32;
        let rate_limit_tenant_per_minute = parse_num(
            &get,
            "BUYERPATH_RATE_LIMIT_TENANT_PER_MINUTE",
            12_000,
            0,
            10_000_000,
        )? as u32;
        let cors_origins = match get("BUYERPATH_CORS_ORIGINS") {
            None => Vec::new(),
            Some(list) => {
                let mut origins = Vec::new();
                for o in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    let ok = (o.starts_with("http://") || o.starts_with("https://"))
                        && !o.ends_with('/')
                        && !o.contains(char::is_whitespace);
                    if !ok {
                        return Err(err(
                            "BUYERPATH_CORS_ORIGINS",
                            format!("'{o}' is not an origin like https://crm.example.com"),
                        ));
                    }
                    origins.push(o.to_string());
                }
                origins
            }
        };
        let shutdown_timeout_secs =
            parse_num(&get, "BUYERPATH_SHUTDOWN_TIMEOUT_SECS", 30, 1, 3600)?;
        let workers = match get("BUYERPATH_WORKERS") {
            None => None,
            Some(_) => Some(parse_num(&get, "BUYERPATH_WORKERS", 1, 1, 256)? as usize),
        };

        Ok(Config {
            database_url,
            bind,
            data_dir,
            jwt,
            db_pool_size,
            db_pool_timeout,
            db_statement_timeout,
            body_limit,
            upload_limit,
            migrate_on_start,
            cors_origins,
            shutdown_timeout_secs,
            workers,
            event_retention_days,
            webhook_allow_private,
            webhook_worker,
            rate_limit_user_per_minute,
            rate_limit_tenant_per_minute,
        })
    }
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_use_embedded_database_and_data_dir_secret() {
        let c = cfg(&[]).unwrap();
        assert!(c.database_url.is_none());
        assert_eq!(c.bind, DEFAULT_BIND);
        assert!(matches!(c.jwt.key, JwtKeySource::DataDir));
        assert_eq!(c.db_statement_timeout, Duration::from_secs(5));
        assert!(c.migrate_on_start);
        assert!(c.cors_origins.is_empty());
    }

    #[test]
    fn database_url_requires_jwt_config() {
        let e = cfg(&[("DATABASE_URL", "postgres://x/y")]).err().unwrap();
        assert_eq!(e.var, "BUYERPATH_JWT_SECRET");
    }

    #[test]
    fn short_secret_is_rejected_without_echoing_it() {
        let e = cfg(&[("BUYERPATH_JWT_SECRET", "hunter2")]).err().unwrap();
        assert_eq!(e.var, "BUYERPATH_JWT_SECRET");
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn public_key_needs_algorithm() {
        let e = cfg(&[("BUYERPATH_JWT_PUBLIC_KEY", "/nonexistent.pem")])
            .err()
            .unwrap();
        assert_eq!(e.var, "BUYERPATH_JWT_ALGORITHM");
        let e = cfg(&[
            ("BUYERPATH_JWT_PUBLIC_KEY", "/nonexistent.pem"),
            ("BUYERPATH_JWT_ALGORITHM", "RS256"),
        ])
        .err()
        .unwrap();
        assert_eq!(e.var, "BUYERPATH_JWT_PUBLIC_KEY");
    }

    #[test]
    fn numbers_are_range_checked() {
        let e = cfg(&[("BUYERPATH_DB_POOL_SIZE", "0")]).err().unwrap();
        assert_eq!(e.var, "BUYERPATH_DB_POOL_SIZE");
        let e = cfg(&[("BUYERPATH_BODY_LIMIT", "lots")]).err().unwrap();
        assert_eq!(e.var, "BUYERPATH_BODY_LIMIT");
        let c = cfg(&[("BUYERPATH_BODY_LIMIT", "2048")]).unwrap();
        assert_eq!(c.body_limit, 2048);
    }

    #[test]
    fn cors_origins_are_validated() {
        let c = cfg(&[(
            "BUYERPATH_CORS_ORIGINS",
            "https://crm.example.com, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(c.cors_origins.len(), 2);
        let e = cfg(&[("BUYERPATH_CORS_ORIGINS", "crm.example.com")])
            .err()
            .unwrap();
        assert_eq!(e.var, "BUYERPATH_CORS_ORIGINS");
    }

    #[test]
    fn example_and_weak_secrets_are_refused() {
        for bad in [
            "change-me-to-a-long-random-secret-of-at-least-32-bytes",
            "replace-me-with-the-output-of-openssl-rand-base64-48",
            &"a".repeat(64),
            &"abab".repeat(16),
            "short",
        ] {
            let e = cfg(&[("BUYERPATH_JWT_SECRET", bad)]).err().unwrap();
            assert_eq!(e.var, "BUYERPATH_JWT_SECRET", "{bad}");
            assert!(!e.to_string().contains(bad), "never echoed");
        }
        let example = include_str!("../docker/.env.example");
        for line in example.lines() {
            if let Some(v) = line.strip_prefix("BUYERPATH_JWT_SECRET=") {
                assert!(
                    secret_weakness(v).is_some(),
                    "the example's value is refused: {v}"
                );
            }
        }
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt");
        std::fs::write(&path, "f00d-cafe-b33f-0123456789-abcdefghij\n").unwrap();
        let p = path.to_str().unwrap();
        let c = cfg(&[("BUYERPATH_JWT_SECRET_FILE", p)]).unwrap();
        assert!(
            matches!(c.jwt.key, JwtKeySource::Secret(ref s) if s == b"f00d-cafe-b33f-0123456789-abcdefghij")
        );
        let e = cfg(&[
            ("BUYERPATH_JWT_SECRET_FILE", p),
            ("BUYERPATH_JWT_SECRET", "x"),
        ])
        .err()
        .unwrap();
        assert_eq!(e.var, "BUYERPATH_JWT_SECRET");
        let e = cfg(&[("BUYERPATH_JWT_SECRET_FILE", "/nonexistent/jwt")])
            .err()
            .unwrap();
        assert_eq!(e.var, "BUYERPATH_JWT_SECRET_FILE");
        let url = dir.path().join("url");
        std::fs::write(&url, "postgres://u:p@db/buyerpath\n").unwrap();
        let c = cfg(&[
            ("DATABASE_URL_FILE", url.to_str().unwrap()),
            ("BUYERPATH_JWT_SECRET_FILE", p),
        ])
        .unwrap();
        assert_eq!(
            c.database_url.as_deref(),
            Some("postgres://u:p@db/buyerpath")
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = cfg(&[
            (
                "BUYERPATH_JWT_SECRET",
                "0123456789abcdef0123456789abcdef-secret",
            ),
            ("DATABASE_URL", "postgres://user:pw@host/db"),
        ])
        .unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("secret"), "{s}");
        assert!(!s.contains("pw@"), "{s}");
    }
}
