//! Multi-file upload: one session covering every file (`file_count`, summed
//! `total_bytes`), one signed URL per file, PUTs running concurrently with a bound, one
//! `complete` after every transfer succeeded — and `fail` on any error path.
//!
//! This one uses the `UploadSession` guard: had we forgotten `fail`, dropping the guard
//! would have released the reservation anyway.

mod common;

use common::{BoxError, Progress, Scratch};
use futures_util::{StreamExt, TryStreamExt};
use geopera::models::UploadInitiate;

/// PUTs in flight at once.
const CONCURRENCY: usize = 4;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client;
    let http = client.client.http_client();
    let scratch = Scratch::new("multi")?;
    let bands = ["B02", "B03", "B04", "B08", "B11", "B12"];
    let mut files = Vec::new();
    for (i, band) in bands.iter().enumerate() {
        let path = scratch.path(&format!("scene_{band}.tif"));
        let size = 256 * 1024 * (i as u64 + 1);
        common::make_test_file(&path, size).await?;
        files.push((path, size));
    }

    let session = client
        .uploads()
        .session(UploadInitiate::for_files(
            &env.project_id,
            files.iter().map(|(_, s)| *s),
        ))
        .await?;
    let progress = Progress::default();
    let transfers = futures_util::stream::iter(files.iter())
        .map(|(path, _)| {
            let (session, progress) = (&session, &progress);
            async move {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or("file names are UTF-8")?;
                let signed = session.sign(name, "image/tiff").await?;
                common::put_file(http, &signed.upload_url, path, "image/tiff", progress).await?;
                Ok::<_, BoxError>(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await;

    if let Err(e) = transfers {
        session.fail(&e.to_string(), "transfer").await?;
        return Err(e);
    }
    let result = session.complete().await?;
    println!(
        "uploaded {} files ({} bytes) with up to {CONCURRENCY} PUTs at once: items {}",
        files.len(),
        progress.bytes(),
        result["item_ids"]
    );
    Ok(())
}
