//! Faults injected by the dev server, through the SDK: 5xx bursts, `Retry-After`, slow
//! responses against the timeout, dropped connections, truncated JSON, an HTML 500, and a
//! rejected signed URL met by re-signing (the examples' helper code). Each asserts the
//! attempts made, the error returned and that no quota stays reserved.

#[path = "../examples/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use geopera::dev_server::{DevServer, Fault, FaultKind, FaultTarget};
use geopera::models::{UploadFailInput, UploadInitiate, UploadProgressInput};
use geopera::{Error, Geopera, RetryPolicy, TransportKind};

const PROJECT: &str = "prj_faults";

async fn setup(policy: RetryPolicy, timeout: Duration) -> (DevServer, Geopera) {
    let server = DevServer::start().await.expect("dev server");
    server.state().add_project(PROJECT);
    let client = Geopera::builder()
        .base_url(server.base_url())
        .token(server.token())
        .retry_policy(policy)
        .timeout(timeout)
        .build()
        .expect("client");
    (server, client)
}

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(4)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(4))
}

fn status(code: u16) -> FaultKind {
    FaultKind::Status {
        status: code,
        retry_after: None,
    }
}

/// Opens a session to report progress on; returns its id.
async fn open(client: &Geopera) -> String {
    client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [64]))
        .await
        .expect("initiate")
        .id
}

async fn release(client: &Geopera, server: &DevServer, id: &str) {
    client
        .uploads()
        .fail(UploadFailInput::new(id, "test over").step("test"))
        .await
        .expect("fail");
    assert_eq!(server.state().reserved_bytes(), 0, "no quota left reserved");
}

#[tokio::test]
async fn a_503_burst_is_ridden_out() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let id = open(&client).await;
    let target = FaultTarget::operation("uploads.progress");
    server
        .state()
        .inject(target.clone(), Fault::new(2, status(503)));
    server
        .state()
        .inject(target.clone(), Fault::new(1, status(502)));
    client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .expect("fourth attempt succeeds");
    assert_eq!(
        server.state().pending_faults(&target),
        0,
        "three faulted attempts"
    );
    assert_eq!(
        server.state().calls("uploads.progress"),
        1,
        "then one that reached the handler"
    );
    release(&client, &server, &id).await;
}

#[tokio::test]
async fn a_longer_burst_exhausts_the_attempts() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let id = open(&client).await;
    let target = FaultTarget::operation("uploads.progress");
    server
        .state()
        .inject(target.clone(), Fault::new(10, status(503)));
    let e = client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::UnexpectedStatus { .. }),
        "503 is not a declared status: {e:?}"
    );
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        server.state().pending_faults(&target),
        6,
        "exactly four attempts"
    );
    release(&client, &server, &id).await;
}

#[tokio::test]
async fn a_declared_500_is_not_retried() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let id = open(&client).await;
    let target = FaultTarget::operation("uploads.progress");
    server
        .state()
        .inject(target.clone(), Fault::new(2, status(500)));
    let e = client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Problem { .. }), "{e:?}");
    assert_eq!(server.state().pending_faults(&target), 1, "one attempt");
    release(&client, &server, &id).await;
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let id = open(&client).await;
    server.state().inject(
        FaultTarget::operation("uploads.progress"),
        Fault::new(
            1,
            FaultKind::Status {
                status: 429,
                retry_after: Some(1),
            },
        ),
    );
    let started = Instant::now();
    client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .expect("second attempt");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the server asked for a one-second pause"
    );
    release(&client, &server, &id).await;
}

#[tokio::test]
async fn initiate_is_not_repeated_after_a_503_and_reserves_nothing() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let target = FaultTarget::operation("uploads.initiate");
    server
        .state()
        .inject(target.clone(), Fault::new(2, status(503)));
    let e = client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [64]))
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        server.state().pending_faults(&target),
        1,
        "one attempt only"
    );
    assert_eq!(server.state().reserved_bytes(), 0);
}

#[tokio::test]
async fn a_slow_response_hits_the_timeout_then_the_retry_succeeds() {
    let (server, client) = setup(fast(), Duration::from_millis(300)).await;
    let id = open(&client).await;
    let target = FaultTarget::operation("uploads.progress");
    server.state().inject(
        target.clone(),
        Fault::new(1, FaultKind::Delay(Duration::from_secs(5))),
    );
    client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .expect("retry after the timeout");
    assert_eq!(server.state().pending_faults(&target), 0);

    let strict = Geopera::from(client.client.with_retry_policy(RetryPolicy::disabled()));
    server.state().inject(
        target,
        Fault::new(1, FaultKind::Delay(Duration::from_secs(5))),
    );
    let e = strict
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 2))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(matches!(
        e,
        Error::Transport {
            kind: TransportKind::Timeout,
            ..
        }
    ));
    release(&client, &server, &id).await;
}

#[tokio::test]
async fn a_dropped_connection_is_retried_only_where_safe() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let id = open(&client).await;
    let progress = FaultTarget::operation("uploads.progress");
    server
        .state()
        .inject(progress.clone(), Fault::new(1, FaultKind::DropConnection));
    client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .expect("idempotent: retried");
    assert_eq!(server.state().pending_faults(&progress), 0);

    let initiate = FaultTarget::operation("uploads.initiate");
    server
        .state()
        .inject(initiate.clone(), Fault::new(1, FaultKind::DropConnection));
    let e = client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [64]))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(
        server.state().sessions().len(),
        1,
        "the dropped initiate created no session"
    );
    release(&client, &server, &id).await;
}

#[tokio::test]
async fn truncated_json_and_html_500_are_decode_errors_with_status() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let id = open(&client).await;
    let target = FaultTarget::operation("uploads.progress");
    server
        .state()
        .inject(target.clone(), Fault::new(1, FaultKind::TruncatedJson));
    let e = client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(200));

    server
        .state()
        .inject(target.clone(), Fault::new(1, FaultKind::Html500));
    let e = client
        .uploads()
        .progress(UploadProgressInput::new(&id, "uploading", 1))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert!(
        e.body().is_some_and(|b| b.as_str().contains("<html")),
        "{e}"
    );
    assert_eq!(
        server.state().pending_faults(&target),
        0,
        "neither was retried"
    );
    release(&client, &server, &id).await;
}

#[tokio::test]
async fn a_rejected_signed_url_is_re_signed_by_the_examples_helper() {
    let (server, client) = setup(fast(), Duration::from_secs(10)).await;
    let scratch = common::Scratch::new("resign-test").unwrap();
    let path = scratch.path("a.tif");
    common::make_test_file(&path, 300_000).await.unwrap();
    server
        .state()
        .inject(FaultTarget::ObjectPut, Fault::new(2, status(403)));
    let session = client
        .uploads()
        .session(UploadInitiate::for_files(PROJECT, [300_000]))
        .await
        .unwrap();
    let progress = common::Progress::default();
    let signatures = common::put_resigning(
        &session,
        client.client.http_client(),
        &path,
        "a.tif",
        "image/tiff",
        &progress,
        3,
    )
    .await
    .unwrap();
    assert_eq!(signatures, 3);
    assert_eq!(progress.bytes(), 300_000);
    session.complete().await.unwrap();
    assert_eq!(
        (server.state().reserved_bytes(), server.state().used_bytes()),
        (0, 300_000)
    );
}

#[tokio::test]
async fn an_expired_signed_url_is_a_403_the_helper_reports() {
    let server =
        DevServer::start_with(geopera::dev_server::DevConfig::default().url_ttl(Duration::ZERO))
            .await
            .unwrap();
    server.state().add_project(PROJECT);
    let client = Geopera::builder()
        .base_url(server.base_url())
        .token(server.token())
        .build()
        .unwrap();
    let scratch = common::Scratch::new("expired-test").unwrap();
    let path = scratch.path("a.tif");
    common::make_test_file(&path, 1000).await.unwrap();
    let session = client
        .uploads()
        .session(UploadInitiate::for_files(PROJECT, [1000]))
        .await
        .unwrap();
    let e = common::put_resigning(
        &session,
        client.client.http_client(),
        &path,
        "a.tif",
        "image/tiff",
        &common::Progress::default(),
        2,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("403"), "{e}");
    assert!(
        !e.to_string().contains("X-Geopera-Signature"),
        "no signature in the error: {e}"
    );
    session.fail(&e.to_string(), "transfer").await.unwrap();
    assert_eq!(server.state().reserved_bytes(), 0);
}
