//! Faults injected by the dev server, through the SDK: 5xx bursts, `Retry-After`, slow
//! responses against the timeout, dropped connections, truncated JSON and an HTML 500.
//! Each asserts the attempts made, the error returned and that no quota stays reserved.
//! (Storage's faults, a rejected or expired signed URL among them, are met by
//! geopera-transfer and tested there.)

use std::time::{Duration, Instant};

use geopera::models::{UploadFailInput, UploadInitiate, UploadProgressInput};
use geopera::{Error, Geopera, RetryPolicy, TransportKind};
use geopera_dev_server::{DevServer, Fault, FaultKind, FaultTarget};

const PROJECT: &str = "prj_faults";

async fn setup(policy: RetryPolicy, timeout: Duration) -> (DevServer, Geopera) {
    let server = DevServer::start().await.expect("dev server");
    server.state().add_project(PROJECT);
    let client = server
        .client_builder()
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

/// A dev server, a client with the fast retry policy, and one open upload session whose
/// progress the tests report while faults are queued.
struct Session {
    server: DevServer,
    client: Geopera,
    id: String,
}

impl Session {
    async fn open(timeout: Duration) -> Session {
        let (server, client) = setup(fast(), timeout).await;
        let id = client
            .uploads()
            .initiate(UploadInitiate::for_files(PROJECT, [64]))
            .await
            .expect("initiate")
            .id;
        Session { server, client, id }
    }

    /// Queues `times` faults of `kind` for `operation`; returns their target.
    fn fault(&self, operation: &str, times: u32, kind: FaultKind) -> FaultTarget {
        let target = FaultTarget::operation(operation);
        self.server
            .state()
            .inject(target.clone(), Fault::new(times, kind));
        target
    }

    fn pending(&self, target: &FaultTarget) -> u32 {
        self.server.state().pending_faults(target)
    }

    /// Reports progress through `client`.
    async fn progress_with(&self, client: &Geopera, bytes: u64) -> Result<(), Error> {
        client
            .uploads()
            .progress(UploadProgressInput::new(&self.id, "uploading", bytes))
            .await
            .map(drop)
    }

    async fn progress(&self) -> Result<(), Error> {
        self.progress_with(&self.client, 1).await
    }

    /// Fails the session and checks that no quota stays reserved.
    async fn release(self) {
        self.client
            .uploads()
            .fail(UploadFailInput::new(&self.id, "test over").step("test"))
            .await
            .expect("fail");
        assert_eq!(
            self.server.state().reserved_bytes(),
            0,
            "no quota left reserved"
        );
    }
}

const PATIENT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_503_burst_is_ridden_out() {
    let s = Session::open(PATIENT).await;
    let target = s.fault("uploads.progress", 2, status(503));
    s.fault("uploads.progress", 1, status(502));
    s.progress().await.expect("fourth attempt succeeds");
    assert_eq!(s.pending(&target), 0, "three faulted attempts");
    assert_eq!(
        s.server.state().calls("uploads.progress"),
        1,
        "then one that reached the handler"
    );
    s.release().await;
}

#[tokio::test]
async fn a_longer_burst_exhausts_the_attempts() {
    let s = Session::open(PATIENT).await;
    let target = s.fault("uploads.progress", 10, status(503));
    let e = s.progress().await.unwrap_err();
    assert!(
        matches!(e, Error::UnexpectedStatus { .. }),
        "503 is not a declared status: {e:?}"
    );
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(s.pending(&target), 6, "exactly four attempts");
    s.release().await;
}

#[tokio::test]
async fn a_declared_500_is_not_retried() {
    let s = Session::open(PATIENT).await;
    let target = s.fault("uploads.progress", 2, status(500));
    let e = s.progress().await.unwrap_err();
    assert!(matches!(e, Error::Problem { .. }), "{e:?}");
    assert_eq!(s.pending(&target), 1, "one attempt");
    s.release().await;
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let s = Session::open(PATIENT).await;
    let kind = FaultKind::Status {
        status: 429,
        retry_after: Some(1),
    };
    s.fault("uploads.progress", 1, kind);
    let started = Instant::now();
    s.progress().await.expect("second attempt");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the server asked for a one-second pause"
    );
    s.release().await;
}

#[tokio::test]
async fn initiate_is_not_repeated_after_a_503_and_reserves_nothing() {
    let (server, client) = setup(fast(), PATIENT).await;
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
    let s = Session::open(Duration::from_millis(300)).await;
    let slow = FaultKind::Delay(Duration::from_secs(5));
    let target = s.fault("uploads.progress", 1, slow.clone());
    s.progress().await.expect("retry after the timeout");
    assert_eq!(s.pending(&target), 0);

    let strict = Geopera::from(s.client.client.with_retry_policy(RetryPolicy::disabled()));
    s.fault("uploads.progress", 1, slow);
    let e = s.progress_with(&strict, 2).await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(matches!(
        e,
        Error::Transport {
            kind: TransportKind::Timeout,
            ..
        }
    ));
    s.release().await;
}

#[tokio::test]
async fn a_dropped_connection_is_retried_only_where_safe() {
    let s = Session::open(PATIENT).await;
    let progress = s.fault("uploads.progress", 1, FaultKind::DropConnection);
    s.progress().await.expect("idempotent: retried");
    assert_eq!(s.pending(&progress), 0);

    s.fault("uploads.initiate", 1, FaultKind::DropConnection);
    let e = s
        .client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [64]))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(
        s.server.state().sessions().len(),
        1,
        "the dropped initiate created no session"
    );
    s.release().await;
}

#[tokio::test]
async fn truncated_json_and_html_500_are_decode_errors_with_status() {
    let s = Session::open(PATIENT).await;
    let target = s.fault("uploads.progress", 1, FaultKind::TruncatedJson);
    let e = s.progress().await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(200));

    s.fault("uploads.progress", 1, FaultKind::Html500);
    let e = s.progress().await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert!(
        e.body().is_some_and(|b| b.as_str().contains("<html")),
        "{e}"
    );
    assert_eq!(s.pending(&target), 0, "neither was retried");
    s.release().await;
}
