//! The blocking twins (feature `blocking`) from plain synchronous tests against the dev
//! server (hosted on a runtime of its own thread, as a synchronous caller's server would
//! be), and the typed error they return inside an async runtime.
#![cfg(feature = "blocking")]

mod support;

use geopera::Error;
use geopera::models::ClipJobInput;
use geopera_dev_server::{DevServer, DevState, SessionStatus};
use geopera_transfer::{DownloadOptions, UploadOptions, blocking};
use support::{PROJECT, Scratch, bytes, quick_retries, write};

/// The dev server on a runtime of its own thread; stopped on drop.
struct DevThread {
    state: DevState,
    client: geopera::blocking::Geopera,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DevThread {
    fn start() -> DevThread {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async move {
                let server = DevServer::start().await.expect("dev server");
                server.state().add_project(PROJECT);
                let builder = server.client_builder().retry_policy(quick_retries());
                ready_tx
                    .send((server.state().clone(), builder))
                    .expect("ready");
                let _ = tokio::task::spawn_blocking(move || stopped.recv()).await;
                server.shutdown().await;
            });
        });
        let (state, builder) = ready_rx.recv().expect("the dev server started");
        DevThread {
            state,
            client: builder.build_blocking().expect("client"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for DevThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn uploads_and_downloads_run_from_plain_synchronous_code() {
    let dev = DevThread::start();
    let client = &dev.client;
    let dir = Scratch::new("blocking-roundtrip");
    let (one, two) = (bytes(300_000, 1), bytes(1_000, 2));
    write(&dir.path("harbour.tif"), &one);
    write(&dir.path("meta.json"), &two);

    let up = blocking::upload_file(
        client,
        PROJECT,
        dir.path("harbour.tif"),
        UploadOptions::default(),
    )
    .expect("upload_file");
    let file = &up.files[0];
    assert_eq!((file.bytes, file.asset_key.as_str()), (300_000, "harbour"));
    let session = dev.state.session(&up.upload_id).expect("session");
    assert_eq!(session.status, SessionStatus::Completed);

    let many = blocking::upload_files(
        client,
        PROJECT,
        [dir.path("meta.json")],
        UploadOptions::default().target_item(file.item_id.clone().expect("item"), None),
    )
    .expect("upload_files");
    assert_eq!(many.files[0].content_type, "application/json");
    assert_eq!(dev.state.reserved_bytes(), 0);

    let item_id = file.item_id.as_deref().expect("item id");
    let got = blocking::download_asset(
        client,
        item_id,
        "harbour",
        dir.path("copy.tif"),
        DownloadOptions::default(),
    )
    .expect("download_asset");
    assert_eq!(got.bytes, 300_000);
    assert_eq!(std::fs::read(dir.path("copy.tif")).expect("read"), one);
    let meta = blocking::download_asset(
        client,
        item_id,
        "meta",
        dir.path("meta-copy.json"),
        DownloadOptions::default(),
    )
    .expect("the second asset");
    assert_eq!(meta.bytes, 1_000);

    dev.state
        .add_clip_job("clip_1", &[("visual", "visual.tif", &two, "image/tiff")])
        .expect("seed clip");
    blocking::download_clip(
        client,
        "clip_1",
        "visual",
        dir.path("clip.tif"),
        DownloadOptions::default(),
    )
    .expect("download_clip");
    assert_eq!(std::fs::read(dir.path("clip.tif")).expect("read"), two);
    let offered = client
        .clip()
        .job()
        .downloads(ClipJobInput::new("clip_1"))
        .send()
        .expect("clip.job.downloads");
    let descriptor = client
        .clip()
        .job()
        .download(geopera::models::ClipDownloadInput::new("clip_1", "visual"))
        .send()
        .expect("clip.job.download");
    assert!(offered.to_string().contains("visual"), "{offered}");
    blocking::download_descriptor(
        client,
        &descriptor,
        dir.path("clip-again.tif"),
        DownloadOptions::default(),
    )
    .expect("download_descriptor");
    assert_eq!(
        std::fs::read(dir.path("clip-again.tif")).expect("read"),
        two
    );
    // And the blocking client's own calls still work on the shared pool afterwards.
    client
        .items()
        .asset()
        .download(geopera::models::AssetDownloadInput::new(item_id, "harbour"))
        .send()
        .expect("a call after the transfers");
}

#[test]
fn a_failed_blocking_upload_releases_its_reservation() {
    let dev = DevThread::start();
    let dir = Scratch::new("blocking-fail");
    write(&dir.path("a.tif"), &bytes(5_000, 3));
    dev.state.inject(
        geopera_dev_server::FaultTarget::ObjectPut,
        geopera_dev_server::Fault::new(
            1,
            geopera_dev_server::FaultKind::Status {
                status: 400,
                retry_after: None,
            },
        ),
    );
    let e = blocking::upload_file(
        &dev.client,
        PROJECT,
        dir.path("a.tif"),
        UploadOptions::default(),
    )
    .expect_err("a 400 from storage");
    assert_eq!((e.operation(), e.status_code()), ("storage.put", Some(400)));
    assert_eq!(dev.state.reserved_bytes(), 0);
}

#[tokio::test]
async fn inside_a_runtime_every_twin_is_an_error_and_nothing_is_sent() {
    let server = DevServer::start().await.expect("dev server");
    server.state().add_project(PROJECT);
    let client = server.client_builder().build_blocking().expect("client");
    let dir = Scratch::new("blocking-in-runtime");
    write(&dir.path("a.tif"), b"II*\0");
    let descriptor = geopera::models::Descriptor::new(serde_json::json!({
        "url": "http://127.0.0.1:9/o?sig=s"
    }));
    let errors = [
        blocking::upload_file(
            &client,
            PROJECT,
            dir.path("a.tif"),
            UploadOptions::default(),
        )
        .map(drop),
        blocking::upload_files(
            &client,
            PROJECT,
            [dir.path("a.tif")],
            UploadOptions::default(),
        )
        .map(drop),
        blocking::download_asset(&client, "i", "a", dir.path("b"), DownloadOptions::default())
            .map(drop),
        blocking::download_clip(&client, "c", "v", dir.path("b"), DownloadOptions::default())
            .map(drop),
        blocking::download_descriptor(
            &client,
            &descriptor,
            dir.path("b"),
            DownloadOptions::default(),
        )
        .map(drop),
    ];
    let operations: Vec<&str> = errors
        .iter()
        .map(|r| match r {
            Err(e @ Error::BlockingInRuntime { .. }) => e.operation(),
            other => panic!("not BlockingInRuntime: {other:?}"),
        })
        .collect();
    assert_eq!(
        operations,
        [
            "storage.put",
            "storage.put",
            "storage.get",
            "storage.get",
            "storage.get"
        ]
    );
    assert!(errors[0].as_ref().is_err_and(|e| {
        e.to_string()
            .contains("a blocking call was made inside an async runtime")
    }),);
    assert_eq!(server.state().calls("uploads.initiate"), 0);
    assert_eq!(server.state().calls("items.asset.download"), 0);
    assert_eq!(dir.listing(), ["a.tif"]);
}
