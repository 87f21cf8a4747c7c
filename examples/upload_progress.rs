//! Progress reporting: the PUT streams the file from disk while a second task reports the
//! bytes handed over through `uploads.progress`, throttled to about once a second (and a
//! last report at the end).

mod common;

use std::time::Duration;

use common::{BoxError, Progress, Scratch};
use geopera::models::{UploadInitiate, UploadProgressInput};

const SIZE: u64 = 8 * 1024 * 1024;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = env.client.clone();
    let scratch = Scratch::new("progress")?;
    let path = scratch.path("mosaic.tif");
    common::make_test_file(&path, SIZE).await?;

    let session = client
        .uploads()
        .session(UploadInitiate::for_files(&env.project_id, [SIZE]))
        .await?;
    let signed = session.sign("mosaic.tif", "image/tiff").await?;
    let progress = Progress::default();

    // The reporter: at most one uploads.progress per second while the PUT runs.
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    let reporter = {
        let (client, progress, id) = (client.clone(), progress.clone(), session.id().to_owned());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut reports = 0u32;
            loop {
                let finished = tokio::select! {
                    _ = tick.tick() => false,
                    _ = &mut done_rx => true,
                };
                let bytes = progress.bytes();
                let status = if finished { "transferred" } else { "uploading" };
                match client
                    .uploads()
                    .progress(UploadProgressInput::new(&id, status, bytes))
                    .await
                {
                    Ok(_) => reports += 1,
                    Err(e) => {
                        eprintln!("progress report failed (ignored, it is informational): {e}")
                    }
                }
                if finished {
                    return reports;
                }
            }
        })
    };

    let put = common::put_file(
        client.client.http_client(),
        &signed.upload_url,
        &path,
        "image/tiff",
        &progress,
    )
    .await;
    let _ = done_tx.send(());
    let reports = reporter.await.unwrap_or(0);
    if let Err(e) = put {
        session.fail(&e.to_string(), "transfer").await?;
        return Err(e.into());
    }
    let result = session.complete().await?;
    println!(
        "uploaded {} bytes with {reports} progress reports: items {}",
        progress.bytes(),
        result["item_ids"]
    );
    Ok(())
}
