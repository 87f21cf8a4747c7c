//! Multi-file upload, the seed's pattern: one session covering every file (`file_count`,
//! summed `total_bytes`), then for each file a signed URL and a PUT, then one `complete`
//! after every transfer succeeded.
//!
//! This one uses the `UploadSession` guard: a failed transfer is reported with `fail`, and
//! had we forgotten to (a panic, a cancelled task), dropping the guard before `complete`
//! would have called `uploads.fail` anyway (step `"abandoned"`).
//! (Many files at once, with bounded concurrency and progress: `geopera-transfer`'s
//! `upload_files`, in `crates/geopera-transfer/examples/many_files.rs`.)

mod common;

use common::BoxError;
use geopera::models::UploadInitiate;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let client = &env.client;
    let dir = std::env::temp_dir().join(format!("geopera-multi-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let files = [
        ("scene_b04.tif", "image/tiff"),
        ("scene_b08.tif", "image/tiff"),
    ];
    for (i, (name, _)) in files.iter().enumerate() {
        std::fs::write(dir.join(name), vec![i as u8; 256 * 1024 * (i + 1)])?;
    }
    let mut total = 0;
    for (name, _) in &files {
        total += std::fs::metadata(dir.join(name))?.len();
    }

    let session = client
        .uploads()
        .session(
            UploadInitiate::new(&env.project_id)
                .signed_url()
                .file_count(files.len() as u64)
                .total_bytes(total),
        )
        .await?;
    let transfers: Result<(), BoxError> = async {
        for (name, content_type) in files {
            let signed = session.sign(name, content_type).await?;
            client
                .client
                .http_client()
                .put(signed.upload_url.expose())
                .header("content-type", content_type)
                .body(tokio::fs::read(dir.join(name)).await?)
                .send()
                .await
                .and_then(|response| response.error_for_status())
                .map_err(|e| e.without_url())?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = transfers {
        session.fail(&e.to_string(), "transfer").await?;
        return Err(e);
    }
    let result = session.complete().await?;
    std::fs::remove_dir_all(&dir)?;
    println!(
        "uploaded {} files ({total} bytes) in one session: items {:?}",
        files.len(),
        result.item_ids()
    );
    Ok(())
}
