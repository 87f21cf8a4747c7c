//! `geopera-dev-server`: the Geopera dev server as a standalone binary, for testing clients in
//! any language against a local, stateful stand-in for the platform.
//!
//! Seeds demo data by default and prints the URL, the token and the demo ids on start-up.
//! Stops gracefully on Ctrl-C or SIGTERM. The flags and the start-up are the library's
//! [`Flags`](geopera_dev_server::Flags) and [`run`](geopera_dev_server::run).

use clap::Parser;
use std::process::ExitCode;

/// geopera-dev-server: a local, stateful stand-in for the Geopera API (uploads and downloads)
#[derive(Parser)]
#[command(name = "geopera-dev-server", version)]
struct Command {
    #[command(flatten)]
    flags: geopera_dev_server::Flags,
}

#[tokio::main]
async fn main() -> ExitCode {
    geopera_dev_server::run(Command::parse().flags).await
}
