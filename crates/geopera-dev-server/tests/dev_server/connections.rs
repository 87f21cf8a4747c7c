//! Connections over raw HTTP: early answers that leave a body unread end the connection
//! explicitly, a stalled body is timed out while other clients are served, and connections
//! beyond the cap wait for a free slot.

use crate::common::raw::{self, RawConn};
use crate::common::{Harness, send};
use geopera_dev_server::{DevConfig, Fault, FaultKind, FaultTarget};
use serde_json::json;
use std::time::Duration;

/// Sends `head` (the body it announces is never sent) and checks the answer has `status`,
/// says `Connection: close`, and that the server then closes the connection.
async fn early_answer(h: &Harness, what: &str, head: String, status: u16) {
    let mut conn = RawConn::connect(raw::authority(h.server.base_url())).await;
    conn.send(head).await;
    let reply = conn.response().await;
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    assert!(
        reply.closes(),
        "{what}: an answer that leaves the body unread must say Connection: close; headers {:?}",
        reply.headers
    );
    assert!(
        conn.closed_by_server().await,
        "{what}: the server ends the connection"
    );
}

#[tokio::test]
async fn every_early_answer_that_leaves_a_body_unread_says_connection_close() {
    let h = Harness::with(DevConfig::default().with_token("reader", ["items:read"])).await;
    h.demo();
    let host = raw::authority(h.server.base_url()).to_owned();
    let token = h.server.token().to_owned();
    // Over the 1 MiB operation body limit, so the server never reads it.
    let oversized = 2 << 20;
    let post = |path: &str, auth: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\n{auth}content-type: application/json\r\n\
             content-length: {oversized}\r\n\r\n"
        )
    };
    let bearer = format!("authorization: Bearer {token}\r\n");
    early_answer(
        &h,
        "unknown operation",
        post("/v1/op/no.such.op", &bearer),
        404,
    )
    .await;
    early_answer(
        &h,
        "missing token",
        post("/v1/op/uploads.initiate", ""),
        401,
    )
    .await;
    early_answer(
        &h,
        "missing scope",
        post(
            "/v1/op/uploads.initiate",
            "authorization: Bearer reader\r\n",
        ),
        403,
    )
    .await;
    h.server.state().inject(
        FaultTarget::operation("uploads.progress"),
        Fault::new(
            1,
            FaultKind::Status {
                status: 503,
                retry_after: None,
            },
        ),
    );
    early_answer(
        &h,
        "injected fault",
        post("/v1/op/uploads.progress", &bearer),
        503,
    )
    .await;
    early_answer(
        &h,
        "body too large",
        post("/v1/op/uploads.initiate", &bearer),
        413,
    )
    .await;
    early_answer(&h, "unknown route", post("/v2/nowhere", &bearer), 404).await;
    // Handlers that never read a body at all.
    early_answer(
        &h,
        "healthz with a body",
        format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\ncontent-length: 100\r\n\r\n"),
        200,
    )
    .await;
    let download = h.asset_descriptor("itm_demo", "visual").await;
    early_answer(
        &h,
        "download with a body",
        format!(
            "GET {} HTTP/1.1\r\nhost: {host}\r\ncontent-length: 100\r\n\r\n",
            raw::path_and_query(download["url"].as_str().unwrap_or_default())
        ),
        200,
    )
    .await;
}

#[tokio::test]
async fn answers_that_read_the_whole_body_keep_the_connection() {
    let h = Harness::start().await;
    let host = raw::authority(h.server.base_url()).to_owned();
    let mut conn = RawConn::connect(&host).await;
    for path in ["/v1/op/no.such.op", "/v1/op/uploads.initiate"] {
        conn.send(format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n\
             content-length: 2\r\n\r\n{{}}"
        ))
        .await;
        let reply = conn.response().await;
        assert!(!reply.closes(), "{path}: {:?}", reply.headers);
    }
    conn.send(format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\n\r\n"))
        .await;
    assert_eq!(conn.response().await.status, 200);
}

#[tokio::test]
async fn a_stalled_body_is_timed_out_while_other_clients_are_served() {
    let h = Harness::with(DevConfig::default().body_read_timeout(Duration::from_millis(200))).await;
    h.demo();
    let host = raw::authority(h.server.base_url()).to_owned();
    let upload_id = h.initiate(1, 1000).await;
    let (url, _) = h.sign(&upload_id, "slow.tif", "image/tiff").await;

    // An upload that stops after 10 of its 1,000 bytes, and an operation after 5 of 100.
    let mut stalled_put = RawConn::connect(&host).await;
    stalled_put
        .send(format!(
            "PUT {} HTTP/1.1\r\nhost: {host}\r\ncontent-type: image/tiff\r\n\
             content-length: 1000\r\n\r\n0123456789",
            raw::path_and_query(&url)
        ))
        .await;
    let mut stalled_op = RawConn::connect(&host).await;
    stalled_op
        .send(format!(
            "POST /v1/op/uploads.progress HTTP/1.1\r\nhost: {host}\r\n\
             authorization: Bearer {}\r\ncontent-type: application/json\r\n\
             content-length: 100\r\n\r\n{{\"upl",
            h.server.token()
        ))
        .await;

    // Other clients are served meanwhile.
    let served = tokio::time::timeout(raw::WAIT, async {
        let health = send(h.http.get(h.url("/healthz"))).await;
        let initiated = h
            .op("uploads.initiate", json!({"project_id": "prj_demo"}))
            .await;
        (health.status, initiated.status)
    })
    .await
    .expect("other clients are served while two bodies stall");
    assert_eq!(served, (200, 200));

    let put = stalled_put.response().await;
    assert_eq!(put.status, 408, "{}", put.text());
    assert!(
        put.text().contains("<Code>RequestTimeout</Code>"),
        "{}",
        put.text()
    );
    assert!(put.closes(), "{:?}", put.headers);
    assert!(stalled_put.closed_by_server().await);

    let op = stalled_op.response().await;
    assert_eq!(op.status, 408, "{}", op.text());
    assert_eq!(op.header("content-type"), Some("application/problem+json"));
    assert!(op.closes(), "{:?}", op.headers);
    assert!(stalled_op.closed_by_server().await);

    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.files[0].uploaded_bytes, None, "nothing was stored");
    let leftovers = std::fs::read_dir(h.server.state().data_dir().join("tmp"))
        .expect("tmp dir")
        .count();
    assert_eq!(leftovers, 0, "the partial upload is removed");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let h = Harness::with(DevConfig::default().max_connections(2)).await;
    let host = raw::authority(h.server.base_url()).to_owned();
    let health = format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\n\r\n");

    // Two connections, each served once and kept open: the cap is reached.
    let mut first = RawConn::connect(&host).await;
    let mut second = RawConn::connect(&host).await;
    for conn in [&mut first, &mut second] {
        conn.send(&health).await;
        assert_eq!(conn.response().await.status, 200);
    }

    // A third is left waiting (the kernel completes its handshake; the server does not
    // take it on)...
    let mut third = RawConn::connect(&host).await;
    third.send(&health).await;
    assert!(
        third
            .response_within(Duration::from_millis(300))
            .await
            .is_none(),
        "a connection over the cap is not served"
    );
    // ...while the connections already open are still served...
    first.send(&health).await;
    assert_eq!(first.response().await.status, 200);
    // ...and it is served as soon as one of them closes.
    drop(second);
    assert_eq!(third.response().await.status, 200);
}
