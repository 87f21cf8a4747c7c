//! [`Flags`]: the dev server's command-line flags as a `clap` argument group, and [`run`],
//! which starts a server from them, prints how to reach it and serves until Ctrl-C or SIGTERM.
//!
//! The `geopera-dev-server` binary is `Flags` plus `run`; another binary can offer the same
//! server under a subcommand by flattening `Flags` into its own arguments:
//!
//! ```no_run
//! use clap::Parser;
//!
//! /// Runs the Geopera dev server.
//! #[derive(Parser)]
//! struct DevServerCommand {
//!     #[command(flatten)]
//!     flags: geopera_dev_server::Flags,
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     geopera_dev_server::run(DevServerCommand::parse().flags).await
//! }
//! ```

use super::config::DevConfig;
use super::state::DevState;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::TcpListener;

/// The dev server's command-line flags (see `geopera-dev-server --help`).
///
/// Build it with `clap` (`Flags` implements [`clap::Args`], so it can be flattened into any
/// parser), then hand it to [`run`], or take its parts with [`Flags::dev_config`].
#[derive(Clone, clap::Args)]
#[non_exhaustive]
pub struct Flags {
    /// Listen address
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8787", value_parser = parse_addr)]
    pub addr: SocketAddr,

    /// Where objects are stored [default: a temp dir removed on exit]
    #[arg(long, value_name = "PATH")]
    pub data_dir: Option<PathBuf>,

    /// API token granting every scope
    #[arg(long, value_name = "TOKEN", default_value = "dev-token", value_parser = parse_token)]
    pub token: String,

    /// Storage quota in bytes
    #[arg(long, value_name = "N", default_value_t = DevConfig::default().quota_bytes,
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub quota_bytes: u64,

    /// Lifetime of signed URLs in seconds
    #[arg(long, value_name = "N", default_value_t = DevConfig::default().url_ttl.as_secs(),
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub url_ttl_secs: u64,

    /// Largest object a signed PUT may store
    #[arg(long, value_name = "N", default_value_t = DevConfig::default().max_object_bytes,
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub max_object_bytes: u64,

    /// Answer 408 when a request body stalls this long; 0 disables
    #[arg(long, value_name = "N", default_value_t = default_body_timeout_secs(),
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub body_timeout_secs: u64,

    /// Connections served at once; more wait until one closes
    #[arg(long, value_name = "N", default_value_t = DevConfig::default().max_connections,
          value_parser = parse_connection_cap, allow_negative_numbers = true)]
    pub max_connections: usize,

    /// Base of signed URLs [default: from each request's Host header]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Start without the demo project, item and clip job
    #[arg(long)]
    pub no_demo: bool,

    /// Approve device logins (`geopera login`) as soon as they are requested
    #[arg(long)]
    pub auto_approve_device: bool,

    /// Lifetime of access tokens the login realm issues, in seconds
    #[arg(long, value_name = "N", default_value_t = DevConfig::default().realm.access_token_ttl.as_secs(),
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub access_token_ttl_secs: u64,

    /// Polling interval device logins are told, in seconds
    #[arg(long, value_name = "N", default_value_t = DevConfig::default().realm.poll_interval.as_secs(),
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub device_poll_interval_secs: u64,

    /// Cap each storage GET/PUT body (one connection) at N bytes/s, as an object store
    /// does; 0 is no cap
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub storage_bandwidth_bytes_per_sec: u64,

    /// Wait N ms before handling each storage request
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = parse_whole_number, allow_negative_numbers = true)]
    pub storage_latency_ms: u64,

    /// Do not log requests to stderr
    #[arg(long)]
    pub quiet: bool,
}

impl Flags {
    /// The server settings the flags describe: the token granted every scope, requests
    /// logged unless `--quiet`. The listen address and `--no-demo` are [`Flags::addr`] and
    /// [`Flags::no_demo`].
    pub fn dev_config(&self) -> DevConfig {
        let config = DevConfig::default()
            .with_token(self.token.clone(), DevConfig::ALL_SCOPES)
            .quota_bytes(self.quota_bytes)
            .url_ttl(Duration::from_secs(self.url_ttl_secs))
            .max_object_bytes(self.max_object_bytes)
            .body_read_timeout(Duration::from_secs(self.body_timeout_secs))
            .max_connections(self.max_connections)
            .auto_approve_device(self.auto_approve_device)
            .access_token_ttl(Duration::from_secs(self.access_token_ttl_secs))
            .device_poll_interval(Duration::from_secs(self.device_poll_interval_secs))
            .storage_bandwidth(self.storage_bandwidth_bytes_per_sec)
            .storage_latency(Duration::from_millis(self.storage_latency_ms))
            .log_requests(!self.quiet);
        let config = match &self.data_dir {
            Some(dir) => config.data_dir(dir),
            None => config,
        };
        match &self.public_url {
            Some(url) => config.public_url(url),
            None => config,
        }
    }

    /// Starts the server the flags describe on their address, seeds the demo data unless
    /// `--no-demo`, prints the URL, the token and how to try it on stdout, and serves until
    /// `shutdown` completes (see [`serve`](crate::serve)).
    pub async fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let state = DevState::new(self.dev_config())?;
        let demo = if self.no_demo {
            None
        } else {
            Some(state.seed_demo()?)
        };
        let listener = TcpListener::bind(self.addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let token = &self.token;

        println!("geopera dev server listening on {url}");
        println!("token (every scope): {token}");
        println!("data dir: {}", state.data_dir().display());
        if let Some(ids) = &demo {
            println!("demo project:  {}", ids.project_id);
            println!("demo item:     {} (asset {:?})", ids.item_id, ids.asset_key);
            println!(
                "demo clip job: {} (mosaic {:?})",
                ids.clip_job_id, ids.mosaic_type
            );
        }
        println!();
        println!("GEOPERA_API_URL={url}");
        println!("GEOPERA_API_TOKEN={token}");
        println!();
        if let Some(ids) = &demo {
            println!("Try it (operations take JSON, so send a Content-Type):");
            println!(
                "  curl -s -X POST {url}/v1/op/clip.job.downloads -H 'Authorization: Bearer {token}' \\\n    -H 'Content-Type: application/json' -d '{{\"job_id\": \"{}\"}}'",
                ids.clip_job_id
            );
            println!();
        }
        println!("Stop with Ctrl-C.");

        super::serve(listener, state, shutdown).await?;
        eprintln!("geopera dev server stopped");
        Ok(())
    }
}

// Written by hand: the token is a credential and never printed.
impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flags")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("token", &"<redacted>")
            .field("quota_bytes", &self.quota_bytes)
            .field("url_ttl_secs", &self.url_ttl_secs)
            .field("max_object_bytes", &self.max_object_bytes)
            .field("body_timeout_secs", &self.body_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("public_url", &self.public_url)
            .field("no_demo", &self.no_demo)
            .field("auto_approve_device", &self.auto_approve_device)
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("device_poll_interval_secs", &self.device_poll_interval_secs)
            .field(
                "storage_bandwidth_bytes_per_sec",
                &self.storage_bandwidth_bytes_per_sec,
            )
            .field("storage_latency_ms", &self.storage_latency_ms)
            .field("quiet", &self.quiet)
            .finish()
    }
}

/// Runs the dev server the flags describe until Ctrl-C (or SIGTERM on Unix), as the
/// `geopera-dev-server` binary does: [`Flags::serve_until`] with the process's signals, an
/// error printed to stderr and returned as a failing exit code.
pub async fn run(flags: Flags) -> ExitCode {
    match flags.serve_until(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

fn default_body_timeout_secs() -> u64 {
    DevConfig::default()
        .body_read_timeout
        .map_or(0, |timeout| timeout.as_secs())
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("expects HOST:PORT such as 127.0.0.1:8787, got {text:?}"))
}

fn parse_token(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(text.to_owned())
}

fn parse_whole_number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("expects a whole number, got {text:?}"))
}

fn parse_connection_cap(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!(
            "expects a whole number of at least 1, got {text:?}"
        )),
        Ok(max) => Ok(max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// A binary that embeds the flags, as the `geopera-dev-server` binary and any other
    /// command offering the dev server do.
    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        flags: Flags,
    }

    fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
        Command::try_parse_from(std::iter::once("geopera-dev-server").chain(args.iter().copied()))
            .map(|command| command.flags)
    }

    #[test]
    fn defaults_and_flags() {
        let flags = parse(&[]).expect("defaults parse");
        assert_eq!(flags.addr.to_string(), "127.0.0.1:8787");
        assert_eq!(flags.token, "dev-token");
        assert!(!flags.no_demo);
        let config = format!("{:?}", flags.dev_config());
        assert!(config.contains("quota_bytes: 10737418240"), "{config}");
        assert!(config.contains("url_ttl: 900s"), "{config}");
        assert!(config.contains("max_object_bytes: 5368709120"), "{config}");
        assert!(config.contains("log_requests: true"), "{config}");
        assert!(config.contains("data_dir: None"), "{config}");
        assert!(config.contains("public_url: None"), "{config}");

        let flags = parse(&[
            "--addr",
            "0.0.0.0:9000",
            "--token",
            "t",
            "--no-demo",
            "--quota-bytes",
            "5",
            "--url-ttl-secs",
            "6",
            "--max-object-bytes",
            "7",
            "--data-dir",
            "/tmp/x",
            "--public-url",
            "http://h:1/",
            "--quiet",
        ])
        .expect("flags parse");
        assert_eq!(flags.addr.port(), 9000);
        assert_eq!(flags.token, "t");
        assert!(flags.no_demo);
        let config = format!("{:?}", flags.dev_config());
        assert!(config.contains("quota_bytes: 5,"), "{config}");
        assert!(config.contains("url_ttl: 6s"), "{config}");
        assert!(config.contains("max_object_bytes: 7,"), "{config}");
        assert!(config.contains("log_requests: false"), "{config}");
        assert!(config.contains("data_dir: Some(\"/tmp/x\")"), "{config}");
        assert!(
            config.contains("public_url: Some(\"http://h:1\")"),
            "{config}"
        );
        assert!(config.contains("<redacted>: [clip:read, items:read, uploads:write]"));
    }

    #[test]
    fn connection_flags_reach_the_config() {
        let flags = parse(&["--body-timeout-secs", "7", "--max-connections", "3"]).expect("parse");
        let config = format!("{:?}", flags.dev_config());
        assert!(config.contains("body_read_timeout: Some(7s)"), "{config}");
        assert!(config.contains("max_connections: 3"), "{config}");
        let flags = parse(&["--body-timeout-secs", "0"]).expect("0 disables the timeout");
        assert!(format!("{:?}", flags.dev_config()).contains("body_read_timeout: None"));
        let defaults = parse(&[]).expect("defaults parse");
        let config = format!("{:?}", defaults.dev_config());
        assert!(config.contains("body_read_timeout: Some(60s)"), "{config}");
        assert!(config.contains("max_connections: 1024"), "{config}");
    }

    #[test]
    fn storage_limit_flags_reach_the_config() {
        let flags = parse(&[
            "--storage-bandwidth-bytes-per-sec",
            "50000000",
            "--storage-latency-ms",
            "30",
        ])
        .expect("flags parse");
        let config = format!("{:?}", flags.dev_config());
        assert!(
            config.contains("storage_bandwidth: Some(50000000)"),
            "{config}"
        );
        assert!(config.contains("storage_latency: Some(30ms)"), "{config}");
        let flags = parse(&["--storage-bandwidth-bytes-per-sec", "0"]).expect("0 is no cap");
        let config = format!("{:?}", flags.dev_config());
        assert!(config.contains("storage_bandwidth: None"), "{config}");
        assert!(config.contains("storage_latency: None"), "{config}");
        assert!(parse(&["--storage-latency-ms", "-5"]).is_err());
        assert!(parse(&["--storage-bandwidth-bytes-per-sec", "fast"]).is_err());
    }

    /// Each bad value is refused with a message saying what the flag expects.
    #[test]
    fn bad_values_say_what_is_expected() {
        let cases: &[(&[&str], &str)] = &[
            (&["--addr"], "a value is required for '--addr <HOST:PORT>'"),
            (
                &["--addr", "nope"],
                "expects HOST:PORT such as 127.0.0.1:8787",
            ),
            (
                &["--quota-bytes", "-1"],
                "expects a whole number, got \"-1\"",
            ),
            (&["--body-timeout-secs", "soon"], "expects a whole number"),
            (&["--url-ttl-secs", "1.5"], "expects a whole number"),
            (&["--max-object-bytes", "x"], "expects a whole number"),
            (&["--max-connections", "0"], "at least 1, got \"0\""),
            (&["--max-connections", "-1"], "at least 1, got \"-1\""),
            (&["--token", " "], "must not be empty"),
            (&["--frobnicate"], "unexpected argument '--frobnicate'"),
        ];
        for (args, expected) in cases {
            let err = match parse(args) {
                Ok(flags) => panic!("{args:?} parsed as {flags:?}"),
                Err(err) => err,
            };
            let message = err.to_string();
            assert!(message.contains(expected), "{args:?}: {message}");
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn help_lists_every_flag_with_its_default() {
        let err = match parse(&["--help"]) {
            Ok(flags) => panic!("--help parsed as {flags:?}"),
            Err(err) => err,
        };
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
        let help = err.to_string();
        for expected in [
            "--addr <HOST:PORT>",
            "[default: 127.0.0.1:8787]",
            "--data-dir <PATH>",
            "--token <TOKEN>",
            "[default: dev-token]",
            "--quota-bytes <N>",
            "[default: 10737418240]",
            "--url-ttl-secs <N>",
            "[default: 900]",
            "--max-object-bytes <N>",
            "[default: 5368709120]",
            "--body-timeout-secs <N>",
            "[default: 60]",
            "--max-connections <N>",
            "[default: 1024]",
            "--public-url <URL>",
            "--no-demo",
            "--quiet",
        ] {
            assert!(
                help.contains(expected),
                "{expected:?} missing from:\n{help}"
            );
        }
    }

    #[test]
    fn debug_redacts_the_token() {
        let flags = parse(&["--token", "super-secret-token"]).expect("parse");
        let debug = format!("{flags:?}");
        assert!(!debug.contains("super-secret-token"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}
