//! The fluent layer against a scripted server: bodies as models or JSON, local errors that
//! send nothing, `complete(())`, `.detailed()`, `invoke`, and the escape hatch `.client`.

mod support;

use geopera::models::UploadInitiate;
use geopera::{Error, Geopera, ops};
use serde_json::json;
use support::{Reply, Scripted};

fn fluent(server: &Scripted) -> Geopera {
    Geopera::from(server.client())
}

#[tokio::test]
async fn json_body_is_converted_to_the_model_with_defaults() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "upl_9"})));
    let out = fluent(&server)
        .uploads()
        .initiate(json!({"project_id": "prj_1", "transfer_method": "signed_url", "total_bytes": 5}))
        .await
        .unwrap();
    assert_eq!(out.id, "upl_9");
    assert_eq!(
        server.requests()[0].json(),
        json!({"project_id": "prj_1", "transfer_method": "signed_url", "file_count": 1, "total_bytes": 5, "is_categorical": false})
    );
}

#[tokio::test]
async fn a_json_body_that_does_not_fit_names_the_field_and_sends_nothing() {
    let server = Scripted::start().await;
    let client = fluent(&server);
    let e = client
        .uploads()
        .initiate(json!({"project_id": "p", "file_count": "two"}))
        .await
        .unwrap_err();
    match &e {
        Error::InvalidInput {
            field, operation, ..
        } => {
            assert_eq!(field.as_deref(), Some("file_count"));
            assert_eq!(operation, "uploads.initiate");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(e.to_string().contains("nothing was sent"), "{e}");
    let e = client
        .uploads()
        .initiate(json!({"total_bytes": 1}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("project_id"), "{e}");
    let e = client
        .uploads()
        .signed_url(json!({"upload_id": "u", "file_name": ""}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    let e = client
        .uploads()
        .initiate(json!({"project_id": "p", "transfer_method": "carrier_pigeon"}))
        .await
        .unwrap_err();
    assert_eq!(e.to_string().split(':').next(), Some("uploads.initiate"));
    assert!(server.requests().is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn complete_without_a_body_sends_an_empty_object_and_returns_json() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "u", "item_ids": ["it_1"]})));
    server.reply(Reply::json(200, json!({"id": "u", "item_ids": []})));
    let client = fluent(&server);
    let first = client.uploads().complete(()).await.unwrap();
    assert_eq!(first["item_ids"][0], "it_1");
    let second = client.uploads().complete("u").await.unwrap();
    assert_eq!(second["item_ids"], json!([]));
    let sent: Vec<_> = server.requests().iter().map(|r| r.json()).collect();
    assert_eq!(sent, [json!({}), json!({"upload_id": "u"})]);
}

#[tokio::test]
async fn detailed_returns_status_and_headers() {
    let server = Scripted::start().await;
    server.reply(
        Reply::json(200, json!({"job_id": "c", "downloads": []})).header("x-request-id", "r-1"),
    );
    let r = fluent(&server)
        .clip()
        .job()
        .downloads(json!({"job_id": "c"}))
        .detailed()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.request_id(), Some("r-1"));
    assert_eq!(r.body().field("job_id"), Some(json!("c")));
}

#[tokio::test]
async fn a_402_is_reachable_through_detailed_and_the_error() {
    let server = Scripted::start().await;
    server.reply(Reply::problem(
        402,
        "Payment Required",
        "Storage quota exceeded",
    ));
    let e = fluent(&server)
        .uploads()
        .initiate(UploadInitiate::new("p").signed_url())
        .detailed()
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(402));
    assert_eq!(
        e.to_string(),
        "uploads.initiate: 402 Payment Required — Storage quota exceeded"
    );
}

#[tokio::test]
async fn invoke_takes_the_typed_path_of_a_known_id() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "u", "item_ids": ["it_1"]})));
    server.reply(Reply::problem(404, "Not Found", "no such thing"));
    server.reply(Reply::raw(502, "text/html", "<h1>bad gateway</h1>"));
    let client = fluent(&server);
    let v = client
        .invoke("uploads.complete", json!({"upload_id": "u"}))
        .await
        .unwrap();
    assert_eq!(v, json!({"id": "u", "item_ids": ["it_1"]}));
    let e = client
        .invoke(
            "items.asset.download",
            json!({"item_id": "x", "asset_id": "y"}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.problem().map(|p| p.detail.as_str()),
        Some("no such thing")
    );
    // initiate is not idempotent, so the 502 is not retried.
    let e = client
        .invoke("uploads.initiate", json!({"project_id": "p"}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UnexpectedStatus { .. }), "{e:?}");
    assert_eq!(e.operation(), "uploads.initiate");
    let paths: Vec<_> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/v1/op/uploads.complete",
            "/v1/op/items.asset.download",
            "/v1/op/uploads.initiate"
        ]
    );
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer test-token-123")
    );
    assert_eq!(server.requests()[0].header("api-version"), Some("2.1.0"));
}

#[tokio::test]
async fn invoke_refuses_unknown_ids_and_bodies_that_do_not_fit_without_sending() {
    let server = Scripted::start().await;
    let client = fluent(&server);
    for id in ["projects.no_such_thing", "../admin", ""] {
        let e = client.invoke(id, json!({})).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{id}: {e:?}");
        assert_eq!(e.operation(), id);
    }
    let e = client
        .invoke("uploads.signed_url", json!({"upload_id": "u"}))
        .await
        .unwrap_err();
    let Error::InvalidInput { field, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(e.to_string().contains("file_name"), "{e}");
    let _ = field;
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn call_reaches_an_operation_by_its_marker_type() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "upl_9"})));
    let client = fluent(&server);
    let out = client
        .call(
            ops::UploadsProgress,
            json!({"upload_id": "upl_9", "bytes_uploaded": 5}),
        )
        .detailed()
        .await
        .unwrap();
    assert_eq!(out.id, "upl_9");
    assert_eq!(out.attempts(), 1);
    assert_eq!(server.requests()[0].path, "/v1/op/uploads.progress");
    assert_eq!(
        server.requests()[0].json(),
        json!({"upload_id": "upl_9", "bytes_uploaded": 5})
    );
}

#[tokio::test]
async fn the_escape_hatch_is_the_same_client() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "u"})));
    let client = fluent(&server);
    let out = ops::uploads_initiate::send(&client.client, &UploadInitiate::new("p"))
        .await
        .unwrap();
    assert_eq!(out.id, "u");
}
