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
    assert_eq!(c.slow_request, Duration::from_secs(1));
}

#[test]
fn slow_request_threshold_is_milliseconds_and_zero_logs_every_request() {
    let c = cfg(&[("BUYERPATH_SLOW_REQUEST_MS", "0")]).unwrap();
    assert_eq!(c.slow_request, Duration::ZERO);
    let c = cfg(&[("BUYERPATH_SLOW_REQUEST_MS", "250")]).unwrap();
    assert_eq!(c.slow_request, Duration::from_millis(250));
    for bad in ["-1", "1.5", "slow", "3600001"] {
        let e = cfg(&[("BUYERPATH_SLOW_REQUEST_MS", bad)]).err().unwrap();
        assert_eq!(e.var, "BUYERPATH_SLOW_REQUEST_MS", "{bad}");
    }
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
fn an_algorithm_that_cannot_be_used_stops_the_service() {
    for pairs in [
        vec![("BUYERPATH_JWT_ALGORITHM", "foo")],
        vec![("BUYERPATH_JWT_ALGORITHM", "RS256")],
        vec![
            ("BUYERPATH_JWT_ALGORITHM", "ES256"),
            (
                "BUYERPATH_JWT_JWKS_URL",
                "https://idp.example.com/jwks.json",
            ),
        ],
        vec![
            ("BUYERPATH_JWT_ALGORITHM", "foo"),
            (
                "BUYERPATH_JWT_SECRET",
                "0123456789abcdef0123456789abcdef0123456789",
            ),
        ],
    ] {
        let e = cfg(&pairs)
            .err()
            .unwrap_or_else(|| panic!("{pairs:?} was accepted"));
        assert_eq!(e.var, "BUYERPATH_JWT_ALGORITHM", "{pairs:?}");
    }
    // HS256 alone names the data dir's own secret: allowed.
    assert!(cfg(&[("BUYERPATH_JWT_ALGORITHM", "HS256")]).is_ok());
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
    let example = include_str!("../../docker/.env.example");
    let mut seen = 0;
    for line in example.lines() {
        let line = line.trim_start_matches('#').trim();
        if let Some(v) = line.strip_prefix("BUYERPATH_JWT_SECRET=") {
            seen += 1;
            assert!(
                secret_weakness(v).is_some(),
                "the example's value is refused: {v}"
            );
        }
    }
    assert_eq!(seen, 1, "the example shows the variable once");
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

#[test]
fn log_format_and_trusted_proxies() {
    assert_eq!(log_format_from(None).unwrap(), LogFormat::Text);
    assert_eq!(log_format_from(Some("json")).unwrap(), LogFormat::Json);
    assert_eq!(
        log_format_from(Some("xml")).unwrap_err().var,
        "BUYERPATH_LOG_FORMAT"
    );
    let r = IpRange::parse("10.0.0.0/8").unwrap();
    assert!(r.contains("10.1.2.3".parse().unwrap()));
    assert!(r.contains("::ffff:10.1.2.3".parse().unwrap()));
    assert!(!r.contains("11.0.0.1".parse().unwrap()));
    assert!(IpRange::parse("127.0.0.1")
        .unwrap()
        .contains("127.0.0.1".parse().unwrap()));
    assert!(IpRange::parse("fd00::/8")
        .unwrap()
        .contains("fd12::1".parse().unwrap()));
    assert!(IpRange::parse("0.0.0.0/0")
        .unwrap()
        .contains("8.8.8.8".parse().unwrap()));
    assert!(IpRange::parse("10.0.0.0/33").is_none());
    assert!(IpRange::parse("proxy").is_none());
    let e = Config::from_lookup(|k| {
        (k == "BUYERPATH_TRUSTED_PROXIES").then(|| "10.0.0.1, nope".to_string())
    })
    .unwrap_err();
    assert_eq!(e.var, "BUYERPATH_TRUSTED_PROXIES");
}
