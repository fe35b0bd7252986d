//! TLS to PostgreSQL: a cluster with `ssl = on` and a certificate from a throwaway CA;
//! `sslmode` and `sslrootcert` in `DATABASE_URL` decide what is accepted.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::RunOk;
use diesel_async::RunQueryDsl;

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a PostgreSQL tool as the cluster's owner.
fn as_owner(tool: &str) -> Command {
    if root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"])
            .arg(crate::common::pg_tool(tool));
        c
    } else {
        Command::new(crate::common::pg_tool(tool))
    }
}

struct TlsCluster {
    dir: PathBuf,
    port: u16,
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let mut c = as_owner("pg_ctl");
        c.args(["stop", "-m", "immediate", "-D"])
            .arg(self.dir.join("data"));
        let _ = c.stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TlsCluster {
    fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{params}", self.port)
    }

    fn set_ssl(&self, on: bool) {
        let conf = self.dir.join("data/postgresql.auto.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        let text = text.replace(
            if on { "ssl = off" } else { "ssl = on" },
            if on { "ssl = on" } else { "ssl = off" },
        );
        std::fs::write(&conf, text).unwrap();
        as_owner("pg_ctl")
            .args(["reload", "-D"])
            .arg(self.dir.join("data"))
            .run_ok();
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

struct Pki {
    ca: String,
    other_ca: String,
    cert: String,
    key: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        let cert = p.self_signed(&key).unwrap();
        (cert, key)
    };
    let (ca_cert, ca_key) = ca("buyerpath test CA");
    let (other, _) = ca("another CA");
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
    Pki {
        ca: ca_cert.pem(),
        other_ca: other.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn start(pki: &Pki) -> TlsCluster {
    let dir = tempfile::Builder::new()
        .prefix("bp-tls-")
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    if root() {
        Command::new("chown").arg("postgres:").arg(&dir).run_ok();
    }
    let data = dir.join("data");
    as_owner("initdb")
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-locale",
            "-E",
            "UTF8",
        ])
        .run_ok();
    let port = crate::common::free_port();
    let write = |name: &str, text: &str| {
        let p = data.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        if root() {
            let _ = Command::new("chown").arg("postgres:").arg(&p).status();
        }
    };
    write("server.crt", &pki.cert);
    write("server.key", &pki.key);
    write(
        "pg_hba.conf",
        "local all all trust\nhost all all 127.0.0.1/32 trust\n",
    );
    write(
        "postgresql.auto.conf",
        &format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nfsync = off\n",
            dir.display()
        ),
    );
    as_owner("pg_ctl")
        .args(["start", "-w", "-D"])
        .arg(&data)
        .arg("-l")
        .arg(dir.join("log"))
        .run_ok();
    TlsCluster { dir, port }
}

fn write_pem(dir: &Path, name: &str, pem: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, pem).unwrap();
    p.display().to_string()
}

async fn uses_tls(url: &str) -> Result<bool, String> {
    #[derive(diesel::QueryableByName)]
    struct Ssl {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ssl: bool,
    }
    let settings = buyerpath::db::PoolSettings {
        max_size: 1,
        wait_timeout: std::time::Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(5),
    };
    let pool = buyerpath::db::build_pool(url, &settings)?;
    let mut conn = pool.get().await.map_err(|e| format!("{e:?}"))?;
    let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.ssl)
}

#[actix_web::test]
async fn sslmode_and_sslrootcert_decide_what_is_accepted() {
    let pki = pki();
    let cluster = start(&pki);
    let files = tempfile::tempdir().unwrap();
    let ca = write_pem(files.path(), "ca.pem", &pki.ca);
    let other = write_pem(files.path(), "other.pem", &pki.other_ca);

    // verify-full with the right CA and host name: migrations and the pool run over TLS.
    let good = cluster.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    buyerpath::db::migrate::run_pending(&good).unwrap();
    assert_eq!(uses_tls(&good).await, Ok(true));
    // The binary says the same at start (here: its migrate command).
    Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .arg("migrate")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &good)
        .env("BUYERPATH_JWT_SECRET", crate::common::SECRET)
        .run_ok();

    // A wrong CA, or a host name the certificate does not name, fails, naming the setting.
    let wrong_ca = cluster.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other}"),
    );
    let e = buyerpath::db::migrate::run_pending(&wrong_ca).unwrap_err();
    assert!(
        e.contains("sslmode=verify-full") && e.contains("sslrootcert"),
        "{e}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &wrong_ca)
        .env("BUYERPATH_JWT_SECRET", crate::common::SECRET)
        .env("BUYERPATH_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success(), "start-up fails");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sslmode=verify-full"), "{err}");
    let wrong_host = cluster.url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let e = buyerpath::db::migrate::run_pending(&wrong_host).unwrap_err();
    assert!(e.contains("sslmode=verify-full"), "{e}");
    // verify-ca checks the chain only; require encrypts without verifying.
    let chain_only = cluster.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"));
    assert_eq!(uses_tls(&chain_only).await, Ok(true));
    let e = buyerpath::db::migrate::run_pending(&cluster.url(
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={other}"),
    ))
    .unwrap_err();
    assert!(e.contains("sslmode=verify-ca"), "{e}");
    assert_eq!(
        uses_tls(&cluster.url("127.0.0.1", "sslmode=require")).await,
        Ok(true)
    );
    assert_eq!(
        uses_tls(&cluster.url("127.0.0.1", "sslmode=prefer")).await,
        Ok(true)
    );
    assert_eq!(
        uses_tls(&cluster.url("127.0.0.1", "sslmode=disable")).await,
        Ok(false)
    );

    // Without TLS on the server: require fails, prefer and disable connect in plain text.
    cluster.set_ssl(false);
    let e = buyerpath::db::migrate::run_pending(&cluster.url("127.0.0.1", "sslmode=require"))
        .unwrap_err();
    assert!(e.contains("sslmode=require"), "{e}");
    assert_eq!(
        uses_tls(&cluster.url("127.0.0.1", "sslmode=prefer")).await,
        Ok(false)
    );
    assert_eq!(
        uses_tls(&cluster.url("127.0.0.1", "sslmode=disable")).await,
        Ok(false)
    );
}
