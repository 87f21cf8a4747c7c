//! The dev server answers in the SDK's models: every operation's 200 body, as sent over the
//! wire, deserializes into the SDK's output type for that operation
//! (`<geopera::ops::X as Operation>::Output`: `UploadOutput`, `SignedUrlOutput`,
//! `Descriptor`, ...) and serializes back to the same JSON, so nothing the server sends is
//! dropped, renamed or retyped on the way through the SDK.

use crate::common::Harness;
use geopera::{Operation, ops};
use serde_json::{Value, json};

/// Decodes `body` as operation `O`'s output and re-encodes it: the JSON must not change.
fn round_trip<O: Operation>(body: &Value) {
    let typed: O::Output = serde_json::from_value(body.clone()).unwrap_or_else(|e| {
        panic!(
            "{}: the SDK's model cannot read the dev server's answer: {e}: {body}",
            O::SPEC.id
        )
    });
    let again = serde_json::to_value(&typed).expect("an SDK model serializes");
    assert_eq!(
        &again,
        body,
        "{}: the round trip changed the JSON",
        O::SPEC.id
    );
}

/// Calls operation `O` with `input`, expects a 200, checks the round trip and returns it.
async fn call<O: Operation>(h: &Harness, input: Value) -> Value {
    let reply = h.op(O::SPEC.id, input).await;
    assert_eq!(reply.status, 200, "{}: {}", O::SPEC.id, reply.text);
    let body = reply.json();
    round_trip::<O>(&body);
    body
}

#[tokio::test]
async fn every_operation_answers_in_the_sdks_model() {
    let h = Harness::start().await;
    h.demo();

    let session = call::<ops::UploadsInitiate>(
        &h,
        json!({"project_id": "prj_demo", "transfer_method": "signed_url",
               "file_count": 1, "total_bytes": 4}),
    )
    .await;
    let upload_id = session["id"].as_str().expect("an upload id").to_owned();
    let signed = call::<ops::UploadsSignedUrl>(
        &h,
        json!({"upload_id": upload_id, "file_name": "a.tif", "content_type": "image/tiff"}),
    )
    .await;
    let url = signed["upload_url"].as_str().expect("an upload URL");
    assert_eq!(
        h.put(url, "image/tiff", b"II*\0".to_vec()).await.status,
        200
    );
    call::<ops::UploadsProgress>(
        &h,
        json!({"upload_id": upload_id, "status": "uploading", "bytes_uploaded": 4}),
    )
    .await;
    let done = call::<ops::UploadsComplete>(&h, json!({"upload_id": upload_id})).await;
    assert_eq!(done["item_ids"].as_array().map(Vec::len), Some(1));

    let other = h.initiate(1, 1).await;
    call::<ops::UploadsFail>(
        &h,
        json!({"upload_id": other, "error_message": "cancelled", "error_step": "transfer"}),
    )
    .await;

    call::<ops::ItemsAssetDownload>(&h, json!({"item_id": "itm_demo", "asset_id": "visual"})).await;
    call::<ops::ClipJobDownload>(&h, json!({"job_id": "clip_demo", "mosaic_type": "visual"})).await;
    call::<ops::ClipJobDownloads>(&h, json!({"job_id": "clip_demo"})).await;
}
