//! What object storage tells about an object and checks of it, as Google Cloud Storage
//! does: `ETag` and `x-goog-hash` (CRC32C and MD5 of the whole object, on whole and ranged
//! reads), `If-Match` / `If-None-Match`, and an upload's declared `x-goog-hash` (400
//! `BadDigest` on a mismatch, nothing stored).

use crate::common::{Harness, Reply, pattern, send};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};

fn crc_b64(bytes: &[u8]) -> String {
    STANDARD.encode(crc32c::crc32c(bytes).to_be_bytes())
}

fn md5_b64(bytes: &[u8]) -> String {
    STANDARD.encode(Md5::digest(bytes))
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Uploads `bytes` as a new item and returns its download URL.
async fn stored(h: &Harness, bytes: &[u8]) -> String {
    h.demo();
    let (_, items) = h.upload("obj.tif", bytes).await;
    h.asset_descriptor(&items[0], "obj").await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn code(reply: &Reply) -> String {
    let start = reply.text.find("<Code>").map_or(0, |i| i + 6);
    let end = reply.text.find("</Code>").unwrap_or(start);
    reply.text[start..end].to_owned()
}

#[tokio::test]
async fn gets_carry_the_etag_and_the_whole_objects_hashes_also_for_ranges() {
    let h = Harness::start().await;
    let bytes = pattern(700_000, 9);
    let url = stored(&h, &bytes).await;
    let hash = format!("crc32c={},md5={}", crc_b64(&bytes), md5_b64(&bytes));
    let etag = format!("\"{}\"", md5_hex(&bytes));

    let whole = h.get(&url).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["x-goog-hash"], hash.as_str());
    assert_eq!(whole.headers()["etag"], etag.as_str());
    assert_eq!(whole.bytes().await.expect("body").to_vec(), bytes);

    let ranged = send(h.http.get(&url).header("range", "bytes=100-199")).await;
    assert_eq!(ranged.status, 206);
    assert_eq!(
        ranged.headers["x-goog-hash"],
        hash.as_str(),
        "the whole object's"
    );
    assert_eq!(ranged.headers["etag"], etag.as_str());

    let seeded = h.asset_descriptor("itm_demo", "visual").await;
    let seeded = h.get(seeded["url"].as_str().unwrap_or_default()).await;
    let hash = seeded.headers()["x-goog-hash"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body = seeded.bytes().await.expect("body");
    assert_eq!(
        hash,
        format!("crc32c={},md5={}", crc_b64(&body), md5_b64(&body)),
        "seeded objects too"
    );
}

#[tokio::test]
async fn if_match_and_if_none_match_compare_with_the_etag() {
    let h = Harness::start().await;
    let bytes = pattern(5_000, 4);
    let url = stored(&h, &bytes).await;
    let etag = format!("\"{}\"", md5_hex(&bytes));

    let other = send(
        h.http
            .get(&url)
            .header("if-match", "\"0123\"")
            .header("range", "bytes=10-"),
    )
    .await;
    assert_eq!(other.status, 412, "{}", other.text);
    assert_eq!(code(&other), "PreconditionFailed");
    assert!(other.text.contains("<Details>"), "{}", other.text);

    let same = h
        .http
        .get(&url)
        .header("if-match", format!("\"x\", {etag}"))
        .header("range", "bytes=10-")
        .send()
        .await
        .expect("GET");
    assert_eq!(same.status(), 206);
    assert!(same.bytes().await.expect("body")[..] == bytes[10..]);
    let any = send(h.http.get(&url).header("if-match", "*")).await;
    assert_eq!(any.status, 200);

    let unchanged = send(h.http.get(&url).header("if-none-match", etag.as_str())).await;
    assert_eq!(unchanged.status, 304);
    assert_eq!(unchanged.headers["etag"], etag.as_str());
    assert!(unchanged.text.is_empty());
    let changed = send(h.http.get(&url).header("if-none-match", "\"0123\"")).await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.headers["content-length"], "5000");
}

#[tokio::test]
async fn a_put_whose_declared_hash_differs_is_refused_and_nothing_is_stored() {
    let h = Harness::start().await;
    h.demo();
    let bytes = pattern(300_000, 2);
    let upload_id = h.initiate(1, bytes.len() as u64).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    let put = |hash: String| {
        send(
            h.http
                .put(&url)
                .header("content-type", "image/tiff")
                .header("x-goog-hash", hash)
                .body(bytes.clone()),
        )
    };

    let wrong = put(format!("crc32c={}", crc_b64(b"other bytes"))).await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    assert_eq!(code(&wrong), "BadDigest");
    assert!(wrong.text.starts_with("<?xml"), "{}", wrong.text);
    let wrong_md5 = put(format!("crc32c={},md5={}", crc_b64(&bytes), md5_b64(b"x"))).await;
    assert_eq!(code(&wrong_md5), "BadDigest");
    let unreadable = put("crc32c=AAAA".into()).await;
    assert_eq!(
        (unreadable.status, code(&unreadable)),
        (400, "InvalidDigest".into())
    );
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, None, "nothing was stored");
    assert_eq!(
        std::fs::read_dir(h.server.state().data_dir().join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "no temp file is left"
    );

    let right = put(format!("crc32c={}", crc_b64(&bytes))).await;
    assert_eq!(right.status, 200, "{}", right.text);
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, Some(bytes.len() as u64));
}
