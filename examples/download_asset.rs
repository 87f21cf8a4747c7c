//! Asset download: `items.asset.download` returns a JSON descriptor (never bytes) holding
//! a short-lived signed URL; we stream it to disk ourselves. The descriptor's shape is
//! asset-dependent, so we print it once (its signed URLs print without their query) and
//! read the URL explicitly with `url()`.
//!
//! On the real API set `GEOPERA_ITEM_ID` and `GEOPERA_ASSET_ID`.

mod common;

use common::{BoxError, Progress, Scratch};
use geopera::models::AssetDownloadInput;

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
    let url = descriptor
        .url()
        .ok_or("the descriptor holds no signed URL; see its keys above")?;

    let scratch = Scratch::new("download")?;
    let target = scratch.path(&format!("{asset_id}.tif"));
    let written = common::get_to_file(
        env.client.client.http_client(),
        url.expose(),
        &target,
        &Progress::default(),
    )
    .await?;
    println!("streamed {written} bytes of {item_id}/{asset_id} to disk");
    if let Some(server) = &env.server {
        let metered: u64 = server.state().egress().iter().map(|e| e.bytes).sum();
        println!("egress metered by the dev server: {metered} bytes");
    }
    Ok(())
}
