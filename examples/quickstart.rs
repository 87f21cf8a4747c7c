//! The main job: upload a small GeoTIFF-sized file (initiate, sign, PUT, complete),
//! download the resulting item's asset, check the bytes match, print a summary.
//!
//! `cargo run --example quickstart` — against the embedded dev server unless
//! `GEOPERA_API_TOKEN` (and `GEOPERA_PROJECT_ID`) are set.

mod common;

use std::time::Instant;

use common::{BoxError, Progress, Scratch};
use geopera::models::{AssetDownloadInput, Completion, UploadFailInput, UploadInitiate};

const FILE_NAME: &str = "harbour_2024.tif";
const CONTENT_TYPE: &str = "image/tiff";
const SIZE: u64 = 3 * 1024 * 1024;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client;
    let http = client.client.http_client();
    let scratch = Scratch::new("quickstart")?;
    let source = scratch.path(FILE_NAME);
    common::make_test_file(&source, SIZE).await?;
    let started = Instant::now();

    // 1. Initiate: reserves quota for one file of SIZE bytes.
    let session = client
        .uploads()
        .initiate(UploadInitiate::for_files(&env.project_id, [SIZE]))
        .await?;
    let upload_id = session.id;

    // 2-4. Sign, PUT the bytes ourselves, complete. Any failure releases the reservation.
    let mut step = "sign";
    let outcome: Result<Completion, BoxError> = async {
        let signed = client.uploads().signed_url(serde_json::json!({"upload_id": upload_id, "file_name": FILE_NAME, "content_type": CONTENT_TYPE})).await?;
        step = "transfer";
        common::put_file(http, &signed.upload_url, &source, CONTENT_TYPE, &Progress::default()).await?;
        step = "complete";
        Ok(client.uploads().complete(&upload_id).await?)
    }
    .await;
    let result = match outcome {
        Ok(result) => result,
        Err(e) => {
            if let Err(release) = client
                .uploads()
                .fail(UploadFailInput::new(&upload_id, e.to_string()).step(step))
                .await
            {
                eprintln!("releasing the reservation failed too: {release}");
            }
            return Err(e);
        }
    };
    let item_id = *result
        .item_ids()
        .first()
        .ok_or("uploads.complete returned no item id")?;
    let uploaded = started.elapsed();

    // 5. Download: a descriptor with a short-lived signed URL, fetched by us.
    // A new upload's asset is keyed by its file's stem: "harbour_2024".
    let asset_key = Completion::asset_key(FILE_NAME);
    let descriptor = client
        .items()
        .asset()
        .download(AssetDownloadInput::new(item_id, asset_key))
        .await?;
    let url = descriptor
        .url()
        .ok_or("the download descriptor holds no signed URL")?;
    let copy = scratch.path("downloaded.tif");
    let got = common::get_to_file(http, url.expose(), &copy, &Progress::default()).await?;

    if !common::same_bytes(&source, &copy).await? {
        return Err("the downloaded bytes differ from the uploaded ones".into());
    }
    println!(
        "uploaded {SIZE} bytes as item {item_id} (session {upload_id}) in {:.0?}, downloaded {got} bytes back: identical",
        uploaded
    );
    Ok(())
}
