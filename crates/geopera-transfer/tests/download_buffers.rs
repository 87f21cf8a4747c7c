//! The download's writer (body chunks copied into recycled 1 MiB buffers for one writer
//! thread) on both runtime flavours: every byte lands in order whatever the size (more
//! buffers than there are, a last one partial, exactly full ones, nothing at all), and
//! progress ends at the object's size.

mod support;

use std::sync::{Arc, Mutex};

use geopera_transfer::progress::from_fn;
use geopera_transfer::{DownloadOptions, ProgressEvent, download_asset};
use support::*;

const ASSET: &str = "data";
/// The writer's buffers are 1 MiB, four of them.
const MIB: usize = 1 << 20;
/// Objects served, by item id.
const OBJECTS: [(&str, usize); 3] = [
    ("itm_partial", 5 * MIB + 17),
    ("itm_edge", 5 * MIB),
    ("itm_empty", 0),
];

async fn every_byte_lands_in_order(scratch_name: &str) {
    let (server, client) = dev().await;
    for (seed, (item, len)) in OBJECTS.into_iter().enumerate() {
        server
            .state()
            .add_item(
                item,
                PROJECT,
                ASSET,
                &bytes(len, seed as u64),
                "application/octet-stream",
            )
            .expect("item");
    }
    let dir = Scratch::new(scratch_name);
    for (seed, (item, len)) in OBJECTS.into_iter().enumerate() {
        let last = Arc::new(Mutex::new(None));
        let seen = last.clone();
        let options = DownloadOptions::default().progress(from_fn(move |e: &ProgressEvent<'_>| {
            *seen.lock().expect("lock") = Some((e.bytes, e.finished));
        }));
        let dest = dir.path(&format!("{item}.bin"));
        let got = download_asset(&client, item, ASSET, &dest, options)
            .await
            .expect("download");
        assert_eq!(got.bytes, len as u64, "{item}");
        assert_eq!(
            *last.lock().expect("lock"),
            Some((len as u64, true)),
            "{item}"
        );
        assert!(
            std::fs::read(&dest).expect("read back") == bytes(len, seed as u64),
            "{item}: same bytes"
        );
    }
    assert_eq!(
        dir.listing(),
        ["itm_edge.bin", "itm_empty.bin", "itm_partial.bin"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime() {
    every_byte_lands_in_order("buffers-mt").await;
}

#[tokio::test]
async fn on_a_current_thread_runtime() {
    every_byte_lands_in_order("buffers-ct").await;
}
