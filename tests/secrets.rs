//! Secrets stay secret: the token and signed-URL queries never appear in `Debug`,
//! `Display`, error messages or captured traces.

mod support;

use geopera::models::{
    AssetDownloadInput, ClipDownloadInput, ClipJobInput, SignedUrlInput, UploadProgressInput,
};
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

    let signed = ops::uploads_signed_url::send(&client, &SignedUrlInput::new("u", "a.tif"))
        .await
        .unwrap();
    assert_clean("SignedUrlOutput Debug", &format!("{signed:?}"));
    assert_clean("SignedUrl Display", &signed.upload_url.to_string());

    for _ in 0..2 {
        let e = ops::uploads_signed_url::send(&client, &SignedUrlInput::new("u", "a.tif"))
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

/// A 418 `text/plain` body that echoes a secret in each spelling of issue #10; the error of
/// the typed call and of `invoke` must hide it in `Display` and `Debug`. (The examples send
/// an error's text back to the API as `uploads.fail`'s `error_message`.)
#[tokio::test]
async fn a_teapot_echoing_secrets_in_any_spelling_leaks_none() {
    let spellings = [
        "expired: HTTPS://S.EXAMPLE/O.TIF?X-Geopera-Signature=SIGSECRET1",
        r#"{"url":"https:\/\/s.example\/o.tif?X-Goog-Signature=SIGSECRET2"}"#,
        "PUT /storage/u/a.tif?X-Geopera-Expires=9&X-Geopera-Signature=SIGSECRET3 refused",
        "no /storage/a.tif?X-Geopera-Content-Type=image/tiff; charset=x&X-Geopera-Signature=SIGSECRET4",
        "you sent bearer SIGSECRET5",
        "you sent Bearer abc!SIGSECRET6",
        "x-api-key: SIGSECRET7",
        r#"{"headers": {"Authorization": "Basic SIGSECRET8"}}"#,
        "sv=2022-11-02&sig=SIGSECRET9",
        // The client's own token, verbatim, with nothing around it that says it is one.
        "I'm a teapot, and I remember tok-TOKENSECRET-4242",
    ];
    let (captured, _guard) = support::trace::capture();
    let server = Scripted::start().await;
    for body in spellings {
        server
            .reply(Reply::raw(418, "text/plain", body))
            .reply(Reply::raw(418, "text/plain", body));
    }
    let client = AuthenticatedClient::builder()
        .base_url(&server.base_url)
        .token(TOKEN)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let fluent = Geopera::from(client.clone());
    for body in spellings {
        let typed = ops::uploads_progress::send(&client, &UploadProgressInput::new("u", "x", 1))
            .await
            .unwrap_err();
        let dynamic = fluent
            .invoke("uploads.progress", json!({"upload_id": "u"}))
            .await
            .unwrap_err();
        for e in [typed, dynamic] {
            assert_eq!(e.status().map(|s| s.as_u16()), Some(418), "{body}");
            assert_clean(body, &e.to_string());
            assert_clean(body, &format!("{e:?}"));
            assert_clean(body, &format!("{e:#?}"));
            if let Some(snippet) = e.body() {
                assert_clean(body, snippet.as_str());
            }
        }
    }
    assert_clean("traces", &captured.text());
}

/// A download descriptor printed the way the seed tells users to inspect it (`{:?}`, `{}`)
/// shows no signature, at any depth, from the fluent client or the `ops` modules.
#[tokio::test]
async fn printing_a_download_descriptor_hides_its_signed_urls() {
    let signed = "https://storage.googleapis.com/b/o.tif?X-Goog-Credential=svc%2F1&X-Goog-Signature=SIGSECRET";
    let descriptor = json!({
        "url": signed,
        "href": signed,
        "size": 4,
        "assets": [{"href": "/storage/o.tif?X-Geopera-Signature=SIGSECRET", "title": "visual"}],
    });
    let server = Scripted::start().await;
    for _ in 0..6 {
        server.reply(Reply::json(200, descriptor.clone()));
    }
    let client = server.client();
    let fluent = Geopera::from(client.clone());
    let shown = [
        fluent
            .items()
            .asset()
            .download(AssetDownloadInput::new("itm", "visual"))
            .await
            .unwrap(),
        fluent
            .clip()
            .job()
            .download(ClipDownloadInput::new("clip", "visual"))
            .await
            .unwrap(),
        fluent
            .clip()
            .job()
            .downloads(ClipJobInput::new("clip"))
            .await
            .unwrap(),
        ops::items_asset_download::send(&client, &AssetDownloadInput::new("itm", "visual"))
            .await
            .unwrap(),
        ops::clip_job_download::send(&client, &ClipDownloadInput::new("clip", "visual"))
            .await
            .unwrap(),
        ops::clip_job_downloads::send(&client, &ClipJobInput::new("clip"))
            .await
            .unwrap(),
    ];
    for d in shown {
        assert_clean("descriptor Debug", &format!("{d:?}"));
        assert_clean("descriptor alternate Debug", &format!("{d:#?}"));
        assert_clean("descriptor Display", &format!("{d}"));
        assert!(
            format!("{d}").contains("o.tif?<redacted>"),
            "the rest of the URL is shown: {d}"
        );
    }
}
