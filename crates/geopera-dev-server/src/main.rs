//! `geopera-dev-server`: the Geopera dev server as a standalone binary, for testing clients in
//! any language against a local, stateful stand-in for the platform.
//!
//! Seeds demo data by default and prints the URL, the token and the demo ids on start-up.
//! Stops gracefully on Ctrl-C or SIGTERM.

use geopera_dev_server::{DevConfig, DevState, serve};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::TcpListener;

const USAGE: &str = "\
geopera-dev-server: a local, stateful stand-in for the Geopera API (uploads and downloads)

USAGE:
    geopera-dev-server [OPTIONS]

OPTIONS:
    --addr <HOST:PORT>        listen address [default: 127.0.0.1:8787]
    --data-dir <PATH>         where objects are stored [default: a temp dir removed on exit]
    --token <TOKEN>           API token granting every scope [default: dev-token]
    --quota-bytes <N>         storage quota in bytes [default: 10737418240]
    --url-ttl-secs <N>        lifetime of signed URLs in seconds [default: 900]
    --max-object-bytes <N>    largest object a signed PUT may store [default: 5368709120]
    --body-timeout-secs <N>   answer 408 when a request body stalls this long; 0 disables
                              [default: 60]
    --max-connections <N>     connections served at once; more wait until one closes
                              [default: 1024]
    --public-url <URL>        base of signed URLs [default: from each request's Host header]
    --no-demo                 start without the demo project, item and clip job
    --quiet                   do not log requests to stderr
    -h, --help                print this help
";

/// Parsed command line.
struct Args {
    addr: SocketAddr,
    token: String,
    demo: bool,
    config: DevConfig,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
        token: "dev-token".to_owned(),
        demo: true,
        config: DevConfig::default().log_requests(true),
    };
    while let Some(flag) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{name} expects a whole number, got {text:?}"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => {
                let text = value("--addr")?;
                parsed.addr = text.parse().map_err(|_| {
                    format!("--addr expects HOST:PORT such as 127.0.0.1:8787, got {text:?}")
                })?;
            }
            "--data-dir" => parsed.config = parsed.config.data_dir(value("--data-dir")?),
            "--token" => {
                parsed.token = value("--token")?;
                if parsed.token.trim().is_empty() {
                    return Err("--token must not be empty".into());
                }
            }
            "--quota-bytes" => {
                parsed.config = parsed
                    .config
                    .quota_bytes(number("--quota-bytes", value("--quota-bytes")?)?);
            }
            "--url-ttl-secs" => {
                let secs = number("--url-ttl-secs", value("--url-ttl-secs")?)?;
                parsed.config = parsed.config.url_ttl(Duration::from_secs(secs));
            }
            "--max-object-bytes" => {
                let max = number("--max-object-bytes", value("--max-object-bytes")?)?;
                parsed.config = parsed.config.max_object_bytes(max);
            }
            "--body-timeout-secs" => {
                let secs = number("--body-timeout-secs", value("--body-timeout-secs")?)?;
                parsed.config = parsed.config.body_read_timeout(Duration::from_secs(secs));
            }
            "--max-connections" => {
                let text = value("--max-connections")?;
                let max = match text.parse::<usize>() {
                    Ok(0) | Err(_) => {
                        return Err(format!(
                            "--max-connections expects a whole number of at least 1, got {text:?}"
                        ));
                    }
                    Ok(max) => max,
                };
                parsed.config = parsed.config.max_connections(max);
            }
            "--public-url" => parsed.config = parsed.config.public_url(value("--public-url")?),
            "--no-demo" => parsed.demo = false,
            "--quiet" => parsed.config = parsed.config.log_requests(false),
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    Ok(Some(parsed))
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

async fn run(args: Args) -> std::io::Result<()> {
    let config = args
        .config
        .with_token(args.token.clone(), DevConfig::ALL_SCOPES);
    let state = DevState::new(config)?;
    let demo = if args.demo {
        Some(state.seed_demo()?)
    } else {
        None
    };
    let listener = TcpListener::bind(args.addr).await?;
    let url = format!("http://{}", listener.local_addr()?);

    println!("geopera dev server listening on {url}");
    println!("token (every scope): {}", args.token);
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
    println!("GEOPERA_API_TOKEN={}", args.token);
    println!();
    if let Some(ids) = &demo {
        println!("Try it (operations take JSON, so send a Content-Type):");
        println!(
            "  curl -s -X POST {url}/v1/op/clip.job.downloads -H 'Authorization: Bearer {}' \\\n    -H 'Content-Type: application/json' -d '{{\"job_id\": \"{}\"}}'",
            args.token, ids.clip_job_id
        );
        println!();
    }
    println!("Stop with Ctrl-C.");

    serve(listener, state, shutdown_signal()).await?;
    eprintln!("geopera dev server stopped");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn defaults_and_flags() {
        let Ok(Some(args)) = parse(&[]) else {
            panic!("defaults should parse")
        };
        assert_eq!(args.addr.to_string(), "127.0.0.1:8787");
        assert_eq!(args.token, "dev-token");
        assert!(args.demo);
        let Ok(Some(args)) = parse(&[
            "--addr",
            "0.0.0.0:9000",
            "--token",
            "t",
            "--no-demo",
            "--quota-bytes",
            "5",
        ]) else {
            panic!("flags should parse")
        };
        assert_eq!(args.addr.port(), 9000);
        assert_eq!(args.token, "t");
        assert!(!args.demo);
    }

    #[test]
    fn connection_flags_reach_the_config() {
        let Ok(Some(args)) = parse(&["--body-timeout-secs", "7", "--max-connections", "3"]) else {
            panic!("flags should parse")
        };
        let config = format!("{:?}", args.config);
        assert!(config.contains("body_read_timeout: Some(7s)"), "{config}");
        assert!(config.contains("max_connections: 3"), "{config}");
        let Ok(Some(args)) = parse(&["--body-timeout-secs", "0"]) else {
            panic!("0 disables the timeout")
        };
        assert!(format!("{:?}", args.config).contains("body_read_timeout: None"));
        let Ok(Some(defaults)) = parse(&[]) else {
            panic!("defaults should parse")
        };
        let config = format!("{:?}", defaults.config);
        assert!(config.contains("body_read_timeout: Some(60s)"), "{config}");
        assert!(config.contains("max_connections: 1024"), "{config}");
        assert!(parse(&["--max-connections", "0"]).is_err());
        assert!(parse(&["--max-connections", "-1"]).is_err());
        assert!(parse(&["--body-timeout-secs", "soon"]).is_err());
    }

    #[test]
    fn help_and_errors() {
        assert!(matches!(parse(&["--help"]), Ok(None)));
        assert!(parse(&["--addr"]).is_err());
        assert!(parse(&["--addr", "nope"]).is_err());
        assert!(parse(&["--quota-bytes", "-1"]).is_err());
        assert!(parse(&["--token", " "]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }
}
