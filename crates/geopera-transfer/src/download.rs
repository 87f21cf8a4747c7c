//! Downloads: resolve a descriptor, GET its signed URL into a temporary file beside the
//! destination, check the length, rename. A download that breaks off resumes from the last
//! byte written; a failed or cancelled one never leaves a file at the destination.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use geopera::models::{AssetDownloadInput, ClipDownloadInput, Descriptor, SignedUrl};
use geopera::reqwest::header::{CONTENT_RANGE, ETAG, IF_MATCH, RANGE};
use geopera::reqwest::{self, StatusCode};
use geopera::{Error, Geopera};

use crate::cancel::{self, Cancel};
use crate::parallel::{self, DEFAULT_CONNECTIONS, DEFAULT_PART_SIZE, Outcome, Plan};
use crate::progress::{FileProgress, NoProgress, Progress, Reporter};
use crate::stall::{StallProtection, Watchdog};
use crate::storage::{self, Attempts, DEFAULT_RESIGN_MARGIN, GET, Next};
use crate::upload::DEFAULT_MAX_SIGNATURES;

/// Options of the downloads: `DownloadOptions::default()` then the setters.
#[derive(Clone)]
#[non_exhaustive]
pub struct DownloadOptions {
    overwrite: bool,
    max_signatures: u32,
    connections: usize,
    part_size: u64,
    resign_margin: Duration,
    stall: StallProtection,
    progress: Arc<dyn Progress>,
    cancel: Cancel,
}

impl Default for DownloadOptions {
    fn default() -> DownloadOptions {
        DownloadOptions {
            overwrite: false,
            max_signatures: DEFAULT_MAX_SIGNATURES,
            connections: DEFAULT_CONNECTIONS,
            part_size: DEFAULT_PART_SIZE,
            resign_margin: DEFAULT_RESIGN_MARGIN,
            stall: StallProtection::default(),
            progress: Arc::new(NoProgress),
            cancel: Cancel::default(),
        }
    }
}

impl std::fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("overwrite", &self.overwrite)
            .field("max_signatures", &self.max_signatures)
            .field("connections", &self.connections)
            .field("part_size", &self.part_size)
            .field("resign_margin", &self.resign_margin)
            .field("stall", &self.stall)
            .field("cancel_on", &self.cancel.is_set())
            .finish_non_exhaustive()
    }
}

impl DownloadOptions {
    /// Whether an existing file at the destination is replaced (default: no, the download
    /// is refused before anything is fetched).
    pub fn overwrite(mut self, yes: bool) -> DownloadOptions {
        self.overwrite = yes;
        self
    }

    /// How many signed URLs one download may use: a 403 from storage (an expired URL)
    /// resolves the descriptor again until this many were used (at least 1).
    pub fn max_signatures(mut self, signatures: u32) -> DownloadOptions {
        self.max_signatures = signatures.max(1);
        self
    }

    /// How many connections one download may use at once (default
    /// [`DEFAULT_CONNECTIONS`]; at least 1). With more than 1, the first request asks for
    /// the first [`part_size`](Self::part_size) bytes, and an object larger than that is
    /// fetched in parts over that many connections, each a `Range` request pinned to the
    /// object's ETag (a changed object is never spliced), each retried and resumed on its
    /// own. With 1, the object comes in one stream. Object stores cap each connection's
    /// bandwidth, so several connections are faster; on a fast link they cost nothing.
    pub fn connections(mut self, connections: usize) -> DownloadOptions {
        self.connections = connections.max(1);
        self
    }

    /// The size of each part of a parallel download, in bytes (default
    /// [`DEFAULT_PART_SIZE`]; at least 1): objects up to this size come in one request.
    pub fn part_size(mut self, bytes: u64) -> DownloadOptions {
        self.part_size = bytes.max(1);
        self
    }

    /// How close to its expiry (read from `X-Goog-Date` + `X-Goog-Expires`) a signed URL
    /// may be when a resumed GET would start with it: closer, and the descriptor is
    /// resolved again first (within [`max_signatures`](Self::max_signatures)) instead of
    /// waiting for a 403. Default [`DEFAULT_RESIGN_MARGIN`].
    pub fn resign_margin(mut self, margin: Duration) -> DownloadOptions {
        self.resign_margin = margin;
        self
    }

    /// When an attempt counts as stalled and is abandoned, to resume (default: fewer
    /// than 1 byte/s over 20 s; see [`StallProtection`]).
    pub fn stall_protection(mut self, protection: StallProtection) -> DownloadOptions {
        self.stall = protection;
        self
    }

    /// Where progress is reported (default: nowhere).
    pub fn progress(mut self, sink: impl Progress + 'static) -> DownloadOptions {
        self.progress = Arc::new(sink);
        self
    }

    /// Cancels the download when `signal` completes: the GETs in flight stop, the
    /// temporary file is removed (the destination is left as it was) and the download
    /// returns [`geopera::Error::Io`] of kind
    /// [`Interrupted`](std::io::ErrorKind::Interrupted). Any future serves as the token: a
    /// oneshot receiver (`async { let _ = rx.await; }`), a timer, or `tokio_util`'s
    /// `CancellationToken::cancelled_owned()`. Dropping the download's future cancels it
    /// too, without a token.
    pub fn cancel_on(
        mut self,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> DownloadOptions {
        self.cancel = Cancel::on(signal);
        self
    }
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Download {
    /// The destination, now holding the whole object.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// How many times a broken-off GET was resumed with a `Range` request.
    pub resumes: u32,
    /// How many times the download started again from the first byte (the server ignored
    /// the range, or the object changed).
    pub restarts: u32,
    /// How many signed URLs it used (more than 1 after a 403).
    pub signatures: u32,
    /// The object's CRC32C (Castagnoli), when storage stated one in `x-goog-hash`: the
    /// bytes written were checked against it (a mismatch fails the download with
    /// [`geopera::Error::Integrity`]). On the parallel path it is the parts' CRC32Cs
    /// combined. `None` when storage sent none (only the length was checked).
    pub crc32c: Option<u32>,
}

/// Downloads asset `asset_id` of item `item_id` (`items.asset.download`) to `dest`.
pub async fn download_asset(
    client: &Geopera,
    item_id: &str,
    asset_id: &str,
    dest: impl AsRef<Path>,
    options: DownloadOptions,
) -> Result<Download, Error> {
    let resolve = || {
        client
            .items()
            .asset()
            .download(AssetDownloadInput::new(item_id, asset_id))
    };
    download(client, resolve, dest.as_ref(), options).await
}

/// Downloads the `mosaic_type` mosaic of clip job `job_id` (`clip.job.download`) to `dest`.
pub async fn download_clip(
    client: &Geopera,
    job_id: &str,
    mosaic_type: &str,
    dest: impl AsRef<Path>,
    options: DownloadOptions,
) -> Result<Download, Error> {
    let resolve = || {
        client
            .clip()
            .job()
            .download(ClipDownloadInput::new(job_id, mosaic_type))
    };
    download(client, resolve, dest.as_ref(), options).await
}

/// Downloads the signed URL of a descriptor you already hold (from `clip.job.downloads`,
/// say) to `dest`. It cannot be resolved again, so a 403 is final.
pub async fn download_descriptor(
    client: &Geopera,
    descriptor: &Descriptor,
    dest: impl AsRef<Path>,
    options: DownloadOptions,
) -> Result<Download, Error> {
    let resolve = || std::future::ready(Ok(descriptor.clone()));
    download(client, resolve, dest.as_ref(), options.max_signatures(1)).await
}

pub(crate) fn signed_url(descriptor: &Descriptor) -> Result<SignedUrl, Error> {
    descriptor.url().ok_or_else(|| Error::InvalidInput {
        operation: GET.into(),
        field: Some("url".into()),
        message: format!("the descriptor has no signed URL: {descriptor}"),
    })
}

/// Where a download stands between attempts.
#[derive(Default)]
struct State {
    /// Bytes of the object in the temporary file, from its start.
    offset: u64,
    /// The object's size, once a response said it.
    total: Option<u64>,
    /// The object's strong ETag, which a resume is pinned to.
    etag: Option<reqwest::header::HeaderValue>,
    /// The object's CRC32C, from `x-goog-hash`.
    expected_crc: Option<u32>,
    /// CRC32C of the `offset` bytes in the temporary file, continued by each resume.
    crc: u32,
    resumes: u32,
    restarts: u32,
}

impl State {
    fn restart(&mut self) {
        self.offset = 0;
        self.total = None;
        self.etag = None;
        self.expected_crc = None;
        self.crc = 0;
        self.restarts = self.restarts.saturating_add(1);
    }
}

/// [`transfer`] raced with the options' cancellation token: cancelled, the transfer is
/// dropped, and with it the temporary file.
async fn download<F, Fut>(
    client: &Geopera,
    resolve: F,
    dest: &Path,
    options: DownloadOptions,
) -> Result<Download, Error>
where
    F: Fn() -> Fut,
    Fut: IntoFuture<Output = Result<Descriptor, Error>>,
{
    let cancel = options.cancel.clone();
    tokio::select! {
        done = transfer(client, resolve, dest, options) => done,
        () = cancel.cancelled() => Err(cancel::cancelled(GET)),
    }
}

async fn transfer<F, Fut>(
    client: &Geopera,
    resolve: F,
    dest: &Path,
    options: DownloadOptions,
) -> Result<Download, Error>
where
    F: Fn() -> Fut,
    Fut: IntoFuture<Output = Result<Descriptor, Error>>,
{
    if !options.overwrite && exists(dest).await? {
        return Err(exists_error(dest));
    }
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let reporter = Reporter::new(
        options.progress.clone(),
        vec![FileProgress {
            name,
            bytes: 0,
            total: None,
        }],
    );
    let mut url = signed_url(&resolve().await?)?;
    let mut part = Part::create(dest)?;
    let http = client.client.http_client();
    let mut attempts = Attempts::new(client.client.retry_policy().clone(), options.max_signatures);
    let mut state = State::default();
    let mut first = None;
    if options.connections > 1 {
        let plan = Plan {
            part_size: options.part_size,
            connections: options.connections,
            max_signatures: options.max_signatures,
            policy: client.client.retry_policy().clone(),
            stall: options.stall,
            resign_margin: options.resign_margin,
        };
        match parallel::download(
            http,
            &resolve,
            &mut url,
            &mut attempts,
            &part.file,
            &reporter,
            plan,
        )
        .await?
        {
            Outcome::Done(done) => {
                part.finish(dest, options.overwrite).await?;
                reporter.finish();
                return Ok(Download {
                    path: dest.to_path_buf(),
                    bytes: done.bytes,
                    resumes: done.resumes,
                    restarts: done.restarts,
                    signatures: done.signatures,
                    crc32c: done.crc32c,
                });
            }
            Outcome::Single(response) => first = response,
        }
    }
    let mut fresh = true;
    loop {
        if !fresh
            && storage::expires_within(&url, options.resign_margin, SystemTime::now())
            && attempts.try_resign()
        {
            tracing::info!("the signed URL is about to expire; resolving the descriptor again");
            url = signed_url(&resolve().await?)?;
        }
        fresh = false;
        let before = state.offset;
        let watchdog = Watchdog::new(options.stall);
        let result = attempt(
            http,
            &url,
            &part,
            &mut state,
            &reporter,
            first.take(),
            &watchdog,
        )
        .await;
        if state.offset > before {
            attempts.progressed();
        }
        let e = match result {
            Ok(()) => break,
            Err(e) => e,
        };
        let next = match &e {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::UnexpectedEof => {
                attempts.retry(&e)
            }
            _ => attempts.next(&e),
        };
        match next {
            Next::Resign => {
                tracing::info!(error = %e, "storage refused the signed URL; resolving the descriptor again");
                url = signed_url(&resolve().await?)?;
                fresh = true;
            }
            Next::Retry(delay) => {
                tracing::info!(error = %e, offset = state.offset, ?delay, "the download broke off; resuming");
                tokio::time::sleep(delay).await;
            }
            Next::Fail => return Err(e),
        }
    }
    part.finish(dest, options.overwrite).await?;
    reporter.finish();
    Ok(Download {
        path: dest.to_path_buf(),
        bytes: state.offset,
        resumes: state.resumes,
        restarts: state.restarts,
        signatures: attempts.signatures(),
        // Checked against the bytes in `attempt` once the last one was in.
        crc32c: state.expected_crc.map(|_| state.crc),
    })
}

async fn exists(path: &Path) -> Result<bool, Error> {
    tokio::fs::try_exists(path)
        .await
        .map_err(|e| storage::io(GET, e))
}

fn exists_error(dest: &Path) -> Error {
    storage::io(
        GET,
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} exists; set DownloadOptions::overwrite(true) to replace it",
                dest.display()
            ),
        ),
    )
}

/// One GET: from the start, or from `state.offset` with a `Range` (pinned to the ETag
/// when the server sent a strong one). A server that answers a resume with the whole
/// object, a range that does not start where asked or a different size, another
/// CRC32C, or 412 (the object changed) makes the download start again, in this same
/// attempt. The bytes are counted by `watchdog`, which abandons a stalled attempt; the
/// CRC32C is computed as they are written and checked once the last one is in.
async fn attempt(
    http: &reqwest::Client,
    url: &SignedUrl,
    part: &Part,
    state: &mut State,
    reporter: &Reporter,
    mut first: Option<reqwest::Response>,
    watchdog: &Watchdog,
) -> Result<(), Error> {
    let response = loop {
        let resuming = state.offset > 0;
        // The parallel path's first response, when storage answered it whole.
        let response = match first.take() {
            Some(response) => response,
            None => {
                let mut request = http.get(url.expose());
                if resuming {
                    request = request.header(RANGE, format!("bytes={}-", state.offset));
                    if let Some(tag) = &state.etag {
                        request = request.header(IF_MATCH, tag.clone());
                    }
                }
                watchdog.send(GET, request).await?
            }
        };
        let status = response.status();
        let crc = storage::x_goog_crc32c(response.headers());
        if status == StatusCode::OK {
            if resuming {
                tracing::info!("storage ignored the range; starting again");
                state.restart();
            }
            state.total = response.content_length();
            state.etag = response
                .headers()
                .get(ETAG)
                .filter(|tag| !tag.as_bytes().starts_with(b"W/"))
                .cloned();
            state.expected_crc = crc;
            break response;
        }
        if resuming && status == StatusCode::PARTIAL_CONTENT {
            let range = response
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(content_range);
            let same_crc = match (state.expected_crc, crc) {
                (Some(known), Some(now)) => known == now,
                _ => true,
            };
            match range {
                Some((start, total))
                    if start == state.offset
                        && state.total.is_none_or(|t| t == total)
                        && same_crc =>
                {
                    state.total = Some(total);
                    state.expected_crc = state.expected_crc.or(crc);
                    state.resumes = state.resumes.saturating_add(1);
                    break response;
                }
                _ => {
                    tracing::info!("storage answered another range; starting again");
                    state.restart();
                    continue;
                }
            }
        }
        if resuming && status == StatusCode::PRECONDITION_FAILED {
            tracing::info!("the object changed since the download started; starting again");
            state.restart();
            continue;
        }
        return Err(storage::status(GET, response, url, state.offset).await);
    };
    reporter.set(0, state.offset, state.total);
    let file = part.file.try_clone().map_err(|e| storage::io(GET, e))?;
    let body = Body {
        file,
        offset: state.offset,
        crc: state.crc,
    };
    let (written, failure) =
        write_on_blocking_thread(response.bytes_stream(), body, watchdog, |n| {
            reporter.add(0, n)
        })
        .await;
    let (written, crc) = written.map_err(|e| storage::io(GET, e))?;
    state.offset = state.offset.saturating_add(written);
    state.crc = crc;
    if let Some(e) = failure
        && state.total != Some(state.offset)
    {
        return Err(e);
    }
    if state.total.is_none_or(|total| total == state.offset)
        && let Some(expected) = state.expected_crc
        && expected != state.crc
    {
        return Err(Error::Integrity {
            operation: GET.into(),
            algorithm: "crc32c",
            expected,
            actual: state.crc,
            bytes: state.offset,
        });
    }
    match state.total {
        Some(total) if state.offset < total => Err(storage::io(
            GET,
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the body ended after {} of {total} bytes", state.offset),
            ),
        )),
        Some(total) if state.offset > total => Err(storage::io(
            GET,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} bytes arrived for an object of {total}", state.offset),
            ),
        )),
        _ => Ok(()),
    }
}

/// `bytes <start>-<end>/<total>` → `(start, total)`; `None` for anything else (a `*`
/// total, an end past the total, an end before the start).
fn content_range(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end, total): (u64, u64, u64) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (start <= end && end < total).then_some((start, total))
}

/// The temporary file beside the destination; removed on drop unless renamed into place.
struct Part {
    path: PathBuf,
    file: std::fs::File,
    kept: bool,
}

/// Tells apart the temporary files of concurrent downloads in one process.
static PART_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Part {
    fn create(dest: &Path) -> Result<Part, Error> {
        let name = dest.file_name().ok_or_else(|| Error::InvalidInput {
            operation: GET.into(),
            field: Some("dest".into()),
            message: format!("{} does not name a file", dest.display()),
        })?;
        let mut part_name = std::ffi::OsString::from(".");
        part_name.push(name);
        part_name.push(format!(
            ".{}-{}.part",
            std::process::id(),
            PART_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let path = dest.with_file_name(part_name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| storage::io(GET, e))?;
        Ok(Part {
            path,
            file,
            kept: false,
        })
    }

    /// Flushes the file to disk and renames it to `dest`.
    async fn finish(&mut self, dest: &Path, overwrite: bool) -> Result<(), Error> {
        let file = self.file.try_clone().map_err(|e| storage::io(GET, e))?;
        tokio::task::spawn_blocking(move || file.sync_all())
            .await
            .unwrap_or_else(|joined| Err(std::io::Error::other(joined)))
            .map_err(|e| storage::io(GET, e))?;
        // Checked again: the destination may have appeared while the bytes moved.
        if !overwrite && exists(dest).await? {
            return Err(exists_error(dest));
        }
        tokio::fs::rename(&self.path, dest)
            .await
            .map_err(|e| storage::io(GET, e))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The size of each buffer that travels to the writer thread.
const BATCH: usize = 1 << 20;
/// How many such buffers exist; the reader waits for one when all are in flight.
const BUFFERS: usize = 4;

/// Where a body's bytes go: `file` from `offset` on, continuing `crc` (the CRC32C of the
/// file's first `offset` bytes).
struct Body {
    file: std::fs::File,
    offset: u64,
    crc: u32,
}

/// Writes a body's chunks to the file from its offset on (cutting what was after it), on
/// one blocking writer thread through [`BUFFERS`] recycled buffers of [`BATCH`] bytes (the
/// tuned path of the repository's examples, see BENCHMARKS.md: batching spares the writer
/// thread's wake-ups, copying lets hyper reuse its read buffer), which also continues the
/// CRC32C over each buffer it writes (no second pass). Returns the bytes written and the
/// CRC32C of the file's bytes so far, or the file's error, and the error the body broke
/// off with (or the watchdog's, once the stream stalled): what arrived before the break
/// is written.
async fn write_on_blocking_thread(
    body: impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>>,
    out: Body,
    watchdog: &Watchdog,
    arrived: impl Fn(u64),
) -> (std::io::Result<(u64, u32)>, Option<Error>) {
    let (full_tx, mut full_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(BUFFERS);
    let (empty_tx, mut empty_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        // Cannot fail: the channel has room for every buffer and its receiver is alive.
        let _ = empty_tx.try_send(Vec::with_capacity(BATCH));
    }
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, u32)> {
        use std::io::{Seek, SeekFrom, Write};
        let Body {
            file: mut out,
            offset,
            mut crc,
        } = out;
        out.set_len(offset)?;
        out.seek(SeekFrom::Start(offset))?;
        let mut written = 0u64;
        while let Some(mut buffer) = full_rx.blocking_recv() {
            out.write_all(&buffer)?;
            crc = crc32c::crc32c_append(crc, &buffer);
            written = written.saturating_add(buffer.len() as u64);
            buffer.clear();
            // Fails only once the reader is gone (its future was dropped).
            let _ = empty_tx.try_send(buffer);
        }
        Ok((written, crc))
    });
    let mut body = std::pin::pin!(body);
    let mut buffer = Vec::new();
    let mut failure = None;
    let mut watch = watchdog.watch(GET);
    'read: loop {
        let next = match watch.guard(body.next()).await {
            Ok(next) => next,
            Err(stalled) => {
                failure = Some(stalled);
                break;
            }
        };
        let chunk = match next {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                failure = Some(storage::transport(GET, e));
                break;
            }
            None => break,
        };
        watchdog.moved(chunk.len() as u64);
        arrived(chunk.len() as u64);
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            if buffer.capacity() == 0 {
                match empty_rx.recv().await {
                    Some(empty) => buffer = empty,
                    None => break 'read, // the writer failed; its error is reported below
                }
            }
            let take = rest.len().min(BATCH.saturating_sub(buffer.len()));
            let (now, later) = rest.split_at(take);
            buffer.extend_from_slice(now);
            rest = later;
            if buffer.len() >= BATCH && full_tx.send(std::mem::take(&mut buffer)).await.is_err() {
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
        .unwrap_or_else(|joined| Err(std::io::Error::other(joined)));
    (written, failure)
}

#[cfg(test)]
mod tests {
    use super::{BUFFERS, Body, content_range, write_on_blocking_thread};
    use crate::stall::{StallProtection, Watchdog};

    /// A disk that fails while the body keeps coming ends the write with the disk's error;
    /// nothing waits forever on the failed writer.
    #[tokio::test]
    async fn a_failing_disk_ends_the_write_instead_of_hanging() {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let chunk = bytes::Bytes::from(vec![1u8; 1 << 20]);
        let body = futures_util::stream::iter(
            std::iter::repeat_n(chunk, 4 * BUFFERS).map(Ok::<_, geopera::reqwest::Error>),
        );
        let (written, failure) = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            write_on_blocking_thread(
                body,
                Body {
                    file,
                    offset: 0,
                    crc: 0,
                },
                &Watchdog::new(StallProtection::default()),
                |_| {},
            ),
        )
        .await
        .expect("the write gave up instead of hanging");
        assert!(written.is_err(), "{written:?}");
        assert!(failure.is_none());
    }

    #[test]
    fn content_ranges_are_read_strictly() {
        assert_eq!(content_range("bytes 10-99/100"), Some((10, 100)));
        assert_eq!(content_range("bytes 0-0/1"), Some((0, 1)));
        assert_eq!(content_range("bytes 10-99/*"), None);
        assert_eq!(content_range("bytes 10-100/100"), None);
        assert_eq!(content_range("bytes 10-9/100"), None);
        assert_eq!(content_range("items 0-1/2"), None);
        assert_eq!(content_range("bytes 18446744073709551616-1/2"), None);
    }
}
