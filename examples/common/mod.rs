//! Shared by the examples: connecting, to the real API when `GEOPERA_API_TOKEN` is set,
//! otherwise to the embedded dev server (said in one line). Nothing else: each example
//! moves its own bytes, as the seed's do.

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
