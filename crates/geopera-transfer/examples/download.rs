//! Downloads in one call each: an item's asset, and every mosaic a clip job offers into
//! one directory. Each lands in a temporary file beside its destination, is checked for
//! length and renamed, so a destination holds the whole object or nothing; a broken
//! connection is repeated (resuming with a `Range` request from the last byte written),
//! and a 403 resolves the descriptor again.
//!
//! `cargo run -p geopera-transfer --example download`; on the real API set
//! `GEOPERA_ITEM_ID` and `GEOPERA_ASSET_ID` (and `GEOPERA_CLIP_JOB_ID` for the mosaics).
//! On the dev server the first GET's connection is dropped on purpose.

#[path = "../../../examples/common/mod.rs"]
mod common;

use common::BoxError;
use geopera::models::ClipJobInput;
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use geopera_transfer::{DownloadOptions, download_asset, download_clip};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let (item_id, asset_id, job_id) = match &env.demo {
        Some(demo) => (
            demo.item_id.clone(),
            demo.asset_key.clone(),
            Some(demo.clip_job_id.clone()),
        ),
        None => (
            std::env::var("GEOPERA_ITEM_ID")?,
            std::env::var("GEOPERA_ASSET_ID")?,
            std::env::var("GEOPERA_CLIP_JOB_ID").ok(),
        ),
    };
    if let Some(server) = &env.server {
        server.state().inject(
            FaultTarget::ObjectGet,
            Fault::new(1, FaultKind::DropConnection),
        );
    }
    let dir = std::env::temp_dir().join(format!("geopera-download-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let dest = dir.join(format!("{asset_id}.tif"));
    let asset = download_asset(
        &env.client,
        &item_id,
        &asset_id,
        &dest,
        DownloadOptions::default(),
    )
    .await?;
    println!(
        "downloaded {} bytes of {item_id}/{asset_id} ({} resumes, {} restarts, {} signatures)",
        asset.bytes, asset.resumes, asset.restarts, asset.signatures
    );

    // Every mosaic of the clip job, named as the job lists them.
    if let Some(job_id) = job_id {
        let offered = env
            .client
            .clip()
            .job()
            .downloads(ClipJobInput::new(&job_id))
            .await?;
        let downloads = offered.field("downloads").unwrap_or_default();
        for mosaic in downloads.as_array().into_iter().flatten() {
            let (Some(kind), Some(name)) =
                (mosaic["mosaic_type"].as_str(), mosaic["file_name"].as_str())
            else {
                continue;
            };
            let dest = dir.join(name);
            let got =
                download_clip(&env.client, &job_id, kind, dest, DownloadOptions::default()).await?;
            println!(
                "downloaded the {kind} mosaic of {job_id}: {} bytes to {name}",
                got.bytes
            );
        }
    }
    if let Some(server) = &env.server {
        let left = server.state().pending_faults(&FaultTarget::ObjectGet);
        println!(
            "the dev server dropped the first GET's connection ({left} such faults left): it was repeated"
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
