//! `geopera`: the Geopera command line.

use clap::Parser;
use geopera_cli::auth::{AuthCommand, AuthOptions};
use std::process::ExitCode;

/// The Geopera command line.
#[derive(Debug, Parser)]
#[command(name = "geopera", version, about)]
struct Cli {
    #[command(flatten)]
    options: AuthOptions,
    #[command(subcommand)]
    command: AuthCommand,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.run(&cli.options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
