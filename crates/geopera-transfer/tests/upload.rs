//! Uploads through the dev server: what the session covers, what each file became, and
//! that every failure (and a dropped future) releases the reservation.

mod support;

use std::sync::{Arc, Mutex};

use geopera::RetryPolicy;
use geopera_dev_server::{Fault, FaultKind, FaultTarget, SessionStatus};
use geopera_transfer::progress::from_fn;
use geopera_transfer::{ProgressEvent, UploadOptions, upload_file, upload_files};
use support::*;

#[tokio::test]
async fn one_file_is_streamed_completed_and_reported_to_the_last_byte() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-one");
    let data = bytes(3 * 1024 * 1024 + 17, 1);
    let path = dir.path("harbour_2024.TIF");
    write(&path, &data);

    let last = Arc::new(Mutex::new(None));
    let seen = last.clone();
    let options = UploadOptions::default().progress(from_fn(move |e: &ProgressEvent<'_>| {
        let files: Vec<_> = e.files.iter().map(|f| (f.bytes, f.total)).collect();
        *seen.lock().expect("lock") = Some((e.bytes, e.total, e.finished, files));
    }));
    let result = upload_file(&client, PROJECT, &path, options)
        .await
        .expect("upload");

    let len = data.len() as u64;
    assert_eq!(
        *last.lock().expect("lock"),
        Some((len, Some(len), true, vec![(len, Some(len))]))
    );
    let session = server.state().session(&result.upload_id).expect("session");
    assert_eq!((session.file_count, session.total_bytes), (1, len));
    assert_eq!(session.status, SessionStatus::Completed);
    assert_eq!(server.state().reserved_bytes(), 0);

    let file = &result.files[0];
    assert_eq!(file.file_name, "harbour_2024.TIF");
    assert_eq!(file.content_type, "image/tiff");
    assert_eq!(file.asset_key, "harbour_2024");
    assert_eq!((file.bytes, file.signatures), (len, 1));
    let item = server
        .state()
        .item(file.item_id.as_deref().expect("item id"))
        .expect("item");
    assert_eq!(item.assets[0].key, "harbour_2024");
    assert_eq!(item.assets[0].size, len);
    assert_eq!(item.assets[0].content_type, "image/tiff");
    assert_eq!(item.assets[0].object_path, file.object_path);
    assert_eq!(server.state().calls("storage.put"), 1);
    assert_eq!(
        server.state().calls("uploads.progress"),
        0,
        "off by default"
    );
}

#[tokio::test]
async fn many_files_share_one_session_and_each_maps_to_its_item() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-many");
    let names = [
        "b04.tif",
        "meta.json",
        "scene.geojson",
        "raw.bin",
        "preview.png",
    ];
    let mut paths = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = dir.path(name);
        write(&path, &bytes(1000 * (i + 1), i as u64));
        paths.push(path);
    }
    let result = upload_files(
        &client,
        PROJECT,
        &paths,
        UploadOptions::default().concurrency(2).api_progress(true),
    )
    .await
    .expect("upload");

    let session = server.state().session(&result.upload_id).expect("session");
    assert_eq!(session.file_count, 5);
    assert_eq!(session.total_bytes, 15_000);
    // One report per file, the last with every byte.
    assert_eq!(server.state().calls("uploads.progress"), 5);
    assert_eq!(session.bytes_uploaded, Some(15_000));
    assert_eq!(session.progress_status.as_deref(), Some("uploading"));
    assert_eq!(server.state().calls("uploads.complete"), 1);
    let types = [
        "image/tiff",
        "application/json",
        "application/geo+json",
        "application/octet-stream",
        "image/png",
    ];
    for ((file, name), ct) in result.files.iter().zip(names).zip(types) {
        assert_eq!(file.file_name, name);
        assert_eq!(file.content_type, ct);
        let item = server
            .state()
            .item(file.item_id.as_deref().expect("item id"))
            .expect("item");
        assert_eq!(item.assets.len(), 1);
        assert_eq!(item.assets[0].key, file.asset_key, "{name}");
        assert_eq!(item.assets[0].size, file.bytes, "{name}");
        assert_eq!(item.assets[0].content_type, ct);
    }
}

#[tokio::test]
async fn a_target_item_gets_the_asset_under_the_given_key_and_explicit_type() {
    let (server, client) = dev().await;
    server
        .state()
        .add_item("itm_target", PROJECT, "visual", b"old", "image/tiff")
        .expect("seed");
    let dir = Scratch::new("upload-target");
    let path = dir.path("ndvi_v2.dat");
    write(&path, &bytes(4096, 9));
    let options = UploadOptions::default()
        .target_item("itm_target", Some("ndvi".into()))
        .content_type("image/tiff");
    let result = upload_file(&client, PROJECT, &path, options)
        .await
        .expect("upload");
    let file = &result.files[0];
    assert_eq!(file.item_id.as_deref(), Some("itm_target"));
    assert_eq!(file.asset_key, "ndvi");
    let item = server.state().item("itm_target").expect("item");
    let asset = item
        .assets
        .iter()
        .find(|a| a.key == "ndvi")
        .expect("ndvi asset");
    assert_eq!(
        (asset.size, asset.content_type.as_str()),
        (4096, "image/tiff")
    );
}

#[tokio::test]
async fn transient_put_failures_are_put_again_and_a_403_signs_again() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-retry");
    let path = dir.path("a.tif");
    write(&path, &bytes(300_000, 2));
    let state = server.state();
    state.inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::DropConnection),
    );
    state.inject(
        FaultTarget::ObjectPut,
        Fault::new(
            1,
            FaultKind::Status {
                status: 503,
                retry_after: None,
            },
        ),
    );
    state.inject(
        FaultTarget::ObjectPut,
        Fault::new(
            1,
            FaultKind::Status {
                status: 403,
                retry_after: None,
            },
        ),
    );
    let result = upload_file(&client, PROJECT, &path, UploadOptions::default())
        .await
        .expect("upload");
    assert_eq!(state.pending_faults(&FaultTarget::ObjectPut), 0);
    assert_eq!(result.files[0].signatures, 2);
    assert_eq!(state.calls("uploads.signed_url"), 2);
    assert_eq!(state.calls("storage.put"), 1);
    assert_eq!(state.reserved_bytes(), 0);
}

#[tokio::test]
async fn a_failed_put_fails_the_session_with_a_storage_error_and_no_signature() {
    let (server, client) = dev().await;
    let client = geopera::Geopera::from(client.client.with_retry_policy(RetryPolicy::disabled()));
    let dir = Scratch::new("upload-fail");
    let path = dir.path("a.tif");
    write(&path, &bytes(10_000, 3));
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(
            1,
            FaultKind::Status {
                status: 503,
                retry_after: None,
            },
        ),
    );
    let e = upload_file(&client, PROJECT, &path, UploadOptions::default())
        .await
        .expect_err("a 503 with retries disabled");
    assert_eq!(e.operation(), "storage.put");
    assert_eq!(e.status_code(), Some(503));
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains("secret") && !text.contains("Signature="),
        "{text}"
    );
    let session = &server.state().sessions()[0];
    assert_eq!(session.status, SessionStatus::Failed);
    assert_eq!(server.state().reserved_bytes(), 0);
}

#[tokio::test]
async fn too_many_403s_fail_and_a_missing_file_initiates_nothing() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-403");
    let path = dir.path("a.tif");
    write(&path, &bytes(1000, 4));
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(
            5,
            FaultKind::Status {
                status: 403,
                retry_after: None,
            },
        ),
    );
    let e = upload_file(
        &client,
        PROJECT,
        &path,
        UploadOptions::default().max_signatures(2),
    )
    .await
    .expect_err("403 twice");
    assert_eq!(e.status_code(), Some(403));
    assert_eq!(server.state().calls("uploads.signed_url"), 2);
    assert_eq!(server.state().reserved_bytes(), 0);

    let e = upload_file(
        &client,
        PROJECT,
        dir.path("missing.tif"),
        UploadOptions::default(),
    )
    .await
    .expect_err("no such file");
    assert!(matches!(e, geopera::Error::Io { .. }), "{e:?}");
    assert_eq!(server.state().sessions().len(), 1);
}

#[tokio::test]
async fn a_dropped_upload_releases_its_reservation() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-drop");
    let path = dir.path("big.tif");
    write(&path, &bytes(8 * 1024 * 1024, 5));
    // The server holds every PUT until the test ends; the upload is dropped mid-way.
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::Delay(std::time::Duration::from_secs(3600))),
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let options = UploadOptions::default().progress(from_fn(move |e: &ProgressEvent<'_>| {
        if e.bytes > 0
            && let Some(tx) = tx.lock().expect("lock").take()
        {
            let _ = tx.send(());
        }
    }));
    tokio::select! {
        r = upload_file(&client, PROJECT, &path, options) => panic!("the upload ended: {r:?}"),
        _ = rx => {}
    }
    assert!(server.state().reserved_bytes() > 0);
    client.settle_abandoned().await;
    assert_eq!(server.state().reserved_bytes(), 0);
    assert_eq!(server.state().sessions()[0].status, SessionStatus::Failed);
}

#[tokio::test]
async fn one_failed_file_of_many_means_no_complete_and_a_failed_session() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-many-fail");
    let paths: Vec<_> = (0..3)
        .map(|i| {
            let path = dir.path(&format!("f{i}.tif"));
            write(&path, &bytes(5000, i));
            path
        })
        .collect();
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(
            1,
            FaultKind::Status {
                status: 404,
                retry_after: None,
            },
        ),
    );
    let e = upload_files(
        &client,
        PROJECT,
        &paths,
        UploadOptions::default().concurrency(1),
    )
    .await
    .expect_err("a 404 is final");
    assert_eq!((e.operation(), e.status_code()), ("storage.put", Some(404)));
    assert_eq!(server.state().calls("uploads.complete"), 0);
    let session = &server.state().sessions()[0];
    assert_eq!(session.status, SessionStatus::Failed);
    assert_eq!(session.error_step.as_deref(), Some("transfer"));
    assert!(
        session
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("storage.put: "))
    );
    assert_eq!(server.state().reserved_bytes(), 0);
}

#[tokio::test]
async fn urls_that_are_expired_when_used_fail_after_the_signature_budget() {
    let server = geopera_dev_server::DevServer::start_with(
        geopera_dev_server::DevConfig::default().url_ttl(std::time::Duration::ZERO),
    )
    .await
    .expect("dev server");
    server.state().add_project(PROJECT);
    let client = server
        .client_builder()
        .retry_policy(quick_retries())
        .build()
        .expect("client");
    let dir = Scratch::new("upload-expired");
    let path = dir.path("a.tif");
    write(&path, &bytes(1000, 6));
    let e = upload_file(
        &client,
        PROJECT,
        &path,
        UploadOptions::default().max_signatures(2),
    )
    .await
    .expect_err("every URL is expired");
    assert_eq!((e.operation(), e.status_code()), ("storage.put", Some(403)));
    let text = format!("{e} {e:?}");
    assert!(!text.contains("Signature="), "{text}");
    assert_eq!(server.state().calls("uploads.signed_url"), 2);
    assert_eq!(server.state().sessions()[0].status, SessionStatus::Failed);
    assert_eq!(server.state().reserved_bytes(), 0);
}

#[tokio::test]
async fn put_file_is_one_streamed_put_into_a_session_you_run() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-put-file");
    let data = bytes(700_000, 7);
    let path = dir.path("scene.tif");
    write(&path, &data);
    let session = client
        .uploads()
        .session(geopera::models::UploadInitiate::for_files(
            PROJECT,
            [data.len() as u64],
        ))
        .await
        .expect("session");
    let signed = session.sign("scene.tif", "image/tiff").await.expect("sign");
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(
            1,
            FaultKind::Status {
                status: 403,
                retry_after: None,
            },
        ),
    );
    let e = geopera_transfer::put_file(&client, &signed.upload_url, &path, "image/tiff")
        .await
        .expect_err("one attempt: the 403 is returned");
    assert_eq!((e.operation(), e.status_code()), ("storage.put", Some(403)));
    assert_eq!(e.storage_code(), Some("AccessDenied"), "{e}");
    // Storage read the whole body before refusing it; put_file counts what it sends, as
    // every transfer of this crate does (so its stall watchdog sees the PUT moving).
    assert_eq!(e.bytes_done(), Some(data.len() as u64), "{e}");
    let sent = geopera_transfer::put_file(&client, &signed.upload_url, &path, "image/tiff")
        .await
        .expect("put");
    assert_eq!(sent, data.len() as u64);
    let done = session.complete().await.expect("complete");
    let item = server
        .state()
        .item(done.item_ids()[0])
        .expect("the new item");
    assert_eq!(
        (item.assets[0].size, item.assets[0].content_type.as_str()),
        (data.len() as u64, "image/tiff")
    );
}

/// Every file under the dev server's stored objects.
fn stored_objects(server: &geopera_dev_server::DevServer) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| match e.file_type() {
                        Ok(t) if t.is_dir() => count(&e.path()),
                        Ok(_) => 1,
                        Err(_) => 0,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&server.state().data_dir().join("objects"))
}

#[tokio::test]
async fn put_reader_sends_exactly_len_bytes_and_a_short_reader_stores_nothing() {
    let (server, client) = dev().await;
    let data = bytes(600_000, 11);
    let len = data.len() as u64;
    let session = |len| {
        client
            .uploads()
            .session(geopera::models::UploadInitiate::for_files(PROJECT, [len]))
    };
    let before = stored_objects(&server);
    let first = session(len).await.expect("session");

    // A reader one byte short of the length: the PUT fails and storage keeps nothing.
    let short = first
        .sign("short.bin", "application/octet-stream")
        .await
        .expect("sign");
    let reader = std::io::Cursor::new(data[..data.len() - 1].to_vec());
    let e = geopera_transfer::put_reader(
        &client,
        &short.upload_url,
        reader,
        len,
        "application/octet-stream",
    )
    .await
    .expect_err("the reader ended early");
    assert!(
        matches!(&e, geopera::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::UnexpectedEof),
        "{e:?}"
    );
    assert_eq!(e.operation(), "storage.put");
    assert_eq!(stored_objects(&server), before);
    let e = first.complete().await.expect_err("nothing was stored");
    assert_eq!(e.status_code(), Some(404), "{e}");

    // A reader with more than the length: exactly `len` bytes are sent.
    let second = session(len).await.expect("session");
    let signed = second.sign("scene.tif", "image/tiff").await.expect("sign");
    let mut longer = data.clone();
    longer.extend_from_slice(b"not sent");
    let sent = geopera_transfer::put_reader(
        &client,
        &signed.upload_url,
        std::io::Cursor::new(longer),
        len,
        "image/tiff",
    )
    .await
    .expect("put");
    assert_eq!(sent, len);
    assert_eq!(stored_objects(&server), before + 1);
    let done = second.complete().await.expect("complete");
    let item_id = done.item_ids()[0].to_owned();
    let dir = Scratch::new("upload-put-reader");
    let copy = dir.path("copy.tif");
    geopera_transfer::download_asset(
        &client,
        &item_id,
        "scene",
        &copy,
        geopera_transfer::DownloadOptions::default(),
    )
    .await
    .expect("download");
    assert_eq!(std::fs::read(&copy).expect("read"), data);

    // Storage reads the whole body, then refuses it: its code and the bytes sent. (The
    // bytes a PUT of a reader sends are counted, as stalled-stream protection needs.)
    let third = session(len).await.expect("session");
    let signed = third.sign("refused.tif", "image/tiff").await.expect("sign");
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(
            1,
            FaultKind::Status {
                status: 400,
                retry_after: None,
            },
        ),
    );
    let e = geopera_transfer::put_reader(
        &client,
        &signed.upload_url,
        std::io::Cursor::new(data.clone()),
        len,
        "image/tiff",
    )
    .await
    .expect_err("refused");
    assert!(matches!(e, geopera::Error::Storage { .. }), "{e:?}");
    assert_eq!(e.storage_code(), Some("InvalidRequest"), "{e}");
    assert_eq!(e.bytes_done(), Some(len), "{e}");
}

#[tokio::test]
async fn an_upload_cancelled_by_its_token_mid_put_fails_the_session_and_releases_it() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-cancel-token");
    let path = dir.path("big.tif");
    write(&path, &bytes(2 * 1024 * 1024, 12));
    // Storage reads a part of the body, then stops reading: the PUT stays in flight.
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::StallAfterBytes(300_000)),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let tx = Mutex::new(Some(tx));
    let options = UploadOptions::default()
        .progress(from_fn(move |e: &ProgressEvent<'_>| {
            if e.bytes > 0
                && let Some(tx) = tx.lock().expect("lock").take()
            {
                let _ = tx.send(());
            }
        }))
        .cancel_on(async {
            let _ = rx.await;
        });
    let e = upload_file(&client, PROJECT, &path, options)
        .await
        .expect_err("cancelled");
    assert!(
        matches!(&e, geopera::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::Interrupted),
        "{e:?}"
    );
    assert_eq!(e.operation(), "storage.put");
    // Failed before the call returned, not in the background.
    assert_eq!(server.state().reserved_bytes(), 0);
    let session = &server.state().sessions()[0];
    assert_eq!(session.status, SessionStatus::Failed);
    assert_eq!(session.error_step.as_deref(), Some("abandoned"));
    assert_eq!(server.state().calls("uploads.fail"), 1);
    assert_eq!(server.state().calls("uploads.complete"), 0);
}

#[tokio::test]
async fn api_progress_every_reports_while_the_put_is_in_flight_and_once_at_the_end() {
    // Storage reads 1 MiB/s, so the 512 KiB PUT lasts about half a second.
    let server = geopera_dev_server::DevServer::start_with(
        geopera_dev_server::DevConfig::default().storage_bandwidth(1024 * 1024),
    )
    .await
    .expect("dev server");
    server.state().add_project(PROJECT);
    let client = server.client_builder().build().expect("client");
    let dir = Scratch::new("upload-api-progress-every");
    let path = dir.path("slow.tif");
    let len = 512 * 1024;
    write(&path, &bytes(len, 13));
    let options = UploadOptions::default().api_progress_every(std::time::Duration::from_millis(20));
    let result = upload_file(&client, PROJECT, &path, options)
        .await
        .expect("upload");
    // At least one report while the PUT was in flight, and the last one at the end.
    let reports = server.state().calls("uploads.progress");
    assert!(reports >= 2, "{reports} reports");
    let session = server.state().session(&result.upload_id).expect("session");
    assert_eq!(session.bytes_uploaded, Some(len as i64));
    assert_eq!(session.progress_status.as_deref(), Some("uploading"));
    assert_eq!(session.status, SessionStatus::Completed);
}

/// A file that becomes shorter while it is sent fails the upload with that reason (not
/// as a broken connection), at once rather than after the retries a broken connection
/// gets, and the session is failed and released.
#[tokio::test]
async fn a_file_that_shrinks_in_flight_fails_with_its_reason_and_is_not_put_again() {
    let (server, client) = dev().await;
    let dir = Scratch::new("upload-shrinks");
    let path = dir.path("a.tif");
    write(&path, &bytes(4 * 1024 * 1024, 19));
    let target = path.clone();
    let cut = Mutex::new(false);
    let options = UploadOptions::default().progress(from_fn(move |e: &ProgressEvent<'_>| {
        let mut cut = cut.lock().expect("lock");
        if e.bytes > 0 && !e.finished && !*cut {
            // The first report comes with the first chunk: the rest is not read yet.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .and_then(|f| f.set_len(1024 * 1024))
                .expect("truncate");
            *cut = true;
        }
    }));
    let e = upload_file(&client, PROJECT, &path, options)
        .await
        .expect_err("the file shrank");
    assert!(
        matches!(&e, geopera::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::UnexpectedEof),
        "{e:?}"
    );
    assert!(e.to_string().contains("became shorter"), "{e}");
    assert_eq!(e.operation(), "storage.put");
    assert_eq!(server.state().calls("storage.put"), 1, "not put again");
    let session = &server.state().sessions()[0];
    assert_eq!(session.status, SessionStatus::Failed);
    assert_eq!(server.state().reserved_bytes(), 0);
}
