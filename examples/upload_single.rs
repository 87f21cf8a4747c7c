//! The seed's complete upload, step by step with the fluent client: initiate, sign, PUT
//! the bytes yourself, complete — and on any client-side failure, `uploads.fail` with the
//! step that failed, so the reservation is released.
//!
//! The PUT streams the file from disk (a `tokio::fs::File` as the body, its length
//! announced), as the seed advises for very large files.

mod common;

use common::BoxError;
use geopera::models::{SignedUrlInput, UploadFailInput, UploadInitiate};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client;
    let file_path = std::env::temp_dir().join(format!("harbour_2024-{}.tif", std::process::id()));
    std::fs::write(&file_path, [&b"II*\0"[..], &[7; 1 << 20]].concat())?;
    let total_bytes = std::fs::metadata(&file_path)?.len();

    // 1. Initiate: reserves storage quota up front.
    let session = client
        .uploads()
        .initiate(
            UploadInitiate::new(&env.project_id)
                .signed_url()
                .total_bytes(total_bytes),
        )
        .await?;
    let upload_id = session.id;

    let mut step = "sign";
    let outcome: Result<geopera::models::Completion, BoxError> = async {
        // 2. Sign one file.
        let signed = client
            .uploads()
            .signed_url(
                SignedUrlInput::new(&upload_id, "harbour_2024.tif").content_type("image/tiff"),
            )
            .await?;
        // 3. Transfer the bytes yourself, straight to object storage.
        step = "transfer";
        client
            .client
            .http_client()
            .put(signed.upload_url.expose())
            .header("content-type", "image/tiff")
            .header("content-length", total_bytes)
            .body(tokio::fs::File::open(&file_path).await?)
            .send()
            .await
            .and_then(|response| response.error_for_status())
            .map_err(|e| e.without_url())?; // the signed URL's query stays out of errors
        // 4. Complete: creates the STAC item(s) and runs the pipeline.
        step = "complete";
        Ok(client.uploads().complete(&upload_id).await?)
    }
    .await;
    std::fs::remove_file(&file_path)?;

    match outcome {
        Ok(result) => {
            println!("{result}");
            Ok(())
        }
        Err(e) => {
            // 5. Release the reservation on any client-side failure.
            if let Err(release) = client
                .uploads()
                .fail(UploadFailInput::new(&upload_id, e.to_string()).step(step))
                .await
            {
                eprintln!("releasing the reservation failed too: {release}");
            }
            Err(e)
        }
    }
}
