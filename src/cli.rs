//! Command-line interface. Configuration comes from the environment (see the README table);
//! the CLI only picks what to do.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "buyerpath",
    version,
    about = "Purchase-stage service for B2B IT-solution sales teams",
    long_about = "Purchase-stage service for B2B IT-solution sales teams.\n\nConfiguration is \
                  read from environment variables (DATABASE_URL, BUYERPATH_BIND, \
                  BUYERPATH_DATA_DIR, BUYERPATH_JWT_*, ...); see the README. Without \
                  DATABASE_URL, `serve` runs on a private PostgreSQL cluster in \
                  BUYERPATH_DATA_DIR."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default). Applies pending migrations first unless
    /// BUYERPATH_MIGRATE_ON_START=false.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Mint a bearer token with the configured HS256 secret (or the embedded default's).
    Token(TokenArgs),
    /// Print the OpenAPI document (JSON) to stdout.
    Openapi,
    /// Print the URL of the database the service uses: DATABASE_URL, or the embedded cluster's
    /// unix socket (for pg_dump while the service runs).
    DbUrl,
    /// Exit 0 when the running service answers /readyz with 200 (for container health checks).
    Healthcheck(HealthcheckArgs),
    /// Import a CRM's CSV export into a running service: upload, follow the job (a progress
    /// bar on a terminal), print the summary and write the row report beside the file.
    Import(ImportArgs),
    /// Export a resource of a running service as CSV (what `import --source buyerpath` reads).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The service, e.g. http://localhost:8080.
    #[arg(long)]
    pub url: String,
    /// A file holding the bearer token (a manager's or an admin's).
    #[arg(long)]
    pub token_file: std::path::PathBuf,
    /// accounts, contacts, opportunities or activities.
    #[arg(long)]
    pub resource: String,
    /// salesforce, hubspot or buyerpath.
    #[arg(long)]
    pub source: String,
    /// Run every check and store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The CSV file.
    pub file: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The service, e.g. http://localhost:8080.
    #[arg(long)]
    pub url: String,
    /// A file holding the bearer token.
    #[arg(long)]
    pub token_file: std::path::PathBuf,
    /// accounts, contacts, opportunities or activities.
    #[arg(long)]
    pub resource: String,
    /// Where to write (default `<resource>.csv`).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Tenant id (UUID).
    #[arg(long)]
    pub tenant: uuid::Uuid,
    /// The user (`sub` claim).
    #[arg(long)]
    pub sub: String,
    /// Role(s): viewer, rep, manager, admin. Repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<crate::auth::Role>,
    /// Lifetime, e.g. 30m, 8h, 7d.
    #[arg(long, default_value = "8h", value_parser = crate::auth::parse_ttl)]
    pub ttl: u64,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Address to probe; defaults to BUYERPATH_BIND (0.0.0.0 is probed on 127.0.0.1).
    #[arg(long)]
    pub addr: Option<String>,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

fn parse_role(s: &str) -> Result<crate::auth::Role, String> {
    crate::auth::Role::parse(s)
        .ok_or_else(|| format!("unknown role '{s}': expected viewer, rep, manager or admin"))
}
