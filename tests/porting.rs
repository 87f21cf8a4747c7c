//! Issue 14: the surprises a line-by-line port of the Python page met, each as a test.
//! (The port itself, every line run against the dev server, is `geopera::porting`.)

mod support;

use std::borrow::Cow;
use std::sync::Arc;

use geopera::models::{
    Completion, HTTPValidationError, HttpValidationError, SignedUrlInput, UploadInitiate,
    UploadOutput, UploadProgressInput, UploadsCompleteBody, UploadsCompleteBodyType0,
};
use geopera::{Error, Geopera, StatusCode};
use serde_json::json;
use support::{Reply, Scripted};

fn fluent(server: &Scripted) -> Geopera {
    Geopera::from(server.client())
}

/// 1. `complete` takes the id however the caller holds it.
#[tokio::test]
async fn complete_takes_every_ordinary_way_to_hold_an_id() {
    let server = Scripted::start().await;
    for _ in 0..11 {
        server.reply(Reply::json(200, json!({"id": "u", "item_ids": []})));
    }
    let client = fluent(&server);
    let upload_id: String = "u".to_owned();
    let session: UploadOutput = serde_json::from_value(json!({"id": "u"})).unwrap();
    let uploads = client.uploads();
    uploads.complete(&upload_id).await.unwrap();
    uploads.complete(upload_id.clone()).await.unwrap();
    uploads.complete(upload_id.as_str()).await.unwrap();
    let ids = ["u"];
    for id in &ids {
        uploads.complete(id).await.unwrap(); // a `&&str`
    }
    let cow = Cow::from("u");
    uploads.complete(&cow).await.unwrap();
    uploads.complete(cow).await.unwrap();
    uploads.complete(Box::<str>::from("u")).await.unwrap();
    let shared = Arc::<str>::from("u");
    uploads.complete(&shared).await.unwrap();
    uploads.complete(shared).await.unwrap();
    uploads.complete(&session).await.unwrap();
    uploads.complete(session).await.unwrap();
    let sent: Vec<_> = server.requests().iter().map(|r| r.json()).collect();
    assert_eq!(sent, vec![json!({"upload_id": "u"}); 11]);
}

/// 2. Python's `resp.status_code` / `resp.parsed` / `resp.headers` are methods.
#[tokio::test]
async fn a_response_answers_to_the_python_names() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "upl_1"})).header("x-request-id", "r-1"));
    let resp = fluent(&server)
        .uploads()
        .initiate(UploadInitiate::new("p"))
        .detailed()
        .await
        .unwrap();
    assert_eq!(resp.status_code(), 200);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.parsed().id, "upl_1");
    assert_eq!(resp.id, "upl_1"); // through Deref
    assert_eq!(
        resp.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"r-1"[..])
    );
    let content = serde_json::to_vec(resp.body()).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&content).unwrap()["id"],
        "upl_1"
    );
}

/// 3. The seed's 402 branch is one line, and the status type is reachable.
#[tokio::test]
async fn the_402_branch_is_one_line() {
    let server = Scripted::start().await;
    server.reply(Reply::problem(
        402,
        "Payment Required",
        "Storage quota exceeded",
    ));
    // A pool of the caller's own, built with the re-exported reqwest.
    let pool = geopera::reqwest::Client::builder().build().unwrap();
    let client = Geopera::builder()
        .base_url(&server.base_url)
        .token("t")
        .http_client(pool)
        .retry_policy(geopera::RetryPolicy::disabled())
        .build()
        .unwrap();
    let quota_exceeded = match client
        .uploads()
        .initiate(UploadInitiate::new("p").signed_url())
        .detailed()
        .await
    {
        Err(e) if e.status_code() == Some(402) => true,
        Err(e) => panic!("{e}"),
        Ok(_) => false,
    };
    assert!(quota_exceeded);
    let e = Error::BlockingInRuntime {
        operation: "x".into(),
    };
    assert_eq!(e.status_code(), None);
    assert_ne!(e.status(), Some(StatusCode::PAYMENT_REQUIRED));
}

/// 4. Every constructor takes plain values and returns the model.
#[test]
fn constructors_share_one_convention() {
    let total_bytes: u64 = std::fs::metadata("Cargo.toml")
        .map(|m| m.len())
        .unwrap_or(0);
    let files: Vec<&str> = vec!["a.tif", "b.tif"];
    let initiate = UploadInitiate::new("prj")
        .signed_url()
        .file_count(files.len() as u64)
        .total_bytes(total_bytes);
    assert_eq!(initiate.file_count.get(), 2);
    let sign: SignedUrlInput = SignedUrlInput::new("u", "a.tif").content_type("image/tiff");
    assert_eq!(sign.file_name, "a.tif");
    let progress: UploadProgressInput = UploadProgressInput::new("u", "uploading", total_bytes);
    assert_eq!(progress.bytes_uploaded, i64::try_from(total_bytes).ok());
}

/// 5. A JSON body missing a required field fails locally, naming it, where Python's
/// server would answer 422.
#[tokio::test]
async fn a_missing_field_is_named_locally_not_a_422() {
    let server = Scripted::start().await;
    let e = fluent(&server)
        .uploads()
        .initiate(json!({"transfer_method": "signed_url", "total_bytes": 1}))
        .await
        .unwrap_err();
    match &e {
        Error::InvalidInput { field, .. } => assert_eq!(field.as_deref(), Some("project_id")),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.status_code(), None, "no response: this is not a 422");
    assert!(server.requests().is_empty());
}

/// 6. The Python names compile as aliases of the Rust ones.
#[test]
fn python_model_names_are_aliases() {
    let body: UploadsCompleteBodyType0 = UploadsCompleteBody::for_upload("u");
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"upload_id": "u"})
    );
    // `UploadsCompleteBodyType0.from_dict({...})`
    let from_dict: UploadsCompleteBodyType0 =
        serde_json::from_value(json!({"upload_id": "u"})).unwrap();
    assert_eq!(from_dict, body);
    let v: HTTPValidationError = serde_json::from_value(json!({"detail": []})).unwrap();
    let _: &HttpValidationError = &v;
}

/// 7 and 8. The completion is JSON with typed accessors, and says the asset key.
#[tokio::test]
async fn completion_has_typed_keys_and_keeps_the_rest() {
    let server = Scripted::start().await;
    server.reply(Reply::json(
        200,
        json!({"id": "u", "item_ids": ["it_1"], "status": "completed", "bytes": 9}),
    ));
    let result: Completion = fluent(&server).uploads().complete("u").await.unwrap();
    assert_eq!(result.id(), Some("u"));
    assert_eq!(result.item_ids(), ["it_1"]);
    assert_eq!(result["item_ids"][0], "it_1");
    assert_eq!(result["bytes"], 9);
    assert_eq!(
        result.clone().into_json(),
        json!({"id": "u", "item_ids": ["it_1"], "status": "completed", "bytes": 9})
    );
    assert_eq!(Completion::asset_key("harbour_2024.tif"), "harbour_2024");
}
