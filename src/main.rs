//! The buyerpath binary: parse the CLI, load the configuration once, run.

use std::process::ExitCode;
use std::time::Duration;

use buyerpath::cli::{Cli, Command};
use buyerpath::config::{Config, DEFAULT_BIND};
use buyerpath::server;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let command = cli.command.unwrap_or(Command::Serve);

    let result = match command {
        Command::Openapi => match serde_json::to_string_pretty(&buyerpath::api::openapi()) {
            Ok(spec) => {
                println!("{spec}");
                Ok(())
            }
            Err(e) => Err(format!("cannot render the OpenAPI document: {e}")),
        },
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
