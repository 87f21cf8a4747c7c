//! A large upload done well: the file streams from disk in 256 KiB chunks (constant
//! memory whatever its size), an indicatif progress bar follows the bytes, and a 403 from
//! object storage (an expired or rejected signed URL) is met by re-signing and retrying
//! the PUT instead of retrying the stale URL. Every error path calls `uploads.fail`.
//!
//! `cargo run --release --example large_file -- <path> [content-type]` uploads your file;
//! without a path it makes a test file of `GEOPERA_EXAMPLE_BYTES` bytes (default 64 MiB).
//! On the dev server the first PUT is answered 403 on purpose, to show the re-sign.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{BoxError, Progress, Scratch};
use geopera::models::UploadInitiate;
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use indicatif::{ProgressBar, ProgressStyle};

/// PUT attempts, each with a fresh signature.
const MAX_SIGNATURES: u32 = 3;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client;
    let scratch = Scratch::new("large")?;
    let mut args = std::env::args().skip(1);
    let (path, content_type) = match args.next() {
        Some(p) => (
            PathBuf::from(p),
            args.next()
                .unwrap_or_else(|| "application/octet-stream".into()),
        ),
        None => {
            let size = std::env::var("GEOPERA_EXAMPLE_BYTES")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(64 * 1024 * 1024);
            let path = scratch.path("large.tif");
            common::make_test_file(&path, size).await?;
            (path, "image/tiff".to_owned())
        }
    };
    let size = tokio::fs::metadata(&path).await?.len();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("the file name must be UTF-8")?
        .to_owned();
    if let Some(server) = &env.server {
        server.state().inject(
            FaultTarget::ObjectPut,
            Fault::new(
                1,
                FaultKind::Status {
                    status: 403,
                    retry_after: None,
                },
            ),
        );
    }

    let session = client
        .uploads()
        .session(UploadInitiate::for_files(&env.project_id, [size]))
        .await?;
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();

    let progress = Progress::default();
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.bytes());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let http = client.client.http_client();
    let transfer = common::put_resigning(
        &session,
        http,
        &path,
        &name,
        &content_type,
        &progress,
        MAX_SIGNATURES,
    )
    .await;
    ticker.abort();
    bar.set_position(progress.bytes());
    let signatures = match transfer {
        Ok(n) => n,
        Err(e) => {
            bar.abandon();
            session.fail(&e.to_string(), "transfer").await?;
            return Err(e);
        }
    };
    bar.finish();
    let result = session.complete().await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "uploaded {size} bytes in {secs:.2}s ({:.1} MiB/s) with {signatures} signature(s): items {}",
        size as f64 / (1024.0 * 1024.0) / secs.max(1e-9),
        result["item_ids"]
    );
    Ok(())
}
