//! Built only against another document than `openapi.json` (`GEOPERA_OPENAPI_PATH`, as CI
//! does with the live API's 227-operation document): the fluent client reaches operations
//! the seed page does not cover, with typed input and output, through the one generic path.
//!
//! ```text
//! GEOPERA_OPENAPI_PATH=$PWD/../shared/reference/geopera-live-openapi-2.1.0.json \
//!     cargo test --test live_document
//! ```
#![cfg(geopera_external_document)]

mod support;

use geopera::models::ProjectCreate;
use geopera::{Error, Geopera, Operation, ops};
use serde_json::json;
use support::{Reply, Scripted};

fn project(id: &str) -> serde_json::Value {
    json!({
        "id": id, "organization_id": "org_1", "name": "demo", "description": null,
        "gcs_region": null, "gcs_bucket_name": null, "is_archived": false,
        "created_at": "2026-12-02T10:00:00Z", "updated_at": "2026-12-02T10:00:00Z"
    })
}

#[tokio::test]
async fn non_seed_operations_are_typed_calls_of_the_fluent_client() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, project("prj_1")));
    server.reply(Reply::json(200, project("prj_2")));
    let client = Geopera::from(server.client());

    // A JSON body, converted to the input model; the output is the typed model.
    let created = client
        .call(ops::ProjectsCreate, json!({"name": "demo"}))
        .await
        .unwrap();
    assert_eq!(created.id, "prj_1");
    // The typed model itself, and the detailed response.
    let input: ProjectCreate = serde_json::from_value(json!({"name": "demo"})).unwrap();
    let detailed = client
        .call(ops::ProjectsCreate, input)
        .detailed()
        .await
        .unwrap();
    assert_eq!(detailed.status(), 200);
    assert_eq!(detailed.name, "demo");

    let requests = server.requests();
    assert_eq!(requests[0].path, ops::ProjectsCreate::SPEC.path);
    assert_eq!(requests[0].path, "/v1/op/projects.create");
    assert_eq!(requests[0].json()["name"], "demo");
    assert_eq!(
        ops::ProjectsCreate::SPEC.required_scope,
        Some("projects:write")
    );
}

#[tokio::test]
async fn a_body_that_does_not_fit_a_non_seed_operation_fails_before_sending() {
    let server = Scripted::start().await;
    let client = Geopera::from(server.client());
    let e = client
        .call(ops::CollectionsGet, json!({"project_id": "prj_1"}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    assert!(e.to_string().contains("collection_id"), "{e}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn every_operation_of_the_document_is_in_the_table_and_invokable() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, project("prj_3")));
    let client = Geopera::from(server.client());
    assert!(ops::OPERATIONS.len() > 200, "{}", ops::OPERATIONS.len());
    let v = client
        .invoke("projects.create", json!({"name": "demo"}))
        .await
        .unwrap();
    assert_eq!(v["id"], "prj_3");
}
