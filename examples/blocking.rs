//! The `blocking` feature: the same calls from a plain `fn main`, no async runtime of ours:
//! `geopera::blocking::Geopera` (the fluent client, as Python's) and the `send_blocking`
//! twins of the `ops` modules. (The dev server itself needs a runtime, so this example
//! starts one on a background thread only to host it.)

use geopera::blocking::Geopera;
use geopera::models::{UploadFailInput, UploadInitiate};
use geopera::ops;
use geopera_dev_server::DevServer;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let (client, project, _server) = match std::env::var("GEOPERA_API_TOKEN") {
        Ok(t) if !t.trim().is_empty() => (
            Geopera::from_env()?,
            std::env::var("GEOPERA_PROJECT_ID")?,
            None,
        ),
        _ => {
            let host = DevHost::start()?;
            println!(
                "no GEOPERA_API_TOKEN set: using the embedded dev server at {}",
                host.base_url
            );
            let client = Geopera::builder()
                .base_url(&host.base_url)
                .token(&host.token)
                .build_blocking()?;
            (client, "prj_demo".to_owned(), Some(host))
        }
    };
    // The fluent client: Python's `client.uploads.initiate({...})`, ended by `.send()`.
    let session = client
        .uploads()
        .initiate(UploadInitiate::new(&project).signed_url().total_bytes(1024))
        .send()?;
    // The generated layer's blocking twin: Python's `uploads_fail.sync_detailed(...)`.
    let released = ops::uploads_fail::send_detailed_blocking(
        &client.client,
        &UploadFailInput::new(&session.id, "blocking example").step("demo"),
    )?;
    println!(
        "initiated {} and released it (status {}) without writing any async code",
        session.id,
        released.status()
    );
    Ok(())
}

/// The dev server on a runtime of its own thread.
struct DevHost {
    base_url: String,
    token: String,
    _stop: std::sync::mpsc::Sender<()>,
}

impl DevHost {
    fn start() -> Result<DevHost, BoxError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => return drop(ready_tx.send(Err(e.to_string()))),
            };
            runtime.block_on(async move {
                match DevServer::start().await {
                    Ok(server) => {
                        let seeded = server
                            .state()
                            .seed_demo()
                            .map(|_| ())
                            .map_err(|e| e.to_string());
                        let _ = ready_tx
                            .send(seeded.map(|_| {
                                (server.base_url().to_owned(), server.token().to_owned())
                            }));
                        let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                        server.shutdown().await;
                    }
                    Err(e) => drop(ready_tx.send(Err(e.to_string()))),
                }
            });
        });
        let (base_url, token) = ready_rx.recv()??;
        Ok(DevHost {
            base_url,
            token,
            _stop: stop_tx,
        })
    }
}
