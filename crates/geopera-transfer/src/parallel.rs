//! Parallel ranged downloads: the first request asks for the first part only
//! (`Range: bytes=0-…`), which tells the object's size and ETag; an object larger than one
//! part is then fetched in parts over several connections at once, each a `Range` request
//! pinned to that ETag with `If-Match`, written at its offset in the temporary file.
//!
//! Each part is retried and resumed on its own (from its last byte written), each
//! attempt watched by a [`Watchdog`] (a stalled part is abandoned and resumed); a 403,
//! or a part about to repeat a request with a URL within `resign_margin` of its expiry,
//! signs the URL again for every part; a part the server answers for another version of the
//! object (412, another ETag, another size) starts the whole download again, so versions
//! are never spliced. Memory stays at about two [`BATCH`] buffers per connection.
//!
//! Every part's CRC32C is computed as its bytes arrive; [`PartCrc::combine`] joins them
//! into the object's, which is checked against the `x-goog-hash: crc32c=…` header when
//! storage sends one (length alone otherwise).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use futures_util::{StreamExt, TryStreamExt};
use geopera::models::{Descriptor, SignedUrl};
use geopera::reqwest::header::{CONTENT_RANGE, ETAG, HeaderMap, HeaderValue, IF_MATCH, RANGE};
use geopera::reqwest::{self, StatusCode};
use geopera::{Error, RetryPolicy};

use crate::progress::Reporter;
use crate::stall::{StallProtection, Watchdog};
use crate::storage::{self, Attempts, GET, Next};

/// The part size of a parallel download by default; objects larger than one part are
/// fetched over several connections. Chosen by measurement (BENCHMARKS.md).
pub const DEFAULT_PART_SIZE: u64 = 16 << 20;
/// How many connections a parallel download uses at most by default. Chosen by
/// measurement (BENCHMARKS.md).
pub const DEFAULT_CONNECTIONS: usize = 8;

/// Bytes gathered before one positional write; each connection has at most two such
/// buffers (one filling, one being written).
const BATCH: usize = 256 * 1024;

/// How many times a parallel download starts again because the object changed.
const MAX_RESTARTS: u32 = 3;

/// The shape of a parallel download.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) part_size: u64,
    pub(crate) connections: usize,
    /// The download's budget of signed URLs.
    pub(crate) max_signatures: u32,
    /// The client's, for each part's retries.
    pub(crate) policy: RetryPolicy,
    /// Watches every attempt of every part (and the first request): a stalled one is
    /// abandoned and resumed from its last byte.
    pub(crate) stall: StallProtection,
    /// How close to its expiry the signed URL may be when a part repeats a request:
    /// closer, and it is signed again first (once for all parts, within
    /// `max_signatures`).
    pub(crate) resign_margin: Duration,
}

/// What the parallel path did.
pub(crate) enum Outcome {
    /// The object is in the file.
    Done(Summary),
    /// The object is one the single-stream path should fetch: `Some` holds the response
    /// to the first request (a `200`: storage ignored the range), `None` means send a
    /// plain GET (an empty object answers a range with 416).
    Single(Option<reqwest::Response>),
}

/// A finished parallel download.
#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) bytes: u64,
    pub(crate) resumes: u32,
    pub(crate) restarts: u32,
    pub(crate) signatures: u32,
    /// The object's CRC32C, from its parts', when storage stated one (and it matched).
    pub(crate) crc32c: Option<u32>,
}

/// One part's CRC32C over `len` bytes: the parts of an object, in order, combine into
/// the object's CRC32C without reading a byte again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartCrc {
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) crc: u32,
}

impl PartCrc {
    /// The CRC32C of the `total` bytes `parts` cover (sorted here by offset), or `None`
    /// when they do not cover exactly `0..total` (a gap, an overlap, a missing end).
    pub(crate) fn combine(parts: &mut [PartCrc], total: u64) -> Option<u32> {
        parts.sort_by_key(|p| p.offset);
        let mut next = 0u64;
        let mut crc = 0u32;
        for part in parts.iter() {
            if part.offset != next {
                return None;
            }
            crc = crc32c::crc32c_combine(crc, part.crc, usize::try_from(part.len).ok()?);
            next = next.checked_add(part.len)?;
        }
        (next == total).then_some(crc)
    }
}

/// `bytes <start>-<end>/<total>` → `(start, end, total)`, end inclusive; `None` for
/// anything else.
fn byte_range(value: &HeaderValue) -> Option<(u64, u64, u64)> {
    let rest = value.to_str().ok()?.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end, total): (u64, u64, u64) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (start <= end && end < total).then_some((start, end, total))
}

/// A strong ETag, or `None` (missing or weak).
fn strong_etag(headers: &HeaderMap) -> Option<HeaderValue> {
    headers
        .get(ETAG)
        .filter(|tag| !tag.as_bytes().starts_with(b"W/"))
        .cloned()
}

/// Why a part stopped.
enum PartError {
    /// The object is not the version the download started with.
    Changed,
    /// Anything else, after the part's retries.
    Failed(Error),
}

impl From<Error> for PartError {
    fn from(e: Error) -> PartError {
        PartError::Failed(e)
    }
}

fn invalid(message: String) -> Error {
    storage::io(
        GET,
        std::io::Error::new(std::io::ErrorKind::InvalidData, message),
    )
}

fn short(got: u64, want: u64) -> Error {
    storage::io(
        GET,
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("a part's body ended after {got} of {want} bytes"),
        ),
    )
}

/// The signed URL every part uses, signed again (once for all parts) after a 403.
struct Signer<'a, F> {
    resolve: &'a F,
    /// The URL and its generation.
    current: Mutex<(SignedUrl, u32)>,
    /// Held while one part signs again, so the others wait for its URL.
    signing: tokio::sync::Mutex<()>,
    used: AtomicU32,
    max: u32,
}

impl<F, Fut> Signer<'_, F>
where
    F: Fn() -> Fut,
    Fut: IntoFuture<Output = Result<Descriptor, Error>>,
{
    fn url(&self) -> (SignedUrl, u32) {
        match self.current.lock() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Signs again after `refused` (a 403 on generation `seen`), unless another part
    /// already did, or the budget is spent.
    async fn resign(&self, seen: u32, refused: Error) -> Result<(), Error> {
        let _one_at_a_time = self.signing.lock().await;
        if self.url().1 != seen {
            return Ok(());
        }
        if self.used.load(Ordering::SeqCst) >= self.max {
            return Err(refused);
        }
        tracing::info!(error = %refused, "storage refused the signed URL; resolving the descriptor again");
        self.replace(seen).await
    }

    /// Signs again ahead of the expiry of generation `seen`, unless another part already
    /// did; with the budget spent, the URL is kept (storage may still take it).
    async fn resign_ahead(&self, seen: u32) -> Result<(), Error> {
        let _one_at_a_time = self.signing.lock().await;
        if self.url().1 != seen || self.used.load(Ordering::SeqCst) >= self.max {
            return Ok(());
        }
        tracing::info!("the signed URL is about to expire; resolving the descriptor again");
        self.replace(seen).await
    }

    /// Resolves the descriptor again for generation `seen`'s successor (the caller holds
    /// `signing`).
    async fn replace(&self, seen: u32) -> Result<(), Error> {
        self.used.fetch_add(1, Ordering::SeqCst);
        let url = crate::download::signed_url(&(self.resolve)().await?)?;
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        *current = (url, seen.wrapping_add(1));
        Ok(())
    }
}

/// Everything the parts of one round share.
struct Round<'a, F> {
    http: &'a reqwest::Client,
    signer: &'a Signer<'a, F>,
    disk: &'a Disk,
    reporter: &'a Reporter,
    policy: &'a RetryPolicy,
    stall: StallProtection,
    resign_margin: Duration,
    etag: Option<HeaderValue>,
    total: u64,
    resumes: &'a AtomicU32,
}

/// Runs a download through the parallel path: probes with a ranged GET of the first
/// part, then fetches the rest over up to `plan.connections` connections. `attempts`
/// and `url` are the download's own (the probe's retries and signatures count there).
pub(crate) async fn download<F, Fut>(
    http: &reqwest::Client,
    resolve: &F,
    url: &mut SignedUrl,
    attempts: &mut Attempts,
    file: &std::fs::File,
    reporter: &Reporter,
    plan: Plan,
) -> Result<Outcome, Error>
where
    F: Fn() -> Fut,
    Fut: IntoFuture<Output = Result<Descriptor, Error>>,
{
    let part_size = plan.part_size.max(1);
    let (policy, max_signatures) = (&plan.policy, plan.max_signatures);
    let mut restarts = 0u32;
    let resumes = AtomicU32::new(0);
    // Signatures used so far: the probe's (in `attempts`) and the parts' (in the signer).
    let mut signed = attempts.signatures();
    loop {
        let probe = loop {
            let request = http
                .get(url.expose())
                .header(RANGE, format!("bytes=0-{}", part_size - 1));
            let watchdog = Watchdog::new(plan.stall);
            let e = match watchdog.send(GET, request).await {
                Ok(response) if response.status().is_success() => break response,
                Ok(response) if response.status() == StatusCode::RANGE_NOT_SATISFIABLE => {
                    return Ok(Outcome::Single(None));
                }
                Ok(response) => storage::status(GET, response, url, 0).await,
                Err(e) => e,
            };
            match attempts.next(&e) {
                Next::Resign => *url = crate::download::signed_url(&resolve().await?)?,
                Next::Retry(delay) => tokio::time::sleep(delay).await,
                Next::Fail => return Err(e),
            }
        };
        if probe.status() != StatusCode::PARTIAL_CONTENT {
            // The server ignored the range: this is the whole object, for the single stream.
            return Ok(Outcome::Single(Some(probe)));
        }
        let Some((0, end, total)) = probe.headers().get(CONTENT_RANGE).and_then(byte_range) else {
            return Err(invalid(
                "storage answered the first part with another range".into(),
            ));
        };
        let etag = strong_etag(probe.headers());
        let expected = storage::x_goog_crc32c(probe.headers());
        let signer = Signer {
            resolve,
            current: Mutex::new((url.clone(), 0)),
            signing: tokio::sync::Mutex::new(()),
            used: AtomicU32::new(signed.max(attempts.signatures())),
            max: max_signatures,
        };
        // Without a strong ETag nothing pins the parts to one version: one at a time,
        // each checked against the size, as the single stream resumes.
        let connections = if etag.is_some() {
            plan.connections.max(1)
        } else {
            1
        };
        let disk = Disk::start(file)?;
        let round = Round {
            http,
            signer: &signer,
            disk: &disk,
            reporter,
            policy,
            stall: plan.stall,
            resign_margin: plan.resign_margin,
            etag,
            total,
            resumes: &resumes,
        };
        set_len(file, total).await?;
        reporter.set(0, 0, Some(total));
        let first = end.saturating_add(1);
        let mut jobs = vec![(0, first, Some(probe))];
        let mut start = first;
        while start < total {
            let stop = start.saturating_add(part_size).min(total);
            jobs.push((start, stop, None));
            start = stop;
        }
        let parts: Result<Vec<PartCrc>, PartError> = futures_util::stream::iter(jobs)
            .map(|(start, stop, response)| fetch_part(&round, start, stop, response))
            .buffer_unordered(connections)
            .try_collect()
            .await;
        *url = signer.url().0;
        let signatures = signer.used.load(Ordering::SeqCst);
        signed = signatures;
        match parts {
            Ok(mut parts) => {
                let crc = PartCrc::combine(&mut parts, total)
                    .ok_or_else(|| invalid("the parts do not cover the object".into()))?;
                if let Some(expected) = expected
                    && expected != crc
                {
                    return Err(Error::Integrity {
                        operation: GET.into(),
                        algorithm: "crc32c",
                        expected,
                        actual: crc,
                        bytes: total,
                    });
                }
                return Ok(Outcome::Done(Summary {
                    bytes: total,
                    resumes: resumes.load(Ordering::SeqCst),
                    restarts,
                    signatures,
                    crc32c: expected.map(|_| crc),
                }));
            }
            Err(PartError::Failed(e)) => return Err(e),
            Err(PartError::Changed) if restarts < MAX_RESTARTS => {
                restarts = restarts.saturating_add(1);
                tracing::info!("the object changed during a parallel download; starting again");
                reporter.set(0, 0, None);
            }
            Err(PartError::Changed) => {
                return Err(invalid(format!(
                    "the object changed during the download {} times; giving up",
                    restarts.saturating_add(1)
                )));
            }
        }
    }
}

async fn set_len(file: &std::fs::File, len: u64) -> Result<(), Error> {
    let file = file.try_clone().map_err(|e| storage::io(GET, e))?;
    tokio::task::spawn_blocking(move || file.set_len(len))
        .await
        .unwrap_or_else(|joined| Err(std::io::Error::other(joined)))
        .map_err(|e| storage::io(GET, e))
}

/// Fetches bytes `[start, stop)` into the file at their offset, starting with `first`
/// when the probe already holds them; resumes from the last byte written after a
/// transient failure, under the client's retry policy.
async fn fetch_part<F, Fut>(
    round: &Round<'_, F>,
    start: u64,
    stop: u64,
    mut first: Option<reqwest::Response>,
) -> Result<PartCrc, PartError>
where
    F: Fn() -> Fut,
    Fut: IntoFuture<Output = Result<Descriptor, Error>>,
{
    let mut attempts = Attempts::new(round.policy.clone(), u32::MAX);
    let mut writer = PartWriter::new(round.disk);
    let mut at = start;
    let mut crc = 0u32;
    // Whether the next request repeats one (the first of a part, or the first after a
    // 403, starts with the URL as it is).
    let mut repeat = false;
    loop {
        if repeat {
            let (url, generation) = round.signer.url();
            if storage::expires_within(&url, round.resign_margin, SystemTime::now()) {
                round.signer.resign_ahead(generation).await?;
            }
        }
        let (url, generation) = round.signer.url();
        let before = at;
        let watchdog = Watchdog::new(round.stall);
        let result = part_attempt(
            round,
            &url,
            &mut first,
            &mut writer,
            &mut at,
            stop,
            &mut crc,
            &watchdog,
        )
        .await;
        if at > before {
            attempts.progressed();
        }
        let e = match result {
            Ok(()) => {
                writer.finish().await?;
                return Ok(PartCrc {
                    offset: start,
                    len: stop.saturating_sub(start),
                    crc,
                });
            }
            Err(PartError::Changed) => return Err(PartError::Changed),
            Err(PartError::Failed(e)) => e,
        };
        let next = match &e {
            Error::Io { source, .. }
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::TimedOut
                ) =>
            {
                attempts.retry(&e)
            }
            Error::Io { .. } => Next::Fail,
            _ => attempts.next(&e),
        };
        // A URL just signed again after a 403 is not checked against its expiry.
        repeat = !matches!(next, Next::Resign);
        match next {
            Next::Resign => round.signer.resign(generation, e).await?,
            Next::Retry(delay) => {
                tracing::info!(error = %e, offset = at, ?delay, "a part broke off; resuming");
                tokio::time::sleep(delay).await;
            }
            Next::Fail => return Err(e.into()),
        }
        if at > start {
            round.resumes.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// One request for `[at, stop)` (or the probe's response), its body written at `at`;
/// `watchdog` abandons it once it stalls (what arrived before is kept).
#[allow(clippy::too_many_arguments)] // one attempt's state, threaded through the loop
async fn part_attempt<F>(
    round: &Round<'_, F>,
    url: &SignedUrl,
    first: &mut Option<reqwest::Response>,
    writer: &mut PartWriter,
    at: &mut u64,
    stop: u64,
    crc: &mut u32,
    watchdog: &Watchdog,
) -> Result<(), PartError> {
    let response = match first.take() {
        Some(response) => response,
        None => {
            let mut request = round
                .http
                .get(url.expose())
                .header(RANGE, format!("bytes={}-{}", *at, stop.saturating_sub(1)));
            if let Some(tag) = &round.etag {
                request = request.header(IF_MATCH, tag.clone());
            }
            let response = watchdog.send(GET, request).await?;
            let status = response.status();
            if status == StatusCode::PRECONDITION_FAILED {
                return Err(PartError::Changed);
            }
            if status != StatusCode::PARTIAL_CONTENT {
                if status.is_success() {
                    // A 200 to a range: another server, or another version; never spliced.
                    return Err(PartError::Changed);
                }
                return Err(storage::status(GET, response, url, round.reporter.bytes())
                    .await
                    .into());
            }
            let range = response.headers().get(CONTENT_RANGE).and_then(byte_range);
            let same_version = round
                .etag
                .as_ref()
                .is_none_or(|tag| strong_etag(response.headers()).as_ref() == Some(tag));
            match range {
                Some((from, _, total)) if from == *at && total == round.total && same_version => {}
                _ => return Err(PartError::Changed),
            }
            response
        }
    };
    let mut body = response.bytes_stream();
    let mut failure = None;
    let mut watch = watchdog.watch(GET);
    loop {
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
        let room = usize::try_from(stop.saturating_sub(*at)).unwrap_or(usize::MAX);
        let bytes = chunk.get(..room.min(chunk.len())).unwrap_or_default();
        if bytes.len() < chunk.len() {
            return Err(invalid(format!(
                "storage sent more than the {} bytes asked for",
                stop.saturating_sub(*at)
            ))
            .into());
        }
        *crc = crc32c::crc32c_append(*crc, bytes);
        writer.write(bytes, *at).await?;
        *at = at.saturating_add(bytes.len() as u64);
        round.reporter.add(0, bytes.len() as u64);
    }
    writer.flush().await?;
    if *at < stop {
        return Err(failure.unwrap_or_else(|| short(*at, stop)).into());
    }
    Ok(())
}

/// One batch for the writer thread: `buffer` goes at `offset`; the buffer comes back on
/// `done` once written, for the part to fill again.
struct Job {
    offset: u64,
    buffer: Vec<u8>,
    done: tokio::sync::oneshot::Sender<std::io::Result<Vec<u8>>>,
}

/// The one thread that writes a parallel download's batches, whichever part they come
/// from. Positional writes to one file from several threads at once serialize on the
/// file's lock (on Linux the inode's, which waiting writers spin on: in a profile of a
/// 1 GiB download, over half of the process's CPU samples were that spinning), so the
/// parts take turns on one writer, as the single stream's batches do. The thread ends
/// when every part's writer is gone.
struct Disk {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Disk {
    fn start(file: &std::fs::File) -> Result<Disk, Error> {
        let file = file.try_clone().map_err(|e| storage::io(GET, e))?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        // Detached: it runs until the channel closes, each write a bounded one.
        drop(tokio::task::spawn_blocking(move || {
            while let Ok(job) = queue.recv() {
                let written = write_all_at(&file, &job.buffer, job.offset).map(|()| job.buffer);
                // The part may be gone (its download was dropped): nothing waits.
                let _ = job.done.send(written);
            }
        }));
        Ok(Disk { jobs })
    }
}

/// Writes one part's bytes at their offsets: gathered into a [`BATCH`] buffer, handed to
/// the download's [`Disk`] writer while the next buffer fills.
struct PartWriter {
    jobs: std::sync::mpsc::Sender<Job>,
    buffer: Vec<u8>,
    /// Where `buffer`'s first byte goes.
    offset: u64,
    spare: Option<Vec<u8>>,
    in_flight: Option<tokio::sync::oneshot::Receiver<std::io::Result<Vec<u8>>>>,
}

impl PartWriter {
    fn new(disk: &Disk) -> PartWriter {
        PartWriter {
            jobs: disk.jobs.clone(),
            buffer: Vec::new(),
            offset: 0,
            spare: None,
            in_flight: None,
        }
    }

    /// Takes `bytes`, which go at file offset `at` (right after what it holds).
    async fn write(&mut self, bytes: &[u8], at: u64) -> Result<(), Error> {
        if self.buffer.is_empty() {
            self.offset = at;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.buffer.capacity() == 0 {
                self.buffer = self
                    .spare
                    .take()
                    .unwrap_or_else(|| Vec::with_capacity(BATCH));
            }
            let take = rest.len().min(BATCH.saturating_sub(self.buffer.len()));
            let (now, later) = rest.split_at(take);
            self.buffer.extend_from_slice(now);
            rest = later;
            if self.buffer.len() >= BATCH {
                let next = self.offset.saturating_add(self.buffer.len() as u64);
                self.start_write().await?;
                self.offset = next;
            }
        }
        Ok(())
    }

    /// Starts writing what is buffered (after the write in flight finished).
    async fn start_write(&mut self) -> Result<(), Error> {
        self.settle().await?;
        if self.buffer.is_empty() {
            return Ok(());
        }
        let (done, written) = tokio::sync::oneshot::channel();
        let job = Job {
            offset: self.offset,
            buffer: std::mem::take(&mut self.buffer),
            done,
        };
        self.jobs.send(job).map_err(|_| writer_gone())?;
        self.in_flight = Some(written);
        Ok(())
    }

    /// Waits for the write in flight; its buffer becomes the spare.
    async fn settle(&mut self) -> Result<(), Error> {
        if let Some(write) = self.in_flight.take() {
            let mut done = write
                .await
                .map_err(|_| writer_gone())?
                .map_err(|e| storage::io(GET, e))?;
            done.clear();
            self.spare = Some(done);
        }
        Ok(())
    }

    /// Writes everything taken so far.
    async fn flush(&mut self) -> Result<(), Error> {
        self.start_write().await?;
        self.settle().await
    }

    async fn finish(&mut self) -> Result<(), Error> {
        self.flush().await?;
        self.spare = None;
        Ok(())
    }
}

/// The writer thread stopped before it answered (it panicked, or the runtime is shutting
/// down).
fn writer_gone() -> Error {
    storage::io(
        GET,
        std::io::Error::other("the download's writer thread stopped"),
    )
}

#[cfg(unix)]
fn write_all_at(file: &std::fs::File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(windows)]
fn write_all_at(file: &std::fs::File, mut bytes: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match std::os::windows::fs::FileExt::seek_write(file, bytes, offset) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                bytes = bytes.get(n..).unwrap_or_default();
                offset = offset.saturating_add(n as u64);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that fails makes the part's write fail with the disk's error; nothing
    /// waits forever on the writer thread.
    #[tokio::test]
    async fn a_failing_disk_fails_the_parts_write_instead_of_hanging() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let disk = Disk::start(&full).expect("writer");
        let mut writer = PartWriter::new(&disk);
        let e = tokio::time::timeout(Duration::from_secs(30), async {
            writer.write(&vec![7u8; 3 * BATCH], 0).await?;
            writer.flush().await
        })
        .await
        .expect("the write gave up instead of hanging")
        .expect_err("the disk is full");
        assert!(
            matches!(&e, Error::Io { source, .. } if source.raw_os_error() == Some(28)),
            "{e:?}"
        );
    }

    #[test]
    fn part_crcs_combine_into_the_objects() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        let whole = crc32c::crc32c(&data);
        let mut parts: Vec<PartCrc> = [(0usize, 30_000usize), (60_000, 100_000), (30_000, 60_000)]
            .iter()
            .map(|&(a, b)| PartCrc {
                offset: a as u64,
                len: (b - a) as u64,
                crc: crc32c::crc32c(&data[a..b]),
            })
            .collect();
        assert_eq!(PartCrc::combine(&mut parts, 100_000), Some(whole));
        assert_eq!(PartCrc::combine(&mut parts, 100_001), None, "a missing end");
        let mut gap = vec![parts[0], parts[2]];
        assert_eq!(PartCrc::combine(&mut gap, 100_000), None, "a gap");
        let mut overlap = vec![parts[0], parts[0], parts[1], parts[2]];
        assert_eq!(PartCrc::combine(&mut overlap, 100_000), None, "an overlap");
        assert_eq!(PartCrc::combine(&mut [], 0), Some(0), "the empty object's");
    }

    #[test]
    fn content_ranges_keep_their_end() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(byte_range(&v("bytes 0-9/100")), Some((0, 9, 100)));
        assert_eq!(byte_range(&v("bytes 10-100/100")), None);
        assert_eq!(byte_range(&v("bytes 5-4/100")), None);
        assert_eq!(byte_range(&v("bytes 0-9/*")), None);
    }
}
