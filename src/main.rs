//! The buyerpath binary: parse the CLI, load the configuration once, run.

use std::process::ExitCode;
use std::time::Duration;

use buyerpath::cli::{Cli, Command};
use buyerpath::config::{Config, DEFAULT_BIND};
use buyerpath::server;
use clap::Parser;

/// mimalloc instead of glibc's allocator: a request allocates and frees many small buffers
/// (rows, JSON, headers), and glibc's malloc and free were a seventh of the service's CPU time
/// under load (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match buyerpath::config::log_format_from(
        std::env::var("BUYERPATH_LOG_FORMAT").ok().as_deref(),
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("buyerpath: {e}");
            return ExitCode::FAILURE;
        }
    };
    buyerpath::logging::init(format);
    let command = cli.command.unwrap_or(Command::Serve);

    let result = match command {
        Command::Openapi => match serde_json::to_string_pretty(&buyerpath::api::openapi()) {
            Ok(spec) => {
                println!("{spec}");
                Ok(())
            }
            Err(e) => Err(format!("cannot render the OpenAPI document: {e}")),
        },
        Command::Import(args) => buyerpath::client::import(&args),
        Command::Export(args) => buyerpath::client::export(&args),
        Command::Healthcheck(args) => {
            let addr = args
                .addr
                .or_else(|| std::env::var("BUYERPATH_BIND").ok())
                .unwrap_or_else(|| DEFAULT_BIND.to_string());
            server::healthcheck(&addr, Duration::from_secs(args.timeout))
        }
        other => match Config::from_env() {
            Err(e) => Err(e.to_string()),
            Ok(config) => match other {
                Command::Migrate => server::migrate(&config),
                Command::Token(args) => server::token(&config, &args).map(|t| println!("{t}")),
                Command::DbUrl => server::db_url(&config).map(|u| println!("{u}")),
                _ => server::serve(config),
            },
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("buyerpath: {e}");
            ExitCode::FAILURE
        }
    }
}
