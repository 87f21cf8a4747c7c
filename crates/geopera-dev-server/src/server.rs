//! [`DevServer`]: a dev server running in the background on a free loopback port, in one line.

use super::config::DevConfig;
use super::entropy::{hex, random_bytes};
use super::serve::serve;
use super::state::DevState;
use std::fmt;
use std::io;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A dev server running on `127.0.0.1:<free port>` until shut down or dropped.
///
/// ```
/// # use geopera_dev_server::DevServer;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let server = DevServer::start().await?;
/// let ids = server.state().seed_demo()?;
/// println!("{} {} {}", server.base_url(), server.token(), ids.item_id);
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct DevServer {
    base_url: String,
    token: String,
    state: DevState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl DevServer {
    /// Starts with [`DevConfig::default`] and a ready token holding every scope.
    pub async fn start() -> io::Result<DevServer> {
        DevServer::start_with(DevConfig::default()).await
    }

    /// Starts with `config`, adding a freshly generated ready token holding every scope
    /// (see [`DevServer::token`]); the config's own tokens keep working.
    pub async fn start_with(config: DevConfig) -> io::Result<DevServer> {
        let token = format!("gpdev_{}", hex(&random_bytes()?[..16]));
        let state = DevState::new(config.with_token(token.clone(), DevConfig::ALL_SCOPES))?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            // Fires on shutdown() and when the DevServer is dropped (sender dropped).
            let _ = stopped.await;
        }));
        Ok(DevServer {
            base_url,
            token,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The ready token (every scope). Never printed by `Debug`.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A fluent client builder already pointed at this server with its ready token; add
    /// settings (retry policy, timeout) and `build()`.
    ///
    /// ```
    /// # use geopera_dev_server::DevServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = DevServer::start().await?;
    /// let client = server.client_builder().retry_policy(geopera::RetryPolicy::disabled()).build()?;
    /// assert_eq!(client.client.base_url(), server.base_url());
    /// # Ok(()) }
    /// ```
    pub fn client_builder(&self) -> geopera::GeoperaBuilder {
        geopera::Geopera::builder()
            .base_url(&self.base_url)
            .token(&self.token)
    }

    /// The server's state: seed data, inspect it, inject faults.
    pub fn state(&self) -> &DevState {
        &self.state
    }

    /// Stops accepting connections and waits (up to 10 s) for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl fmt::Debug for DevServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevServer")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("data_dir", &self.state.data_dir())
            .finish_non_exhaustive()
    }
}
