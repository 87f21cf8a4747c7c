//! The seed's complete upload, step by step with the fluent client: initiate, sign, PUT
//! the bytes yourself, complete — and on any client-side failure, `uploads.fail` with the
//! step that failed, so the reservation is released.

mod common;

use common::{BoxError, Progress, Scratch};
use geopera::models::{SignedUrlInput, UploadFailInput, UploadInitiate};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client;
    let scratch = Scratch::new("single")?;
    let file_path = scratch.path("harbour_2024.tif");
    common::make_test_file(&file_path, 1024 * 1024).await?;
    let total_bytes = tokio::fs::metadata(&file_path).await?.len();

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
        common::put_file(
            client.client.http_client(),
            &signed.upload_url,
            &file_path,
            "image/tiff",
            &Progress::default(),
        )
        .await?;
        // 4. Complete: creates the STAC item(s) and runs the pipeline.
        step = "complete";
        Ok(client.uploads().complete(&upload_id).await?)
    }
    .await;

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
