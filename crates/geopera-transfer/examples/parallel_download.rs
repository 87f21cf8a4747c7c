//! Parallel ranged downloads: object stores cap each connection's bandwidth, so a large
//! object comes faster in parts over several connections at once (each part a `Range`
//! request pinned to the object's ETag, written at its offset). The same object is
//! downloaded with one connection and with the defaults, and both times are printed.
//!
//! `cargo run --release -p geopera-transfer --example parallel_download`; on the real API
//! set `GEOPERA_ITEM_ID` and `GEOPERA_ASSET_ID` (an object larger than
//! `DEFAULT_PART_SIZE`, 16 MiB, to see a difference). On the dev server a 64 MiB object
//! is served at most 32 MiB/s per connection.

#[path = "../../../examples/common/mod.rs"]
mod common;

use std::time::Instant;

use common::BoxError;
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use geopera_transfer::{DEFAULT_CONNECTIONS, DEFAULT_PART_SIZE, DownloadOptions, download_asset};

const SIZE: usize = 64 << 20;
const CAP: u64 = 32 << 20;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let (item_id, asset_id) = match (&env.server, &env.demo) {
        (Some(server), Some(demo)) => {
            let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
            let state = server.state();
            state.add_item("itm_large", &demo.project_id, "visual", &data, "image/tiff")?;
            // Every storage request of both downloads gets the cap.
            state.inject(
                FaultTarget::ObjectGet,
                Fault::new(u32::MAX, FaultKind::Bandwidth { bytes_per_sec: CAP }),
            );
            ("itm_large".to_owned(), "visual".to_owned())
        }
        _ => (
            std::env::var("GEOPERA_ITEM_ID")?,
            std::env::var("GEOPERA_ASSET_ID")?,
        ),
    };
    let dir = std::env::temp_dir().join(format!("geopera-parallel-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let dest = dir.join(format!("{asset_id}.tif"));

    let runs = [
        ("1 connection", DownloadOptions::default().connections(1)),
        (
            "the defaults",
            // Up to DEFAULT_CONNECTIONS connections, parts of DEFAULT_PART_SIZE bytes.
            DownloadOptions::default(),
        ),
    ];
    for (name, options) in runs {
        let started = Instant::now();
        let got = download_asset(&env.client, &item_id, &asset_id, &dest, options).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name:>12}: {} MiB in {secs:.2} s ({:.0} MiB/s)",
            got.bytes >> 20,
            got.bytes as f64 / secs.max(1e-9) / f64::from(1 << 20),
        );
        std::fs::remove_file(&dest)?;
    }
    println!(
        "(defaults: up to {DEFAULT_CONNECTIONS} connections, parts of {} MiB)",
        DEFAULT_PART_SIZE >> 20
    );
    if let Some(server) = &env.server {
        server.state().clear_faults();
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
