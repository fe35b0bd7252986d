//! A private PostgreSQL cluster: the embedded default when `DATABASE_URL` is unset, and the
//! throwaway database of the test suite.
//!
//! The cluster lives in a directory of its own (`pgdata/` inside it), listens on a unix socket in
//! that directory only (no TCP port), and is started with the server binaries found via `PATH`,
//! `pg_config --bindir` or `/usr/lib/postgresql/*/bin`. PostgreSQL refuses to run as root, so when
//! this process is root the server runs as the `postgres` user through `runuser`.
//!
//! A small watchdog process stops the server when the owning process goes away without a clean
//! stop (a crash, or a test binary that simply exits).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Port number used for the socket file name (`.s.PGSQL.<port>`); nothing listens on TCP.
const SOCKET_PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 107;
const SYSTEM_USER: &str = "postgres";
const SUPERUSER: &str = "postgres";

#[derive(Debug)]
pub struct EmbeddedPgError(pub String);

impl fmt::Display for EmbeddedPgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EmbeddedPgError {}

fn fail(msg: impl Into<String>) -> EmbeddedPgError {
    EmbeddedPgError(msg.into())
}

/// Options for starting a cluster.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Trade durability for speed (fsync off): for throwaway test clusters only.
    pub ephemeral: bool,
    /// Remove the whole directory once the server has stopped (test clusters).
    pub remove_dir_on_stop: bool,
}

/// A running private cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    dir: PathBuf,
    run_as: Option<String>,
    stopped: std::sync::atomic::AtomicBool,
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Finds the directory holding `initdb` and `pg_ctl`.
pub fn find_bin_dir() -> Result<PathBuf, EmbeddedPgError> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has_tools(&d) {
                return Ok(d);
            }
        }
    }
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    {
        if out.status.success() {
            let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_tools(&d) {
                return Ok(d);
            }
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, d)| d).ok_or_else(|| {
        fail(
            "no PostgreSQL server binaries (initdb, pg_ctl) found in PATH, `pg_config --bindir` \
             or /usr/lib/postgresql/*/bin: install PostgreSQL (e.g. `apt-get install postgresql`) \
             or set DATABASE_URL to an existing database",
        )
    })
}

/// Where root keeps clusters that the `postgres` user could not reach in place.
pub const FALLBACK_ROOT: &str = "/var/lib/buyerpath";

/// Whether `user` can write `dir` (every parent searchable).
fn user_can_write(user: &str, dir: &Path) -> bool {
    Command::new("runuser")
        .arg("-u")
        .arg(user)
        .arg("--")
        .arg("test")
        .arg("-w")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Where the cluster wanted in `dir` can live. As root the server runs as `postgres`; when
/// that user cannot reach `dir` (a checkout in `/root` or any 0700 directory), the cluster
/// lives in `/var/lib/buyerpath/<hash of dir>` instead: the same place on every run from the
/// same directory. Returns the directory to use and whether it moved.
pub fn placement(dir: &Path) -> Result<(PathBuf, bool), EmbeddedPgError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| fail(format!("cannot resolve {}: {e}", dir.display())))?;
    if !is_root() {
        return Ok((dir, false));
    }
    let _ = Command::new("chown")
        .arg(format!("{SYSTEM_USER}:"))
        .arg(&dir)
        .status();
    if user_can_write(SYSTEM_USER, &dir) {
        return Ok((dir, false));
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let moved = Path::new(FALLBACK_ROOT).join(short);
    std::fs::create_dir_all(&moved)
        .map_err(|e| fail(format!("cannot create {}: {e}", moved.display())))?;
    // A note for people looking for the cluster where they expected it.
    let _ = std::fs::write(
        dir.join("WHERE-IS-THE-CLUSTER.txt"),
        format!(
            "The '{SYSTEM_USER}' user cannot reach this directory, so the embedded PostgreSQL \
             cluster of this data directory lives in {}\n",
            moved.display()
        ),
    );
    Ok((moved, true))
}

/// The URL of database `db` of the cluster in `dir` (as `placement` gives it), over its unix
/// socket.
pub fn socket_url(dir: &Path, db: &str) -> String {
    format!(
        "postgres://{SUPERUSER}@localhost:{SOCKET_PORT}/{db}?host={}",
        dir.display()
    )
}

impl EmbeddedPostgres {
    /// Initialises (first time only) and starts the cluster in `dir`, then makes sure the
    /// database `db_name` exists.
    pub fn start(dir: &Path, db_name: &str, opts: &StartOptions) -> Result<Self, EmbeddedPgError> {
        let bin_dir = find_bin_dir()?;
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| fail(format!("cannot resolve {}: {e}", dir.display())))?;
        let socket = dir.join(format!(".s.PGSQL.{SOCKET_PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(fail(format!(
                "the data directory path {} is too long for a unix socket; choose a shorter \
                 BUYERPATH_DATA_DIR",
                dir.display()
            )));
        }
        let run_as = if is_root() {
            Some(SYSTEM_USER.to_string())
        } else {
            None
        };
        let pg = EmbeddedPostgres {
            bin_dir,
            dir,
            run_as,
            stopped: std::sync::atomic::AtomicBool::new(false),
        };
        pg.prepare_ownership()?;
        if !pg.pgdata().join("PG_VERSION").is_file() {
            pg.initdb()?;
        }
        pg.write_settings(opts)?;
        if !pg.is_running() {
            pg.pg_ctl_start()?;
        }
        pg.spawn_watchdog(opts.remove_dir_on_stop)?;
        crate::db::migrate::ensure_database(&pg.url("postgres"), db_name)
            .map_err(|e| fail(format!("embedded PostgreSQL: {e}")))?;
        Ok(pg)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn pgdata(&self) -> PathBuf {
        self.dir.join("pgdata")
    }

    /// A connection URL for database `db` over the cluster's unix socket.
    pub fn url(&self, db: &str) -> String {
        socket_url(&self.dir, db)
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin_dir.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn run(&self, mut cmd: Command, what: &str) -> Result<(), EmbeddedPgError> {
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| fail(format!("cannot run {what}: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(fail(format!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                self.log_tail()
            )))
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().rev().take(8).collect();
        if lines.is_empty() {
            String::new()
        } else {
            let mut l = lines;
            l.reverse();
            format!("\n--- postgres.log (last lines) ---\n{}", l.join("\n"))
        }
    }

    /// As root, the server runs as `postgres`: it must own the directory and reach it.
    fn prepare_ownership(&self) -> Result<(), EmbeddedPgError> {
        let Some(user) = &self.run_as else {
            return Ok(());
        };
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:"))
            .arg(&self.dir)
            .status()
            .map_err(|e| fail(format!("cannot run chown: {e}")))?;
        if !status.success() {
            return Err(fail(format!(
                "running as root, but the directory cannot be handed to the '{user}' user \
                 (does the user exist?): {}",
                self.dir.display()
            )));
        }
        if !user_can_write(user, &self.dir) {
            return Err(fail(format!(
                "running as root, PostgreSQL runs as '{user}', which cannot reach {}; set \
                 BUYERPATH_DATA_DIR to a directory it can reach (e.g. under /tmp or /var/lib)",
                self.dir.display()
            )));
        }
        Ok(())
    }

    fn initdb(&self) -> Result<(), EmbeddedPgError> {
        let mut cmd = self.command("initdb");
        cmd.arg("-D")
            .arg(self.pgdata())
            .arg("-U")
            .arg(SUPERUSER)
            .arg("--auth=trust")
            .arg("--encoding=UTF8")
            .arg("--no-locale")
            .arg("--no-instructions");
        self.run(cmd, "initdb")
    }

    fn write_settings(&self, opts: &StartOptions) -> Result<(), EmbeddedPgError> {
        let mut settings = format!(
            "# Written by buyerpath at every start; edits are overwritten.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             port = {SOCKET_PORT}\n\
             max_connections = 200\n",
            self.dir.display()
        );
        if opts.ephemeral {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.pgdata().join("postgresql.auto.conf");
        std::fs::write(&path, settings)
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        if let Some(user) = &self.run_as {
            let _ = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(&path)
                .status();
        }
        Ok(())
    }

    fn is_running(&self) -> bool {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("status").arg("-D").arg(self.pgdata());
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn pg_ctl_start(&self) -> Result<(), EmbeddedPgError> {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(self.pgdata())
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .arg("-w")
            .arg("-t")
            .arg("60");
        // pg_ctl leaves the server running with our stdout/stderr otherwise.
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        self.run(cmd, "pg_ctl start")
    }

    fn postmaster_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.pgdata().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Starts a detached watcher that stops the server once this process is gone.
    fn spawn_watchdog(&self, remove_dir: bool) -> Result<(), EmbeddedPgError> {
        let Some(pg_pid) = self.postmaster_pid() else {
            return Err(fail("postmaster.pid missing after start"));
        };
        let me = std::process::id();
        let mut script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 1; done; \
             kill -INT {pg_pid} 2>/dev/null; \
             for i in $(seq 1 60); do kill -0 {pg_pid} 2>/dev/null || break; sleep 0.5; done"
        );
        if remove_dir {
            script.push_str(&format!("; rm -rf '{}'", self.dir.display()));
        }
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map(|_| ())
            .map_err(|e| fail(format!("cannot start the watchdog: {e}")))
    }

    /// Stops the server (fast shutdown: open sessions are closed, committed data is kept).
    pub fn stop(&self) -> Result<(), EmbeddedPgError> {
        if self.stopped.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop")
            .arg("-D")
            .arg(self.pgdata())
            .arg("-m")
            .arg("fast")
            .arg("-w")
            .stdout(Stdio::null());
        self.run(cmd, "pg_ctl stop")
    }
}

use std::os::unix::process::CommandExt;
