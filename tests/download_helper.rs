//! The examples' streaming GET helper (`common::get_to_file`, recycled buffers to a writer
//! thread) on both runtime flavours: every byte lands in order, progress counts them, and a
//! rejected URL or a body that breaks off is an error that does not quote the signature.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use geopera::Geopera;
use geopera::dev_server::{DevServer, Fault, FaultKind, FaultTarget};
use geopera::models::AssetDownloadInput;

const PROJECT: &str = "prj_download";
const ITEM: &str = "itm_download";
const ASSET: &str = "data";
/// Several of the helper's ~1 MiB batches, the last one partial.
const LEN: u32 = 5_000_017;

fn content() -> Vec<u8> {
    (0..LEN)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

async fn signed_url(client: &Geopera) -> String {
    let descriptor = client
        .items()
        .asset()
        .download(AssetDownloadInput::new(ITEM, ASSET))
        .await
        .expect("items.asset.download");
    descriptor["url"].as_str().expect("a url").to_owned()
}

async fn downloads_every_byte_and_reports_failures(scratch_name: &str) {
    let server = DevServer::start().await.expect("dev server");
    server.state().add_project(PROJECT);
    let bytes = content();
    server
        .state()
        .add_item(ITEM, PROJECT, ASSET, &bytes, "application/octet-stream")
        .expect("item");
    let client = server.client_builder().build().expect("client");
    let http = client.client.http_client();
    let scratch = common::Scratch::new(scratch_name).expect("scratch dir");
    let path = scratch.path("out.bin");

    let progress = common::Progress::default();
    let written = common::get_to_file(http, &signed_url(&client).await, &path, &progress)
        .await
        .expect("download");
    assert_eq!(written, u64::from(LEN));
    assert_eq!(progress.bytes(), u64::from(LEN));
    assert!(
        std::fs::read(&path).expect("read back") == bytes,
        "same bytes"
    );

    // A rejected (say, expired) URL: a 403 the caller can re-sign on.
    server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(
            1,
            FaultKind::Status {
                status: 403,
                retry_after: None,
            },
        ),
    );
    let e = common::get_to_file(http, &signed_url(&client).await, &path, &progress)
        .await
        .expect_err("403");
    assert!(e.is_forbidden(), "{e}");
    assert!(!e.to_string().contains("Signature"), "{e}");

    // A body that breaks off: an error, not a short file reported as done.
    let url = support::dropping_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\npartial",
    )
    .await;
    let e = common::get_to_file(
        http,
        &format!("{url}/o?X-Geopera-Signature=s3cr3t"),
        &path,
        &progress,
    )
    .await
    .expect_err("a cut-off body");
    assert_eq!(e.status, None);
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime() {
    downloads_every_byte_and_reports_failures("download-mt").await;
}

#[tokio::test]
async fn on_a_current_thread_runtime() {
    downloads_every_byte_and_reports_failures("download-ct").await;
}
