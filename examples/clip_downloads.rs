//! Clip-job downloads: list what a clip job offers with `clip.job.downloads`, resolve one
//! mosaic with `clip.job.download` (attributing the egress), then fetch its signed URL.
//!
//! On the real API set `GEOPERA_CLIP_JOB_ID` (and optionally `GEOPERA_MOSAIC_TYPE`).

mod common;

use common::BoxError;
use geopera::models::{ClipDownloadInput, ClipJobInput};
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let (job_id, mosaic) = match &env.demo {
        Some(demo) => (demo.clip_job_id.clone(), demo.mosaic_type.clone()),
        None => (
            std::env::var("GEOPERA_CLIP_JOB_ID")?,
            std::env::var("GEOPERA_MOSAIC_TYPE").unwrap_or_else(|_| "visual".into()),
        ),
    };
    let available = env
        .client
        .clip()
        .job()
        .downloads(ClipJobInput::new(&job_id))
        .await?;
    println!("clip job {job_id} offers: {available}");

    let one = env
        .client
        .clip()
        .job()
        .download(
            ClipDownloadInput::new(&job_id, &mosaic).attribute(geopera::USER_AGENT, "127.0.0.1"),
        )
        .await?;
    // `one` is a JSON descriptor: fetch its signed URL as for an asset.
    let href = one.url().ok_or("the descriptor holds no signed URL")?;
    let mut response = env
        .client
        .client
        .http_client()
        .get(href.expose())
        .send()
        .await
        .and_then(|response| response.error_for_status())
        .map_err(|e| e.without_url())?;
    let target = std::env::temp_dir().join(format!("clip_{mosaic}-{}.tif", std::process::id()));
    let mut file = tokio::fs::File::create(&target).await?;
    let mut written = 0;
    while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url())? {
        file.write_all(&chunk).await?;
        written += chunk.len();
    }
    file.flush().await?;
    std::fs::remove_file(&target)?;
    println!("fetched the {mosaic} mosaic: {written} bytes");
    Ok(())
}
