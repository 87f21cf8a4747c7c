//! Asset download: `items.asset.download` returns a JSON descriptor (never bytes) holding
//! a short-lived signed URL; we stream it to disk ourselves, chunk by chunk. The
//! descriptor's shape is asset-dependent, so we print it once (its signed URLs print
//! without their query) and read the URL explicitly with `url()`.
//!
//! On the real API set `GEOPERA_ITEM_ID` and `GEOPERA_ASSET_ID`.

mod common;

use common::BoxError;
use geopera::models::AssetDownloadInput;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let (item_id, asset_id) = match &env.demo {
        Some(demo) => (demo.item_id.clone(), demo.asset_key.clone()),
        None => (
            std::env::var("GEOPERA_ITEM_ID")?,
            std::env::var("GEOPERA_ASSET_ID")?,
        ),
    };
    let descriptor = env
        .client
        .items()
        .asset()
        .download(AssetDownloadInput::new(&item_id, &asset_id))
        .await?;
    println!("descriptor: {descriptor:#}");
    let href = descriptor
        .url()
        .ok_or("the descriptor holds no signed URL; see its keys above")?;

    let mut response = env
        .client
        .client
        .http_client()
        .get(href.expose())
        .send()
        .await
        .and_then(|response| response.error_for_status())
        .map_err(|e| e.without_url())?; // the signed URL's query stays out of errors
    let target = std::env::temp_dir().join(format!("{asset_id}-{}.tif", std::process::id()));
    let mut file = tokio::fs::File::create(&target).await?;
    let mut written = 0;
    while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url())? {
        file.write_all(&chunk).await?;
        written += chunk.len();
    }
    file.flush().await?;
    std::fs::remove_file(&target)?;
    println!("streamed {written} bytes of {item_id}/{asset_id} to disk");
    if let Some(server) = &env.server {
        let metered: u64 = server.state().egress().iter().map(|e| e.bytes).sum();
        println!("egress metered by the dev server: {metered} bytes");
    }
    Ok(())
}
