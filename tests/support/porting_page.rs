// The hidden set-up of every example of `geopera::porting` (src/porting.md), included by
// each one: the only place that page names the dev server, so a move of the dev server
// changes this file alone. Not a module of the test suite.

#[allow(unused_imports)]
use geopera_dev_server::{DevConfig, DevServer};

/// What every example's `?` returns into.
#[allow(dead_code)]
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A dev server standing in for `https://api.geopera.com`, with the seed page's ids.
#[allow(dead_code)]
struct Dev {
    /// The API base URL.
    url: String,
    /// A token with every scope (the page's `"gpra_..."`).
    token: String,
    /// The demo item, with a `visual` asset.
    item_id: String,
    /// The demo clip job, with a `visual` mosaic.
    clip_job_id: String,
    dir: std::path::PathBuf,
    _host: Host,
}

#[allow(dead_code)]
enum Host {
    /// On the caller's runtime.
    Async(DevServer),
    /// On a runtime of its own thread, for examples in plain `fn main`; stops when dropped.
    Thread(std::sync::mpsc::Sender<()>),
}

#[allow(dead_code)]
impl Dev {
    /// The page's project, `your-project-id`, and the demo item and clip job.
    async fn start() -> Result<Dev, BoxError> {
        Dev::start_with(DevConfig::default()).await
    }

    /// As [`Dev::start`], with a storage quota of `bytes`.
    async fn with_quota(bytes: u64) -> Result<Dev, BoxError> {
        Dev::start_with(DevConfig::default().quota_bytes(bytes)).await
    }

    async fn start_with(config: DevConfig) -> Result<Dev, BoxError> {
        let server = DevServer::start_with(config).await?;
        let (url, token) = (server.base_url().to_owned(), server.token().to_owned());
        let demo = server.state().seed_demo()?;
        server.state().add_project("your-project-id");
        Dev::new(url, token, demo.item_id, demo.clip_job_id, Host::Async(server))
    }

    /// As [`Dev::start`], for a synchronous `fn main`: the server runs on a thread of its own.
    fn start_blocking() -> Result<Dev, BoxError> {
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
                server.state().add_project("your-project-id");
                let ids = server.state().seed_demo().map_err(|e| e.to_string());
                let _ = ready_tx.send(ids.map(|demo| {
                    let (url, token) = (server.base_url().to_owned(), server.token().to_owned());
                    (url, token, demo.item_id, demo.clip_job_id)
                }));
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                server.shutdown().await;
            });
        });
        let (url, token, item, job) = ready_rx.recv()??;
        Dev::new(url, token, item, job, Host::Thread(stop_tx))
    }

    fn new(url: String, token: String, item_id: String, clip_job_id: String, host: Host) -> Result<Dev, BoxError> {
        let dir = std::env::temp_dir().join(format!(
            "geopera-porting-{}-{}",
            std::process::id(),
            url.rsplit(':').next().unwrap_or("0")
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Dev { url, token, item_id, clip_job_id, dir, _host: host })
    }

    /// A scratch file of `size` bytes named `name`, for the page's `./harbour_2024.tif`.
    fn file(&self, name: &str, size: usize) -> Result<std::path::PathBuf, BoxError> {
        let path = self.dir.join(name);
        std::fs::write(&path, vec![7u8; size])?;
        Ok(path)
    }

    /// The scratch directory, the page's `./`.
    fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
