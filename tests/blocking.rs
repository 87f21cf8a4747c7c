//! The `blocking` feature: `send_blocking` works from plain synchronous code and returns a
//! typed error, not a panic, inside an async runtime.
#![cfg(feature = "blocking")]

mod support;

use geopera::models::UploadProgressInput;
use geopera::{Error, ops};
use serde_json::json;
use support::{Reply, Scripted};

/// Starts the scripted server on a runtime of its own thread, as a synchronous test must.
fn server_on_its_own_runtime() -> (
    Scripted,
    std::thread::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            ready_tx.send(Scripted::start().await).unwrap();
            let _ = stop_rx.await;
        });
    });
    (ready_rx.recv().unwrap(), thread, stop_tx)
}

#[test]
fn send_blocking_works_without_a_runtime() {
    let (server, thread, stop) = server_on_its_own_runtime();
    server.reply(Reply::json(200, json!({"id": "u1"})));
    server.reply(Reply::problem(404, "Not Found", "no session"));
    let client = server.client();
    let out = ops::uploads_progress::send_blocking(
        &client,
        &UploadProgressInput::new("u1", "uploading", 5),
    )
    .unwrap();
    assert_eq!(out.id, "u1");
    let e = ops::uploads_progress::send_detailed_blocking(
        &client,
        &UploadProgressInput::new("u2", "uploading", 5),
    )
    .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(server.requests().len(), 2);
    stop.send(()).unwrap();
    thread.join().unwrap();
}

#[tokio::test]
async fn send_blocking_inside_a_runtime_is_an_error_not_a_panic() {
    let server = Scripted::start().await;
    let e = ops::uploads_progress::send_blocking(
        &server.client(),
        &UploadProgressInput::new("u", "x", 1),
    )
    .unwrap_err();
    assert!(matches!(e, Error::BlockingInRuntime { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("uploads.progress: a blocking call"),
        "{e}"
    );
    assert!(server.requests().is_empty());
}
