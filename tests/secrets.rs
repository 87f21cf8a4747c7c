//! Secrets stay secret: the token and signed-URL queries never appear in `Debug`,
//! `Display`, error messages or captured traces.

mod support;

use geopera::models::{SignedUrlInput, UploadProgressInput};
use geopera::{AuthenticatedClient, Geopera, RetryPolicy, ops};
use serde_json::json;
use support::{Reply, Scripted};

const TOKEN: &str = "tok-TOKENSECRET-4242";

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains("TOKENSECRET"),
        "{what} shows the token: {text}"
    );
    assert!(
        !text.contains("SIGSECRET"),
        "{what} shows a signature: {text}"
    );
}

#[tokio::test]
async fn nothing_secret_reaches_debug_display_errors_or_traces() {
    let (captured, _guard) = support::trace::capture();
    let server = Scripted::start().await;
    server
        .reply(Reply::json(200, json!({"upload_url": "http://127.0.0.1:1/storage/a.tif?expires=9&signature=SIGSECRET", "object_path": "a.tif"})))
        .reply(Reply::problem(403, "Forbidden", "signature expired for http://127.0.0.1:1/storage/a.tif?signature=SIGSECRET"))
        .reply(Reply::raw(500, "text/html", "<p>upstream http://h/x?sig=SIGSECRET Bearer TOKENSECRET</p>"))
        .reply(Reply::raw(503, "text/plain", "busy"))
        .reply(Reply::json(200, json!({"id": "u"})));
    let client = AuthenticatedClient::builder()
        .base_url(&server.base_url)
        .token(TOKEN)
        .retry_policy(
            RetryPolicy::default()
                .with_backoff(std::time::Duration::ZERO, std::time::Duration::ZERO),
        )
        .build()
        .unwrap();
    assert_clean("client Debug", &format!("{client:?}"));
    assert_clean(
        "fluent Debug",
        &format!("{:?}", Geopera::from(client.clone())),
    );

    let signed =
        ops::uploads_signed_url::send(&client, &SignedUrlInput::new("u", "a.tif").unwrap())
            .await
            .unwrap();
    assert_clean("SignedUrlOutput Debug", &format!("{signed:?}"));
    assert_clean("SignedUrl Display", &signed.upload_url.to_string());

    for _ in 0..2 {
        let e = ops::uploads_signed_url::send(&client, &SignedUrlInput::new("u", "a.tif").unwrap())
            .await
            .unwrap_err();
        assert_clean("error Display", &e.to_string());
        assert_clean("error Debug", &format!("{e:?}"));
        assert_clean("error alternate Debug", &format!("{e:#?}"));
    }
    // 503 then 200: one retry, visible in the traces.
    ops::uploads_progress::send(&client, &UploadProgressInput::new("u", "x", 1))
        .await
        .unwrap();

    let traces = captured.text();
    assert_clean("traces", &traces);
    assert_eq!(captured.spans("geopera.call"), 5, "{traces}");
    assert!(
        traces.contains("operation=uploads.progress attempt=2"),
        "{traces}"
    );
    assert!(traces.contains("reason=\"retryable status\""), "{traces}");
    // The server did receive the real token.
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer tok-TOKENSECRET-4242")
    );
}

#[tokio::test]
async fn attempts_on_a_refused_connection_are_counted_in_traces() {
    let (captured, _guard) = support::trace::capture();
    let client = AuthenticatedClient::builder()
        .base_url(support::refused_base_url().await)
        .token(TOKEN)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_backoff(std::time::Duration::ZERO, std::time::Duration::ZERO),
        )
        .build()
        .unwrap();
    let e = ops::uploads_initiate::send(&client, &geopera::models::UploadInitiate::new("p"))
        .await
        .unwrap_err();
    assert!(e.is_connect());
    assert_eq!(
        captured.spans("geopera.call"),
        4,
        "connect failures never reached the API, so even initiate is retried"
    );
    assert_clean("traces", &captured.text());
}
