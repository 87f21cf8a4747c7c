//! A download whose connection breaks off half way finishes whole: it resumes with a
//! `Range` request from the last byte written (pinned with `If-Match` to the object's
//! ETag, so a changed object is never spliced), and the CRC32C computed over both pieces
//! is checked against the one storage states.
//!
//! `cargo run -p geopera-transfer --example resume`; on the real API set
//! `GEOPERA_ITEM_ID` and `GEOPERA_ASSET_ID`. On the dev server a 16 MiB object is
//! downloaded and storage drops the first GET's connection after 8 MiB on purpose.

#[path = "../../../examples/common/mod.rs"]
mod common;

use common::BoxError;
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use geopera_transfer::{DownloadOptions, download_asset};

const SIZE: usize = 16 << 20;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let (item_id, asset_id) = match (&env.server, &env.demo) {
        (Some(server), Some(demo)) => {
            let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
            let state = server.state();
            state.add_item("itm_large", &demo.project_id, "visual", &data, "image/tiff")?;
            state.inject(
                FaultTarget::ObjectGet,
                Fault::new(1, FaultKind::DropAfterBytes(SIZE as u64 / 2)),
            );
            ("itm_large".to_owned(), "visual".to_owned())
        }
        _ => (
            std::env::var("GEOPERA_ITEM_ID")?,
            std::env::var("GEOPERA_ASSET_ID")?,
        ),
    };
    let dir = std::env::temp_dir().join(format!("geopera-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let dest = dir.join(format!("{asset_id}.tif"));
    let got = download_asset(
        &env.client,
        &item_id,
        &asset_id,
        &dest,
        DownloadOptions::default(),
    )
    .await?;
    println!(
        "downloaded {} bytes of {item_id}/{asset_id}: {} resumes, {} restarts",
        got.bytes, got.resumes, got.restarts
    );
    match got.crc32c {
        Some(crc) => println!("CRC32C {crc:08x}, as storage states"),
        None => println!("storage stated no CRC32C: the length was checked"),
    }
    if env.server.is_some() && got.resumes == 0 {
        return Err("the dev server broke the connection off, yet nothing resumed".into());
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
