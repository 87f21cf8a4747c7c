//! Parallel ranged downloads, through the dev server and through a loopback storage server
//! that serves ranges of one object version and can cut one part's body off mid-way.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use geopera::RetryPolicy;
use geopera::models::Descriptor;
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use geopera_transfer::progress::from_fn;
use geopera_transfer::{DownloadOptions, ProgressEvent, download_asset, download_descriptor};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const PART: u64 = 64 * 1024;

fn parallel() -> DownloadOptions {
    DownloadOptions::default().part_size(PART).connections(4)
}

#[tokio::test]
async fn a_large_object_arrives_whole_in_ranged_parts_each_byte_sent_once() {
    let (server, client) = dev().await;
    let data = bytes(1024 * 1024 + 5, 21);
    server
        .state()
        .add_item("itm_p", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    let dir = Scratch::new("parallel-whole");
    let last = Arc::new(Mutex::new(None));
    let seen = last.clone();
    let options = parallel().progress(from_fn(move |e: &ProgressEvent<'_>| {
        *seen.lock().expect("lock") = Some((e.bytes, e.total, e.finished));
    }));
    let got = download_asset(&client, "itm_p", "visual", dir.path("v.tif"), options)
        .await
        .expect("download");
    let len = data.len() as u64;
    assert_eq!(
        (got.bytes, got.resumes, got.restarts, got.signatures),
        (len, 0, 0, 1)
    );
    assert!(std::fs::read(dir.path("v.tif")).expect("read") == data);
    assert_eq!(*last.lock().expect("lock"), Some((len, Some(len), true)));
    assert_eq!(dir.listing(), ["v.tif"]);
    // One GET per part (16 of 64 KiB and the last 5 bytes), no byte sent twice.
    let egress = server.state().wait_for_egress(17).await;
    assert_eq!(egress.len(), 17);
    assert!(egress.iter().all(|e| e.complete && e.bytes <= PART));
    assert_eq!(egress.iter().map(|e| e.bytes).sum::<u64>(), len);
}

#[tokio::test]
async fn objects_of_one_part_or_none_take_one_request() {
    let (server, client) = dev().await;
    let data = bytes(PART as usize, 22);
    let state = server.state();
    state
        .add_item("itm_s", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    state
        .add_item("itm_e", PROJECT, "visual", b"", "image/tiff")
        .expect("seed");
    let dir = Scratch::new("parallel-small");
    let got = download_asset(&client, "itm_s", "visual", dir.path("s.tif"), parallel())
        .await
        .expect("one part");
    assert_eq!(got.bytes, PART);
    assert!(std::fs::read(dir.path("s.tif")).expect("read") == data);
    assert_eq!(state.calls("storage.get"), 1);
    // An empty object cannot answer a range (416): it comes as a plain GET.
    let empty = download_asset(&client, "itm_e", "visual", dir.path("e.tif"), parallel())
        .await
        .expect("empty");
    assert_eq!(empty.bytes, 0);
    assert_eq!(std::fs::read(dir.path("e.tif")).expect("read"), b"");
    assert_eq!(dir.listing(), ["e.tif", "s.tif"]);
}

#[tokio::test]
async fn an_object_that_changes_mid_way_is_fetched_again_never_spliced() {
    let (server, client) = dev().await;
    let old = bytes(1024 * 1024, 23);
    let new = bytes(1024 * 1024, 24);
    let state = server.state();
    state
        .add_item("itm_c", PROJECT, "visual", &old, "image/tiff")
        .expect("seed");
    // Replaced as soon as the first bytes arrive, while most parts are still to come.
    let replaced = AtomicBool::new(false);
    let (writer, replacement) = (state.clone(), new.clone());
    let options = parallel()
        .connections(2)
        .progress(from_fn(move |_: &ProgressEvent<'_>| {
            if !replaced.swap(true, Ordering::SeqCst) {
                writer
                    .add_item("itm_c", PROJECT, "visual", &replacement, "image/tiff")
                    .expect("replace");
            }
        }));
    let dir = Scratch::new("parallel-changed");
    let got = download_asset(&client, "itm_c", "visual", dir.path("c.tif"), options)
        .await
        .expect("download");
    assert_eq!(got.restarts, 1);
    assert!(
        std::fs::read(dir.path("c.tif")).expect("read") == new,
        "the new version, whole"
    );
    assert_eq!(dir.listing(), ["c.tif"]);
}

#[tokio::test]
async fn a_part_that_fails_for_good_leaves_nothing_at_the_destination() {
    let (server, client) = dev().await;
    let data = bytes(1024 * 1024, 25);
    let state = server.state();
    state
        .add_item("itm_f", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    // Once the first part is under way, every later GET is refused for good.
    let injected = AtomicBool::new(false);
    let faults = state.clone();
    let options = parallel().progress(from_fn(move |_: &ProgressEvent<'_>| {
        if !injected.swap(true, Ordering::SeqCst) {
            faults.inject(
                FaultTarget::ObjectGet,
                Fault::new(
                    100,
                    FaultKind::Status {
                        status: 404,
                        retry_after: None,
                    },
                ),
            );
        }
    }));
    let dir = Scratch::new("parallel-fails");
    let e = download_asset(&client, "itm_f", "visual", dir.path("f.tif"), options)
        .await
        .expect_err("404 on a part");
    assert_eq!((e.operation(), e.status_code()), ("storage.get", Some(404)));
    assert_eq!(e.storage_code(), Some("NoSuchKey"), "{e}");
    assert!(e.bytes_done().is_some_and(|n| n < data.len() as u64), "{e}");
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

#[tokio::test]
async fn a_dropped_part_request_is_repeated() {
    let (server, client) = dev().await;
    let data = bytes(512 * 1024, 26);
    let state = server.state();
    state
        .add_item("itm_d", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    let injected = AtomicBool::new(false);
    let faults = state.clone();
    let options = parallel().progress(from_fn(move |_: &ProgressEvent<'_>| {
        if !injected.swap(true, Ordering::SeqCst) {
            faults.inject(
                FaultTarget::ObjectGet,
                Fault::new(2, FaultKind::DropConnection),
            );
        }
    }));
    let dir = Scratch::new("parallel-dropped");
    let got = download_asset(&client, "itm_d", "visual", dir.path("d.tif"), options)
        .await
        .expect("download");
    assert_eq!(got.restarts, 0);
    assert!(std::fs::read(dir.path("d.tif")).expect("read") == data);
    assert_eq!(state.pending_faults(&FaultTarget::ObjectGet), 0);
    // 8 parts, each byte once: the dropped requests were answered by no byte.
    let egress = state.wait_for_egress(8).await;
    assert_eq!(
        egress.iter().map(|e| e.bytes).sum::<u64>(),
        data.len() as u64
    );
}

/// A storage server for one object version: answers `Range` requests with 206 (200
/// without one), 412 when `If-Match` names another tag, and cuts off the first response
/// whose range starts at `cut.0` after `cut.1` body bytes. One request per connection.
struct Ranged {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn ranged(data: Vec<u8>, extra_headers: &str, cut: Option<(u64, usize)>) -> Ranged {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let seen = requests.clone();
    let data = Arc::new(data);
    let extra = extra_headers.to_owned();
    let cuts = Arc::new(Mutex::new(cut.into_iter().collect::<HashMap<u64, usize>>()));
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = tokio::select! {
                accepted = listener.accept() => accepted.expect("accept"),
                _ = &mut stopped => return,
            };
            let (seen, data, extra, cuts) =
                (seen.clone(), data.clone(), extra.clone(), cuts.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                seen.lock().expect("lock").push(head.clone());
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                };
                let len = data.len() as u64;
                if header("if-match:").is_some_and(|tag| tag != "\"v1\"") {
                    let _ = socket
                        .write_all(b"HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                    return;
                }
                let (status, start, end) = match header("range: bytes=") {
                    Some(range) => {
                        let (a, b) = range.split_once('-').expect("range");
                        let a: u64 = a.parse().expect("start");
                        let b: u64 = b.parse().map_or(len - 1, |b: u64| b.min(len - 1));
                        ("206 Partial Content", a, b)
                    }
                    None => ("200 OK", 0, len - 1),
                };
                let body = &data[start as usize..=end as usize];
                let range = if status.starts_with("206") {
                    format!("Content-Range: bytes {start}-{end}/{len}\r\n")
                } else {
                    String::new()
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{range}ETag: \"v1\"\r\n{extra}Connection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let send = cuts
                    .lock()
                    .expect("lock")
                    .remove(&start)
                    .unwrap_or(body.len());
                let _ = socket.write_all(&body[..send.min(body.len())]).await;
                let _ = socket.flush().await;
            });
        }
    });
    Ranged {
        url: format!("http://{addr}/storage/obj.tif?X-Goog-Signature=secret"),
        requests,
        _stop: stop,
    }
}

fn descriptor(url: &str) -> Descriptor {
    Descriptor::from(serde_json::json!({ "url": url }))
}

/// `x-goog-hash` with the CRC32C of `data` (and an md5 the download ignores).
fn goog_hash(crc: u32) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bits = u64::from(crc) << 4;
    let digits: String = (0..6)
        .rev()
        .map(|i| ALPHABET[((bits >> (6 * i)) & 63) as usize] as char)
        .collect();
    format!("x-goog-hash: crc32c={digits}==,md5=AAAAAAAAAAAAAAAAAAAAAA==\r\n")
}

#[tokio::test]
async fn a_part_cut_off_mid_way_resumes_from_its_last_byte_pinned_to_the_etag() {
    let data = bytes(300_000, 27);
    // The part at 131072 breaks off after 10,000 bytes.
    let server = ranged(data.clone(), "", Some((2 * PART, 10_000))).await;
    let client = offline_client(quick_retries());
    let dir = Scratch::new("parallel-resume");
    let got = download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("r.tif"),
        parallel(),
    )
    .await
    .expect("download");
    assert_eq!((got.bytes, got.resumes, got.restarts), (300_000, 1, 0));
    assert!(std::fs::read(dir.path("r.tif")).expect("read") == data);
    assert_eq!(got.crc32c, None, "storage stated no CRC32C");
    let requests = server.requests.lock().expect("lock").clone();
    let resumed = format!("range: bytes={}-{}\r\n", 2 * PART + 10_000, 3 * PART - 1);
    let resume = requests
        .iter()
        .find(|r| r.contains(&resumed))
        .unwrap_or_else(|| panic!("no resume request in {requests:?}"));
    assert!(resume.contains("if-match: \"v1\"\r\n"), "{resume}");
    // The probe, four more parts, and the one resume.
    assert_eq!(requests.len(), 6, "{requests:?}");
    assert_eq!(dir.listing(), ["r.tif"]);
}

#[tokio::test]
async fn the_parts_crc32c_is_checked_against_x_goog_hash() {
    let data = bytes(300_000, 28);
    let right = goog_hash(crc32c(&data));
    let server = ranged(data.clone(), &right, None).await;
    let client = offline_client(quick_retries());
    let dir = Scratch::new("parallel-crc");
    let got = download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("ok.tif"),
        parallel(),
    )
    .await
    .expect("a matching CRC32C");
    assert!(std::fs::read(dir.path("ok.tif")).expect("read") == data);
    assert_eq!(
        got.crc32c,
        Some(crc32c(&data)),
        "the parts' CRC32Cs combined"
    );

    let wrong = goog_hash(crc32c(&data) ^ 1);
    let server = ranged(data.clone(), &wrong, None).await;
    let e = download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("bad.tif"),
        parallel(),
    )
    .await
    .expect_err("a CRC32C mismatch");
    // The same error as the single stream's.
    match e {
        geopera::Error::Integrity {
            algorithm,
            expected,
            actual,
            bytes,
            ..
        } => assert_eq!(
            (algorithm, expected, actual, bytes),
            ("crc32c", crc32c(&data) ^ 1, crc32c(&data), 300_000)
        ),
        other => panic!("not an integrity error: {other:?}"),
    }
    assert_eq!(dir.listing(), ["ok.tif"]);
}

#[tokio::test]
async fn one_connection_takes_the_single_stream_with_no_range() {
    let data = bytes(300_000, 29);
    let server = ranged(data.clone(), "", None).await;
    let client = offline_client(RetryPolicy::disabled());
    let dir = Scratch::new("parallel-single");
    download_descriptor(
        &client,
        &descriptor(&server.url),
        dir.path("one.tif"),
        parallel().connections(1),
    )
    .await
    .expect("download");
    assert!(std::fs::read(dir.path("one.tif")).expect("read") == data);
    let requests = server.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].contains("range:"), "{}", requests[0]);
}

/// The CRC32C (Castagnoli) of `data`, bit by bit: an independent check of the crate's.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn a_403_on_a_part_signs_again_and_every_part_carries_on() {
    let (server, client) = dev().await;
    let data = bytes(1024 * 1024, 30);
    let state = server.state();
    state
        .add_item("itm_r", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    // Once the first part is under way, the next two GETs are refused as an expired URL
    // would be.
    let injected = AtomicBool::new(false);
    let faults = state.clone();
    let options = parallel().progress(from_fn(move |_: &ProgressEvent<'_>| {
        if !injected.swap(true, Ordering::SeqCst) {
            faults.inject(
                FaultTarget::ObjectGet,
                Fault::new(
                    2,
                    FaultKind::Status {
                        status: 403,
                        retry_after: None,
                    },
                ),
            );
        }
    }));
    let dir = Scratch::new("parallel-resign");
    let got = download_asset(&client, "itm_r", "visual", dir.path("r.tif"), options)
        .await
        .expect("download");
    assert!(std::fs::read(dir.path("r.tif")).expect("read") == data);
    // The probe's URL, then one or two more: a part refused with a URL another part had
    // already replaced uses the new one without signing again.
    assert!((2..=3).contains(&got.signatures), "{}", got.signatures);
    assert_eq!(
        state.calls("items.asset.download"),
        u64::from(got.signatures)
    );
    assert_eq!(got.restarts, 0);
}

#[tokio::test]
async fn a_descriptor_without_a_way_to_sign_again_fails_on_a_part_403() {
    let (server, client) = dev().await;
    let data = bytes(512 * 1024, 31);
    let state = server.state();
    state
        .add_item("itm_x", PROJECT, "visual", &data, "image/tiff")
        .expect("seed");
    let descriptor = client
        .items()
        .asset()
        .download(geopera::models::AssetDownloadInput::new("itm_x", "visual"))
        .await
        .expect("descriptor");
    let injected = AtomicBool::new(false);
    let faults = state.clone();
    let options = parallel().progress(from_fn(move |_: &ProgressEvent<'_>| {
        if !injected.swap(true, Ordering::SeqCst) {
            faults.inject(
                FaultTarget::ObjectGet,
                Fault::new(
                    100,
                    FaultKind::Status {
                        status: 403,
                        retry_after: None,
                    },
                ),
            );
        }
    }));
    let dir = Scratch::new("parallel-no-resign");
    let e = download_descriptor(&client, &descriptor, dir.path("x.tif"), options)
        .await
        .expect_err("403 is final without a way to sign again");
    assert_eq!(e.status_code(), Some(403));
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}
