//! Fault injection: every fault kind on operations and on object storage, and call counting.

use crate::common::{Harness, pattern, send};
use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use serde_json::json;
use std::time::{Duration, Instant};

fn initiate() -> FaultTarget {
    FaultTarget::Operation("uploads.initiate".into())
}

fn body() -> serde_json::Value {
    json!({"project_id": "prj_demo", "total_bytes": 1})
}

#[tokio::test]
async fn status_faults_fail_the_next_n_calls_then_clear() {
    let h = Harness::start().await;
    h.demo();
    let state = h.server.state();
    state.inject(
        initiate(),
        Fault {
            times: 2,
            kind: FaultKind::Status {
                status: 503,
                retry_after: Some(3),
            },
        },
    );
    assert_eq!(state.pending_faults(&initiate()), 2);
    for _ in 0..2 {
        let reply = h.op("uploads.initiate", body()).await;
        assert!(reply.problem(503).contains("Injected fault"));
        assert_eq!(reply.headers["retry-after"], "3");
        assert_eq!(reply.json()["title"], "Service Unavailable");
    }
    assert_eq!(
        state.calls("uploads.initiate"),
        0,
        "faulted requests never reached the operation"
    );
    assert_eq!(state.reserved_bytes(), 0);
    assert_eq!(h.op("uploads.initiate", body()).await.status, 200);
    assert_eq!(state.calls("uploads.initiate"), 1);
    assert_eq!(state.pending_faults(&initiate()), 0);
}

#[tokio::test]
async fn faults_are_per_operation_and_consumed_in_order() {
    let h = Harness::start().await;
    h.demo();
    let state = h.server.state();
    state.inject(
        initiate(),
        Fault::new(
            1,
            FaultKind::Status {
                status: 429,
                retry_after: None,
            },
        ),
    );
    state.inject(initiate(), Fault::new(1, FaultKind::Html500));
    let progress = h
        .op("uploads.progress", json!({"upload_id": "upl_x"}))
        .await;
    progress.problem(404);
    let first = h.op("uploads.initiate", body()).await;
    first.problem(429);
    assert!(!first.headers.contains_key("retry-after"));
    let second = h.op("uploads.initiate", body()).await;
    assert_eq!((second.status, second.content_type()), (500, "text/html"));
    assert!(second.text.contains("<h1>500 Internal Server Error</h1>"));
    assert_eq!(h.op("uploads.initiate", body()).await.status, 200);
}

#[tokio::test]
async fn truncated_json_is_a_200_that_does_not_parse() {
    let h = Harness::start().await;
    h.demo();
    h.server
        .state()
        .inject(initiate(), Fault::new(1, FaultKind::TruncatedJson));
    let reply = h.op("uploads.initiate", body()).await;
    assert_eq!(
        (reply.status, reply.content_type()),
        (200, "application/json")
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(&reply.text).is_err(),
        "{}",
        reply.text
    );
    assert!(
        h.server.state().sessions().is_empty(),
        "the operation did not run"
    );
}

#[tokio::test]
async fn drop_connection_closes_without_a_response() {
    let h = Harness::start().await;
    h.demo();
    h.server
        .state()
        .inject(initiate(), Fault::new(1, FaultKind::DropConnection));
    let err = h
        .http
        .post(h.url("/v1/op/uploads.initiate"))
        .bearer_auth(h.server.token())
        .json(&body())
        .send()
        .await
        .expect_err("no response");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert!(err.status().is_none());
    assert_eq!(
        h.op("uploads.initiate", body()).await.status,
        200,
        "the next call works"
    );
    assert_eq!(h.server.state().calls("uploads.initiate"), 1);
}

#[tokio::test]
async fn delays_hold_the_request_then_handle_it() {
    let h = Harness::start().await;
    h.demo();
    let delay = Duration::from_millis(150);
    h.server
        .state()
        .inject(initiate(), Fault::new(1, FaultKind::Delay(delay)));
    let started = Instant::now();
    let reply = h.op("uploads.initiate", body()).await;
    assert!(started.elapsed() >= delay);
    assert_eq!(reply.status, 200);
    assert_eq!(
        h.server.state().calls("uploads.initiate"),
        1,
        "delayed calls do reach the operation"
    );
}

#[tokio::test]
async fn storage_put_faults_render_xml_and_store_nothing() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 10).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    let state = h.server.state();
    state.inject(
        FaultTarget::ObjectPut,
        Fault::new(
            1,
            FaultKind::Status {
                status: 503,
                retry_after: Some(1),
            },
        ),
    );
    state.inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::DropConnection),
    );
    let slow_down = h.put(&url, "image/tiff", b"abc".to_vec()).await;
    assert_eq!(
        (slow_down.status, slow_down.content_type()),
        (503, "application/xml")
    );
    assert!(slow_down.text.contains("<Code>SlowDown</Code>"));
    assert_eq!(slow_down.headers["retry-after"], "1");
    let dropped = h
        .http
        .put(&url)
        .header("content-type", "image/tiff")
        .body(b"abc".to_vec())
        .send()
        .await;
    assert!(dropped.is_err());
    assert_eq!(
        state.session(&upload_id).expect("session").files[0].uploaded_bytes,
        None
    );
    assert_eq!(state.calls("storage.put"), 0);
    assert_eq!(h.put(&url, "image/tiff", b"abc".to_vec()).await.status, 200);
    assert_eq!(state.calls("storage.put"), 1);
}

#[tokio::test]
async fn storage_get_faults_do_not_meter_egress() {
    let h = Harness::start().await;
    h.demo();
    let (_, items) = h.upload("g.tif", &pattern(500, 4)).await;
    let url = h.asset_descriptor(&items[0], "g").await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let state = h.server.state();
    state.inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::DropConnection),
    );
    state.inject(FaultTarget::ObjectGet, Fault::new(1, FaultKind::Html500));
    state.inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::TruncatedJson),
    );
    state.inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::Delay(Duration::from_millis(1))),
    );
    assert!(h.http.get(&url).send().await.is_err());
    let html = h.get(&url).await;
    assert_eq!(
        (
            html.status().as_u16(),
            html.headers()["content-type"].to_str().unwrap_or("")
        ),
        (500, "text/html")
    );
    let truncated = h.get(&url).await;
    assert_eq!(truncated.status(), 200);
    assert_ne!(truncated.bytes().await.expect("body").len(), 500);
    assert!(state.egress().is_empty());
    let delayed = h.get(&url).await.bytes().await.expect("body");
    assert_eq!(delayed.len(), 500);
    assert_eq!(state.egress().len(), 1);
}

#[tokio::test]
async fn clear_faults_drops_everything_pending() {
    let h = Harness::start().await;
    h.demo();
    let state = h.server.state();
    state.inject(initiate(), Fault::new(5, FaultKind::Html500));
    state.inject(FaultTarget::ObjectGet, Fault::new(5, FaultKind::Html500));
    state.inject(initiate(), Fault::new(0, FaultKind::Html500));
    state.clear_faults();
    assert_eq!(state.pending_faults(&initiate()), 0);
    assert_eq!(h.op("uploads.initiate", body()).await.status, 200);
}

#[tokio::test]
async fn an_invalid_status_code_becomes_500() {
    let h = Harness::start().await;
    h.demo();
    h.server.state().inject(
        initiate(),
        Fault::new(
            1,
            FaultKind::Status {
                status: 42,
                retry_after: None,
            },
        ),
    );
    h.op("uploads.initiate", body()).await.problem(500);
}

/// A signed download URL of a fresh `len`-byte asset.
async fn download_url(h: &Harness, name: &str, len: usize) -> (String, Vec<u8>) {
    let data = pattern(len, 9);
    let (_, items) = h.upload(name, &data).await;
    let stem = name.trim_end_matches(".tif");
    let url = h.asset_descriptor(&items[0], stem).await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (url, data)
}

#[tokio::test]
async fn a_bandwidth_fault_caps_one_download_and_delivers_it_whole() {
    let h = Harness::start().await;
    h.demo();
    let (url, data) = download_url(&h, "capped.tif", 200_000).await;
    let state = h.server.state();
    state.inject(
        FaultTarget::ObjectGet,
        Fault::new(
            1,
            FaultKind::Bandwidth {
                bytes_per_sec: 1_000_000,
            },
        ),
    );
    let started = Instant::now();
    let body = h.get(&url).await.bytes().await.expect("body");
    // 200 kB at 1 MB/s, less the 20 ms burst a full bucket lets through at once.
    assert!(started.elapsed() >= Duration::from_millis(180));
    assert!(body[..] == data[..]);
    assert_eq!(state.pending_faults(&FaultTarget::ObjectGet), 0);
    assert_eq!(state.egress().len(), 1);
    assert!(state.egress()[0].complete);
}

#[tokio::test]
async fn a_configured_cap_and_latency_hold_back_every_storage_body() {
    let h = Harness::with(
        geopera_dev_server::DevConfig::default()
            .storage_bandwidth(1_000_000)
            .storage_latency(Duration::from_millis(50)),
    )
    .await;
    h.demo();
    let upload_id = h.initiate(1, 200_000).await;
    let (url, object_path) = h.sign(&upload_id, "slow.tif", "image/tiff").await;
    let data = pattern(200_000, 3);
    let started = Instant::now();
    assert_eq!(h.put(&url, "image/tiff", data.clone()).await.status, 200);
    // The latency, then 200 kB at 1 MB/s less one 20 ms burst.
    assert!(started.elapsed() >= Duration::from_millis(50 + 180));
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].object_path, object_path);
    assert_eq!(session.files[0].uploaded_bytes, Some(200_000));

    let (get_url, stored) = download_url(&h, "again.tif", 100_000).await;
    let started = Instant::now();
    let body = h.get(&get_url).await.bytes().await.expect("body");
    assert!(started.elapsed() >= Duration::from_millis(50 + 80));
    assert!(body[..] == stored[..]);
}

#[tokio::test]
async fn a_bandwidth_fault_on_an_operation_does_nothing() {
    let h = Harness::start().await;
    h.demo();
    h.server.state().inject(
        initiate(),
        Fault::new(1, FaultKind::Bandwidth { bytes_per_sec: 1 }),
    );
    assert_eq!(h.op("uploads.initiate", body()).await.status, 200);
    assert_eq!(h.server.state().pending_faults(&initiate()), 0);
}

/// The operation layers run in the API's order: a fault answers before auth looks at the
/// request (and the call is not counted), auth before the body is parsed (a refused call is
/// counted), and an unknown operation is neither faulted nor counted.
#[tokio::test]
async fn faults_come_before_auth_and_auth_before_the_body() {
    let h = Harness::start().await;
    h.demo();
    let state = h.server.state();
    state.inject(initiate(), Fault::new(1, FaultKind::Html500));
    let faulted = send(h.post("uploads.initiate").json(&body())).await;
    assert_eq!(faulted.status, 500, "{}", faulted.text);
    assert_eq!(faulted.content_type(), "text/html");
    assert_eq!(state.calls("uploads.initiate"), 0);

    let malformed = h
        .post("uploads.initiate")
        .header("content-type", "application/json")
        .body("{");
    send(malformed).await.problem(401);
    assert_eq!(state.calls("uploads.initiate"), 1);

    state.inject(
        FaultTarget::operation("no.such.op"),
        Fault::new(1, FaultKind::Html500),
    );
    h.op("no.such.op", body()).await.problem(404);
    assert_eq!(
        state.pending_faults(&FaultTarget::operation("no.such.op")),
        1
    );
    assert_eq!(state.calls("no.such.op"), 0);
}

/// A download URL for an uploaded object of `len` bytes, and the bytes.
async fn object(h: &Harness, len: usize) -> (String, Vec<u8>) {
    h.demo();
    let bytes = pattern(len, 6);
    let (_, items) = h.upload("cut.tif", &bytes).await;
    let url = h.asset_descriptor(&items[0], "cut").await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (url, bytes)
}

/// Reads a response body until it ends or fails: the bytes, and whether it failed.
async fn drain(mut response: reqwest::Response) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (got, false),
            Err(_) => return (got, true),
        }
    }
}

#[tokio::test]
async fn a_get_dropped_after_n_bytes_sends_a_normal_head_then_breaks_off() {
    let h = Harness::start().await;
    let (url, bytes) = object(&h, 1_500_000).await;
    h.server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::DropAfterBytes(600_000)),
    );
    let response = h.get(&url).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], "1500000");
    assert!(response.headers().contains_key("x-goog-hash"));
    let (got, failed) = drain(response).await;
    assert!(failed, "the body breaks off");
    assert!(got.len() <= 600_000, "{} bytes", got.len());
    assert_eq!(got, bytes[..got.len()]);

    let again = h.get(&url).await;
    assert_eq!(
        drain(again).await,
        (bytes.clone(), false),
        "one request only"
    );

    // A limit past the end changes nothing.
    h.server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::DropAfterBytes(1_500_000)),
    );
    assert_eq!(drain(h.get(&url).await).await, (bytes, false));
}

#[tokio::test]
async fn a_get_stalled_after_n_bytes_sends_them_then_nothing() {
    let h = Harness::start().await;
    let (url, bytes) = object(&h, 1_500_000).await;
    h.server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::StallAfterBytes(300_000)),
    );
    let mut response = h.get(&url).await;
    assert_eq!(response.status(), 200);
    let mut got = Vec::new();
    while got.len() < 300_000 {
        let chunk = response.chunk().await.expect("body").expect("more bytes");
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got, bytes[..300_000]);
    // Only bounds the check: a stalled body never sends the next byte.
    let next = tokio::time::timeout(Duration::from_millis(300), response.chunk()).await;
    assert!(next.is_err(), "nothing more arrives: {next:?}");
    drop(response);
    assert_eq!(drain(h.get(&url).await).await, (bytes, false));
}

/// The limit falling inside the body's last chunk (objects are read in 512 KiB chunks)
/// still stalls: the chunk is cut there and nothing follows, not even the end.
#[tokio::test]
async fn a_stall_inside_the_last_chunk_still_stalls() {
    let h = Harness::start().await;
    let (url, bytes) = object(&h, 600_000).await;
    h.server.state().inject(
        FaultTarget::ObjectGet,
        Fault::new(1, FaultKind::StallAfterBytes(550_000)),
    );
    let mut response = h.get(&url).await;
    assert_eq!(response.status(), 200);
    let mut got = Vec::new();
    while got.len() < 550_000 {
        let chunk = response.chunk().await.expect("body").expect("more bytes");
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got, bytes[..550_000]);
    // Only bounds the check: a stalled body never sends the next byte, nor its end.
    let next = tokio::time::timeout(Duration::from_millis(300), response.chunk()).await;
    assert!(next.is_err(), "nothing more arrives: {next:?}");
}

#[tokio::test]
async fn a_put_dropped_or_stalled_mid_body_stores_nothing() {
    let h = Harness::start().await;
    h.demo();
    let bytes = pattern(200_000, 8);
    let upload_id = h.initiate(1, bytes.len() as u64).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    let put = || {
        h.http
            .put(&url)
            .header("content-type", "image/tiff")
            .body(bytes.clone())
    };
    let state = h.server.state();
    state.inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::DropAfterBytes(50_000)),
    );
    let dropped = put().send().await;
    assert!(dropped.is_err(), "no response: {dropped:?}");

    state.inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::StallAfterBytes(50_000)),
    );
    // The timeout only bounds the test: a stalled PUT is never answered.
    let stalled = put().timeout(Duration::from_millis(500)).send().await;
    assert!(stalled.is_err_and(|e| e.is_timeout()));
    let session = state.session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, None);
    assert_eq!(
        state.calls("storage.put"),
        0,
        "faulted requests are not counted"
    );

    assert_eq!(send(put()).await.status, 200);
    let session = state.session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, Some(200_000));
}
