//! The examples' streaming GET helper (`common::get_to_file`, recycled buffers to a writer
//! thread) on both runtime flavours: every byte lands in order whatever the size, progress
//! counts them, a disk that fails ends the download with an error instead of a hang, and a
//! rejected URL or a body that breaks off is an error that does not quote the signature.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::time::Duration;

use geopera::Geopera;
use geopera::models::AssetDownloadInput;
use geopera_dev_server::{DevServer, Fault, FaultKind, FaultTarget};

const PROJECT: &str = "prj_download";
const ASSET: &str = "data";
/// The helper's buffers are 1 MiB, four of them.
const MIB: u32 = 1 << 20;
/// Objects served, by item id: more buffers than there are (so they are recycled), the
/// last one partial; exactly five full buffers; nothing at all.
const OBJECTS: [(&str, u32); 3] = [
    ("itm_partial", 5 * MIB + 17),
    ("itm_edge", 5 * MIB),
    ("itm_empty", 0),
];
/// A disk that fails never makes the helper wait longer than this.
const NO_HANG: Duration = Duration::from_secs(30);

/// Bytes that never repeat at any offset a chunk or buffer size could hit.
fn content(len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

async fn signed_url(client: &Geopera, item: &str) -> String {
    let descriptor = client
        .items()
        .asset()
        .download(AssetDownloadInput::new(item, ASSET))
        .await
        .expect("items.asset.download");
    descriptor.url().expect("a signed URL").expose().to_owned()
}

async fn downloads_every_byte_and_reports_failures(scratch_name: &str) {
    let server = DevServer::start().await.expect("dev server");
    server.state().add_project(PROJECT);
    for (item, len) in OBJECTS {
        server
            .state()
            .add_item(
                item,
                PROJECT,
                ASSET,
                &content(len),
                "application/octet-stream",
            )
            .expect("item");
    }
    let client = server.client_builder().build().expect("client");
    let http = client.client.http_client();
    let scratch = common::Scratch::new(scratch_name).expect("scratch dir");
    let path = scratch.path("out.bin");

    for (item, len) in OBJECTS {
        let progress = common::Progress::default();
        let written = common::get_to_file(http, &signed_url(&client, item).await, &path, &progress)
            .await
            .expect("download");
        assert_eq!(written, u64::from(len), "{item}");
        assert_eq!(progress.bytes(), u64::from(len), "{item}");
        assert!(
            std::fs::read(&path).expect("read back") == content(len),
            "{item}: same bytes"
        );
    }

    // A disk that fails (/dev/full: every write is ENOSPC) while the body keeps coming: the
    // download ends with the disk's error, and nothing waits forever on the failed writer.
    let (item, _) = OBJECTS[0];
    let url = signed_url(&client, item).await;
    let progress = common::Progress::default();
    let failed = tokio::time::timeout(
        NO_HANG,
        common::get_to_file(http, &url, Path::new("/dev/full"), &progress),
    )
    .await
    .expect("the helper gave up instead of hanging")
    .expect_err("a full disk");
    assert_eq!(failed.status, None);
    assert!(!failed.to_string().contains("Signature"), "{failed}");

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
    let progress = common::Progress::default();
    let e = common::get_to_file(http, &signed_url(&client, item).await, &path, &progress)
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
