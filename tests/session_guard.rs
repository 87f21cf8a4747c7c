//! The `UploadSession` guard against the dev server: every way out of a session leaves no
//! reservation behind — complete, fail, an early `?`, a panic, a cancelled task, a failed
//! completion, and a drop outside any runtime.

use std::time::Duration;

use geopera::Geopera;
use geopera::fluent::ABANDONED_STEP;
use geopera::models::UploadInitiate;
use geopera_dev_server::{DevServer, Fault, FaultKind, FaultTarget, SessionStatus};

const PROJECT: &str = "prj_guard";

async fn setup() -> (DevServer, Geopera) {
    let server = DevServer::start().await.expect("dev server");
    server.state().add_project(PROJECT);
    let client = server.client_builder().build().expect("client");
    (server, client)
}

fn initiate(bytes: u64) -> UploadInitiate {
    UploadInitiate::for_files(PROJECT, [bytes])
}

async fn put(client: &Geopera, url: &geopera::models::SignedUrl, body: &'static [u8]) {
    client
        .client
        .http_client()
        .put(url.expose())
        .header("content-type", "image/tiff")
        .body(body)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

#[tokio::test]
async fn complete_turns_the_reservation_into_used_storage() {
    let (server, client) = setup().await;
    let session = client.uploads().session(initiate(4)).await.unwrap();
    assert_eq!(server.state().reserved_bytes(), 4);
    let signed = session.sign("a.tif", "image/tiff").await.unwrap();
    put(&client, &signed.upload_url, b"II*\0").await;
    session.progress("uploading", 4).await.unwrap();
    let result = session.complete().await.unwrap();
    assert_eq!(result["item_ids"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (server.state().reserved_bytes(), server.state().used_bytes()),
        (0, 4)
    );
    client.settle_abandoned().await;
    assert_eq!(
        server.state().calls("uploads.fail"),
        0,
        "a completed session is not failed"
    );
}

#[tokio::test]
async fn explicit_fail_records_message_and_step() {
    let (server, client) = setup().await;
    let session = client.uploads().session(initiate(10)).await.unwrap();
    let id = session.id().to_owned();
    session.fail("disk full", "transfer").await.unwrap();
    let s = server.state().session(&id).unwrap();
    assert_eq!(
        (
            s.status,
            s.error_step.as_deref(),
            s.error_message.as_deref()
        ),
        (SessionStatus::Failed, Some("transfer"), Some("disk full"))
    );
    assert_eq!(server.state().reserved_bytes(), 0);
}

async fn early_return(client: &Geopera) -> Result<(), geopera::Error> {
    let session = client.uploads().session(initiate(100)).await?;
    // An empty file name fails locally: `?` returns with the session still open.
    session.sign("", "image/tiff").await?;
    session.complete().await.map(|_| ())
}

#[tokio::test]
async fn an_early_question_mark_releases_the_reservation() {
    let (server, client) = setup().await;
    assert!(early_return(&client).await.is_err());
    client.settle_abandoned().await;
    assert_eq!(server.state().reserved_bytes(), 0);
    let s = &server.state().sessions()[0];
    assert_eq!(
        (s.status, s.error_step.as_deref()),
        (SessionStatus::Failed, Some(ABANDONED_STEP))
    );
}

#[tokio::test]
async fn a_panic_releases_the_reservation() {
    let (server, client) = setup().await;
    let task = {
        let client = client.clone();
        tokio::spawn(async move {
            let _session = client.uploads().session(initiate(7)).await.unwrap();
            panic!("the transfer code blew up");
        })
    };
    assert!(task.await.unwrap_err().is_panic());
    client.settle_abandoned().await;
    assert_eq!(server.state().reserved_bytes(), 0);
    let s = &server.state().sessions()[0];
    assert_eq!(s.error_step.as_deref(), Some(ABANDONED_STEP));
    assert_eq!(s.error_message.as_deref(), Some("the upload task panicked"));
}

#[tokio::test]
async fn a_cancelled_task_releases_the_reservation() {
    let (server, client) = setup().await;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let task = {
        let client = client.clone();
        tokio::spawn(async move {
            let session = client.uploads().session(initiate(9)).await.unwrap();
            started_tx.send(session.id().to_owned()).unwrap();
            std::future::pending::<()>().await;
            drop(session);
        })
    };
    let id = started_rx.await.unwrap();
    assert_eq!(server.state().reserved_bytes(), 9);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    client.settle_abandoned().await;
    assert_eq!(server.state().reserved_bytes(), 0);
    assert_eq!(
        server.state().session(&id).unwrap().status,
        SessionStatus::Failed
    );
}

#[tokio::test]
async fn a_failed_completion_fails_the_session() {
    let (server, client) = setup().await;
    server.state().inject(
        FaultTarget::operation("uploads.complete"),
        Fault::new(
            3,
            FaultKind::Status {
                status: 500,
                retry_after: None,
            },
        ),
    );
    let session = client.uploads().session(initiate(5)).await.unwrap();
    let id = session.id().to_owned();
    let e = session.complete().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(server.state().reserved_bytes(), 0);
    assert_eq!(
        server.state().session(&id).unwrap().error_step.as_deref(),
        Some("complete")
    );
}

#[test]
fn a_drop_outside_any_runtime_still_releases() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, client) = rt.block_on(setup());
    let session = rt.block_on(client.uploads().session(initiate(11))).unwrap();
    assert_eq!(server.state().reserved_bytes(), 11);
    drop(session); // no runtime entered on this thread: the release runs on its own thread
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), client.settle_abandoned())
            .await
            .expect("release finished");
    });
    assert_eq!(server.state().reserved_bytes(), 0);
}
