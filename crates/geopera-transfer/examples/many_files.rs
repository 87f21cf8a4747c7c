//! Many files in one session: 200 files of 64 KiB, at most 16 PUTs at once, one
//! `uploads.complete` after every PUT succeeded. Progress over all files is printed a few
//! times a second, and reported to the platform with `uploads.progress` after each file
//! (`api_progress`). The result says which item and asset key each file became.
//!
//! `cargo run -p geopera-transfer --example many_files`

#[path = "../../../examples/common/mod.rs"]
mod common;

use std::time::Instant;

use common::BoxError;
use geopera_transfer::{ProgressEvent, UploadOptions, progress, upload_files};

const FILES: usize = 200;
const SIZE: usize = 64 * 1024;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let dir = std::env::temp_dir().join(format!("geopera-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut paths = Vec::new();
    for i in 0..FILES {
        let path = dir.join(format!("tile_{i:04}.tif"));
        std::fs::write(&path, vec![i as u8; SIZE])?;
        paths.push(path);
    }

    let options = UploadOptions::default()
        .concurrency(16)
        .api_progress(true)
        .progress(progress::from_fn(|e: &ProgressEvent<'_>| {
            let done = e.files.iter().filter(|f| Some(f.bytes) == f.total).count();
            println!("{} of {:?} bytes, {done} files done", e.bytes, e.total);
        }));
    let started = Instant::now();
    let result = upload_files(&env.client, &env.project_id, &paths, options).await;
    std::fs::remove_dir_all(&dir)?;
    let result = result?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "uploaded {FILES} files in session {} in {secs:.2}s ({:.0} files/s)",
        result.upload_id,
        FILES as f64 / secs.max(1e-9)
    );
    for file in result.files.iter().take(3) {
        let item = file.item_id.as_deref().unwrap_or("?");
        println!(
            "  {} -> item {item}, asset {}",
            file.file_name, file.asset_key
        );
    }
    if let Some(server) = &env.server {
        let reports = server.state().calls("uploads.progress");
        println!("uploads.progress reports the dev server received: {reports}");
    }
    Ok(())
}
