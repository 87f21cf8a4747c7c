//! Shared by the tests: a dev server with a project, scratch directories, test bytes, and
//! a loopback storage server that answers from a script (to break a body off mid-way).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use geopera::{Geopera, RetryPolicy};
use geopera_dev_server::DevServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

pub const PROJECT: &str = "prj_transfer";

/// Retries at once, so tests do not wait for backoff.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::ZERO, Duration::ZERO)
}

pub async fn dev() -> (DevServer, Geopera) {
    let server = DevServer::start().await.expect("dev server");
    server.state().add_project(PROJECT);
    let client = server
        .client_builder()
        .retry_policy(quick_retries())
        .build()
        .expect("client");
    (server, client)
}

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "geopera-transfer-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
    /// The names of the files in the directory, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` deterministic, not repeating bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn write(path: &Path, data: &[u8]) {
    std::fs::write(path, data).expect("write test file");
}

/// What the loopback storage server does with one request.
pub enum Reply {
    /// Sends `head` (status line and headers, without the blank line) and the first `send`
    /// bytes of `body`, then closes the connection.
    Cut {
        head: String,
        body: Vec<u8>,
        send: usize,
    },
    /// Sends `head` and the first `send` bytes of `body`, then keeps the connection open
    /// until the server is dropped.
    Hang {
        head: String,
        body: Vec<u8>,
        send: usize,
    },
}

/// A loopback server answering the requests of one connection each, from `replies` in
/// order; every request head it read is sent on the returned channel.
pub struct Loopback {
    pub url: String,
    pub requests: mpsc::UnboundedReceiver<String>,
    _stop: oneshot::Sender<()>,
}

pub async fn loopback(replies: Vec<Reply>) -> Loopback {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, requests) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut stopped = stopped;
        let mut held = Vec::new();
        for reply in replies {
            let (mut socket, _) = tokio::select! {
                accepted = listener.accept() => accepted.expect("accept"),
                _ = &mut stopped => return,
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
            let (head, body, send, hang) = match reply {
                Reply::Cut { head, body, send } => (head, body, send, false),
                Reply::Hang { head, body, send } => (head, body, send, true),
            };
            let _ = socket.write_all(format!("{head}\r\n\r\n").as_bytes()).await;
            let _ = socket.write_all(&body[..send.min(body.len())]).await;
            let _ = socket.flush().await;
            if hang {
                held.push(socket);
            }
        }
        let _ = stopped.await;
        drop(held);
    });
    Loopback {
        url: format!("http://{addr}/storage/obj.tif?X-Goog-Signature=secret"),
        requests,
        _stop: stop,
    }
}

/// A client for a descriptor-only download (the API is never called).
pub fn offline_client(retry: RetryPolicy) -> Geopera {
    Geopera::builder()
        .base_url("http://127.0.0.1:9")
        .token("gpra_test")
        .retry_policy(retry)
        .build()
        .expect("client")
}
