//! # geopera-transfer
//!
//! Moves the bytes that [`geopera`] deliberately leaves to you: streaming uploads through
//! upload sessions and downloads through descriptors' signed URLs, with retries, resume,
//! re-signing, length checks and progress — on the client's own connection pool.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = geopera_dev_server::DevServer::start().await?;
//! # server.state().add_project("prj_demo");
//! # let client = server.client_builder().build()?; // or geopera::Geopera::from_env()?
//! # let dir = std::env::temp_dir().join(format!("geopera-transfer-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # std::fs::write(dir.join("harbour.tif"), b"II*\0 a tiny GeoTIFF")?;
//! use geopera_transfer::{DownloadOptions, UploadOptions, download_asset, upload_file};
//!
//! let up = upload_file(&client, "prj_demo", dir.join("harbour.tif"), UploadOptions::default()).await?;
//! let file = &up.files[0]; // image/tiff, from the extension
//! let item_id = file.item_id.as_deref().ok_or("no item")?;
//!
//! let down = download_asset(&client, item_id, &file.asset_key, dir.join("copy.tif"), DownloadOptions::default()).await?;
//! assert_eq!(down.bytes, file.bytes);
//! # assert_eq!(std::fs::read(dir.join("copy.tif"))?, b"II*\0 a tiny GeoTIFF");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! * [`upload_file`] / [`upload_files`]: one session (`file_count` and `total_bytes` for
//!   every file), each file signed and PUT straight from disk (constant memory, at most
//!   [`UploadOptions::concurrency`] at once), one `uploads.complete` after every PUT
//!   succeeded; any error, or dropping the future, fails the session so its quota
//!   reservation is released. [`UploadResult`] says which item and asset key each file
//!   became.
//! * [`download_asset`] / [`download_clip`] / [`download_descriptor`]: the GET streams
//!   into a temporary file beside the destination, its length is checked against
//!   `Content-Length` / `Content-Range` and, when storage sends the object's
//!   `x-goog-hash`, its CRC32C (computed as the bytes are written, continued over
//!   resumes: no second pass; a mismatch is [`geopera::Error::Integrity`]), then it is
//!   renamed into place: a failed or cancelled download never leaves a partial file at
//!   the destination, and an existing file is replaced only with
//!   [`DownloadOptions::overwrite`]. An object larger than
//!   [`DownloadOptions::part_size`] comes in parts over up to
//!   [`DownloadOptions::connections`] connections at once (object stores cap each
//!   connection), each part a `Range` request pinned to the object's ETag, written at its
//!   offset, retried and resumed on its own; their CRC32Cs combine into the object's,
//!   checked against storage's `x-goog-hash` when it sends one. [`Download::crc32c`]
//!   reports the checked CRC32C.
//! * Integrity of uploads, opt-in: [`UploadOptions::checksum`] sends each file's CRC32C
//!   in `x-goog-hash`, so storage refuses (400 `BadDigest`) a body that differs from the
//!   file as it was read.
//! * Reliability: a transient storage failure (dropped connection, 408, 429, 5xx) is
//!   repeated under the client's [`geopera::RetryPolicy`] — a PUT is sent again, a
//!   download resumes with a `Range` request from the last byte written (pinned with
//!   `If-Match` to the ETag when the server sent one; a server that answers with anything
//!   but the asked range makes it start again). A 403 (an expired or rejected signature)
//!   signs the file again, or resolves the descriptor again, a bounded number of times;
//!   so does a repeated attempt whose URL (Google Cloud Storage's V4 format: its
//!   `X-Goog-Date` plus `X-Goog-Expires`) would expire within
//!   [`DEFAULT_RESIGN_MARGIN`] (see `resign_margin` on the options), without waiting
//!   for the 403.
//! * [`StallProtection`], on by default: an attempt that moves fewer than 1 byte/s over
//!   20 s (configurable) is abandoned and retried — a download resumes, each part of a
//!   parallel download on its own — as aws-sdk-rust's stalled-stream protection does.
//!   Parallel parts also sign again ahead of the URL's expiry, once for all parts.
//! * Cancellation: dropping the future stops a transfer, and so does a token given to
//!   [`UploadOptions::cancel_on`] / [`DownloadOptions::cancel_on`] (any future, such as
//!   `tokio_util`'s `CancellationToken::cancelled_owned()`): a cancelled upload fails its
//!   session with step `abandoned`, releasing the reservation, and a cancelled download
//!   removes its temporary file.
//! * [`Progress`]: a sink called at most every [`progress::REPORT_INTERVAL`] and once at
//!   the end; [`NoProgress`] is the default, [`progress::from_fn`] makes one of a
//!   closure, and `progress::Indicatif` (feature `indicatif`) drives a progress bar.
//!   [`UploadOptions::api_progress`] also reports each finished PUT to
//!   `uploads.progress`, and [`UploadOptions::api_progress_every`] the bytes sent so far
//!   at an interval while the PUTs are in flight.
//! * [`put_file`] / [`put_reader`]: the single streamed PUT of a file, or of any
//!   `AsyncRead` of a known length, to a signed URL, for a session you run yourself (one
//!   attempt).
//! * `blocking` (feature `blocking`): the same calls for a plain `fn main`, taking a
//!   `geopera::blocking::Geopera` and running on its runtime.
//!
//! The crate's examples (`cargo run -p geopera-transfer --example many_files`, `download`,
//! `resume` (a connection dropped half way), `parallel_download` (one connection against
//! several under a per-connection bandwidth cap), `large_file` with `--features
//! indicatif`, `blocking_transfers` with `--features blocking`) run against the embedded
//! dev server unless `GEOPERA_API_TOKEN` is set.
//!
//! Every error is a [`geopera::Error`]: storage's refusals are
//! [`Storage`](geopera::Error::Storage) (status, storage's error code and message from its
//! XML body, and the bytes moved before it answered: [`geopera::Error::storage_code`],
//! [`geopera::Error::bytes_done`]) and its broken connections `Transport`, with the
//! operation `storage.put` or `storage.get`;
//! a stalled attempt, once retries are spent, and local files' errors are `Io`; bytes
//! that do not match their checksum `Integrity`. None of them shows a signed URL's query.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
mod cancel;
mod download;
mod parallel;
pub mod progress;
mod stall;
mod storage;
mod upload;

pub use download::{Download, DownloadOptions, download_asset, download_clip, download_descriptor};
pub use parallel::{DEFAULT_CONNECTIONS, DEFAULT_PART_SIZE};
pub use progress::{NoProgress, Progress, ProgressEvent};
pub use stall::{DEFAULT_MIN_THROUGHPUT, DEFAULT_STALL_GRACE, StallProtection};
pub use storage::{DEFAULT_RESIGN_MARGIN, content_type_for};
pub use upload::{
    DEFAULT_CONCURRENCY, DEFAULT_MAX_SIGNATURES, UploadOptions, UploadResult, UploadedFile,
    put_file, put_reader, upload_file, upload_files,
};
