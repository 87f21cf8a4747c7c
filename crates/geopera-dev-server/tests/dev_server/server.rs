//! Starting, serving and stopping: `DevServer`, `serve` with a shutdown future, `router` in
//! process, data directories and the public URL setting.

use crate::common::raw::{self, RawConn};
use crate::common::{Harness, send};
use geopera_dev_server::{
    DevConfig, DevServer, DevState, Fault, FaultKind, FaultTarget, router, serve,
};
use serde_json::json;
use tower_service::Service;

#[tokio::test]
async fn start_gives_a_loopback_url_and_a_working_token() {
    let server = DevServer::start().await.expect("starts");
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    assert!(!server.base_url().ends_with(":0"));
    assert!(!server.token().is_empty() && !server.token().starts_with("gpra_"));
    server.state().add_project("p");
    let reply = send(
        crate::common::http_client()
            .post(format!("{}/v1/op/uploads.initiate", server.base_url()))
            .bearer_auth(server.token())
            .json(&json!({"project_id": "p"})),
    )
    .await;
    assert_eq!(reply.status, 200);
    let other = DevServer::start().await.expect("a second server starts");
    assert_ne!(other.base_url(), server.base_url());
    assert_ne!(other.token(), server.token());
}

#[tokio::test]
async fn shutdown_stops_serving_and_removes_the_temp_data_dir() {
    let h = Harness::start().await;
    h.demo();
    assert_eq!(send(h.http.get(h.url("/healthz"))).await.status, 200);
    let dir = h.server.state().data_dir().to_path_buf();
    assert!(dir.join("objects").is_dir());
    let base = h.server.base_url().to_owned();
    h.server.shutdown().await;
    assert!(!dir.exists(), "the temp data dir is removed");
    let err = crate::common::http_client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect_err("stopped");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

#[tokio::test]
async fn a_configured_data_dir_is_used_and_kept() {
    let owner = DevState::new(DevConfig::default()).expect("scratch state");
    let dir = owner.data_dir().join("configured");
    let h = Harness::with(DevConfig::default().data_dir(&dir)).await;
    h.demo();
    assert_eq!(h.server.state().data_dir(), dir.as_path());
    let (_, _) = h.upload("kept.tif", b"kept").await;
    h.server.shutdown().await;
    let stored = std::fs::read_dir(dir.join("objects"))
        .expect("objects dir")
        .count();
    assert!(
        stored >= 3,
        "demo objects and the upload stay on disk ({stored})"
    );
}

#[tokio::test]
async fn serve_runs_until_its_shutdown_future_completes() {
    let state = DevState::new(
        DevConfig::default()
            .with_token("t", DevConfig::ALL_SCOPES)
            .seed_demo(true),
    )
    .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    let reply = send(
        crate::common::http_client()
            .post(format!("http://{addr}/v1/op/clip.job.downloads"))
            .bearer_auth("t")
            .json(&json!({"job_id": "clip_demo"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let _ = stop.send(());
    task.await.expect("task").expect("serve returns Ok");
    assert!(
        crate::common::http_client()
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_router_works_in_process() {
    let state =
        DevState::new(DevConfig::default().with_token("t", DevConfig::ALL_SCOPES)).expect("state");
    state.add_project("p");
    let mut app = router(state.clone());
    let request = axum::http::Request::post("/v1/op/uploads.initiate")
        .header("authorization", "Bearer t")
        .header("host", "example.test:9")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            r#"{"project_id": "p", "total_bytes": 4}"#,
        ))
        .expect("request");
    let response = app.call(request).await.expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(state.reserved_bytes(), 4);

    state.inject(
        FaultTarget::operation("uploads.initiate"),
        Fault::new(1, FaultKind::DropConnection),
    );
    let request = axum::http::Request::post("/v1/op/uploads.initiate")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = app.call(request).await.expect("infallible");
    assert_eq!(
        response.status(),
        502,
        "without a socket a dropped connection renders as 502"
    );
}

#[tokio::test]
async fn signed_urls_follow_the_host_header_or_the_public_url() {
    let h = Harness::with(DevConfig::default().public_url("http://files.example.test:9000/")).await;
    h.demo();
    let upload_id = h.initiate(1, 1).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    assert!(
        url.starts_with("http://files.example.test:9000/storage/uploads/"),
        "{url}"
    );

    let plain = Harness::start().await;
    plain.demo();
    let d = plain.asset_descriptor("itm_demo", "visual").await;
    assert!(
        d["url"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{}/storage/", plain.server.base_url()))
    );
}

#[tokio::test]
async fn seed_demo_returns_the_documented_ids() {
    let state = DevState::new(DevConfig::default()).expect("state");
    let ids = state.seed_demo().expect("seeded");
    assert_eq!(
        (
            ids.project_id.as_str(),
            ids.item_id.as_str(),
            ids.asset_key.as_str(),
            ids.clip_job_id.as_str(),
            ids.mosaic_type.as_str()
        ),
        ("prj_demo", "itm_demo", "visual", "clip_demo", "visual")
    );
    assert_eq!(state.items().len(), 1);
    let again = state.seed_demo().expect("idempotent");
    assert_eq!(again, ids);
    assert_eq!(state.items().len(), 1);
}

/// Sends `head` then, after a pause, `body` on `stream`, and reads one response head and its
/// `Content-Length` body; returns the status line.
async fn split_request(stream: &mut tokio::net::TcpStream, head: &str, body: &str) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.flush().await.expect("flush");
    // The body arrives after the server has seen the headers: the scenario under test.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stream.write_all(body.as_bytes()).await.expect("write body");
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).await.expect("status line");
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("header line");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut rest = vec![0u8; length];
    reader.read_exact(&mut rest).await.expect("body");
    status
}

#[tokio::test]
async fn early_answers_keep_the_connection_usable() {
    let h = Harness::start().await;
    let addr = h.server.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    for path in ["/v1/op/no.such.op", "/v1/op/uploads.initiate"] {
        // An unknown operation (404) and a missing token (401) are answered early.
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"
        );
        let status = split_request(&mut stream, &head, "{}").await;
        assert!(status.starts_with("HTTP/1.1 40"), "{status}");
    }
    let head = format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    let status = split_request(&mut stream, &head, "").await;
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "the same connection still serves: {status}"
    );
}

/// An HTTP/1.0 request may come without `Host`; the signed URL then names the address the
/// request arrived on, port included.
#[tokio::test]
async fn signed_urls_without_a_host_header_name_the_listeners_address() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 1).await;
    let body = json!({"upload_id": upload_id, "file_name": "a.tif", "content_type": "image/tiff"})
        .to_string();
    let mut conn = RawConn::connect(raw::authority(h.server.base_url())).await;
    conn.send(format!(
        "POST /v1/op/uploads.signed_url HTTP/1.0\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        h.server.token(),
        body.len()
    ))
    .await;
    let reply = conn.response().await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let url = reply.json()["upload_url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/storage/", h.server.base_url())),
        "{url}"
    );
    assert_eq!(h.put(&url, "image/tiff", b"x".to_vec()).await.status, 200);
}
