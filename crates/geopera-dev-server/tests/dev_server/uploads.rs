//! The upload session flow: initiate, sign, PUT, progress, complete, fail.

use crate::common::{Harness, pattern};
use geopera_dev_server::{DevConfig, SessionStatus};
use serde_json::json;

#[tokio::test]
async fn the_seeds_single_file_example_end_to_end() {
    let h = Harness::start().await;
    h.demo();
    let initiated = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "transfer_method": "signed_url", "file_count": 1, "total_bytes": 1024}),
        )
        .await;
    assert_eq!(initiated.status, 200);
    let body = initiated.json();
    let upload_id = body["id"].as_str().expect("id").to_owned();
    assert!(upload_id.starts_with("upl_"));
    assert_eq!(body["status"], "initiated");

    let signed = h
        .op("uploads.signed_url", json!({"upload_id": upload_id, "file_name": "harbour_2024.tif", "content_type": "image/tiff"}))
        .await
        .json();
    assert_eq!(
        signed["object_path"],
        format!("uploads/{upload_id}/harbour_2024.tif")
    );
    let url = signed["upload_url"].as_str().expect("upload_url");
    assert!(
        url.starts_with(&format!(
            "{}/storage/uploads/{upload_id}/harbour_2024.tif?",
            h.server.base_url()
        )),
        "{url}"
    );

    let bytes = pattern(1024, 7);
    assert_eq!(h.put(url, "image/tiff", bytes.clone()).await.status, 200);
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await
        .json();
    assert_eq!(done["id"], upload_id.as_str());
    let item_ids = done["item_ids"].as_array().expect("item_ids");
    assert_eq!(item_ids.len(), 1);

    let item_id = item_ids[0].as_str().expect("item id");
    let item = h.server.state().item(item_id).expect("item exists");
    assert_eq!(item.project_id, "prj_demo");
    assert_eq!(item.upload_id.as_deref(), Some(upload_id.as_str()));
    assert_eq!(item.assets.len(), 1);
    assert_eq!(item.assets[0].key, "harbour_2024");
    assert_eq!(
        (item.assets[0].size, item.assets[0].content_type.as_str()),
        (1024, "image/tiff")
    );

    // The uploaded bytes come back through a download descriptor.
    let descriptor = h.asset_descriptor(item_id, "harbour_2024").await;
    let fetched = h.get(descriptor["url"].as_str().expect("url")).await;
    assert_eq!(fetched.bytes().await.expect("body").to_vec(), bytes);

    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.status, SessionStatus::Completed);
    assert_eq!(session.item_ids, vec![item_id.to_owned()]);
}

#[tokio::test]
async fn multi_file_sessions_create_one_item_per_file() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(2, 300).await;
    for (name, len) in [("scene_b04.tif", 100), ("scene_b08.tif", 200)] {
        let (url, _) = h.sign(&upload_id, name, "image/tiff").await;
        assert_eq!(h.put(&url, "image/tiff", pattern(len, 1)).await.status, 200);
    }
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await
        .json();
    let ids = done["item_ids"].as_array().expect("item_ids").clone();
    assert_eq!(ids.len(), 2);
    let keys: Vec<String> = ids
        .iter()
        .map(|id| {
            h.server
                .state()
                .item(id.as_str().unwrap_or_default())
                .expect("item")
                .assets[0]
                .key
                .clone()
        })
        .collect();
    assert_eq!(keys, ["scene_b04", "scene_b08"]);
    assert_eq!(h.server.state().used_bytes(), 300);
}

#[tokio::test]
async fn a_session_signs_at_most_file_count_distinct_names() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(2, 10).await;
    let (first, path) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    h.sign(&upload_id, "b.tif", "image/tiff").await;
    let third = h
        .op(
            "uploads.signed_url",
            json!({"upload_id": upload_id, "file_name": "c.tif"}),
        )
        .await;
    let errors = third.validation();
    assert_eq!(errors[0]["loc"], json!(["body", "file_name"]));
    assert!(
        errors[0]["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("a.tif, b.tif"),
        "{}",
        third.text
    );

    // Re-signing a name is allowed and gives a fresh URL for the same object.
    let (again, again_path) = h.sign(&upload_id, "a.tif", "text/plain").await;
    assert_ne!(first, again);
    assert_eq!(path, again_path);
    let files = h.server.state().session(&upload_id).expect("session").files;
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].content_type, "text/plain");
}

#[tokio::test]
async fn signing_on_unknown_or_finished_uploads_is_404() {
    let h = Harness::start().await;
    h.demo();
    let unknown = h
        .op(
            "uploads.signed_url",
            json!({"upload_id": "upl_nope", "file_name": "a.tif"}),
        )
        .await;
    assert!(unknown.problem(404).contains("upl_nope"));

    let failed = h.initiate(1, 1).await;
    h.op(
        "uploads.fail",
        json!({"upload_id": failed, "error_message": "x"}),
    )
    .await;
    let after_fail = h
        .op(
            "uploads.signed_url",
            json!({"upload_id": failed, "file_name": "a.tif"}),
        )
        .await;
    assert!(after_fail.problem(404).contains("failed"));

    let (completed, _) = h.upload("a.tif", b"abc").await;
    let after_complete = h
        .op(
            "uploads.signed_url",
            json!({"upload_id": completed, "file_name": "b.tif"}),
        )
        .await;
    assert!(after_complete.problem(404).contains("completed"));
}

#[tokio::test]
async fn initiate_needs_an_existing_project_and_target_item() {
    let h = Harness::start().await;
    let reply = h
        .op("uploads.initiate", json!({"project_id": "prj_missing"}))
        .await;
    assert!(reply.problem(404).contains("prj_missing"));
    h.server.state().add_project("prj_new");
    let ok = h
        .op("uploads.initiate", json!({"project_id": "prj_new"}))
        .await;
    assert_eq!(ok.status, 200);
    let bad_item = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_new", "target_item_id": "itm_nope"}),
        )
        .await;
    assert!(bad_item.problem(404).contains("itm_nope"));
}

#[tokio::test]
async fn progress_is_recorded_without_changing_the_lifecycle() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 10).await;
    let reply = h
        .op(
            "uploads.progress",
            json!({"upload_id": upload_id, "status": "uploading", "bytes_uploaded": 131072}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["id"], upload_id.as_str());
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.progress_status.as_deref(), Some("uploading"));
    assert_eq!(session.bytes_uploaded, Some(131072));
    assert_eq!(session.status, SessionStatus::Uploading);
    assert_eq!(session.reserved_bytes, 10);

    let unknown = h
        .op("uploads.progress", json!({"upload_id": "upl_nope"}))
        .await;
    unknown.problem(404);
}

#[tokio::test]
async fn a_second_complete_replays_the_first_and_complete_after_fail_is_404() {
    let h = Harness::start().await;
    h.demo();
    let (upload_id, items) = h.upload("a.tif", b"hello").await;
    assert_eq!(items.len(), 1);
    let again = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], upload_id.as_str());
    assert_eq!(again.json()["item_ids"], json!(items));
    assert_eq!(h.server.state().items().len(), 2, "demo item + one upload");

    let failed = h.initiate(1, 1).await;
    h.op(
        "uploads.fail",
        json!({"upload_id": failed, "error_message": "x"}),
    )
    .await;
    let reply = h.op("uploads.complete", json!({"upload_id": failed})).await;
    assert!(reply.problem(404).contains("failed"));
    h.op("uploads.complete", json!({"upload_id": "upl_nope"}))
        .await
        .problem(404);
}

#[tokio::test]
async fn a_session_without_files_completes_as_a_no_op() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 50).await;
    let reply = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    assert_eq!(reply.json()["item_ids"], json!([]));
    assert_eq!(
        (
            h.server.state().reserved_bytes(),
            h.server.state().used_bytes()
        ),
        (0, 0)
    );
}

#[tokio::test]
async fn undersized_total_bytes_makes_complete_fail_and_leaves_the_session_open() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 4).await;
    let (url, _) = h.sign(&upload_id, "big.tif", "image/tiff").await;
    assert_eq!(h.put(&url, "image/tiff", pattern(10, 0)).await.status, 200);
    let reply = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    let errors = reply.validation();
    assert_eq!(errors[0]["loc"], json!(["body", "upload_id"]));
    let msg = errors[0]["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("stored 10 bytes") && msg.contains("reserved only 4"),
        "{msg}"
    );

    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.status, SessionStatus::Uploading);
    assert_eq!(
        (
            h.server.state().reserved_bytes(),
            h.server.state().used_bytes()
        ),
        (4, 0)
    );
    assert_eq!(h.server.state().items().len(), 1, "only the demo item");

    // The documented recovery: fail the session.
    h.op(
        "uploads.fail",
        json!({"upload_id": upload_id, "error_message": "too big", "error_step": "complete"}),
    )
    .await;
    assert_eq!(h.server.state().reserved_bytes(), 0);
}

#[tokio::test]
async fn completing_with_a_signed_but_never_uploaded_file_is_404() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(2, 100).await;
    let (url, _) = h.sign(&upload_id, "done.tif", "image/tiff").await;
    h.put(&url, "image/tiff", pattern(5, 0)).await;
    h.sign(&upload_id, "missing.tif", "image/tiff").await;
    let reply = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    assert!(
        reply
            .problem(404)
            .contains("Object not uploaded: 'missing.tif'")
    );
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.status, SessionStatus::Uploading);
    assert_eq!(session.files[0].uploaded_bytes, Some(5));
    assert_eq!(session.files[1].uploaded_bytes, None);
}

#[tokio::test]
async fn target_item_uploads_add_an_asset_under_asset_key() {
    let h = Harness::start().await;
    h.demo();
    let reply = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": 3, "target_item_id": "itm_demo",
                   "asset_key": "nir", "is_categorical": true, "target_collection_id": "col_1"}),
        )
        .await;
    let upload_id = reply.json()["id"].as_str().expect("id").to_owned();
    let (url, _) = h.sign(&upload_id, "band.tif", "image/tiff").await;
    h.put(&url, "image/tiff", b"nir".to_vec()).await;
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await
        .json();
    assert_eq!(done["item_ids"], json!(["itm_demo"]));
    let item = h.server.state().item("itm_demo").expect("demo item");
    let keys: Vec<&str> = item.assets.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["visual", "nir"]);
    assert!(item.assets[1].is_categorical);
    let descriptor = h.asset_descriptor("itm_demo", "nir").await;
    assert_eq!(descriptor["size"], 3);
}

#[tokio::test]
async fn fail_records_the_error_is_idempotent_and_refuses_completed_sessions() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 7).await;
    let reply = h
        .op(
            "uploads.fail",
            json!({"upload_id": upload_id, "error_message": "disk full", "error_step": "transfer"}),
        )
        .await;
    assert_eq!(reply.json(), json!({"id": upload_id, "status": "failed"}));
    let again = h
        .op(
            "uploads.fail",
            json!({"upload_id": upload_id, "error_message": "second"}),
        )
        .await;
    assert_eq!(again.status, 200);
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.status, SessionStatus::Failed);
    assert_eq!(session.error_message.as_deref(), Some("disk full"));
    assert_eq!(session.error_step.as_deref(), Some("transfer"));
    assert_eq!(h.server.state().reserved_bytes(), 0);

    let (completed, _) = h.upload("a.tif", b"x").await;
    let refused = h
        .op(
            "uploads.fail",
            json!({"upload_id": completed, "error_message": "late"}),
        )
        .await;
    assert!(refused.problem(404).contains("completed"));
    h.op(
        "uploads.fail",
        json!({"upload_id": "upl_nope", "error_message": "x"}),
    )
    .await
    .problem(404);
}

#[tokio::test]
async fn file_names_with_spaces_and_folders_round_trip() {
    let h = Harness::with(DevConfig::default()).await;
    h.demo();
    let upload_id = h.initiate(1, 4).await;
    let (url, path) = h
        .sign(&upload_id, "dir/harbour 2024 (v2)+é.tif", "image/tiff")
        .await;
    assert_eq!(
        path,
        format!("uploads/{upload_id}/dir/harbour 2024 (v2)+é.tif")
    );
    assert_eq!(
        h.put(&url, "image/tiff", b"data".to_vec()).await.status,
        200
    );
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await
        .json();
    let item = h
        .server
        .state()
        .item(done["item_ids"][0].as_str().unwrap_or_default())
        .expect("item");
    assert_eq!(item.assets[0].key, "harbour 2024 (v2)+é");
}

/// A client whose first `uploads.complete` answer was lost retries it: the repeat must
/// answer exactly what the first did (the same item ids), and create nothing new.
#[tokio::test]
async fn a_retried_complete_replays_the_original_result_without_side_effects() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(2, 300).await;
    for (name, len) in [("b04.tif", 100), ("b08.tif", 150)] {
        let (url, _) = h.sign(&upload_id, name, "image/tiff").await;
        assert_eq!(h.put(&url, "image/tiff", pattern(len, 2)).await.status, 200);
    }
    let first = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let first = first.json();
    assert_eq!(first["item_ids"].as_array().map(Vec::len), Some(2));
    let state = h.server.state();
    let before = (
        state.items().len(),
        state.used_bytes(),
        state.reserved_bytes(),
    );
    assert_eq!(before, (3, 250, 0));

    for _ in 0..2 {
        let retried = h
            .op("uploads.complete", json!({"upload_id": upload_id}))
            .await;
        assert_eq!(retried.status, 200, "{}", retried.text);
        assert_eq!(retried.json(), first, "the retry replays the first answer");
    }
    assert_eq!(
        (
            state.items().len(),
            state.used_bytes(),
            state.reserved_bytes()
        ),
        before,
        "no new item, no quota change"
    );
    assert_eq!(
        state.session(&upload_id).expect("session").item_ids,
        first["item_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    );
}

/// Two completes of one session racing each other: one does the work, both answer alike.
#[tokio::test]
async fn concurrent_completes_of_one_session_answer_the_same_items() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 10).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    assert_eq!(h.put(&url, "image/tiff", pattern(10, 1)).await.status, 200);
    let body = json!({"upload_id": upload_id});
    let (a, b) = tokio::join!(
        h.op("uploads.complete", body.clone()),
        h.op("uploads.complete", body.clone())
    );
    assert_eq!((a.status, b.status), (200, 200), "{} / {}", a.text, b.text);
    assert_eq!(a.json(), b.json());
    assert_eq!(a.json()["item_ids"].as_array().map(Vec::len), Some(1));
    assert_eq!(h.server.state().items().len(), 2, "demo item + one upload");
    assert_eq!(h.server.state().used_bytes(), 10);
}
