//! The `blocking` feature: `send_blocking` works from plain synchronous code and returns a
//! typed error, not a panic, inside an async runtime.
#![cfg(feature = "blocking")]

mod support;

use geopera::models::{UploadInitiate, UploadProgressInput};
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

/// The blocking fluent client mirrors the async one call for call, from plain sync code.
#[test]
fn the_blocking_fluent_client_mirrors_the_async_one() {
    let (server, thread, stop) = server_on_its_own_runtime();
    server.reply(Reply::json(200, json!({"id": "u1"})));
    server.reply(Reply::json(
        200,
        json!({"upload_url": "http://h/o?sig=S", "object_path": "o"}),
    ));
    server.reply(Reply::json(200, json!({"id": "u1"})).header("x-request-id", "r-1"));
    server.reply(Reply::json(
        200,
        json!({"id": "u1", "item_ids": ["it_1"], "status": "completed"}),
    ));
    server.reply(Reply::json(200, json!({"url": "http://h/d?sig=S"})));
    server.reply(Reply::json(200, json!({"job_id": "c", "downloads": []})));
    server.reply(Reply::json(200, json!({"url": "http://h/c?sig=S"})));
    server.reply(Reply::json(200, json!({"id": "u1"})));
    server.reply(Reply::problem(
        402,
        "Payment Required",
        "Storage quota exceeded",
    ));
    let client = geopera::blocking::Geopera::from(server.client());
    let session = client
        .uploads()
        .initiate(json!({"project_id": "p", "transfer_method": "signed_url"}))
        .send()
        .unwrap();
    let upload_id: String = session.id;
    let signed = client
        .uploads()
        .signed_url(json!({"upload_id": upload_id, "file_name": "a.tif"}))
        .send()
        .unwrap();
    assert_eq!(signed.object_path, "o");
    let resp = client
        .uploads()
        .progress(UploadProgressInput::new(&upload_id, "uploading", 5))
        .detailed()
        .unwrap();
    assert_eq!((resp.status_code(), resp.request_id()), (200, Some("r-1")));
    let result = client.uploads().complete(&upload_id).send().unwrap();
    assert_eq!(result.item_ids(), ["it_1"]);
    let d = client
        .items()
        .asset()
        .download(json!({"item_id": "it_1", "asset_id": "a"}))
        .send()
        .unwrap();
    assert!(d.url().is_some());
    client
        .clip()
        .job()
        .downloads(json!({"job_id": "c"}))
        .send()
        .unwrap();
    client
        .clip()
        .job()
        .download(json!({"job_id": "c", "mosaic_type": "visual"}))
        .send()
        .unwrap();
    let out = client
        .call(
            ops::UploadsFail,
            json!({"upload_id": "u1", "error_message": "m"}),
        )
        .send()
        .unwrap();
    assert_eq!(out.id, "u1");
    let e = client
        .invoke("uploads.initiate", json!({"project_id": "p"}))
        .unwrap_err();
    assert_eq!(e.status_code(), Some(402));
    let paths: Vec<_> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/v1/op/uploads.initiate",
            "/v1/op/uploads.signed_url",
            "/v1/op/uploads.progress",
            "/v1/op/uploads.complete",
            "/v1/op/items.asset.download",
            "/v1/op/clip.job.downloads",
            "/v1/op/clip.job.download",
            "/v1/op/uploads.fail",
            "/v1/op/uploads.initiate",
        ]
    );
    assert_eq!(server.requests()[3].json(), json!({"upload_id": "u1"}));
    stop.send(()).unwrap();
    thread.join().unwrap();
}

/// The blocking session guard: completes, and a session dropped open is failed.
#[test]
fn the_blocking_session_guard_completes_or_fails() {
    let (server, thread, stop) = server_on_its_own_runtime();
    server.reply(Reply::json(200, json!({"id": "u1"})));
    server.reply(Reply::json(
        200,
        json!({"upload_url": "http://h/o?sig=S", "object_path": "o"}),
    ));
    server.reply(Reply::json(200, json!({"id": "u1", "item_ids": ["it_1"]})));
    server.reply(Reply::json(200, json!({"id": "u2"})));
    server.reply(Reply::json(200, json!({"id": "u2"})));
    let client = geopera::blocking::Geopera::from(server.client());
    let session = client
        .uploads()
        .session(UploadInitiate::for_files("p", [3]))
        .unwrap();
    session.sign("a.tif", "image/tiff").unwrap();
    let done = session.complete().unwrap();
    assert_eq!(done.id(), Some("u1"));
    let open = client.uploads().session(UploadInitiate::new("p")).unwrap();
    assert!(open.is_open());
    drop(open);
    client.settle_abandoned().unwrap();
    let last = server.requests().pop().unwrap();
    assert_eq!(last.path, "/v1/op/uploads.fail");
    assert_eq!(last.json()["upload_id"], "u2");
    assert_eq!(last.json()["error_step"], "abandoned");
    stop.send(()).unwrap();
    thread.join().unwrap();
}

#[tokio::test]
async fn the_blocking_fluent_client_inside_a_runtime_is_an_error_not_a_panic() {
    let server = Scripted::start().await;
    let client = geopera::blocking::Geopera::from(server.client());
    let e = client
        .uploads()
        .initiate(UploadInitiate::new("p"))
        .send()
        .unwrap_err();
    assert!(matches!(e, Error::BlockingInRuntime { .. }), "{e:?}");
    assert_eq!(e.operation(), "uploads.initiate");
    let e = client.invoke("uploads.complete", json!({})).unwrap_err();
    assert!(matches!(e, Error::BlockingInRuntime { .. }), "{e:?}");
    let e = client
        .uploads()
        .session(UploadInitiate::new("p"))
        .unwrap_err();
    assert!(matches!(e, Error::BlockingInRuntime { .. }), "{e:?}");
    assert!(server.requests().is_empty());
}

/// `block_on` runs async code built on the wrapped client on the blocking client's own
/// runtime: its calls share the pool with the blocking calls before and after it.
#[test]
fn block_on_runs_async_code_on_the_clients_runtime() {
    let (server, thread, stop) = server_on_its_own_runtime();
    for id in ["u1", "u2", "u3", "u4"] {
        server.reply(Reply::json(200, json!({"id": id})));
    }
    let client = geopera::blocking::Geopera::from(server.client());
    let progress = |id: &str| UploadProgressInput::new(id, "uploading", 1);
    client.uploads().progress(progress("a")).send().unwrap();
    let (first, second) = client
        .block_on("uploads.progress", async {
            let uploads = client.as_async().uploads();
            tokio::try_join!(
                uploads.progress(progress("b")).into_future(),
                uploads.progress(progress("c")).into_future(),
            )
        })
        .unwrap();
    let mut ids = [first.id, second.id];
    ids.sort();
    assert_eq!(ids, ["u2", "u3"]);
    let last = client.uploads().progress(progress("d")).send().unwrap();
    assert_eq!(last.id, "u4");
    assert_eq!(server.requests().len(), 4);
    stop.send(()).unwrap();
    thread.join().unwrap();
}

#[tokio::test]
async fn block_on_inside_a_runtime_is_an_error_and_never_polls_the_future() {
    let server = Scripted::start().await;
    let client = geopera::blocking::Geopera::from(server.client());
    let polled = std::sync::atomic::AtomicBool::new(false);
    let e = client
        .block_on("storage.put", async {
            polled.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(e, Error::BlockingInRuntime { .. }), "{e:?}");
    assert_eq!(e.operation(), "storage.put");
    assert!(!polled.load(std::sync::atomic::Ordering::SeqCst));
    assert!(server.requests().is_empty());
}
