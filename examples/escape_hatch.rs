//! The generated escape hatch: the same upload with `geopera::ops` and typed models on an
//! `AuthenticatedClient` (here the fluent client's own, `client.client`), with
//! `send_detailed` for status and headers.

mod common;

use common::BoxError;
use geopera::models::{SignedUrlInput, UploadFailInput, UploadInitiate, UploadsCompleteBody};
use geopera::ops;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client.client;
    let path = std::env::temp_dir().join(format!("harbour_2024-ops-{}.tif", std::process::id()));
    std::fs::write(&path, [&b"II*\0"[..], &[3; 512 * 1024]].concat())?;
    let size = std::fs::metadata(&path)?.len();

    let session = ops::uploads_initiate::send_detailed(
        client,
        &UploadInitiate::for_files(&env.project_id, [size]),
    )
    .await?;
    println!(
        "{} answered {} (request id {:?})",
        ops::uploads_initiate::OPERATION_ID,
        session.status(),
        session.request_id()
    );
    let upload_id = session.into_body().id;

    let outcome: Result<geopera::models::Completion, BoxError> = async {
        let signed = ops::uploads_signed_url::send(
            client,
            &SignedUrlInput::new(&upload_id, "harbour_2024.tif").content_type("image/tiff"),
        )
        .await?;
        client
            .http_client()
            .put(signed.upload_url.expose())
            .header("content-type", "image/tiff")
            .body(tokio::fs::read(&path).await?)
            .send()
            .await
            .and_then(|response| response.error_for_status())
            .map_err(|e| e.without_url())?; // the signed URL's query stays out of errors
        Ok(
            ops::uploads_complete::send(client, &UploadsCompleteBody::for_upload(&upload_id))
                .await?,
        )
    }
    .await;
    std::fs::remove_file(&path)?;
    match outcome {
        Ok(result) => println!("completed {upload_id}: {result}"),
        Err(e) => {
            ops::uploads_fail::send(
                client,
                &UploadFailInput::new(&upload_id, e.to_string()).step("transfer"),
            )
            .await?;
            return Err(e);
        }
    }
    Ok(())
}
