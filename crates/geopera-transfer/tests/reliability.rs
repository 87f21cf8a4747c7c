//! Integrity, stalled streams and expiring URLs, through the dev server's faults and a
//! scripted loopback server: every download's CRC32C is checked as it streams (resumed
//! ones included), uploads can declare theirs, a stalled attempt is abandoned and
//! retried, and a URL about to expire is signed again before a transfer starts with it.
//!
//! Most run on the single-stream path (`connections(1)`, see [`single`]); the stall and
//! early re-sign tests run on both paths ([`both_paths`]), and the rest of the parallel
//! path's tests are in `parallel.rs`.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use geopera::models::Descriptor;
use geopera_dev_server::{Fault, FaultKind, FaultTarget, SessionStatus};
use geopera_transfer::progress::from_fn;
use geopera_transfer::{
    DownloadOptions, ProgressEvent, StallProtection, UploadOptions, download_asset,
    download_descriptor, upload_file,
};
use support::*;

/// Options of one download over one connection: the single-stream path, whatever the
/// object's size.
fn single() -> DownloadOptions {
    DownloadOptions::default().connections(1)
}

/// Short enough for a test, long enough that a loaded machine moving bytes never trips it.
fn quick_stall() -> StallProtection {
    StallProtection::new(1, Duration::from_millis(300))
}

fn crc_b64(data: &[u8]) -> String {
    STANDARD.encode(crc32c::crc32c(data).to_be_bytes())
}

fn descriptor(url: &str) -> Descriptor {
    Descriptor::from(serde_json::json!({ "url": url }))
}

fn head(status: &str, extra: &str, len: usize) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: image/tiff{extra}")
}

#[tokio::test]
async fn a_download_whose_bytes_do_not_match_the_crc32c_fails_and_leaves_nothing() {
    let data = bytes(200_000, 21);
    let announced = format!("\r\nx-goog-hash: crc32c={},md5=AAAA", crc_b64(b"other"));
    let server = loopback(vec![Reply::Cut {
        head: head("200 OK", &announced, data.len()),
        body: data.clone(),
        send: usize::MAX,
    }])
    .await;
    let client = offline_client(quick_retries());
    let dir = Scratch::new("integrity-bad");
    let e = download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("v.tif"),
        single(),
    )
    .await
    .expect_err("a corrupted body");
    match &e {
        geopera::Error::Integrity {
            algorithm,
            expected,
            actual,
            bytes,
            ..
        } => {
            assert_eq!(*algorithm, "crc32c");
            assert_eq!(*expected, crc32c::crc32c(b"other"));
            assert_eq!(*actual, crc32c::crc32c(&data));
            assert_eq!(*bytes, 200_000);
        }
        other => panic!("not an integrity error: {other:?}"),
    }
    assert_eq!(e.operation(), "storage.get");
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("crc32c mismatch after 200000 bytes"),
        "{shown}"
    );
    assert!(!shown.contains("secret"), "{shown}");
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

/// The CRC32C goes on over a resume without reading the file again: a corrupted resumed
/// part is caught, and a clean one passes.
#[tokio::test]
async fn the_crc32c_continues_over_a_resumed_body() {
    let data = bytes(300_000, 22);
    let hash = format!("\r\nETag: \"v1\"\r\nx-goog-hash: crc32c={}", crc_b64(&data));
    let mut corrupted = data[120_000..].to_vec();
    corrupted[1000] ^= 0x55;
    let range = |extra: &str| {
        head(
            "206 Partial Content",
            &format!("\r\nContent-Range: bytes 120000-299999/300000{extra}"),
            180_000,
        )
    };
    for (rest, ok) in [(corrupted, false), (data[120_000..].to_vec(), true)] {
        let server = loopback(vec![
            Reply::Cut {
                head: head("200 OK", &hash, data.len()),
                body: data.clone(),
                send: 120_000,
            },
            Reply::Cut {
                head: range(&hash),
                body: rest,
                send: usize::MAX,
            },
        ])
        .await;
        let client = offline_client(quick_retries());
        let dir = Scratch::new(if ok {
            "integrity-resume-ok"
        } else {
            "integrity-resume-bad"
        });
        let got = download_descriptor(
            &client,
            &descriptor(&server.url),
            dir.path("v.tif"),
            single(),
        )
        .await;
        if ok {
            let got = got.expect("a clean resume");
            assert_eq!((got.bytes, got.resumes), (300_000, 1));
            assert!(std::fs::read(dir.path("v.tif")).expect("read") == data);
        } else {
            let e = got.expect_err("a corrupted resumed part");
            assert!(matches!(e, geopera::Error::Integrity { .. }), "{e:?}");
            assert!(dir.listing().is_empty(), "{:?}", dir.listing());
        }
    }
}

#[tokio::test]
async fn a_download_broken_off_by_the_dev_server_resumes_and_its_crc32c_holds() {
    let (server, client) = dev().await;
    let data = bytes(3 * 1024 * 1024 + 3, 23);
    server
        .state()
        .add_item("itm_1", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::DropAfterBytes(1_000_000)),
    );
    let dir = Scratch::new("integrity-dev-resume");
    let got = download_asset(&client, "itm_1", "visual", dir.path("v.tif"), single())
        .await
        .expect("download");
    assert_eq!((got.resumes, got.restarts), (1, 0));
    assert!(std::fs::read(dir.path("v.tif")).expect("read") == data);
}

/// Both download paths: one stream, and parts of 1 MiB over four connections (each part
/// with its own watchdog and its own resumes). The dev server's body faults strike only
/// with more of the body to come (it reads objects in 512 KiB chunks), so a part holds
/// two chunks.
fn both_paths() -> [(&'static str, DownloadOptions); 2] {
    [
        ("single stream", DownloadOptions::default().connections(1)),
        (
            "parallel parts",
            DownloadOptions::default()
                .part_size(1024 * 1024)
                .connections(4),
        ),
    ]
}

#[tokio::test]
async fn a_stalled_download_is_abandoned_and_resumed() {
    for (path, options) in both_paths() {
        let (server, client) = dev().await;
        let data = bytes(3 * 1024 * 1024, 24);
        server
            .state()
            .add_item("itm_1", PROJECT, "visual", &data, "image/tiff")
            .expect("seed");
        // Within the first request's body on either path.
        server.state().inject(
            FaultTarget::ObjectGet,
            Fault::new(1, FaultKind::StallAfterBytes(100_000)),
        );
        let dir = Scratch::new("stall-download");
        let download = download_asset(
            &client,
            "itm_1",
            "visual",
            dir.path("v.tif"),
            options.stall_protection(quick_stall()),
        );
        // Bounds the check only: an unwatched stall would hold the download forever.
        let got = tokio::time::timeout(Duration::from_secs(60), download)
            .await
            .unwrap_or_else(|_| panic!("{path}: nothing abandoned the stalled attempt"))
            .expect("download");
        assert_eq!((got.resumes, got.restarts), (1, 0), "{path}: {got:?}");
        assert!(
            std::fs::read(dir.path("v.tif")).expect("read") == data,
            "{path}"
        );
    }
}

/// `Download::crc32c` is the object's, on both paths (the parallel one combines its
/// parts'), resumed or not.
#[tokio::test]
async fn a_download_reports_the_objects_crc32c() {
    for (path, options) in both_paths() {
        let (server, client) = dev().await;
        let data = bytes(3 * 1024 * 1024 + 11, 33);
        server
            .state()
            .add_item("itm_1", PROJECT, "visual", &data, "image/tiff")
            .expect("seed");
        for fault in [None, Some(FaultKind::DropAfterBytes(500_000))] {
            if let Some(kind) = fault.clone() {
                server
                    .state()
                    .inject(FaultTarget::ObjectGet, Fault::new(1, kind));
            }
            let dir = Scratch::new("crc-reported");
            let got = download_asset(
                &client,
                "itm_1",
                "visual",
                dir.path("v.tif"),
                options.clone(),
            )
            .await
            .expect("download");
            assert_eq!(got.resumes, u32::from(fault.is_some()), "{path}");
            assert_eq!(got.crc32c, Some(crc32c::crc32c(&data)), "{path}, {fault:?}");
        }
    }
}

#[tokio::test]
async fn a_stalled_download_with_protection_disabled_keeps_waiting() {
    let (server, client) = dev().await;
    server
        .state()
        .add_item(
            "itm_1",
            PROJECT,
            "visual",
            &bytes(1_000_000, 25),
            "image/tiff",
        )
        .expect("seed");
    server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::StallAfterBytes(100_000)),
    );
    let dir = Scratch::new("stall-disabled");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let options = single()
        .stall_protection(StallProtection::disabled())
        .progress(from_fn(move |e: &ProgressEvent<'_>| {
            if e.bytes > 0
                && let Some(tx) = tx.lock().expect("lock").take()
            {
                let _ = tx.send(());
            }
        }));
    let download = download_asset(&client, "itm_1", "visual", dir.path("v.tif"), options);
    tokio::pin!(download);
    tokio::select! {
        r = &mut download => panic!("the download ended: {r:?}"),
        _ = rx => {}
    }
    // Bounds the check only: well past the grace the protected test uses, still waiting.
    let waited = tokio::time::timeout(Duration::from_millis(1_200), &mut download).await;
    assert!(
        waited.is_err(),
        "nothing abandoned the stalled attempt: {waited:?}"
    );
    assert_eq!(server.state().calls("storage.get"), 1);
}

#[tokio::test]
async fn a_stalled_put_is_abandoned_and_sent_again() {
    let (server, client) = dev().await;
    let dir = Scratch::new("stall-upload");
    let data = bytes(400_000, 26);
    let path = dir.path("a.tif");
    write(&path, &data);
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::StallAfterBytes(100_000)),
    );
    let result = upload_file(
        &client,
        PROJECT,
        &path,
        UploadOptions::default().stall_protection(quick_stall()),
    )
    .await
    .expect("upload");
    let session = server.state().session(&result.upload_id).expect("session");
    assert_eq!(session.status, SessionStatus::Completed);
    assert_eq!(session.files[0].uploaded_bytes, Some(400_000));
    assert_eq!(
        server.state().calls("storage.put"),
        1,
        "the faulted PUT is not counted"
    );
}

/// With `checksum(true)` the PUT declares the CRC32C of the file as it was before the
/// PUT: a file changed while it is sent is refused by storage (400 `BadDigest`) and the
/// session fails; without it the changed bytes are stored.
#[tokio::test]
async fn a_declared_crc32c_makes_storage_refuse_a_file_changed_in_flight() {
    for checksum in [true, false] {
        let (server, client) = dev().await;
        let dir = Scratch::new(if checksum {
            "checksum-on"
        } else {
            "checksum-off"
        });
        let data = bytes(4 * 1024 * 1024, 27);
        let path = dir.path("a.tif");
        write(&path, &data);
        let target = path.clone();
        let changed = Mutex::new(false);
        let options = UploadOptions::default()
            .checksum(checksum)
            .progress(from_fn(move |e: &ProgressEvent<'_>| {
                let mut changed = changed.lock().expect("lock");
                if e.bytes > 0 && !e.finished && !*changed {
                    // The first report comes with the first chunk: the tail is not read yet.
                    use std::io::{Seek, SeekFrom, Write};
                    let mut file = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&target)
                        .expect("open");
                    file.seek(SeekFrom::End(-10)).expect("seek");
                    file.write_all(b"0123456789").expect("write");
                    *changed = true;
                }
            }));
        let result = upload_file(&client, PROJECT, &path, options).await;
        if checksum {
            let e = result.expect_err("storage refuses the changed body");
            assert_eq!(e.status_code(), Some(400), "{e}");
            assert!(matches!(e, geopera::Error::Storage { .. }), "{e:?}");
            assert_eq!(e.storage_code(), Some("BadDigest"), "{e}");
            // Storage reads the whole body before it checks the digest.
            assert_eq!(e.bytes_done(), Some(data.len() as u64), "{e}");
            assert!(e.to_string().contains("BadDigest"), "{e}");
            let session = &server.state().sessions()[0];
            assert_eq!(session.status, SessionStatus::Failed);
            assert_eq!(session.files[0].uploaded_bytes, None);
            assert_eq!(server.state().reserved_bytes(), 0);
        } else {
            let result = result.expect("nothing checks the bytes");
            let session = server.state().session(&result.upload_id).expect("session");
            assert_eq!(session.status, SessionStatus::Completed);
        }
    }
}

#[tokio::test]
async fn an_upload_with_its_crc32c_declared_is_stored() {
    let (server, client) = dev().await;
    let dir = Scratch::new("checksum-clean");
    let data = bytes(1_000_003, 28);
    let path = dir.path("a.tif");
    write(&path, &data);
    let result = upload_file(
        &client,
        PROJECT,
        &path,
        UploadOptions::default().checksum(true),
    )
    .await
    .expect("upload");
    let session = server.state().session(&result.upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, Some(1_000_003));
}

/// A resumed GET whose URL is within the margin of its expiry resolves the descriptor
/// again first: with a margin longer than the URLs' lifetime, the resume after a broken
/// body uses a second URL though storage never refused the first. On the parallel path
/// the broken part signs again for every part, once.
#[tokio::test]
async fn a_resume_with_a_url_about_to_expire_signs_again_first() {
    for (path, options) in both_paths() {
        let (server, client) = dev().await;
        let data = bytes(3 * 1024 * 1024, 29);
        server
            .state()
            .add_item("itm_1", PROJECT, "visual", &data, "image/tiff")
            .expect("seed");
        for (margin, signatures) in [
            (Duration::from_secs(3_600), 2),
            (Duration::from_secs(60), 1),
        ] {
            server.state().inject(
                FaultTarget::ObjectGet,
                Fault::new(1, FaultKind::DropAfterBytes(500_000)),
            );
            let before = server.state().calls("items.asset.download");
            let dir = Scratch::new("expiry-download");
            let got = download_asset(
                &client,
                "itm_1",
                "visual",
                dir.path("v.tif"),
                options.clone().resign_margin(margin),
            )
            .await
            .expect("download");
            assert_eq!(
                (got.resumes, got.signatures),
                (1, signatures),
                "{path}, {margin:?}"
            );
            assert_eq!(
                server.state().calls("items.asset.download") - before,
                u64::from(signatures),
                "{path}, {margin:?}"
            );
            assert!(
                std::fs::read(dir.path("v.tif")).expect("read") == data,
                "{path}"
            );
        }
    }
}

/// A part that was just signed again after a 403 starts its next request with the new
/// URL: it is not signed a third time for being within the margin (here longer than
/// any URL's lifetime), as the single stream spends one signature on a 403 too.
#[tokio::test]
async fn a_part_signed_again_after_a_403_is_not_signed_again_ahead_of_expiry() {
    for (path, options) in both_paths() {
        let (server, client) = dev().await;
        let data = bytes(3 * 1024 * 1024, 34);
        server
            .state()
            .add_item("itm_1", PROJECT, "visual", &data, "image/tiff")
            .expect("seed");
        // The first GET breaks off after 500,000 bytes; the second (another part, or the
        // single stream's resume) is refused. Which part gets the 403 varies: the count
        // below holds either way.
        server.state().inject(
            FaultTarget::ObjectGet,
            Fault::new(1, FaultKind::DropAfterBytes(500_000)),
        );
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
        let dir = Scratch::new("resign-after-403");
        let got = download_asset(
            &client,
            "itm_1",
            "visual",
            dir.path("v.tif"),
            options
                .resign_margin(Duration::from_secs(3_600))
                .max_signatures(10),
        )
        .await
        .expect("download");
        // One signature ahead of the resume's expiry, one after the 403, none more.
        assert_eq!(got.signatures, 3, "{path}: {got:?}");
        assert!(
            std::fs::read(dir.path("v.tif")).expect("read") == data,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_repeated_put_with_a_url_about_to_expire_signs_again_first() {
    let (server, client) = dev().await;
    let dir = Scratch::new("expiry-upload");
    let path = dir.path("a.tif");
    write(&path, &bytes(300_000, 30));
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::DropAfterBytes(100_000)),
    );
    let result = upload_file(
        &client,
        PROJECT,
        &path,
        UploadOptions::default().resign_margin(Duration::from_secs(3_600)),
    )
    .await
    .expect("upload");
    assert_eq!(result.files[0].signatures, 2);
    assert_eq!(server.state().calls("uploads.signed_url"), 2);
}

/// The dev server's URLs are in GCS's V4 format now; the SDK's redaction drops their
/// whole query, so neither the signature nor the credential shows, while the URL still
/// works for the transfer.
#[tokio::test]
async fn gcs_style_urls_print_without_their_query_and_still_work() {
    let (server, client) = dev().await;
    server
        .state()
        .add_item("itm_1", PROJECT, "visual", b"abc", "image/tiff")
        .expect("seed");
    let descriptor = client
        .items()
        .asset()
        .download(geopera::models::AssetDownloadInput::new("itm_1", "visual"))
        .await
        .expect("descriptor");
    let url = descriptor.url().expect("a signed URL");
    assert!(
        url.expose().contains("X-Goog-Signature="),
        "{}",
        url.redacted()
    );
    let shown = format!("{url} {url:?} {descriptor} {descriptor:?}");
    for secret in ["X-Goog-Signature", "X-Goog-Credential", "GOOG4"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains("/storage/items/itm_1/visual?<redacted>"),
        "{shown}"
    );
    let dir = Scratch::new("gcs-url");
    let got = download_descriptor(&client, &descriptor, dir.path("v.tif"), single())
        .await
        .expect("download");
    assert_eq!(got.bytes, 3);
}

/// An object replaced while its download is broken off is never spliced: the resume is
/// pinned to the first ETag, storage answers 412, and the download starts again on the
/// new object (whose CRC32C then holds).
#[tokio::test]
async fn an_object_replaced_between_a_break_and_its_resume_is_downloaded_again_whole() {
    let (server, client) = dev().await;
    let old = bytes(2 * 1024 * 1024, 31);
    let new = bytes(1024 * 1024 + 7, 32);
    server
        .state()
        .add_item("itm_1", PROJECT, "visual", &old, "image/tiff")
        .expect("seed");
    server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::DropAfterBytes(600_000)),
    );
    let state = server.state().clone();
    let replacement = new.clone();
    let replaced = Mutex::new(false);
    let options = single().progress(from_fn(move |e: &ProgressEvent<'_>| {
        let mut replaced = replaced.lock().expect("lock");
        if e.bytes > 0 && !*replaced {
            state
                .add_item("itm_1", PROJECT, "visual", &replacement, "image/tiff")
                .expect("replace");
            *replaced = true;
        }
    }));
    let dir = Scratch::new("replaced");
    let got = download_asset(&client, "itm_1", "visual", dir.path("v.tif"), options)
        .await
        .expect("download");
    assert_eq!((got.restarts, got.bytes), (1, new.len() as u64));
    assert!(std::fs::read(dir.path("v.tif")).expect("read") == new);
}
