//! Shared by the examples: connecting (to the real API when `GEOPERA_API_TOKEN` is set,
//! otherwise to the embedded dev server, said in one line), and the byte transfers the SDK
//! deliberately leaves to callers — a streaming PUT from disk with progress, and a
//! streaming GET to disk — with errors that never carry a signed URL's query.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use geopera::Geopera;
use geopera::models::SignedUrl;
use geopera_dev_server::{DemoIds, DevServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// A transfer to or from object storage failed; `status` is set for an HTTP error.
#[derive(Debug)]
pub struct TransferError {
    /// The storage status, if a response arrived.
    pub status: Option<u16>,
    /// What happened, without the URL's query.
    pub message: String,
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "object storage answered {s}: {}", self.message),
            None => write!(f, "transfer failed: {}", self.message),
        }
    }
}

impl std::error::Error for TransferError {}

impl TransferError {
    fn from_reqwest(e: reqwest::Error) -> TransferError {
        let e = e.without_url();
        TransferError {
            status: e.status().map(|s| s.as_u16()),
            message: e.to_string(),
        }
    }
    fn io(e: std::io::Error) -> TransferError {
        TransferError {
            status: None,
            message: e.to_string(),
        }
    }
    /// Whether a fresh signature could fix it (expired or rejected URL).
    pub fn is_forbidden(&self) -> bool {
        self.status == Some(403)
    }
}

/// Cumulative bytes moved, readable from another task (for progress reports).
#[derive(Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

const CHUNK: usize = 256 * 1024;

/// PUTs the file at `path` to `url`, streaming it from disk in 256 KiB chunks (constant
/// memory whatever the size) and counting bytes into `progress` as they are handed over.
///
/// Each chunk is read with `std::fs` on the blocking pool straight into the (not zeroed)
/// buffer that is sent. Reading through `tokio::fs` into a zeroed buffer costs two more
/// passes over every byte: it doubled the client's system CPU per GiB against `curl -T`
/// (BENCHMARKS.md).
pub async fn put_file(
    http: &reqwest::Client,
    url: &SignedUrl,
    path: &Path,
    content_type: &str,
    progress: &Progress,
) -> Result<u64, TransferError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(TransferError::io)?;
    let len = file.metadata().await.map_err(TransferError::io)?.len();
    let file = file.into_std().await;
    let counter = progress.clone();
    let stream = futures_util::stream::unfold(Some(file), move |file| {
        let counter = counter.clone();
        async move {
            let file = file?; // None: an error ended the stream
            let read = tokio::task::spawn_blocking(move || {
                use std::io::Read;
                let mut chunk = Vec::with_capacity(CHUNK);
                (&file).take(CHUNK as u64).read_to_end(&mut chunk)?;
                Ok((file, chunk))
            })
            .await
            .unwrap_or_else(|joined| Err(std::io::Error::other(joined)));
            match read {
                Ok((_, chunk)) if chunk.is_empty() => None,
                Ok((file, chunk)) => {
                    counter.add(chunk.len() as u64);
                    Some((Ok(chunk), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    http.put(url.expose())
        .header("content-type", content_type)
        .header("content-length", len)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(TransferError::from_reqwest)?;
    Ok(len)
}

/// PUTs the file through a session's signed URL; when storage answers 403 (an expired or
/// rejected signature) it signs again and retries, instead of retrying the stale URL, up
/// to `max_signatures` signatures. Returns how many signatures it took.
pub async fn put_resigning(
    session: &geopera::UploadSession,
    http: &reqwest::Client,
    path: &Path,
    file_name: &str,
    content_type: &str,
    progress: &Progress,
    max_signatures: u32,
) -> Result<u32, BoxError> {
    let mut signatures = 0;
    loop {
        signatures += 1;
        let signed = session.sign(file_name, content_type).await?;
        match put_file(http, &signed.upload_url, path, content_type, progress).await {
            Ok(_) => return Ok(signatures),
            Err(e) if e.is_forbidden() && signatures < max_signatures => {
                progress.0.store(0, Ordering::Relaxed);
                println!("storage said 403 ({e}); signing again");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// GETs `url` into the file at `path`, streaming, and returns the bytes written.
///
/// The network side and the disk side overlap, and memory stays bounded whatever the file
/// size: body chunks are copied into one of four 1 MiB buffers, and full buffers go to one
/// blocking writer thread using plain `std::fs`, which hands each back once written.
/// Two things matter here (BENCHMARKS.md, "Download: what changed the ratio"):
/// - Batching. Handing over every chunk would wake the writer thread ~12,000 times per
///   GiB, and on a machine with few cores those wake-ups cost more than the writes.
/// - Recycling. Each chunk is dropped as soon as it is copied, so hyper reuses its read
///   buffer and the four buffers are the only memory in flight. Passing the chunks
///   themselves to the writer kept hyper allocating fresh read buffers, which cost ~100,000
///   page faults per GiB; the copy costs far less.
pub async fn get_to_file(
    http: &reqwest::Client,
    url: &str,
    path: &Path,
    progress: &Progress,
) -> Result<u64, TransferError> {
    let response = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(TransferError::from_reqwest)?;
    let file = std::fs::File::create(path).map_err(TransferError::io)?;
    write_on_blocking_thread(response.bytes_stream(), file, progress).await
}

/// The size of each buffer that travels to the writer thread.
const BATCH: usize = 1 << 20;
/// How many such buffers exist; the reader waits for one when all are in flight.
const BUFFERS: usize = 4;

/// Writes a body's chunks to `file` on one blocking writer thread, through [`BUFFERS`]
/// recycled buffers of [`BATCH`] bytes.
async fn write_on_blocking_thread(
    body: impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>>,
    file: std::fs::File,
    progress: &Progress,
) -> Result<u64, TransferError> {
    let (full_tx, mut full_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(BUFFERS);
    let (empty_tx, mut empty_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        // Cannot fail: the channel has room for every buffer and its receiver is alive.
        let _ = empty_tx.try_send(Vec::with_capacity(BATCH));
    }
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        use std::io::Write;
        let mut out = file;
        let mut written = 0u64;
        while let Some(mut buffer) = full_rx.blocking_recv() {
            out.write_all(&buffer)?;
            written = written.saturating_add(buffer.len() as u64);
            buffer.clear();
            // Fails only once the reader is gone (its future was dropped).
            let _ = empty_tx.try_send(buffer);
        }
        Ok(written)
    });
    let mut body = std::pin::pin!(body);
    let mut buffer = Vec::new();
    let mut failure = None;
    'read: loop {
        let chunk = match body.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                failure = Some(TransferError::from_reqwest(e));
                break;
            }
            None => break,
        };
        progress.add(chunk.len() as u64);
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            if buffer.capacity() == 0 {
                match empty_rx.recv().await {
                    Some(empty) => buffer = empty,
                    None => break 'read, // the writer failed; its error is reported below
                }
            }
            let take = rest.len().min(BATCH - buffer.len());
            buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if buffer.len() == BATCH && full_tx.send(std::mem::take(&mut buffer)).await.is_err() {
                break 'read;
            }
        }
    }
    if !buffer.is_empty() {
        // An error here means the writer failed; its error is reported below.
        let _ = full_tx.send(buffer).await;
    }
    drop(full_tx);
    let written = writer
        .await
        .map_err(|e| TransferError {
            status: None,
            message: e.to_string(),
        })?
        .map_err(TransferError::io)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

/// Writes a deterministic test file of `len` bytes that starts like a little-endian TIFF.
pub async fn make_test_file(path: &Path, len: u64) -> Result<(), BoxError> {
    let mut file = tokio::fs::File::create(path).await?;
    let mut written = 0u64;
    let mut block = vec![0u8; CHUNK];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    while written < len {
        for b in block.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        if written == 0 {
            block[..4].copy_from_slice(b"II*\0");
        }
        let n = (len - written).min(CHUNK as u64) as usize;
        file.write_all(&block[..n]).await?;
        written += n as u64;
    }
    file.flush().await?;
    Ok(())
}

/// Whether two files hold the same bytes (compared in chunks).
pub async fn same_bytes(a: &Path, b: &Path) -> Result<bool, BoxError> {
    let (mut fa, mut fb) = (
        tokio::fs::File::open(a).await?,
        tokio::fs::File::open(b).await?,
    );
    if fa.metadata().await?.len() != fb.metadata().await?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    loop {
        let n = fa.read(&mut ba).await?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n]).await?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// A scratch directory for an example's files, removed on drop.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Result<Scratch, BoxError> {
        let dir =
            std::env::temp_dir().join(format!("geopera-example-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
    pub fn path(&self, file: &str) -> std::path::PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
