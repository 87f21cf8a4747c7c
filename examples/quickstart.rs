//! The main job: upload a small GeoTIFF-sized file (initiate, sign, PUT, complete),
//! download the resulting item's asset, check the bytes match, print a summary.
//!
//! The SDK reserves, signs and finalizes; the PUT and the GET are ours, a few lines of
//! reqwest each, as the seed's are of httpx. (To have them done, with streaming, retries
//! and progress, see the companion crate: `crates/geopera-transfer/examples`.)
//!
//! `cargo run --example quickstart` — against the embedded dev server unless
//! `GEOPERA_API_TOKEN` (and `GEOPERA_PROJECT_ID`) are set.

mod common;

use std::time::Instant;

use common::BoxError;
use geopera::models::{AssetDownloadInput, Completion, UploadFailInput, UploadInitiate};
use serde_json::json;
use tokio::io::AsyncWriteExt;

const FILE_NAME: &str = "harbour_2024.tif";
const CONTENT_TYPE: &str = "image/tiff";
const SIZE: usize = 3 * 1024 * 1024;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client;
    // Any HTTP client does for the bytes; this is the SDK's own reqwest pool.
    let http = client.client.http_client();
    let dir = std::env::temp_dir().join(format!("geopera-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let source = dir.join(FILE_NAME);
    // A stand-in GeoTIFF: the TIFF magic, then bytes that do not repeat.
    let data: Vec<u8> = (0..SIZE).map(|i| (i ^ (i >> 11)) as u8).collect();
    std::fs::write(&source, [b"II*\0", &data[4..]].concat())?;
    let started = Instant::now();

    // 1. Initiate: reserves quota for one file of SIZE bytes.
    let session = client
        .uploads()
        .initiate(UploadInitiate::for_files(&env.project_id, [SIZE as u64]))
        .await?;
    let upload_id = session.id;

    // 2-4. Sign, PUT the bytes ourselves, complete. Any failure releases the reservation.
    let mut step = "sign";
    let outcome: Result<Completion, BoxError> = async {
        let signed = client
            .uploads()
            .signed_url(json!({"upload_id": upload_id, "file_name": FILE_NAME, "content_type": CONTENT_TYPE}))
            .await?;
        step = "transfer";
        http.put(signed.upload_url.expose())
            .header("content-type", CONTENT_TYPE)
            .body(tokio::fs::read(&source).await?)
            .send()
            .await
            .and_then(|response| response.error_for_status())
            .map_err(|e| e.without_url())?; // the signed URL's query stays out of errors
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

    // 5. Download: a descriptor with a short-lived signed URL, fetched by us, chunk by chunk.
    // A new upload's asset is keyed by its file's stem: "harbour_2024".
    let descriptor = client
        .items()
        .asset()
        .download(AssetDownloadInput::new(
            item_id,
            Completion::asset_key(FILE_NAME),
        ))
        .await?;
    let url = descriptor
        .url()
        .ok_or("the download descriptor holds no signed URL")?;
    let mut response = http
        .get(url.expose())
        .send()
        .await
        .and_then(|response| response.error_for_status())
        .map_err(|e| e.without_url())?;
    let copy = dir.join("downloaded.tif");
    let mut file = tokio::fs::File::create(&copy).await?;
    while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url())? {
        file.write_all(&chunk).await?;
    }
    file.flush().await?;

    let (original, downloaded) = (
        tokio::fs::read(&source).await?,
        tokio::fs::read(&copy).await?,
    );
    std::fs::remove_dir_all(&dir)?;
    if original != downloaded {
        return Err("the downloaded bytes differ from the uploaded ones".into());
    }
    println!(
        "uploaded {SIZE} bytes as item {item_id} (session {upload_id}) in {uploaded:.0?}, downloaded {} bytes back: identical",
        downloaded.len()
    );
    Ok(())
}
