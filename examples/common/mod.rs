//! Shared by the examples: connecting, to the real API when `GEOPERA_API_TOKEN` is set,
//! otherwise to the embedded dev server (said in one line), from async code or from a
//! plain `fn main`. Nothing else: each example moves its own bytes, as the seed's do.

#![allow(dead_code)]

use geopera::Geopera;
use geopera_dev_server::{DemoIds, DevServer};

/// The examples' error type: anything, printed as one line.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where an example runs.
pub struct Env {
    /// The fluent client.
    pub client: Geopera,
    /// The project uploads go into.
    pub project_id: String,
    /// Demo ids, on the dev server.
    pub demo: Option<DemoIds>,
    /// The dev server, kept alive for the example's duration.
    pub server: Option<DevServer>,
}

/// Connects to the real API when `GEOPERA_API_TOKEN` is set (project from
/// `GEOPERA_PROJECT_ID`), otherwise starts the embedded dev server with demo data.
pub async fn connect() -> Result<Env, BoxError> {
    if std::env::var("GEOPERA_API_TOKEN").is_ok_and(|t| !t.trim().is_empty()) {
        let client = Geopera::from_env()?;
        let project_id = std::env::var("GEOPERA_PROJECT_ID")
            .map_err(|_| "set GEOPERA_PROJECT_ID to the project to upload into")?;
        println!("using the Geopera API at {}", client.client.base_url());
        return Ok(Env {
            client,
            project_id,
            demo: None,
            server: None,
        });
    }
    let server = DevServer::start().await?;
    let demo = server.state().seed_demo()?;
    println!(
        "no GEOPERA_API_TOKEN set: using the embedded dev server at {}",
        server.base_url()
    );
    let client = server.client_builder().build()?;
    Ok(Env {
        client,
        project_id: demo.project_id.clone(),
        demo: Some(demo),
        server: Some(server),
    })
}

/// Where a synchronous example runs: [`Env`] with the blocking client. (Every crate
/// that includes this file names its blocking feature `blocking`.)
#[cfg(feature = "blocking")]
pub struct BlockingEnv {
    /// The synchronous fluent client.
    pub client: geopera::blocking::Geopera,
    /// The project uploads go into.
    pub project_id: String,
    /// Demo ids, on the dev server.
    pub demo: Option<DemoIds>,
    /// Stops the dev server's thread when dropped.
    _host: Option<std::sync::mpsc::Sender<()>>,
}

/// [`connect`] for a plain `fn main`. The dev server needs an async runtime, so it runs on
/// one of its own thread, as a synchronous program's server would be elsewhere.
#[cfg(feature = "blocking")]
pub fn connect_blocking() -> Result<BlockingEnv, BoxError> {
    if std::env::var("GEOPERA_API_TOKEN").is_ok_and(|t| !t.trim().is_empty()) {
        let client = geopera::blocking::Geopera::from_env()?;
        let project_id = std::env::var("GEOPERA_PROJECT_ID")
            .map_err(|_| "set GEOPERA_PROJECT_ID to the project to upload into")?;
        println!("using the Geopera API at {}", client.client.base_url());
        return Ok(BlockingEnv {
            client,
            project_id,
            demo: None,
            _host: None,
        });
    }
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
        };
        runtime.block_on(async move {
            let server = match DevServer::start().await {
                Ok(server) => server,
                Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
            };
            let seeded = server.state().seed_demo().map_err(|e| e.to_string());
            let _ = ready_tx.send(seeded.map(|demo| (server.client_builder(), demo)));
            let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
            server.shutdown().await;
        });
    });
    let (builder, demo) = ready_rx.recv()??;
    let client = builder.build_blocking()?;
    println!(
        "no GEOPERA_API_TOKEN set: using the embedded dev server at {}",
        client.client.base_url()
    );
    Ok(BlockingEnv {
        client,
        project_id: demo.project_id.clone(),
        demo: Some(demo),
        _host: Some(stop_tx),
    })
}
