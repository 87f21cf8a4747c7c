//! Shared by the bench programs: where the dev server is (an external one from
//! `GEOPERA_API_URL` / `GEOPERA_API_TOKEN`, as `benches/run.sh` starts it, or one started
//! in-process on its own runtime when they are unset), environment knobs, statistics, and
//! the JSON results file `benches/run.sh` turns into the results table.

#![allow(dead_code)]

use std::time::Duration;

use geopera_dev_server::{DevConfig, DevServer};

/// The dev server a bench talks to.
pub struct Target {
    pub base_url: String,
    pub token: String,
    pub project_id: String,
    /// Whether the server runs in this process (then its work shares our CPU time).
    pub in_process: bool,
    _server: Option<InProcess>,
}

/// An in-process dev server on a runtime of its own (two worker threads), so it never
/// runs on the bench's runtime.
struct InProcess {
    server: Option<DevServer>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let (Some(server), Some(runtime)) = (self.server.take(), self.runtime.as_ref()) {
            runtime.block_on(server.shutdown());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Target {
    /// From `GEOPERA_API_URL` + `GEOPERA_API_TOKEN` (project `GEOPERA_PROJECT_ID`, default
    /// `prj_demo`), otherwise an in-process dev server with demo data and `quota_bytes`.
    /// Call it outside any async runtime.
    pub fn from_env(quota_bytes: u64) -> Target {
        let url = env_string("GEOPERA_API_URL");
        let token = env_string("GEOPERA_API_TOKEN");
        if let (Some(base_url), Some(token)) = (url, token) {
            assert!(
                is_loopback_url(&base_url),
                "GEOPERA_API_URL must be a loopback address for the benches, got {base_url}"
            );
            return Target {
                base_url,
                token,
                project_id: env_string("GEOPERA_PROJECT_ID").unwrap_or_else(|| "prj_demo".into()),
                in_process: false,
                _server: None,
            };
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dev-server")
            .enable_all()
            .build()
            .expect("a runtime for the in-process dev server");
        let server = runtime
            .block_on(DevServer::start_with(
                DevConfig::default()
                    .quota_bytes(quota_bytes)
                    .max_object_bytes(quota_bytes),
            ))
            .expect("starting the in-process dev server");
        let demo = server.state().seed_demo().expect("seeding demo data");
        eprintln!(
            "note: GEOPERA_API_URL/GEOPERA_API_TOKEN unset, so the dev server runs in this \
             process at {} (its work shares this process's CPU; benches/run.sh uses a \
             separate release server)",
            server.base_url()
        );
        Target {
            base_url: server.base_url().to_owned(),
            token: server.token().to_owned(),
            project_id: demo.project_id,
            in_process: true,
            _server: Some(InProcess {
                server: Some(server),
                runtime: Some(runtime),
            }),
        }
    }

    /// The fluent client for this server, with default settings (as a user would build it).
    pub fn client(&self) -> geopera::Geopera {
        geopera::Geopera::builder()
            .base_url(&self.base_url)
            .token(&self.token)
            .build()
            .expect("building the SDK client")
    }
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or("");
    rest.starts_with("127.") || rest.starts_with("localhost") || rest.starts_with("[::1]")
}

/// A non-empty environment variable.
pub fn env_string(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A whole-number environment variable, or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    match env_string(name) {
        Some(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {v:?}")),
        None => default,
    }
}

/// The `q`-quantile (0..=1) of sorted samples, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The median of unsorted values.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// Collects `key = value` results and writes them as one JSON object to the file named by
/// `GEOPERA_BENCH_OUT` (when set), for `benches/run.sh`'s table.
#[derive(Default)]
pub struct Results(serde_json::Map<String, serde_json::Value>);

impl Results {
    pub fn set(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.0.insert(key.to_owned(), value.into());
    }

    pub fn extend(&mut self, other: Results) {
        self.0.extend(other.0);
    }

    pub fn write(&self) {
        if let Some(path) = env_string("GEOPERA_BENCH_OUT") {
            let text = serde_json::to_string_pretty(&self.0).expect("results as JSON");
            std::fs::write(&path, text)
                .unwrap_or_else(|e| panic!("writing results to {path}: {e}"));
            eprintln!("results written to {path}");
        }
    }
}
