//! Clip-job downloads: list what a clip job offers with `clip.job.downloads`, resolve one
//! mosaic with `clip.job.download` (attributing the egress), then fetch its signed URL.
//!
//! On the real API set `GEOPERA_CLIP_JOB_ID` (and optionally `GEOPERA_MOSAIC_TYPE`).

mod common;

use common::{BoxError, Progress, Scratch};
use geopera::models::{ClipDownloadInput, ClipJobInput};

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
    let url = one.url().ok_or("the descriptor holds no signed URL")?;
    let scratch = Scratch::new("clip")?;
    let written = common::get_to_file(
        env.client.client.http_client(),
        url.expose(),
        &scratch.path("clip.tif"),
        &Progress::default(),
    )
    .await?;
    println!("fetched the {mosaic} mosaic: {written} bytes");
    Ok(())
}
