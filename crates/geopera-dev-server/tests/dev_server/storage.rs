//! Signed-URL object storage: signatures, expiry, methods, content types, atomic PUTs,
//! size limits and byte ranges.

use crate::common::raw::{self, RawConn};
use crate::common::{Harness, Reply, pattern, send};
use geopera_dev_server::DevConfig;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Asserts an object-storage XML error and returns its `<Code>`.
fn storage_error(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.content_type(), "application/xml");
    assert!(reply.text.contains("<Error><Code>"), "{}", reply.text);
    assert!(
        !reply.text.contains("X-Goog-Signature"),
        "errors must not echo the query"
    );
    let start = reply.text.find("<Code>").map_or(0, |i| i + 6);
    let end = reply.text.find("</Code>").unwrap_or(start);
    reply.text[start..end].to_owned()
}

async fn signed_upload(h: &Harness, total: u64) -> (String, String) {
    h.demo();
    let upload_id = h.initiate(1, total).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    (upload_id, url)
}

#[tokio::test]
async fn expired_urls_get_403_expired_token() {
    let h = Harness::with(DevConfig::default().url_ttl(Duration::ZERO)).await;
    let (_, url) = signed_upload(&h, 10).await;
    let reply = h.put(&url, "image/tiff", b"x".to_vec()).await;
    assert_eq!(storage_error(&reply, 403), "ExpiredToken");
    assert!(reply.text.contains("Request has expired"));

    let descriptor = h.asset_descriptor("itm_demo", "visual").await;
    let reply = send(h.http.get(descriptor["url"].as_str().unwrap_or_default())).await;
    assert_eq!(storage_error(&reply, 403), "ExpiredToken");
    assert!(h.server.state().egress().is_empty());
}

/// A TTL too long for any clock: URLs are signed for the longest validity GCS allows
/// (`X-Goog-Expires=604800`, seven days) instead of overflowing, and they work.
#[tokio::test]
async fn an_absurd_url_ttl_signs_working_urls_with_a_valid_expiry() {
    let h = Harness::with(DevConfig::default().url_ttl(Duration::MAX)).await;
    h.demo();
    let upload_id = h.initiate(1, 3).await;
    let signed = h
        .op(
            "uploads.signed_url",
            json!({"upload_id": upload_id, "file_name": "a.tif", "content_type": "image/tiff"}),
        )
        .await
        .json();
    let url = signed["upload_url"].as_str().unwrap_or_default();
    // The answer is the SDK's SignedUrlOutput, without an expiry.
    assert!(url.contains("&X-Goog-Expires=604800&"), "{url}");
    assert_eq!(h.put(url, "image/tiff", b"abc".to_vec()).await.status, 200);

    let descriptor = h.asset_descriptor("itm_demo", "visual").await;
    let expires_at = descriptor["expires_at"].as_str().unwrap_or_default();
    assert!(
        expires_at.len() == 20 && expires_at.starts_with("20"),
        "seven days from now: {expires_at}"
    );
    let download = h.get(descriptor["url"].as_str().unwrap_or_default()).await;
    assert_eq!(download.status(), 200);
}

#[tokio::test]
async fn tampered_urls_get_signature_does_not_match() {
    let h = Harness::start().await;
    let (upload_id, url) = signed_upload(&h, 10).await;
    let last = url.chars().last().unwrap_or('0');
    let flipped = format!(
        "{}{}",
        &url[..url.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let later = url.replace("&X-Goog-Expires=900&", "&X-Goog-Expires=901&");
    let regranted = url.replace("x-geopera-grant=up_", "x-geopera-grant=up_0");
    let elsewhere = url.replace("/a.tif?", "/b.tif?");
    let other_host = url.replace("://127.0.0.1:", "://localhost:");
    assert_ne!(later, url);
    assert_ne!(other_host, url);
    for (what, bad) in [
        ("signature", flipped),
        ("expiry", later),
        ("grant", regranted),
        ("path", elsewhere),
        ("host", other_host),
    ] {
        let reply = h.put(&bad, "image/tiff", b"x".to_vec()).await;
        assert_eq!(
            storage_error(&reply, 403),
            "SignatureDoesNotMatch",
            "{what}"
        );
    }
    let unsigned = url.split('?').next().unwrap_or_default().to_owned();
    let reply = h.put(&unsigned, "image/tiff", b"x".to_vec()).await;
    assert_eq!(storage_error(&reply, 403), "AccessDenied");
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, None, "nothing was stored");
}

#[tokio::test]
async fn urls_only_work_with_the_signed_method() {
    let h = Harness::start().await;
    let (_, upload_url) = signed_upload(&h, 10).await;
    let reply = send(h.http.get(&upload_url)).await;
    assert_eq!(storage_error(&reply, 403), "AccessDenied");
    assert!(reply.text.contains("signed for PUT"));

    let descriptor = h.asset_descriptor("itm_demo", "visual").await;
    let download_url = descriptor["url"].as_str().unwrap_or_default();
    let reply = h
        .put(download_url, "image/tiff", b"overwrite".to_vec())
        .await;
    assert_eq!(storage_error(&reply, 403), "AccessDenied");
    // The demo asset is untouched.
    assert_eq!(
        h.get(download_url)
            .await
            .bytes()
            .await
            .map(|b| b.len())
            .unwrap_or(0) as u64,
        descriptor["size"].as_u64().unwrap_or(0)
    );
}

#[tokio::test]
async fn puts_must_carry_the_signed_content_type() {
    let h = Harness::start().await;
    let (_, url) = signed_upload(&h, 10).await;
    let wrong = h.put(&url, "application/octet-stream", b"x".to_vec()).await;
    assert_eq!(storage_error(&wrong, 403), "SignatureDoesNotMatch");
    assert!(wrong.text.contains("Content-Type"));
    let missing = send(h.http.put(&url).body(b"x".to_vec())).await;
    assert_eq!(storage_error(&missing, 403), "SignatureDoesNotMatch");
    let same_but_cased = h.put(&url, "Image/TIFF", b"x".to_vec()).await;
    assert_eq!(same_but_cased.status, 200);
}

#[tokio::test]
async fn streaming_re_put_is_atomic_and_an_aborted_put_leaves_the_old_object() {
    let h = Harness::start().await;
    h.demo();
    let old = pattern(50_000, 1);
    let new = pattern(80_000, 2);
    let upload_id = h.initiate(1, 200_000).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    assert_eq!(h.put(&url, "image/tiff", old.clone()).await.status, 200);
    // Re-PUTs happen while the session is open (afterwards its URLs are refused), so the
    // stored bytes are read straight from the data dir: every object file there.
    let stored = || -> Vec<Vec<u8>> {
        std::fs::read_dir(h.server.state().data_dir().join("objects"))
            .expect("objects dir")
            .map(|entry| std::fs::read(entry.expect("entry").path()).expect("object"))
            .collect()
    };
    let uploaded =
        || h.server.state().session(&upload_id).expect("session").files[0].uploaded_bytes;

    // A slow re-PUT: half the new bytes sent, the rest held back.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let put = tokio::spawn(
        h.http
            .put(&url)
            .header("content-type", "image/tiff")
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    tx.send(Ok(new[..40_000].to_vec()))
        .await
        .expect("first half queued");
    assert!(
        stored().contains(&old) && !stored().iter().any(|s| s.starts_with(&new[..1000])),
        "a half-written object must never be visible"
    );
    assert_eq!(uploaded(), Some(50_000));
    tx.send(Ok(new[40_000..].to_vec()))
        .await
        .expect("second half queued");
    drop(tx);
    let response = put.await.expect("task").expect("PUT completes");
    assert_eq!(response.status(), 200);
    assert!(
        stored().contains(&new) && !stored().contains(&old),
        "the re-PUT replaced the object"
    );
    assert_eq!(uploaded(), Some(80_000));

    // An aborted PUT: the stream errors half-way, so the request never completes.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let put = tokio::spawn(
        h.http
            .put(&url)
            .header("content-type", "image/tiff")
            .header("content-length", "80000")
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    tx.send(Ok(old[..10_000].to_vec())).await.expect("queued");
    tx.send(Err(std::io::Error::other("client gave up")))
        .await
        .expect("queued");
    assert!(
        put.await.expect("task").is_err(),
        "the aborted PUT fails on the client"
    );
    assert_eq!(uploaded(), Some(80_000));

    // Completed, the item serves the last whole PUT.
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await
        .json();
    let item_id = done["item_ids"][0].as_str().unwrap_or_default().to_owned();
    let download = h.asset_descriptor(&item_id, "a").await;
    let served = h
        .get(download["url"].as_str().unwrap_or_default())
        .await
        .bytes()
        .await
        .expect("body");
    assert!(
        served.to_vec() == new,
        "an aborted PUT leaves the previous object"
    );
}

#[tokio::test]
async fn objects_larger_than_max_object_bytes_get_413() {
    let h = Harness::with(DevConfig::default().max_object_bytes(1000)).await;
    let (upload_id, url) = signed_upload(&h, 5000).await;
    let declared = h.put(&url, "image/tiff", pattern(1001, 0)).await;
    assert_eq!(storage_error(&declared, 413), "EntityTooLarge");
    let chunks = (0..3).map(|_| Ok::<_, std::io::Error>(vec![0u8; 400]));
    let chunked = send(h.http.put(&url).header("content-type", "image/tiff").body(
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)),
    ))
    .await;
    assert_eq!(storage_error(&chunked, 413), "EntityTooLarge");
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, None);
    assert_eq!(
        h.put(&url, "image/tiff", pattern(1000, 0)).await.status,
        200
    );
}

#[tokio::test]
async fn multi_megabyte_uploads_stream_through_intact() {
    let h = Harness::start().await;
    h.demo();
    // Eight different MiB, so a buffer written twice or out of order cannot go unnoticed.
    let mibs: Vec<Vec<u8>> = (0..8).map(|seed| pattern(1 << 20, seed)).collect();
    let total = mibs.iter().map(Vec::len).sum::<usize>();
    let upload_id = h.initiate(1, total as u64).await;
    let (url, _) = h.sign(&upload_id, "big.tif", "image/tiff").await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = mibs.iter().cloned().map(Ok).collect();
    let reply = send(h.http.put(&url).header("content-type", "image/tiff").body(
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)),
    ))
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await
        .json();
    let item_id = done["item_ids"][0].as_str().unwrap_or_default().to_owned();
    let url = h.asset_descriptor(&item_id, "big").await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let body = h.get(&url).await.bytes().await.expect("body");
    assert_eq!(body.len(), total);
    assert_eq!(Sha256::digest(&body), Sha256::digest(mibs.concat()));
    assert_eq!(h.server.state().used_bytes(), total as u64);
}

/// Uploads `bytes` as `name` and returns a download URL for the new item's asset.
async fn uploaded_asset_url(h: &Harness, name: &str, bytes: &[u8]) -> String {
    let (_, items) = h.upload(name, bytes).await;
    let asset = name.split('.').next().unwrap_or_default();
    h.asset_descriptor(&items[0], asset).await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// GETs `url` with a `Range` header: the status, the `Content-Range` and the body.
async fn get_range(h: &Harness, url: &str, range: &str) -> (u16, String, Vec<u8>) {
    let response = h
        .http
        .get(url)
        .header("range", range)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    let content_range = response
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        status,
        content_range,
        response.bytes().await.expect("body").to_vec(),
    )
}

/// Objects are read in chunks of 512 KiB; ranges that start and end inside chunks must
/// still come back exact, and be metered by the bytes sent. The content never repeats, so
/// a chunk served at the wrong offset cannot go unnoticed.
#[tokio::test]
async fn ranges_across_read_chunks_are_exact_and_metered() {
    let h = Harness::start().await;
    h.demo();
    let bytes: Vec<u8> = (0..2_300_007u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let url = uploaded_asset_url(&h, "chunks.tif", &bytes).await;
    assert!(h.get(&url).await.bytes().await.expect("body") == bytes);
    let inside = get_range(&h, &url, "bytes=524287-1572865").await;
    assert!(
        inside
            == (
                206,
                "bytes 524287-1572865/2300007".into(),
                bytes[524_287..=1_572_865].to_vec()
            )
    );
    let suffix = get_range(&h, &url, "bytes=-600000").await;
    assert!(
        suffix
            == (
                206,
                "bytes 1700007-2300006/2300007".into(),
                bytes[1_700_007..].to_vec()
            )
    );
    let sent: Vec<u64> = h.server.state().egress().iter().map(|e| e.bytes).collect();
    assert_eq!(sent, [bytes.len() as u64, 1_048_579, 600_000]);
}

#[tokio::test]
async fn get_serves_single_byte_ranges() {
    let h = Harness::start().await;
    h.demo();
    let bytes = pattern(1000, 3);
    let url = uploaded_asset_url(&h, "r.tif", &bytes).await;
    let ranged = |range: &'static str| get_range(&h, &url, range);
    assert_eq!(
        ranged("bytes=10-19").await,
        (206, "bytes 10-19/1000".into(), bytes[10..20].to_vec())
    );
    assert_eq!(
        ranged("bytes=990-").await,
        (206, "bytes 990-999/1000".into(), bytes[990..].to_vec())
    );
    assert_eq!(
        ranged("bytes=-5").await,
        (206, "bytes 995-999/1000".into(), bytes[995..].to_vec())
    );
    assert_eq!(ranged("bytes=900-5000").await.2, bytes[900..].to_vec());
    let (status, content_range, _) = ranged("bytes=1000-").await;
    assert_eq!((status, content_range.as_str()), (416, "bytes */1000"));
    let (status, _, body) = ranged("bytes=0-1,5-6").await;
    assert_eq!(
        (status, body.len()),
        (200, 1000),
        "several ranges: the whole object"
    );
    let full = h.get(&url).await;
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert_eq!(full.headers()["content-length"], "1000");
}

/// How many objects the server holds on disk.
fn objects_on_disk(h: &Harness) -> usize {
    std::fs::read_dir(h.server.state().data_dir().join("objects"))
        .expect("objects dir")
        .count()
}

#[tokio::test]
async fn upload_urls_stop_working_once_their_session_is_completed() {
    let h = Harness::start().await;
    h.demo();
    let original = pattern(10, 4);
    let upload_id = h.initiate(1, 10).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    assert_eq!(
        h.put(&url, "image/tiff", original.clone()).await.status,
        200
    );
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await
        .json();
    let item_id = done["item_ids"][0].as_str().unwrap_or_default().to_owned();

    // The URL has not expired, but its session is over: the completed asset is final.
    let late = h.put(&url, "image/tiff", pattern(100_000, 5)).await;
    assert_eq!(storage_error(&late, 403), "AccessDenied");
    assert!(
        late.text.contains("upload session is completed"),
        "{}",
        late.text
    );
    let download = h.asset_descriptor(&item_id, "a").await;
    assert_eq!(download["size"], 10);
    let served = h
        .get(download["url"].as_str().unwrap_or_default())
        .await
        .bytes()
        .await
        .expect("body");
    assert_eq!(
        served.to_vec(),
        original,
        "the completed asset is unchanged"
    );
    assert_eq!(h.server.state().used_bytes(), 10);
}

#[tokio::test]
async fn a_failed_sessions_objects_are_deleted_and_its_urls_stop_working() {
    let h = Harness::start().await;
    h.demo();
    let stored_before = objects_on_disk(&h);
    let upload_id = h.initiate(2, 100).await;
    let (a, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    let (b, _) = h.sign(&upload_id, "b.tif", "image/tiff").await;
    assert_eq!(h.put(&a, "image/tiff", pattern(10, 1)).await.status, 200);
    assert_eq!(objects_on_disk(&h), stored_before + 1);

    let failed = h
        .op(
            "uploads.fail",
            json!({"upload_id": upload_id, "error_message": "user cancelled"}),
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.text);
    assert_eq!(objects_on_disk(&h), stored_before, "the object is deleted");
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, None);

    for url in [&a, &b] {
        let late = h.put(url, "image/tiff", pattern(10, 2)).await;
        assert_eq!(storage_error(&late, 403), "AccessDenied");
        assert!(
            late.text.contains("upload session is failed"),
            "{}",
            late.text
        );
    }
    assert_eq!(objects_on_disk(&h), stored_before, "nothing new was stored");
}

/// Starts a PUT of `len` bytes to `url` over raw HTTP with `Expect: 100-continue` and waits
/// for the `100 Continue`: hyper sends it when the handler first reads the body, i.e. once
/// the URL has been checked and the body is about to be streamed to disk.
async fn put_in_flight(h: &Harness, url: &str, len: usize) -> RawConn {
    let authority = raw::authority(h.server.base_url());
    let mut conn = RawConn::connect(authority).await;
    conn.send(format!(
        "PUT {} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: image/tiff\r\n\
         content-length: {len}\r\nexpect: 100-continue\r\n\r\n",
        raw::path_and_query(url)
    ))
    .await;
    let interim = conn.response().await;
    assert_eq!(interim.status, 100, "{}", interim.status_line);
    conn
}

#[tokio::test]
async fn a_put_in_flight_when_complete_happens_cannot_replace_the_completed_object() {
    let h = Harness::start().await;
    h.demo();
    let original = pattern(10, 6);
    let upload_id = h.initiate(1, 10).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    assert_eq!(
        h.put(&url, "image/tiff", original.clone()).await.status,
        200
    );

    let mut replacing = put_in_flight(&h, &url, 5000).await;
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    replacing.send(pattern(5000, 7)).await;
    let answer = replacing.response().await;
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert!(
        answer.text().contains("<Code>AccessDenied</Code>")
            && answer.text().contains("upload session is completed"),
        "{}",
        answer.text()
    );

    let item_id = done.json()["item_ids"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let download = h.asset_descriptor(&item_id, "a").await;
    let served = h
        .get(download["url"].as_str().unwrap_or_default())
        .await
        .bytes()
        .await
        .expect("body");
    assert_eq!(
        served.to_vec(),
        original,
        "the completed asset is unchanged"
    );
    assert_eq!(download["size"], 10);
}

#[tokio::test]
async fn a_put_in_flight_when_the_session_fails_leaves_no_object() {
    let h = Harness::start().await;
    h.demo();
    let stored_before = objects_on_disk(&h);
    let upload_id = h.initiate(1, 5000).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    let mut late = put_in_flight(&h, &url, 5000).await;
    let failed = h
        .op(
            "uploads.fail",
            json!({"upload_id": upload_id, "error_message": "gave up"}),
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.text);
    late.send(pattern(5000, 8)).await;
    let answer = late.response().await;
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert!(
        answer.text().contains("upload session is failed"),
        "{}",
        answer.text()
    );
    assert_eq!(objects_on_disk(&h), stored_before);
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, None);
}

#[tokio::test]
async fn downloads_carry_an_etag_that_if_match_pins_and_a_new_version_changes() {
    let h = Harness::start().await;
    h.demo();
    let state = h.server.state();
    state
        .add_item("itm_e", "prj_demo", "e", &pattern(10, 1), "image/tiff")
        .expect("seed");
    let url = h.asset_descriptor("itm_e", "e").await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let first = h.get(&url).await;
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let pinned = h
        .http
        .get(&url)
        .header("if-match", &etag)
        .header("range", "bytes=2-")
        .send()
        .await
        .expect("get");
    assert_eq!(pinned.status(), 206);
    assert_eq!(pinned.bytes().await.expect("body")[..], pattern(10, 1)[2..]);
    let stale = h
        .http
        .get(&url)
        .header("if-match", "\"something-else\"")
        .send()
        .await
        .expect("get");
    assert_eq!(stale.status(), 412);
    let text = stale.text().await.expect("body");
    assert!(text.contains("<Code>PreconditionFailed</Code>"), "{text}");
    // The object stored again (same size) is another version: the old tag no longer matches.
    state
        .add_item("itm_e", "prj_demo", "e", &pattern(10, 2), "image/tiff")
        .expect("replace");
    let changed = h
        .http
        .get(&url)
        .header("if-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(changed.status(), 412);
    let any = h
        .http
        .get(&url)
        .header("if-match", "*")
        .send()
        .await
        .expect("get");
    assert_eq!(any.status(), 200);
}
