//! Every generated operation against a scripted local server: the exact request it sends,
//! the parsed success, every declared error status, an undeclared status, malformed JSON,
//! an HTML 500 from a proxy, a refused connection and a connection dropped mid-response.

mod support;

use geopera::models::*;
use geopera::{Error, TransportKind, ops};
use serde_json::{Value, json};
use support::{Reply, Scripted};

/// One operation under test: how to call it, what it must send, a success body.
macro_rules! op_cases {
    ($($name:ident => $op:ident, $input:expr, $sent:expr, $success:expr, $declared:expr;)*) => {
        $(
            mod $name {
                use super::*;

                fn input() -> ops::$op::Input {
                    $input
                }

                #[tokio::test]
                async fn sends_the_exact_request_and_parses_success() {
                    let server = Scripted::start().await;
                    server.reply(Reply::json(200, $success).header("x-request-id", "req-42"));
                    let response = ops::$op::send_detailed(&server.client(), &input()).await.expect("success");
                    assert_eq!(response.status(), 200);
                    assert_eq!(response.request_id(), Some("req-42"));
                    assert_eq!(serde_json::to_value(response.body()).unwrap(), $success);

                    let requests = server.requests();
                    assert_eq!(requests.len(), 1);
                    let r = &requests[0];
                    assert_eq!(r.method, "POST");
                    assert_eq!(r.path, ops::$op::PATH);
                    assert_eq!(r.path, format!("/v1/op/{}", ops::$op::OPERATION_ID));
                    assert_eq!(r.header("authorization"), Some("Bearer test-token-123"));
                    assert_eq!(r.header("api-version"), Some("2.1.0"));
                    assert_eq!(r.header("content-type"), Some("application/json"));
                    assert_eq!(r.header("accept"), Some("application/json"));
                    assert_eq!(r.header("user-agent"), Some(concat!("geopera-rust/", env!("CARGO_PKG_VERSION"))));
                    assert_eq!(r.header("x-api-key"), None);
                    assert_eq!(r.json(), $sent);
                }

                #[tokio::test]
                async fn every_declared_problem_status_is_a_problem() {
                    let declared: &[u16] = &$declared;
                    for &status in declared {
                        let server = Scripted::start().await;
                        server.reply(Reply::problem(status, "Some Title", "what happened"));
                        let e = ops::$op::send(&server.client(), &input()).await.expect_err("error status");
                        assert!(matches!(e, Error::Problem { .. }), "{status}: {e:?}");
                        assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
                        assert_eq!(e.problem().map(|p| p.detail.as_str()), Some("what happened"));
                        assert_eq!(e.operation(), ops::$op::OPERATION_ID);
                        assert!(e.to_string().starts_with(&format!("{}: {status} Some Title — what happened", ops::$op::OPERATION_ID)), "{e}");
                    }
                }

                #[tokio::test]
                async fn validation_422_is_typed() {
                    let server = Scripted::start().await;
                    server.reply(Reply::json(422, json!({"detail": [{"loc": ["body", "x"], "msg": "Field required", "type": "missing"}]})));
                    let e = ops::$op::send(&server.client(), &input()).await.expect_err("422");
                    assert!(matches!(e, Error::Validation { .. }), "{e:?}");
                    assert_eq!(e.validation().map(|v| v.detail[0].msg.as_str()), Some("Field required"));
                    assert!(e.to_string().contains("body.x: Field required"), "{e}");
                }

                #[tokio::test]
                async fn undeclared_status_keeps_status_and_snippet() {
                    let server = Scripted::start().await;
                    server.reply(Reply::raw(418, "text/plain", "short and stout"));
                    let e = ops::$op::send(&server.client(), &input()).await.expect_err("418");
                    assert!(matches!(e, Error::UnexpectedStatus { .. }), "{e:?}");
                    assert_eq!(e.status().map(|s| s.as_u16()), Some(418));
                    assert_eq!(e.body().map(|b| b.as_str()), Some("short and stout"));
                }

                #[tokio::test]
                async fn malformed_success_json_is_a_decode_error_with_status() {
                    let server = Scripted::start().await;
                    server.reply(Reply::raw(200, "application/json", "{\"id\": \"u_1\", "));
                    let e = ops::$op::send(&server.client(), &input()).await.expect_err("truncated JSON");
                    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
                    assert_eq!(e.status().map(|s| s.as_u16()), Some(200));
                    assert_eq!(e.body().map(|b| b.as_str()), Some("{\"id\": \"u_1\", "));
                }

                #[tokio::test]
                async fn html_500_from_a_proxy_keeps_the_status() {
                    let server = Scripted::start().await;
                    server.reply(Reply::raw(500, "text/html", "<html><body>Bad things</body></html>"));
                    let e = ops::$op::send(&server.client(), &input()).await.expect_err("html");
                    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
                    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
                    assert!(e.to_string().contains("<html><body>Bad things"), "{e}");
                }

                #[tokio::test]
                async fn refused_connection_is_a_connect_error() {
                    let client = geopera::AuthenticatedClient::builder()
                        .base_url(support::refused_base_url().await)
                        .token("t")
                        .retry_policy(geopera::RetryPolicy::disabled())
                        .build()
                        .unwrap();
                    let e = ops::$op::send(&client, &input()).await.expect_err("refused");
                    assert!(e.is_connect(), "{e:?}");
                    assert!(matches!(e, Error::Transport { kind: TransportKind::Connect, status: None, .. }));
                    assert!(e.to_string().starts_with(&format!("{}: could not connect", ops::$op::OPERATION_ID)), "{e}");
                }

                #[tokio::test]
                async fn dropped_mid_response_is_interrupted() {
                    let url = support::dropping_server("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"id\":").await;
                    let client = geopera::AuthenticatedClient::builder().base_url(url).token("t").retry_policy(geopera::RetryPolicy::disabled()).build().unwrap();
                    let e = ops::$op::send(&client, &input()).await.expect_err("dropped");
                    assert!(matches!(e, Error::Transport { kind: TransportKind::Interrupted, .. }), "{e:?}");
                    assert_eq!(e.status().map(|s| s.as_u16()), Some(200));
                }
            }
        )*
    };
}

fn descriptor() -> Value {
    json!({"url": "http://storage.example/o/a.tif?sig=1", "size": 3, "content_type": "image/tiff"})
}

op_cases! {
    uploads_initiate => uploads_initiate,
        UploadInitiate::new("prj_1").signed_url().total_bytes(42),
        json!({"project_id": "prj_1", "transfer_method": "signed_url", "file_count": 1, "total_bytes": 42, "is_categorical": false}),
        json!({"id": "upl_1", "status": "initiated"}),
        [401, 402, 403, 404, 500];
    uploads_signed_url => uploads_signed_url,
        SignedUrlInput::new("upl_1", "a.tif").content_type("image/tiff"),
        json!({"upload_id": "upl_1", "file_name": "a.tif", "content_type": "image/tiff"}),
        json!({"upload_url": "http://storage.example/uploads/upl_1/a.tif?sig=1", "object_path": "uploads/upl_1/a.tif"}),
        [401, 403, 404, 500];
    uploads_progress => uploads_progress,
        UploadProgressInput::new("upl_1", "uploading", 131072),
        json!({"upload_id": "upl_1", "status": "uploading", "bytes_uploaded": 131072}),
        json!({"id": "upl_1"}),
        [401, 403, 404, 500];
    uploads_complete => uploads_complete,
        UploadsCompleteBody::for_upload("upl_1"),
        json!({"upload_id": "upl_1"}),
        json!({"id": "upl_1", "item_ids": ["it_1"]}),
        [401, 403, 404, 500];
    uploads_fail => uploads_fail,
        UploadFailInput::new("upl_1", "disk on fire").step("transfer"),
        json!({"upload_id": "upl_1", "error_message": "disk on fire", "error_step": "transfer"}),
        json!({"id": "upl_1", "status": "failed"}),
        [401, 403, 404, 500];
    items_asset_download => items_asset_download,
        AssetDownloadInput::new("it_1", "visual"),
        json!({"item_id": "it_1", "asset_id": "visual"}),
        descriptor(),
        [401, 403, 404, 500];
    clip_job_download => clip_job_download,
        ClipDownloadInput::new("clip_1", "visual").attribute("agent/1", "10.0.0.1"),
        json!({"job_id": "clip_1", "mosaic_type": "visual", "user_agent": "agent/1", "requester_ip": "10.0.0.1"}),
        descriptor(),
        [401, 403, 404, 500];
    clip_job_downloads => clip_job_downloads,
        ClipJobInput::new("clip_1"),
        json!({"job_id": "clip_1"}),
        json!({"job_id": "clip_1", "downloads": [{"mosaic_type": "visual"}]}),
        [401, 403, 404, 500];
}

#[tokio::test]
async fn api_key_replaces_the_bearer() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "upl_1"})));
    let client = geopera::AuthenticatedClient::builder()
        .base_url(&server.base_url)
        .api_key("key-123")
        .build()
        .unwrap();
    ops::uploads_progress::send(&client, &UploadProgressInput::new("upl_1", "x", 1))
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("x-api-key"), Some("key-123"));
    assert_eq!(r.header("authorization"), None);
}

#[tokio::test]
async fn default_headers_and_user_agent_override_are_sent() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!({"id": "upl_1"})));
    let client = geopera::AuthenticatedClient::builder()
        .base_url(&server.base_url)
        .token("t")
        .default_header("x-tenant", "blue")
        .user_agent("my-service/2")
        .build()
        .unwrap();
    ops::uploads_progress::send(&client, &UploadProgressInput::new("upl_1", "x", 1))
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("x-tenant"), Some("blue"));
    assert_eq!(r.header("user-agent"), Some("my-service/2"));
}

#[tokio::test]
async fn problem_wins_over_validation_and_keeps_extension_members() {
    // A 422 whose body is a Problem is reported as the Problem it is.
    let server = Scripted::start().await;
    server.reply(Reply::json(
        422,
        json!({"title": "Unprocessable", "status": 422, "detail": "bad", "hint": "x"}),
    ));
    let e = ops::uploads_progress::send(&server.client(), &UploadProgressInput::new("u", "x", 1))
        .await
        .unwrap_err();
    let p = e.problem().expect("problem");
    assert_eq!(serde_json::to_value(p).unwrap()["hint"], "x");
}

#[tokio::test]
async fn fastapi_style_detail_on_a_problem_status_is_a_decode_error() {
    // `{"detail": "Not Found"}` is neither a Problem nor a validation body.
    let server = Scripted::start().await;
    server.reply(Reply::json(404, json!({"detail": "Not Found"})));
    let e = ops::uploads_progress::send(&server.client(), &UploadProgressInput::new("u", "x", 1))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn wrong_body_type_on_success_is_a_decode_error() {
    let server = Scripted::start().await;
    server.reply(Reply::json(200, json!(["not", "an", "object"])));
    let e = ops::uploads_initiate::send(&server.client(), &UploadInitiate::new("p"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
}

#[tokio::test]
async fn request_timeout_is_a_timeout() {
    // Accepts the connection, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let client = geopera::AuthenticatedClient::builder()
        .base_url(format!("http://{addr}"))
        .token("t")
        .timeout(std::time::Duration::from_millis(200))
        .retry_policy(geopera::RetryPolicy::disabled())
        .build()
        .unwrap();
    let e = ops::uploads_progress::send(&client, &UploadProgressInput::new("u", "x", 1))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.is_retryable());
}

#[test]
fn operation_constants_follow_the_spec() {
    assert_eq!(ops::uploads_initiate::REQUIRED_SCOPE, Some("uploads:write"));
    assert_eq!(
        ops::items_asset_download::REQUIRED_SCOPE,
        Some("items:read")
    );
    assert_eq!(ops::clip_job_downloads::REQUIRED_SCOPE, Some("clip:read"));
    let idempotent = [
        ops::uploads_initiate::IDEMPOTENT,
        ops::uploads_signed_url::IDEMPOTENT,
        ops::uploads_progress::IDEMPOTENT,
        ops::uploads_complete::IDEMPOTENT,
        ops::uploads_fail::IDEMPOTENT,
        ops::items_asset_download::IDEMPOTENT,
        ops::clip_job_download::IDEMPOTENT,
        ops::clip_job_downloads::IDEMPOTENT,
    ];
    assert_eq!(
        idempotent,
        [false, true, true, true, true, true, true, true]
    );
    assert_eq!(ops::items_asset_download::METHOD, "POST");
}
