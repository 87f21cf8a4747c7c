//! TLS with the default `rustls` feature: reqwest is built without a crypto provider, so
//! building a geopera client installs *ring*'s, and a failed handshake is a typed transport
//! error, never a panic (reqwest panics in `Client::build()` when no provider is installed).
#![cfg(feature = "rustls")]

use geopera::{Error, Geopera, RetryPolicy, TransportKind};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Builds a client for an https base URL; this process installed no provider itself.
fn https_client(base_url: &str) -> Geopera {
    Geopera::builder()
        .base_url(base_url)
        .token("tls-test-token")
        .retry_policy(RetryPolicy::disabled())
        .build()
        .expect("an https client builds with no provider installed beforehand")
}

#[tokio::test]
async fn an_https_client_builds_and_installs_a_provider() {
    let _client = https_client("https://api.example.invalid");
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    // A reqwest::Client built after a geopera client finds the provider too.
    let _plain = reqwest::Client::new();
}

#[tokio::test]
async fn a_handshake_with_a_plain_tcp_listener_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    // Answers the ClientHello with plain HTTP, as a server without TLS would.
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut hello = [0u8; 512];
        let _ = socket.read(&mut hello).await;
        let _ = socket
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
        let _ = socket.shutdown().await;
    });

    let client = https_client(&format!("https://{addr}"));
    let error = client
        .uploads()
        .progress(json!({"upload_id": "upl_1", "status": "uploading", "bytes_uploaded": 1}))
        .await
        .expect_err("no TLS server is there");
    assert!(
        matches!(
            error,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_connect(), "{error}");
    assert!(
        error.to_string().starts_with("uploads.progress: "),
        "{error}"
    );
    server.await.expect("the listener task ends");
}
