//! A large upload in one call: the file streams from disk (constant memory whatever its
//! size) behind an indicatif progress bar, and a 403 from object storage (an expired or
//! rejected signed URL) signs the file again instead of retrying the stale URL. Any
//! failure releases the session's reservation.
//!
//! `cargo run --release -p geopera-transfer --features indicatif --example large_file -- [path]`
//! uploads your file; without a path it makes a test file of `GEOPERA_EXAMPLE_BYTES` bytes
//! (default 64 MiB). On the dev server the first PUT is answered 403 on purpose.

#[path = "../../../examples/common/mod.rs"]
mod common;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use common::BoxError;
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use geopera_transfer::{UploadOptions, progress::Indicatif, upload_file};
use indicatif::{ProgressBar, ProgressStyle};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let dir = std::env::temp_dir().join(format!("geopera-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = match std::env::args().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            let size =
                std::env::var("GEOPERA_EXAMPLE_BYTES").map_or(Ok(64 << 20), |s| s.parse())?;
            let path = dir.join("large.tif");
            make_file(&path, size)?;
            path
        }
    };
    if let Some(server) = &env.server {
        let forbidden = FaultKind::Status {
            status: 403,
            retry_after: None,
        };
        server
            .state()
            .inject(FaultTarget::ObjectPut, Fault::new(1, forbidden));
    }

    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )?);
    let options = UploadOptions::default().progress(Indicatif(bar));
    let started = Instant::now();
    let result = upload_file(&env.client, &env.project_id, &path, options).await;
    std::fs::remove_dir_all(&dir)?;
    let file = &result?.files[0];
    let secs = started.elapsed().as_secs_f64();
    println!(
        "uploaded {} bytes in {secs:.2}s ({:.1} MiB/s) with {} signature(s): item {}, asset {}",
        file.bytes,
        file.bytes as f64 / f64::from(1 << 20) / secs.max(1e-9),
        file.signatures,
        file.item_id.as_deref().unwrap_or("?"),
        file.asset_key,
    );
    Ok(())
}

/// Writes `size` bytes that start like a little-endian TIFF and do not repeat.
fn make_file(path: &std::path::Path, size: u64) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut block: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    block[..4].copy_from_slice(b"II*\0");
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64);
        out.write_all(&block[..n as usize])?;
        left -= n;
        block.rotate_left(1);
    }
    out.flush()
}
