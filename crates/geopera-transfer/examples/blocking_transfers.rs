//! The transfers from a plain `fn main`: `geopera_transfer::blocking` (feature `blocking`)
//! takes a `geopera::blocking::Geopera` and runs each transfer on that client's runtime,
//! the one its own calls run on.
//!
//! `cargo run -p geopera-transfer --features blocking --example blocking_transfers`

#[path = "../../../examples/common/mod.rs"]
mod common;

use common::BoxError;
use geopera_transfer::{DownloadOptions, UploadOptions, blocking};

fn main() -> Result<(), BoxError> {
    let env = common::connect_blocking()?;
    let dir = std::env::temp_dir().join(format!("geopera-blocking-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("harbour_2024.tif");
    std::fs::write(&path, [&b"II*\0"[..], &[9; 256 * 1024]].concat())?;

    let up = blocking::upload_file(
        &env.client,
        &env.project_id,
        &path,
        UploadOptions::default(),
    )?;
    let file = &up.files[0];
    let item_id = file
        .item_id
        .as_deref()
        .ok_or("uploads.complete returned no item")?;
    let copy = dir.join("copy.tif");
    let down = blocking::download_asset(
        &env.client,
        item_id,
        &file.asset_key,
        &copy,
        DownloadOptions::default(),
    )?;

    let same = std::fs::read(&path)? == std::fs::read(&copy)?;
    std::fs::remove_dir_all(&dir)?;
    if !same {
        return Err("the downloaded bytes differ from the uploaded ones".into());
    }
    println!(
        "uploaded {} bytes as {item_id}/{}, downloaded {} bytes back: identical",
        file.bytes, file.asset_key, down.bytes
    );
    Ok(())
}
