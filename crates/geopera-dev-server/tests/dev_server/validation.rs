//! FastAPI-shaped 422 responses, defaults, nullables and body limits, over raw HTTP.

use crate::common::{Harness, send};
use geopera_dev_server::DevConfig;
use serde_json::{Value, json};

fn locs(errors: &[Value]) -> Vec<Value> {
    errors.iter().map(|e| e["loc"].clone()).collect()
}

#[tokio::test]
async fn missing_required_field_has_fastapis_exact_shape() {
    let h = Harness::start().await;
    let reply = h.op("uploads.initiate", json!({"total_bytes": 1})).await;
    let errors = reply.validation();
    assert_eq!(
        errors,
        vec![
            json!({"type": "missing", "loc": ["body", "project_id"], "msg": "Field required",
                    "input": {"total_bytes": 1}})
        ]
    );
}

#[tokio::test]
async fn every_invalid_field_is_reported_in_order() {
    let h = Harness::start().await;
    let reply = h
        .op(
            "uploads.initiate",
            json!({"project_id": 7, "transfer_method": "ftp", "file_count": 0, "total_bytes": -5,
                   "target_item_id": 1, "is_categorical": []}),
        )
        .await;
    let errors = reply.validation();
    let kinds: Vec<&str> = errors.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "string_type",
            "string_pattern_mismatch",
            "greater_than_equal",
            "greater_than_equal",
            "string_type",
            "bool_type"
        ]
    );
    assert_eq!(
        errors[1]["msg"],
        "String should match pattern '^(browser|cli|cloud_transfer|signed_url)$'"
    );
    assert_eq!(
        errors[2]["msg"],
        "Input should be greater than or equal to 1"
    );
    assert_eq!(errors[2]["ctx"], json!({"ge": 1}));
    assert_eq!(errors[3]["loc"], json!(["body", "total_bytes"]));
    assert_eq!(errors[3]["ctx"], json!({"ge": 0}));
}

#[tokio::test]
async fn integers_follow_pydantic_lax_mode() {
    let h = Harness::start().await;
    h.demo();
    let coerced = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": "12", "file_count": 2.0}),
        )
        .await;
    assert_eq!(coerced.status, 200, "{}", coerced.text);
    assert_eq!(h.server.state().reserved_bytes(), 12);

    let unparsable = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": "lots"}),
        )
        .await;
    assert_eq!(unparsable.validation()[0]["type"], "int_parsing");
    let fractional = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "file_count": 1.5}),
        )
        .await;
    assert_eq!(fractional.validation()[0]["type"], "int_from_float");
    let null = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "file_count": null}),
        )
        .await;
    assert_eq!(null.validation()[0]["type"], "int_type");
}

#[tokio::test]
async fn every_transfer_method_of_our_pattern_is_accepted_and_defaults_apply() {
    let h = Harness::start().await;
    h.demo();
    for method in ["browser", "cli", "cloud_transfer", "signed_url"] {
        let reply = h
            .op(
                "uploads.initiate",
                json!({"project_id": "prj_demo", "transfer_method": method}),
            )
            .await;
        assert_eq!(reply.status, 200, "{method}: {}", reply.text);
    }
    let reply = h
        .op("uploads.initiate", json!({"project_id": "prj_demo"}))
        .await;
    let session = h
        .server
        .state()
        .session(reply.json()["id"].as_str().unwrap_or_default())
        .expect("session");
    assert_eq!(session.transfer_method, "browser");
    assert_eq!(
        (
            session.file_count,
            session.total_bytes,
            session.is_categorical
        ),
        (1, 0, false)
    );
}

#[tokio::test]
async fn nullable_fields_accept_null_and_unknown_fields_are_ignored() {
    let h = Harness::start().await;
    h.demo();
    let reply = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "target_collection_id": null, "target_item_id": null,
                   "asset_key": null, "surprise": {"nested": true}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let id = reply.json()["id"].as_str().unwrap_or_default().to_owned();
    let progress = h
        .op(
            "uploads.progress",
            json!({"upload_id": id, "status": null, "bytes_uploaded": null}),
        )
        .await;
    assert_eq!(progress.status, 200, "{}", progress.text);
    let fail = h
        .op(
            "uploads.fail",
            json!({"upload_id": id, "error_message": "x", "error_step": null}),
        )
        .await;
    assert_eq!(fail.status, 200, "{}", fail.text);
}

#[tokio::test]
async fn signed_url_checks_file_names_and_content_types() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 10).await;
    for bad in [
        "../escape.tif",
        "/etc/passwd",
        "a/../../b",
        "dir\\file.tif",
        "nul\u{0}byte",
        "a//b",
        "C:/evil.tif",
    ] {
        let reply = h
            .op(
                "uploads.signed_url",
                json!({"upload_id": upload_id, "file_name": bad}),
            )
            .await;
        let errors = reply.validation();
        assert_eq!(errors.len(), 1, "{bad:?}");
        assert_eq!(errors[0]["loc"], json!(["body", "file_name"]), "{bad:?}");
        assert_eq!(errors[0]["type"], "value_error", "{bad:?}");
        assert!(
            errors[0]["msg"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Value error, ")
        );
    }
    let empty = h
        .op(
            "uploads.signed_url",
            json!({"upload_id": upload_id, "file_name": ""}),
        )
        .await;
    let errors = empty.validation();
    assert_eq!(errors[0]["type"], "string_too_short");
    assert_eq!(errors[0]["msg"], "String should have at least 1 character");
    assert_eq!(errors[0]["ctx"], json!({"min_length": 1}));

    let bad_type = h
        .op(
            "uploads.signed_url",
            json!({"upload_id": upload_id, "file_name": "a.tif", "content_type": "a\nb"}),
        )
        .await;
    assert_eq!(
        bad_type.validation()[0]["loc"],
        json!(["body", "content_type"])
    );
    let both_missing = h.op("uploads.signed_url", json!({})).await;
    assert_eq!(
        locs(&both_missing.validation()),
        vec![json!(["body", "upload_id"]), json!(["body", "file_name"])]
    );
    // Nothing was signed by the refused requests.
    assert!(
        h.server
            .state()
            .session(&upload_id)
            .expect("session")
            .files
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_json_is_json_invalid_with_its_position() {
    let h = Harness::start().await;
    let reply = send(
        h.post("uploads.initiate")
            .bearer_auth(h.server.token())
            .header("content-type", "application/json")
            .body("{\"project_id\": }"),
    )
    .await;
    let errors = reply.validation();
    assert_eq!(errors[0]["type"], "json_invalid");
    assert_eq!(errors[0]["loc"], json!(["body", 15]));
    assert_eq!(errors[0]["msg"], "JSON decode error");
}

#[tokio::test]
async fn bodies_that_are_not_objects() {
    let h = Harness::start().await;
    let array = h.op("uploads.initiate", json!([1, 2])).await;
    assert_eq!(
        array.validation(),
        vec![json!({"type": "model_attributes_type", "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from", "input": [1, 2]})]
    );
    let null = h.op("uploads.initiate", Value::Null).await;
    assert_eq!(
        null.validation()[0],
        json!({"type": "missing", "loc": ["body"], "msg": "Field required", "input": null})
    );
    let empty = send(h.post("uploads.fail").bearer_auth(h.server.token())).await;
    assert_eq!(empty.validation()[0]["type"], "missing");
    // As in FastAPI, a non-JSON content type is not parsed as JSON.
    let form = send(
        h.post("uploads.initiate")
            .bearer_auth(h.server.token())
            .header("content-type", "text/plain")
            .body("{\"project_id\": \"prj_demo\"}"),
    )
    .await;
    assert_eq!(form.validation()[0]["type"], "model_attributes_type");
}

#[tokio::test]
async fn complete_body_is_optional_but_needs_an_upload_id() {
    let h = Harness::start().await;
    for body in [Some(Value::Null), Some(json!({})), None] {
        let mut request = h.post("uploads.complete").bearer_auth(h.server.token());
        if let Some(body) = &body {
            request = request.json(body);
        }
        let reply = send(request).await;
        let errors = reply.validation();
        assert_eq!(errors[0]["loc"], json!(["body", "upload_id"]), "{body:?}");
        assert_eq!(errors[0]["type"], "missing", "{body:?}");
    }
    let wrong_type = h.op("uploads.complete", json!({"upload_id": 5})).await;
    assert_eq!(wrong_type.validation()[0]["type"], "string_type");
    let list = h.op("uploads.complete", json!(["upl_1"])).await;
    assert_eq!(list.validation()[0]["type"], "dict_type");
}

#[tokio::test]
async fn download_operations_validate_their_inputs() {
    let h = Harness::start().await;
    let item = h.op("items.asset.download", json!({"item_id": "x"})).await;
    assert_eq!(locs(&item.validation()), vec![json!(["body", "asset_id"])]);
    let clip = h
        .op(
            "clip.job.download",
            json!({"job_id": 1, "mosaic_type": "visual", "user_agent": 2}),
        )
        .await;
    assert_eq!(
        locs(&clip.validation()),
        vec![json!(["body", "job_id"]), json!(["body", "user_agent"])]
    );
    let list = h.op("clip.job.downloads", json!({})).await;
    assert_eq!(locs(&list.validation()), vec![json!(["body", "job_id"])]);
    let fail = h.op("uploads.fail", json!({"upload_id": "x"})).await;
    assert_eq!(
        locs(&fail.validation()),
        vec![json!(["body", "error_message"])]
    );
    let progress = h
        .op(
            "uploads.progress",
            json!({"upload_id": "x", "bytes_uploaded": "many"}),
        )
        .await;
    assert_eq!(
        locs(&progress.validation()),
        vec![json!(["body", "bytes_uploaded"])]
    );
}

#[tokio::test]
async fn oversized_operation_bodies_get_413_problem() {
    let h = Harness::with(DevConfig::default().max_request_bytes(1024)).await;
    h.demo();
    let padding = "x".repeat(2048);
    let reply = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "pad": padding}),
        )
        .await;
    assert!(reply.problem(413).contains("1024"));
    let chunked = send(
        h.post("uploads.initiate")
            .bearer_auth(h.server.token())
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                (0..4).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])),
            ))),
    )
    .await;
    chunked.problem(413);
    let small = h
        .op("uploads.initiate", json!({"project_id": "prj_demo"}))
        .await;
    assert_eq!(small.status, 200);
}

#[tokio::test]
async fn file_names_are_limited_to_1024_bytes_of_utf8_like_object_keys() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(4, 10).await;
    let longest = format!("{}.tif", "a".repeat(1020));
    let (url, _) = h.sign(&upload_id, &longest, "image/tiff").await;
    assert_eq!(
        h.put(&url, "image/tiff", b"x".to_vec()).await.status,
        200,
        "a 1,024-byte name is signed and its URL works"
    );
    let too_long = [
        format!("{}.tif", "a".repeat(1021)),
        // 513 characters, 1,026 bytes: the limit counts bytes, as object stores do.
        "é".repeat(513),
        "n".repeat(100_000),
    ];
    for name in &too_long {
        let reply = h
            .op(
                "uploads.signed_url",
                json!({"upload_id": upload_id, "file_name": name}),
            )
            .await;
        let errors = reply.validation();
        assert_eq!(errors.len(), 1, "{}", reply.text);
        assert_eq!(errors[0]["loc"], json!(["body", "file_name"]));
        assert_eq!(errors[0]["type"], "string_too_long");
        assert_eq!(errors[0]["ctx"], json!({"max_length": 1024}));
        assert!(
            errors[0]["msg"]
                .as_str()
                .unwrap_or_default()
                .contains("1024"),
            "{}",
            errors[0]
        );
    }
    let files = h.server.state().session(&upload_id).expect("session").files;
    assert_eq!(files.len(), 1, "nothing was signed for the long names");
}

#[tokio::test]
async fn every_free_text_field_is_bounded() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(1, 10).await;
    let id = "i".repeat(257);
    let text = "t".repeat(1025);
    let message = "m".repeat(4097);
    let cases = [
        ("uploads.initiate", json!({"project_id": id}), "project_id"),
        (
            "uploads.initiate",
            json!({"project_id": "prj_demo", "target_collection_id": id}),
            "target_collection_id",
        ),
        (
            "uploads.initiate",
            json!({"project_id": "prj_demo", "target_item_id": id}),
            "target_item_id",
        ),
        (
            "uploads.initiate",
            json!({"project_id": "prj_demo", "asset_key": id}),
            "asset_key",
        ),
        (
            "uploads.initiate",
            json!({"project_id": "prj_demo", "transfer_method": text}),
            "transfer_method",
        ),
        (
            "uploads.signed_url",
            json!({"upload_id": id, "file_name": "a.tif"}),
            "upload_id",
        ),
        (
            "uploads.signed_url",
            json!({"upload_id": upload_id, "file_name": "a.tif", "content_type": text}),
            "content_type",
        ),
        (
            "uploads.progress",
            json!({"upload_id": upload_id, "status": text}),
            "status",
        ),
        ("uploads.complete", json!({"upload_id": id}), "upload_id"),
        (
            "uploads.fail",
            json!({"upload_id": upload_id, "error_message": message}),
            "error_message",
        ),
        (
            "uploads.fail",
            json!({"upload_id": upload_id, "error_message": "x", "error_step": text}),
            "error_step",
        ),
        (
            "items.asset.download",
            json!({"item_id": id, "asset_id": "visual"}),
            "item_id",
        ),
        (
            "items.asset.download",
            json!({"item_id": "itm_demo", "asset_id": id}),
            "asset_id",
        ),
        ("clip.job.downloads", json!({"job_id": id}), "job_id"),
        (
            "clip.job.download",
            json!({"job_id": "clip_demo", "mosaic_type": id}),
            "mosaic_type",
        ),
        (
            "clip.job.download",
            json!({"job_id": "clip_demo", "mosaic_type": "visual", "user_agent": text}),
            "user_agent",
        ),
        (
            "clip.job.download",
            json!({"job_id": "clip_demo", "mosaic_type": "visual", "requester_ip": text}),
            "requester_ip",
        ),
    ];
    for (op, body, field) in cases {
        let reply = h.op(op, body).await;
        let errors = reply.validation();
        assert_eq!(
            locs(&errors),
            vec![json!(["body", field])],
            "{op}: {}",
            reply.text
        );
        assert_eq!(errors[0]["type"], "string_too_long", "{op} {field}");
    }
    // Just inside the limits everything still works.
    let fine = h
        .op(
            "uploads.fail",
            json!({"upload_id": upload_id, "error_message": "m".repeat(4096), "error_step": "s".repeat(1024)}),
        )
        .await;
    assert_eq!(fine.status, 200, "{}", fine.text);
    let session = h.server.state().session(&upload_id).expect("session");
    assert_eq!(session.error_message.map(|m| m.len()), Some(4096));
}

/// The `User-Agent` header is stored with each download URL for egress attribution; a huge
/// one is cut to the same bound as the `user_agent` field.
#[tokio::test]
async fn stored_user_agent_headers_are_bounded() {
    let h = Harness::start().await;
    h.demo();
    let agent = "A".repeat(20_000);
    let reply = send(
        h.post("items.asset.download")
            .bearer_auth(h.server.token())
            .header("user-agent", &agent)
            .json(&json!({"item_id": "itm_demo", "asset_id": "visual"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let url = reply.json()["url"].as_str().unwrap_or_default().to_owned();
    h.get(&url).await.bytes().await.expect("body");
    let egress = h.server.state().wait_for_egress(1).await;
    assert_eq!(
        egress[0].user_agent.as_deref().map(str::len),
        Some(1024),
        "cut to 1,024 bytes"
    );
}

#[tokio::test]
async fn a_colon_is_not_an_absolute_path_but_a_drive_root_is() {
    let h = Harness::start().await;
    h.demo();
    let upload_id = h.initiate(4, 10).await;
    for name in ["a:b", "C:evil.tif", "dir/12:30.tif"] {
        let (url, path) = h.sign(&upload_id, name, "image/tiff").await;
        assert_eq!(path, format!("uploads/{upload_id}/{name}"));
        assert_eq!(h.put(&url, "image/tiff", b"x".to_vec()).await.status, 200);
    }
    for bad in ["C:/evil.tif", "c:/", "/a:b"] {
        let reply = h
            .op(
                "uploads.signed_url",
                json!({"upload_id": upload_id, "file_name": bad}),
            )
            .await;
        let errors = reply.validation();
        assert_eq!(errors[0]["loc"], json!(["body", "file_name"]), "{bad}");
        assert!(
            errors[0]["msg"]
                .as_str()
                .unwrap_or_default()
                .contains("absolute path"),
            "{bad}: {}",
            reply.text
        );
    }
}
