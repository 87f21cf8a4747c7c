//! Downloads through the dev server and a loopback storage server that breaks bodies off:
//! the destination holds the whole object or nothing, and broken bodies resume.

mod support;

use std::sync::Mutex;

use geopera::RetryPolicy;
use geopera::models::Descriptor;
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use geopera_transfer::progress::from_fn;
use geopera_transfer::{
    DownloadOptions, ProgressEvent, download_asset, download_clip, download_descriptor,
};
use support::*;

#[tokio::test]
async fn an_asset_and_a_clip_arrive_whole_and_the_last_report_has_every_byte() {
    let (server, client) = dev().await;
    let data = bytes(2 * 1024 * 1024 + 5, 7);
    server
        .state()
        .add_item("itm_1", PROJECT, "visual", &data, "image/tiff")
        .expect("seed item");
    server
        .state()
        .add_clip_job(
            "clip_1",
            &[("visual", "visual.tif", &data[..1000], "image/tiff")],
        )
        .expect("seed clip");
    let dir = Scratch::new("download-whole");

    let last = std::sync::Arc::new(Mutex::new(None));
    let seen = last.clone();
    let options = DownloadOptions::default().progress(from_fn(move |e: &ProgressEvent<'_>| {
        *seen.lock().expect("lock") = Some((e.bytes, e.total, e.finished));
    }));
    let got = download_asset(&client, "itm_1", "visual", dir.path("v.tif"), options)
        .await
        .expect("download");
    let len = data.len() as u64;
    assert_eq!(*last.lock().expect("lock"), Some((len, Some(len), true)));
    assert_eq!(
        (got.bytes, got.resumes, got.restarts, got.signatures),
        (len, 0, 0, 1)
    );
    assert_eq!(std::fs::read(dir.path("v.tif")).expect("read"), data);

    let clip = download_clip(
        &client,
        "clip_1",
        "visual",
        dir.path("c.tif"),
        DownloadOptions::default(),
    )
    .await
    .expect("clip");
    assert_eq!(clip.bytes, 1000);
    assert_eq!(
        std::fs::read(dir.path("c.tif")).expect("read"),
        &data[..1000]
    );
    assert_eq!(dir.listing(), ["c.tif", "v.tif"]);
}

#[tokio::test]
async fn an_existing_destination_is_replaced_only_when_asked() {
    let (server, client) = dev().await;
    server
        .state()
        .add_item("itm_1", PROJECT, "visual", b"new bytes", "image/tiff")
        .expect("seed");
    let dir = Scratch::new("download-overwrite");
    let dest = dir.path("v.tif");
    write(&dest, b"precious");
    let e = download_asset(
        &client,
        "itm_1",
        "visual",
        &dest,
        DownloadOptions::default(),
    )
    .await
    .expect_err("exists");
    assert!(matches!(e, geopera::Error::Io { .. }), "{e:?}");
    assert_eq!(std::fs::read(&dest).expect("read"), b"precious");
    assert_eq!(server.state().calls("items.asset.download"), 0);

    download_asset(
        &client,
        "itm_1",
        "visual",
        &dest,
        DownloadOptions::default().overwrite(true),
    )
    .await
    .expect("overwrite");
    assert_eq!(std::fs::read(&dest).expect("read"), b"new bytes");
    assert_eq!(dir.listing(), ["v.tif"]);
}

#[tokio::test]
async fn a_403_resolves_the_descriptor_again_and_a_503_is_repeated() {
    let (server, client) = dev().await;
    let data = bytes(50_000, 8);
    server
        .state()
        .add_item("itm_1", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
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
    server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(
            1,
            FaultKind::Status {
                status: 503,
                retry_after: None,
            },
        ),
    );
    let dir = Scratch::new("download-resign");
    let got = download_asset(
        &client,
        "itm_1",
        "visual",
        dir.path("v.tif"),
        DownloadOptions::default(),
    )
    .await
    .expect("download");
    assert_eq!(got.signatures, 2);
    assert_eq!(server.state().calls("items.asset.download"), 2);
    assert_eq!(std::fs::read(dir.path("v.tif")).expect("read"), data);
}

#[tokio::test]
async fn a_failed_download_leaves_nothing_and_names_storage_without_the_signature() {
    let (server, client) = dev().await;
    server
        .state()
        .add_item("itm_1", PROJECT, "visual", b"abc", "image/tiff")
        .expect("seed");
    server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(
            1,
            FaultKind::Status {
                status: 404,
                retry_after: None,
            },
        ),
    );
    let dir = Scratch::new("download-fail");
    let e = download_asset(
        &client,
        "itm_1",
        "visual",
        dir.path("v.tif"),
        DownloadOptions::default(),
    )
    .await
    .expect_err("404");
    assert_eq!((e.operation(), e.status_code()), ("storage.get", Some(404)));
    assert!(!format!("{e} {e:?}").contains("Signature="), "{e}");
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

fn head_200(len: usize, etag: Option<&str>) -> String {
    let etag = etag.map(|t| format!("\r\nETag: {t}")).unwrap_or_default();
    format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nContent-Type: image/tiff{etag}")
}

fn head_206(from: usize, len: usize) -> String {
    format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{len}",
        len - from,
        len - 1
    )
}

fn descriptor(url: &str) -> Descriptor {
    Descriptor::from(serde_json::json!({ "url": url }))
}

#[tokio::test]
async fn a_body_that_breaks_off_resumes_from_the_last_byte_pinned_to_the_etag() {
    let data = bytes(300_000, 11);
    let mut server = loopback(vec![
        Reply::Cut {
            head: head_200(data.len(), Some("\"v1\"")),
            body: data.clone(),
            send: 120_000,
        },
        Reply::Cut {
            head: head_206(120_000, data.len()),
            body: data[120_000..].to_vec(),
            send: usize::MAX,
        },
    ])
    .await;
    let client = offline_client(quick_retries());
    let dir = Scratch::new("download-resume");
    // One connection: the single stream, whose first request asks for no range.
    let got = download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("v.tif"),
        DownloadOptions::default().connections(1),
    )
    .await
    .expect("download");
    assert_eq!((got.bytes, got.resumes, got.restarts), (300_000, 1, 0));
    assert_eq!(std::fs::read(dir.path("v.tif")).expect("read"), data);
    let first = server
        .requests
        .recv()
        .await
        .expect("first request")
        .to_ascii_lowercase();
    assert!(!first.contains("range:"), "{first}");
    let second = server
        .requests
        .recv()
        .await
        .expect("second request")
        .to_ascii_lowercase();
    assert!(second.contains("range: bytes=120000-\r\n"), "{second}");
    assert!(second.contains("if-match: \"v1\"\r\n"), "{second}");
    assert_eq!(dir.listing(), ["v.tif"]);
}

/// A download broken off and then refused on its resume fails with storage's status,
/// code and message and the bytes it had written; the URL's signature, which storage
/// echoed back, is in none of it.
#[tokio::test]
async fn a_refused_resume_reports_storages_code_and_the_bytes_done() {
    let data = bytes(50_000, 14);
    let refusal = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>\
        <Message>Access denied for signature secret.</Message>\
        <Details>X-Goog-Signature=secret</Details></Error>";
    let server = loopback(vec![
        Reply::Cut {
            head: head_200(data.len(), Some("\"v1\"")),
            body: data.clone(),
            send: 12_345,
        },
        Reply::Cut {
            head: format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close",
                refusal.len()
            ),
            body: refusal.as_bytes().to_vec(),
            send: usize::MAX,
        },
    ])
    .await;
    let client = offline_client(quick_retries());
    let dir = Scratch::new("download-refused");
    let e = download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("v.tif"),
        DownloadOptions::default().connections(1),
    )
    .await
    .expect_err("a 403 without a way to sign again is final");
    assert!(matches!(e, geopera::Error::Storage { .. }), "{e:?}");
    assert_eq!((e.operation(), e.status_code()), ("storage.get", Some(403)));
    assert_eq!(e.storage_code(), Some("AccessDenied"));
    assert_eq!(e.bytes_done(), Some(12_345));
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("AccessDenied: Access denied for signature"),
        "{shown}"
    );
    assert!(shown.contains("after 12345 bytes"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(!format!("{:?}", e.body()).contains("secret"));
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

#[tokio::test]
async fn a_server_that_ignores_the_range_makes_the_download_start_again() {
    let data = bytes(200_000, 12);
    let mut server = loopback(vec![
        Reply::Cut {
            head: head_200(data.len(), None),
            body: data.clone(),
            send: 50_000,
        },
        Reply::Cut {
            head: head_200(data.len(), None),
            body: data.clone(),
            send: usize::MAX,
        },
    ])
    .await;
    let client = offline_client(quick_retries());
    let dir = Scratch::new("download-restart");
    let got = download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("v.tif"),
        DownloadOptions::default(),
    )
    .await
    .expect("download");
    assert_eq!((got.bytes, got.resumes, got.restarts), (200_000, 0, 1));
    assert_eq!(std::fs::read(dir.path("v.tif")).expect("read"), data);
    let _ = server.requests.recv().await;
    let second = server
        .requests
        .recv()
        .await
        .expect("second")
        .to_ascii_lowercase();
    assert!(second.contains("range: bytes=50000-"), "{second}");
    assert!(!second.contains("if-match"), "no ETag was sent: {second}");
}

#[tokio::test]
async fn a_body_that_keeps_breaking_off_fails_and_leaves_nothing() {
    let data = bytes(100_000, 13);
    let server = loopback(vec![
        Reply::Cut {
            head: head_200(data.len(), None),
            body: data.clone(),
            send: 10_000,
        },
        Reply::Cut {
            head: head_206(10_000, data.len()),
            body: data[10_000..].to_vec(),
            send: 100,
        },
    ])
    .await;
    let client = offline_client(RetryPolicy::disabled());
    let dir = Scratch::new("download-broken");
    let dest = dir.path("v.tif");
    let e = download_descriptor(
        &client,
        &descriptor(&server.url),
        &dest,
        DownloadOptions::default(),
    )
    .await
    .expect_err("broken off with retries disabled");
    assert_eq!(e.operation(), "storage.get");
    assert!(matches!(e, geopera::Error::Transport { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("secret"), "{e}");
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

#[tokio::test]
async fn a_cancelled_download_leaves_nothing() {
    let data = bytes(400_000, 14);
    let server = loopback(vec![Reply::Hang {
        head: head_200(data.len(), None),
        body: data.clone(),
        send: 200_000,
    }])
    .await;
    let client = offline_client(quick_retries());
    let dir = Scratch::new("download-cancel");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let options = DownloadOptions::default().progress(from_fn(move |e: &ProgressEvent<'_>| {
        if e.bytes > 0
            && let Some(tx) = tx.lock().expect("lock").take()
        {
            let _ = tx.send(());
        }
    }));
    let descriptor = descriptor(&server.url);
    tokio::select! {
        r = download_descriptor(&client, &descriptor, dir.path("v.tif"), options) => {
            panic!("the download ended: {r:?}")
        }
        _ = rx => {}
    }
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

#[tokio::test]
async fn a_download_cancelled_by_its_token_mid_get_leaves_nothing() {
    let (server, client) = dev().await;
    let data = bytes(400_000, 15);
    server
        .state()
        .add_item("itm_cancel", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    // The GET sends a quarter of the object, then holds the connection open.
    server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::StallAfterBytes(100_000)),
    );
    let dir = Scratch::new("download-cancel-token");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let tx = Mutex::new(Some(tx));
    let options = DownloadOptions::default()
        .progress(from_fn(move |e: &ProgressEvent<'_>| {
            if e.bytes > 0
                && let Some(tx) = tx.lock().expect("lock").take()
            {
                let _ = tx.send(());
            }
        }))
        .cancel_on(async {
            let _ = rx.await;
        });
    let e = download_asset(&client, "itm_cancel", "visual", dir.path("v.tif"), options)
        .await
        .expect_err("cancelled");
    assert!(
        matches!(&e, geopera::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::Interrupted),
        "{e:?}"
    );
    assert_eq!(e.operation(), "storage.get");
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}
