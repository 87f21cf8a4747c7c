//! Authentication, scopes and routing of the dev server, over raw HTTP.

use crate::common::{Harness, send};
use geopera_dev_server::DevConfig;
use serde_json::json;

#[tokio::test]
async fn missing_and_unknown_tokens_are_401_problems() {
    let h = Harness::start().await;
    h.demo();
    let body = json!({"project_id": "prj_demo"});

    let missing = send(h.post("uploads.initiate").json(&body)).await;
    assert!(missing.problem(401).contains("Authorization: Bearer"));
    assert_eq!(missing.headers["www-authenticate"], "Bearer");

    let unknown = send(
        h.post("uploads.initiate")
            .bearer_auth("not-a-token")
            .json(&body),
    )
    .await;
    let detail = unknown.problem(401);
    assert!(
        !detail.contains("not-a-token"),
        "the token must not be echoed: {detail}"
    );

    let basic = send(
        h.post("uploads.initiate")
            .basic_auth("user", Some("pw"))
            .json(&body),
    )
    .await;
    basic.problem(401);
    assert_eq!(h.server.state().reserved_bytes(), 0);
}

#[tokio::test]
async fn x_api_key_works_like_a_bearer_token() {
    let h = Harness::start().await;
    h.demo();
    let reply = send(
        h.post("uploads.initiate")
            .header("x-api-key", h.server.token())
            .json(&json!({"project_id": "prj_demo", "total_bytes": 3})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(h.server.state().reserved_bytes(), 3);
}

#[tokio::test]
async fn tokens_without_the_operation_scope_get_403() {
    let config = DevConfig::default()
        .with_token("reader", ["items:read"])
        .with_token("clipper", ["clip:read"]);
    let h = Harness::with(config).await;
    h.demo();

    let upload = send(
        h.post("uploads.initiate")
            .bearer_auth("reader")
            .json(&json!({"project_id": "prj_demo"})),
    )
    .await;
    assert!(upload.problem(403).contains("uploads:write"));

    let item = send(
        h.post("items.asset.download")
            .bearer_auth("reader")
            .json(&json!({"item_id": "itm_demo", "asset_id": "visual"})),
    )
    .await;
    assert_eq!(item.status, 200, "{}", item.text);

    let clip_with_reader = send(
        h.post("clip.job.downloads")
            .bearer_auth("reader")
            .json(&json!({"job_id": "clip_demo"})),
    )
    .await;
    assert!(clip_with_reader.problem(403).contains("clip:read"));
    let clip = send(
        h.post("clip.job.downloads")
            .bearer_auth("clipper")
            .json(&json!({"job_id": "clip_demo"})),
    )
    .await;
    assert_eq!(clip.status, 200);
    let item_with_clipper = send(
        h.post("items.asset.download")
            .bearer_auth("clipper")
            .json(&json!({"item_id": "itm_demo", "asset_id": "visual"})),
    )
    .await;
    item_with_clipper.problem(403);
}

#[tokio::test]
async fn auth_is_checked_before_validation() {
    let h = Harness::start().await;
    let reply = send(h.post("uploads.initiate").json(&json!({}))).await;
    reply.problem(401);
}

#[tokio::test]
async fn unknown_operations_and_routes_are_404_problems() {
    let h = Harness::start().await;
    let unknown = h.op("uploads.teleport", json!({})).await;
    assert!(unknown.problem(404).contains("uploads.initiate"));
    let route = send(h.http.get(h.url("/v2/whatever"))).await;
    route.problem(404);
    let wrong_method = send(h.http.get(h.url("/v1/op/uploads.initiate"))).await;
    wrong_method.problem(405);
}

/// An operation id is a path segment, so a percent-encoded one names the same operation,
/// with the same checks.
#[tokio::test]
async fn a_percent_encoded_operation_id_is_that_operation() {
    let h = Harness::start().await;
    h.demo();
    let path = h.url("/v1/op/clip.job%2Edownloads");
    let body = json!({"job_id": "clip_demo"});
    let reply = send(h.http.post(&path).bearer_auth(h.server.token()).json(&body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["job_id"], "clip_demo");
    send(h.http.post(&path).json(&body)).await.problem(401);
    assert_eq!(h.server.state().calls("clip.job.downloads"), 2);
}

#[tokio::test]
async fn healthz_answers_without_auth() {
    let h = Harness::start().await;
    let reply = send(h.http.get(h.url("/healthz"))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["status"], "ok");
}

#[tokio::test]
async fn debug_output_redacts_the_token() {
    let h =
        Harness::with(DevConfig::default().with_token("configured-secret", ["items:read"])).await;
    let debug = format!("{:?}", h.server);
    assert!(!debug.contains(h.server.token()), "{debug}");
    assert!(debug.contains("<redacted>") && debug.contains(h.server.base_url()));
    let config_debug = format!(
        "{:?}",
        DevConfig::default().with_token("configured-secret", ["x"])
    );
    assert!(!config_debug.contains("configured-secret"));
}
