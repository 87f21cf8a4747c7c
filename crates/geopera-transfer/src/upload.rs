//! Uploads: one session for one or many files — initiate with their sizes, sign each file,
//! stream each PUT from disk, complete once every PUT succeeded; any failure fails the
//! session, and so does dropping the future (through `geopera::UploadSession`).

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{StreamExt, TryStreamExt};
use geopera::models::{Completion, SignedUrl, UploadInitiate};
use geopera::{Error, Geopera, reqwest};
use tokio::sync::Mutex;

use crate::cancel::{self, Cancel};
use crate::progress::{FileProgress, NoProgress, Progress, Reporter};
use crate::stall::{StallProtection, Watchdog};
use crate::storage::{self, Attempts, DEFAULT_RESIGN_MARGIN, Next, PUT};

/// How many files are PUT at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// How many signatures one file may use by default (the first and two after a 403).
pub const DEFAULT_MAX_SIGNATURES: u32 = 3;

/// Options of [`upload_file`] and [`upload_files`]: `UploadOptions::default()` then the
/// setters.
#[derive(Clone)]
#[non_exhaustive]
pub struct UploadOptions {
    content_type: Option<String>,
    target_item: Option<(String, Option<String>)>,
    concurrency: usize,
    max_signatures: u32,
    resign_margin: Duration,
    stall: StallProtection,
    checksum: bool,
    api_progress: ApiProgress,
    progress: Arc<dyn Progress>,
    cancel: Cancel,
}

impl Default for UploadOptions {
    fn default() -> UploadOptions {
        UploadOptions {
            content_type: None,
            target_item: None,
            concurrency: DEFAULT_CONCURRENCY,
            max_signatures: DEFAULT_MAX_SIGNATURES,
            resign_margin: DEFAULT_RESIGN_MARGIN,
            stall: StallProtection::default(),
            checksum: false,
            api_progress: ApiProgress::Off,
            progress: Arc::new(NoProgress),
            cancel: Cancel::default(),
        }
    }
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("content_type", &self.content_type)
            .field("target_item", &self.target_item)
            .field("concurrency", &self.concurrency)
            .field("max_signatures", &self.max_signatures)
            .field("resign_margin", &self.resign_margin)
            .field("stall", &self.stall)
            .field("checksum", &self.checksum)
            .field("api_progress", &self.api_progress)
            .field("cancel_on", &self.cancel.is_set())
            .finish_non_exhaustive()
    }
}

impl UploadOptions {
    /// The content type of every file; without it each file's comes from its extension
    /// ([`content_type_for`](crate::content_type_for)).
    pub fn content_type(mut self, content_type: impl Into<String>) -> UploadOptions {
        self.content_type = Some(content_type.into());
        self
    }

    /// Adds the files to the existing item `item_id` instead of creating items; with one
    /// file, `asset_key` names its asset (otherwise each file's stem does).
    pub fn target_item(
        mut self,
        item_id: impl Into<String>,
        asset_key: Option<String>,
    ) -> UploadOptions {
        self.target_item = Some((item_id.into(), asset_key));
        self
    }

    /// How many files are PUT at once (at least 1).
    pub fn concurrency(mut self, files: usize) -> UploadOptions {
        self.concurrency = files.max(1);
        self
    }

    /// How many signatures one file may use: a 403 from storage (an expired or rejected
    /// URL) signs the file again until this many were used (at least 1).
    pub fn max_signatures(mut self, signatures: u32) -> UploadOptions {
        self.max_signatures = signatures.max(1);
        self
    }

    /// How close to its expiry (read from `X-Goog-Date` + `X-Goog-Expires`) a signed URL
    /// may be when a repeated PUT would start with it: closer, and the file is signed again
    /// first (within [`max_signatures`](Self::max_signatures)) instead of waiting for a
    /// 403. Default [`DEFAULT_RESIGN_MARGIN`].
    pub fn resign_margin(mut self, margin: Duration) -> UploadOptions {
        self.resign_margin = margin;
        self
    }

    /// When a PUT counts as stalled and is abandoned, to be sent again (default: fewer
    /// than 1 byte/s over 20 s, the wait for storage's answer included; see
    /// [`StallProtection`]).
    pub fn stall_protection(mut self, protection: StallProtection) -> UploadOptions {
        self.stall = protection;
        self
    }

    /// Verifies each upload end to end (default: off): the file's CRC32C is computed
    /// before its PUT (one extra read of the file) and sent as `x-goog-hash`, so storage
    /// refuses (400 `BadDigest`) a body that differs from what was read, e.g. a file
    /// changed while it was sent.
    pub fn checksum(mut self, yes: bool) -> UploadOptions {
        self.checksum = yes;
        self
    }

    /// Also reports to the platform: after each file's PUT, `uploads.progress` with
    /// `status` `"uploading"` and the bytes of every file PUT so far (default: off). It is
    /// informational, so a failed report is logged and the upload goes on. It replaces
    /// [`api_progress_every`](Self::api_progress_every), and `false` turns either off.
    pub fn api_progress(mut self, yes: bool) -> UploadOptions {
        self.api_progress = match yes {
            true => ApiProgress::PerFile,
            false => ApiProgress::Off,
        };
        self
    }

    /// Also reports to the platform on a clock rather than per file (the seed's
    /// "reporting progress"): while the PUTs are in flight, at most once every `interval`
    /// (at least a millisecond), `uploads.progress` with `status` `"uploading"` and the
    /// bytes handed to storage so far over every file of the session (a repeated PUT
    /// counts its file again from 0); then once more with every byte after the last PUT
    /// and before `uploads.complete`. The reports run alongside the PUTs, which never wait
    /// for one; a report still out when the PUTs end is dropped in favour of the last. It
    /// is informational, so a failed report is logged and the upload goes on. It replaces
    /// [`api_progress`](Self::api_progress)'s per-file reports.
    pub fn api_progress_every(mut self, interval: Duration) -> UploadOptions {
        self.api_progress = ApiProgress::Every(interval.max(Duration::from_millis(1)));
        self
    }

    /// Where progress is reported (default: nowhere).
    pub fn progress(mut self, sink: impl Progress + 'static) -> UploadOptions {
        self.progress = Arc::new(sink);
        self
    }

    /// Cancels the upload when `signal` completes: the PUTs in flight stop, the session
    /// is failed with `error_step` `"abandoned"` (awaited, so its reservation is released
    /// when the call returns) and the upload returns [`geopera::Error::Io`] of kind
    /// [`Interrupted`](std::io::ErrorKind::Interrupted). A session already completing is
    /// left to finish. Any future serves as the token: a oneshot receiver
    /// (`async { let _ = rx.await; }`), a timer, or `tokio_util`'s
    /// `CancellationToken::cancelled_owned()`. Dropping the upload's future cancels it
    /// too, without a token (the session is then failed in the background).
    pub fn cancel_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> UploadOptions {
        self.cancel = Cancel::on(signal);
        self
    }
}

/// When an upload reports to `uploads.progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiProgress {
    Off,
    /// After each file's PUT.
    PerFile,
    /// On a clock, and once at the end of the PUTs.
    Every(Duration),
}

/// What an upload became.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadResult {
    /// The session's upload id.
    pub upload_id: String,
    /// `uploads.complete`'s answer, every key kept.
    pub completion: Completion,
    /// Each file, in the order given.
    pub files: Vec<UploadedFile>,
}

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedFile {
    /// The local file.
    pub path: PathBuf,
    /// Its `file_name` in the session (the path's last component).
    pub file_name: String,
    /// The content type it was signed and PUT with.
    pub content_type: String,
    /// Bytes PUT.
    pub bytes: u64,
    /// Where storage keeps it (`uploads.signed_url`'s `object_path`).
    pub object_path: String,
    /// The item it is an asset of: the target item when one was given; otherwise the
    /// completion's `item_ids` entry for it, when the completion lists one item per file
    /// (in the order the files were signed, which is the order given).
    pub item_id: Option<String>,
    /// Its asset key on that item: the target's `asset_key` for a single file, else
    /// [`Completion::asset_key`] of its file name.
    pub asset_key: String,
    /// How many signatures its PUT used (more than 1 after a 403).
    pub signatures: u32,
}

/// Uploads one file into `project_id` as a new item (or to the options' target item).
/// See [`upload_files`].
pub async fn upload_file(
    client: &Geopera,
    project_id: &str,
    path: impl AsRef<Path>,
    options: UploadOptions,
) -> Result<UploadResult, Error> {
    upload_files(client, project_id, [path], options).await
}

/// Uploads `paths` in one session: `uploads.initiate` with their count and summed size,
/// then for each file (at most `concurrency` at once) `uploads.signed_url` and a PUT
/// streamed from disk, then one `uploads.complete`.
///
/// A failed PUT is repeated under the client's `RetryPolicy` when storage's failure is
/// transient (a dropped connection, 408, 429, 5xx), and signed again after a 403. Any
/// error fails the session with `uploads.fail` (`error_step` `"sign"` or `"transfer"`),
/// releasing its reservation, and is returned; a dropped future fails it too (in the
/// background, `error_step` `"abandoned"`). Files that cannot be read, a file name that
/// is not UTF-8 or two files with the same name are refused before anything is sent.
pub async fn upload_files<P: AsRef<Path>>(
    client: &Geopera,
    project_id: &str,
    paths: impl IntoIterator<Item = P>,
    options: UploadOptions,
) -> Result<UploadResult, Error> {
    let files = plan(paths, &options).await?;
    let mut init = UploadInitiate::for_files(project_id, files.iter().map(|f| f.bytes));
    if let Some((item_id, asset_key)) = &options.target_item {
        init.target_item_id = Some(item_id.clone());
        init.asset_key = asset_key.clone();
    }
    let reporter = Arc::new(Reporter::new(
        options.progress.clone(),
        files
            .iter()
            .map(|f| FileProgress {
                name: f.file_name.clone(),
                bytes: 0,
                total: Some(f.bytes),
            })
            .collect(),
    ));
    let session = client.uploads().session(init).await?;
    let sign_lock = Mutex::new(0);
    let uploaded = Mutex::new(0u64);
    let context = Context {
        client,
        upload_id: session.id(),
        reporter: reporter.clone(),
        sign_lock: &sign_lock,
        max_signatures: options.max_signatures,
        resign_margin: options.resign_margin,
        stall: options.stall,
        checksum: options.checksum,
        api_progress: (options.api_progress == ApiProgress::PerFile).then_some(&uploaded),
    };
    let transfers = futures_util::stream::iter(files.iter().enumerate())
        .map(|(index, file)| context.transfer(index, file))
        .buffer_unordered(options.concurrency)
        .try_collect::<Vec<_>>();
    let every = match options.api_progress {
        ApiProgress::Every(interval) => Some(interval),
        ApiProgress::Off | ApiProgress::PerFile => None,
    };
    let reported = async {
        tokio::select! {
            transfers = transfers => transfers,
            never = report_every(client, session.id(), &reporter, every) => match never {},
        }
    };
    let transfers = tokio::select! {
        transfers = reported => Some(transfers),
        () = options.cancel.cancelled() => None,
    };
    let mut done = match transfers {
        None => {
            if let Err(release) = session.fail("the upload was cancelled", "abandoned").await {
                tracing::warn!(operation = "uploads.fail", error = %release, "releasing a cancelled upload's reservation");
            }
            return Err(cancel::cancelled(PUT));
        }
        Some(Ok(done)) => done,
        Some(Err((step, e))) => {
            let message = e.to_string();
            if let Err(release) = session.fail(&message, step).await {
                tracing::warn!(operation = "uploads.fail", error = %release, "releasing a failed upload's reservation");
            }
            return Err(e);
        }
    };
    if every.is_some() {
        report_progress(client, session.id(), reporter.bytes()).await;
    }
    let upload_id = session.id().to_owned();
    let completion = session.complete().await?;
    reporter.finish();
    done.sort_by_key(|d| d.index);
    Ok(UploadResult {
        upload_id,
        files: describe(&files, done, &completion, &options),
        completion,
    })
}

/// Reports the bytes `reporter` counted to `uploads.progress` every `interval`, the first
/// time one interval from now; never ends (without an interval it does nothing).
async fn report_every(
    client: &Geopera,
    upload_id: &str,
    reporter: &Reporter,
    interval: Option<Duration>,
) -> std::convert::Infallible {
    let Some(every) = interval else {
        return std::future::pending().await;
    };
    let Some(first) = tokio::time::Instant::now().checked_add(every) else {
        return std::future::pending().await; // an interval beyond the clock's range
    };
    let mut clock = tokio::time::interval_at(first, every);
    // A slow report pushes the next one back instead of bunching them up.
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        clock.tick().await;
        report_progress(client, upload_id, reporter.bytes()).await;
    }
}

/// One `uploads.progress` report with status `"uploading"`; a failure is only logged.
async fn report_progress(client: &Geopera, upload_id: &str, bytes: u64) {
    let input = geopera::models::UploadProgressInput::new(upload_id, "uploading", bytes);
    if let Err(e) = client.uploads().progress(input).await {
        tracing::warn!(operation = "uploads.progress", error = %e, "reporting upload progress");
    }
}

/// A file to upload, checked before the session starts.
struct Planned {
    path: PathBuf,
    file_name: String,
    content_type: String,
    bytes: u64,
}

async fn plan<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
    options: &UploadOptions,
) -> Result<Vec<Planned>, Error> {
    let invalid = |message: String| Error::InvalidInput {
        operation: PUT.into(),
        field: Some("path".into()),
        message,
    };
    let mut files = Vec::new();
    let mut names = HashSet::new();
    for path in paths {
        let path = path.as_ref().to_path_buf();
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| invalid(format!("{} has no UTF-8 file name", path.display())))?
            .to_owned();
        if !names.insert(file_name.clone()) {
            return Err(invalid(format!(
                "two files are named {file_name:?}; a session's file names must differ"
            )));
        }
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| storage::io(PUT, with_path(e, &path)))?;
        if !meta.is_file() {
            return Err(invalid(format!("{} is not a file", path.display())));
        }
        let content_type = match &options.content_type {
            Some(ct) => ct.clone(),
            None => crate::storage::content_type_for(&path).to_owned(),
        };
        files.push(Planned {
            path,
            file_name,
            content_type,
            bytes: meta.len(),
        });
    }
    if files.is_empty() {
        return Err(invalid("no files to upload".into()));
    }
    Ok(files)
}

fn with_path(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// One finished PUT.
struct Done {
    index: usize,
    object_path: String,
    signatures: u32,
    signed_at: usize,
}

fn describe(
    files: &[Planned],
    done: Vec<Done>,
    completion: &Completion,
    options: &UploadOptions,
) -> Vec<UploadedFile> {
    let item_ids = completion.item_ids();
    let one_item_per_file = item_ids.len() == files.len();
    files
        .iter()
        .zip(done)
        .map(|(file, done)| {
            let (item_id, asset_key) = match &options.target_item {
                Some((item, key)) => (
                    Some(item.clone()),
                    key.clone()
                        .filter(|_| files.len() == 1)
                        .unwrap_or_else(|| Completion::asset_key(&file.file_name).to_owned()),
                ),
                None => (
                    one_item_per_file
                        .then(|| item_ids.get(done.signed_at).map(|s| (*s).to_owned()))
                        .flatten(),
                    Completion::asset_key(&file.file_name).to_owned(),
                ),
            };
            UploadedFile {
                path: file.path.clone(),
                file_name: file.file_name.clone(),
                content_type: file.content_type.clone(),
                bytes: file.bytes,
                object_path: done.object_path,
                item_id,
                asset_key,
                signatures: done.signatures,
            }
        })
        .collect()
}

/// What every file's transfer shares.
struct Context<'a> {
    client: &'a Geopera,
    upload_id: &'a str,
    reporter: Arc<Reporter>,
    /// Held while signing, so the files are registered one at a time and their order is
    /// known (`Done::signed_at`): it counts the files signed so far.
    sign_lock: &'a Mutex<usize>,
    max_signatures: u32,
    resign_margin: Duration,
    stall: StallProtection,
    checksum: bool,
    /// With `api_progress`: the bytes of the files PUT so far, locked while reported so
    /// the platform sees them grow.
    api_progress: Option<&'a Mutex<u64>>,
}

impl Context<'_> {
    async fn report_put(&self, bytes: u64) {
        let Some(uploaded) = self.api_progress else {
            return;
        };
        let mut uploaded = uploaded.lock().await;
        *uploaded = uploaded.saturating_add(bytes);
        report_progress(self.client, self.upload_id, *uploaded).await;
    }

    async fn sign(&self, file: &Planned) -> Result<(SignedUrl, String), Error> {
        let signed = self
            .client
            .uploads()
            .signed_url(
                geopera::models::SignedUrlInput::new(self.upload_id, &file.file_name)
                    .content_type(&file.content_type),
            )
            .await?;
        Ok((signed.upload_url, signed.object_path))
    }

    async fn transfer(&self, index: usize, file: &Planned) -> Result<Done, (&'static str, Error)> {
        let (mut url, object_path, signed_at) = {
            let mut order = self.sign_lock.lock().await;
            let (url, path) = self.sign(file).await.map_err(|e| ("sign", e))?;
            let at = *order;
            *order = at.saturating_add(1);
            (url, path, at)
        };
        let http = self.client.client.http_client();
        let mut attempts = Attempts::new(
            self.client.client.retry_policy().clone(),
            self.max_signatures,
        );
        let crc = match self.checksum {
            true => Some(file_crc32c(file).await.map_err(|e| ("transfer", e))?),
            false => None,
        };
        let mut fresh = true;
        loop {
            if !fresh
                && storage::expires_within(&url, self.resign_margin, SystemTime::now())
                && attempts.try_resign()
            {
                tracing::info!(file = %file.file_name, "the signed URL is about to expire; signing again");
                url = self.sign(file).await.map_err(|e| ("sign", e))?.0;
            }
            fresh = false;
            self.reporter.set(index, 0, Some(file.bytes));
            let reporter = self.reporter.clone();
            let sent = move |n| reporter.add(index, n);
            let e = match put(http, &url, file, crc, self.stall, sent).await {
                Ok(()) => {
                    self.report_put(file.bytes).await;
                    return Ok(Done {
                        index,
                        object_path,
                        signatures: attempts.signatures(),
                        signed_at,
                    });
                }
                Err(e) => e,
            };
            match attempts.next(&e) {
                Next::Resign => {
                    tracing::info!(file = %file.file_name, error = %e, "storage refused the signed URL; signing again");
                    url = self.sign(file).await.map_err(|e| ("sign", e))?.0;
                    fresh = true;
                }
                Next::Retry(delay) => {
                    tracing::info!(file = %file.file_name, error = %e, ?delay, "repeating the PUT");
                    tokio::time::sleep(delay).await;
                }
                Next::Fail => return Err(("transfer", e)),
            }
        }
    }
}

/// PUTs the file at `path` to a signed upload URL you hold (from `uploads.signed_url` or
/// [`geopera::UploadSession::sign`]), streamed from disk, and returns the bytes sent: the
/// single PUT that [`upload_files`] makes for each file, for callers who run the session
/// themselves. It is one attempt: no retry, no signing again after a 403.
pub async fn put_file(
    client: &Geopera,
    url: &SignedUrl,
    path: impl AsRef<Path>,
    content_type: &str,
) -> Result<u64, Error> {
    let path = path.as_ref();
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| storage::io(PUT, with_path(e, path)))?;
    let file = Planned {
        path: path.to_path_buf(),
        file_name: String::new(),
        content_type: content_type.to_owned(),
        bytes: meta.len(),
    };
    // The default stalled-stream protection, as every transfer of this crate has.
    put(
        client.client.http_client(),
        url,
        &file,
        None,
        StallProtection::default(),
        |_| {},
    )
    .await?;
    Ok(file.bytes)
}

/// The size of each read from disk handed to the connection.
const CHUNK: usize = 1024 * 1024;

/// The CRC32C of `file`'s first `file.bytes` bytes, read on the blocking pool in
/// [`CHUNK`]s; a file that became shorter fails.
async fn file_crc32c(file: &Planned) -> Result<u32, Error> {
    let path = file.path.clone();
    let len = file.bytes;
    tokio::task::spawn_blocking(move || -> std::io::Result<u32> {
        use std::io::Read;
        let mut handle = std::fs::File::open(&path)?.take(len);
        let mut buffer = vec![0u8; CHUNK];
        let (mut crc, mut read) = (0u32, 0u64);
        loop {
            let n = handle.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            crc = crc32c::crc32c_append(crc, buffer.get(..n).unwrap_or_default());
            read = read.saturating_add(n as u64);
        }
        if read < len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file became shorter than when the upload started",
            ));
        }
        Ok(crc)
    })
    .await
    .unwrap_or_else(|joined| Err(std::io::Error::other(joined)))
    .map_err(|e| storage::io(PUT, with_path(e, &file.path)))
}

/// PUTs `file` to `url`, streamed from disk in [`CHUNK`]s (constant memory whatever the
/// size) through [`put_stream`]: `sent` hears each chunk's length as it is handed over;
/// with `crc`, it is declared in `x-goog-hash` for storage to check.
///
/// Each chunk is read with `std::fs` on the blocking pool straight into the buffer that is
/// sent (the tuned path of the repository's examples, see BENCHMARKS.md). The body is
/// exactly the size the session was initiated with: a file that grew is cut there, one
/// that shrank fails the PUT with [`Error::Io`] of kind `UnexpectedEof`.
async fn put(
    http: &reqwest::Client,
    url: &SignedUrl,
    file: &Planned,
    crc: Option<u32>,
    stall: StallProtection,
    sent: impl Fn(u64) + Send + Sync + 'static,
) -> Result<(), Error> {
    let handle =
        std::fs::File::open(&file.path).map_err(|e| storage::io(PUT, with_path(e, &file.path)))?;
    let len = file.bytes;
    let chunks = futures_util::stream::unfold(Some((handle, len)), move |state| async move {
        let (handle, left) = state?; // None: an error ended the stream
        if left == 0 {
            return None;
        }
        let want = left.min(CHUNK as u64);
        let read = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut chunk = Vec::with_capacity(CHUNK);
            (&handle).take(want).read_to_end(&mut chunk)?;
            Ok((handle, chunk))
        })
        .await
        .unwrap_or_else(|joined| Err(std::io::Error::other(joined)));
        match read {
            Ok((_, chunk)) if chunk.is_empty() => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file became shorter than when the upload started",
                )),
                None,
            )),
            Ok((handle, chunk)) => {
                let left = left.saturating_sub(chunk.len() as u64);
                Some((Ok(chunk), Some((handle, left))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let request = Put {
        http,
        url,
        content_type: &file.content_type,
        len,
        crc,
    };
    put_stream(request, stall, chunks, sent).await
}

/// One PUT to a signed upload URL: where, and the headers it carries.
struct Put<'a> {
    http: &'a reqwest::Client,
    url: &'a SignedUrl,
    content_type: &'a str,
    /// The body's length, sent as `Content-Length`.
    len: u64,
    /// The body's CRC32C, declared in `x-goog-hash` for storage to check.
    crc: Option<u32>,
}

/// PUTs the chunks of `source` (`request.len` bytes in all, or an error), each counted by
/// a watchdog under `stall` (which abandons a stalled PUT, and whose count is the bytes
/// done of a refusal) and reported to `sent` as it is handed to the connection. A failure of the
/// source itself (a file that shrank, a reader's error) is returned as [`Error::Io`]
/// rather than as the broken connection it causes, so it is not repeated like one.
async fn put_stream<B>(
    request: Put<'_>,
    stall: StallProtection,
    source: impl futures_util::Stream<Item = std::io::Result<B>> + Send + 'static,
    sent: impl Fn(u64) + Send + Sync + 'static,
) -> Result<(), Error>
where
    B: Into<bytes::Bytes>,
{
    use futures_util::StreamExt;
    let failed: Arc<std::sync::Mutex<Option<std::io::Error>>> = Arc::default();
    let keep = failed.clone();
    let watchdog = Arc::new(Watchdog::new(stall));
    let counted = watchdog.clone();
    let body = source.map(move |chunk| match chunk {
        Ok(chunk) => {
            let chunk: bytes::Bytes = chunk.into();
            let n = chunk.len() as u64;
            counted.moved(n);
            sent(n);
            Ok(chunk)
        }
        Err(e) => {
            let echo = std::io::Error::new(e.kind(), e.to_string());
            if let Ok(mut slot) = keep.lock() {
                *slot = Some(e);
            }
            Err(echo)
        }
    });
    let result = put_body(&request, &watchdog, reqwest::Body::wrap_stream(body)).await;
    let source_error = failed.lock().ok().and_then(|mut slot| slot.take());
    match (result, source_error) {
        (_, Some(e)) => Err(storage::io(PUT, e)),
        (result, None) => result,
    }
}

/// PUTs `len` bytes from `reader` to a signed upload URL you hold (from
/// `uploads.signed_url` or [`geopera::UploadSession::sign`]) and returns the bytes sent:
/// [`put_file`] for any [`AsyncRead`](tokio::io::AsyncRead) — an in-memory buffer, a
/// decoder, a socket — whose length is known before the PUT (the session was initiated
/// with it, and storage is sent it as `Content-Length`).
///
/// The body is read in chunks of 1 MiB (constant memory) and is exactly `len` bytes:
/// bytes the reader has beyond `len` are not read, and a reader that ends before `len`
/// fails the PUT with [`geopera::Error::Io`] of kind
/// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) (so storage keeps nothing); a
/// read error is returned as `Io` too. It runs under the default [`StallProtection`].
///
/// It is one attempt: no retry and no signing again after a 403, since a reader cannot
/// be read a second time. To repeat, make a new reader and call it again.
pub async fn put_reader(
    client: &Geopera,
    url: &SignedUrl,
    reader: impl tokio::io::AsyncRead + Send + 'static,
    len: u64,
    content_type: &str,
) -> Result<u64, Error> {
    use tokio::io::AsyncReadExt;
    let chunks = futures_util::stream::unfold(Some((Box::pin(reader), len)), |state| async move {
        let (mut reader, left) = state?; // None: an error ended the stream
        if left == 0 {
            return None;
        }
        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let mut chunk = bytes::BytesMut::with_capacity(want);
        let read = async {
            while chunk.len() < want {
                let mut room = (&mut reader).take(want.saturating_sub(chunk.len()) as u64);
                if room.read_buf(&mut chunk).await? == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the reader ended before the length given",
                    ));
                }
            }
            Ok(())
        }
        .await;
        match read {
            Ok(()) => {
                let left = left.saturating_sub(chunk.len() as u64);
                Some((Ok(chunk.freeze()), Some((reader, left))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let request = Put {
        http: client.client.http_client(),
        url,
        content_type,
        len,
        crc: None,
    };
    // The default stalled-stream protection, as every transfer of this crate has.
    put_stream(request, StallProtection::default(), chunks, |_| {}).await?;
    Ok(len)
}

/// Sends `request` with `body`; `watchdog` abandons it once it stalls.
async fn put_body(
    request: &Put<'_>,
    watchdog: &Watchdog,
    body: reqwest::Body,
) -> Result<(), Error> {
    let Put {
        http,
        url,
        content_type,
        len,
        crc,
    } = *request;
    let mut request = http
        .put(url.expose())
        .header("content-type", content_type)
        .header("content-length", len);
    if let Some(crc) = crc {
        request = request.header(
            storage::X_GOOG_HASH,
            format!("crc32c={}", storage::crc32c_text(crc)),
        );
    }
    let response = watchdog.send(PUT, request.body(body)).await?;
    if !response.status().is_success() {
        return Err(storage::status(PUT, response, url, watchdog.bytes()).await);
    }
    Ok(())
}
