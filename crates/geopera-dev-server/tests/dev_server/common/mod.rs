//! Shared helpers for the dev-server integration tests: start a server, call operations over
//! raw HTTP, and move bytes through signed URLs.
#![allow(dead_code)]

pub mod raw;

use geopera_dev_server::{DevConfig, DevServer};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// A running dev server plus an HTTP client.
pub struct Harness {
    pub server: DevServer,
    pub http: reqwest::Client,
}

/// What an operation call returned.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a Problem with `status` and returns its detail.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{body}"
        );
        assert!(body["type"].as_str().is_some(), "{body}");
        body["detail"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts a 422 HTTPValidationError and returns its `detail` list.
    pub fn validation(&self) -> Vec<Value> {
        assert_eq!(self.status, 422, "{}", self.text);
        assert_eq!(self.content_type(), "application/json");
        let errors = self.json()["detail"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!errors.is_empty(), "{}", self.text);
        for error in &errors {
            assert!(
                error["loc"].is_array() && error["msg"].is_string() && error["type"].is_string(),
                "{error}"
            );
        }
        errors
    }
}

/// A plain reqwest client for raw HTTP. The SDK's default `rustls` feature builds reqwest
/// without a crypto provider, and reqwest panics building a client when the process has
/// none: install *ring*'s first, as a user building their own client would.
pub fn http_client() -> reqwest::Client {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::new()
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(DevConfig::default()).await
    }

    pub async fn with(config: DevConfig) -> Harness {
        let server = DevServer::start_with(config)
            .await
            .expect("dev server starts");
        Harness {
            server,
            http: http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// POST /v1/op/{op} with a JSON body, authenticated with the ready token.
    pub async fn op(&self, op: &str, body: Value) -> Reply {
        let request = self
            .http
            .post(self.url(&format!("/v1/op/{op}")))
            .bearer_auth(self.server.token())
            .json(&body);
        send(request).await
    }

    /// An unauthenticated POST builder for custom requests.
    pub fn post(&self, op: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(&format!("/v1/op/{op}")))
    }

    /// Adds the demo project (and item/clip) and returns nothing.
    pub fn demo(&self) {
        self.server.state().seed_demo().expect("demo seeds");
    }

    /// Initiates an upload in `prj_demo` (seed it first) and returns its id.
    pub async fn initiate(&self, file_count: u64, total_bytes: u64) -> String {
        let reply = self
            .op(
                "uploads.initiate",
                json!({"project_id": "prj_demo", "transfer_method": "signed_url",
                       "file_count": file_count, "total_bytes": total_bytes}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    /// Signs `file_name` and returns `(upload_url, object_path)`.
    pub async fn sign(
        &self,
        upload_id: &str,
        file_name: &str,
        content_type: &str,
    ) -> (String, String) {
        let reply = self
            .op(
                "uploads.signed_url",
                json!({"upload_id": upload_id, "file_name": file_name, "content_type": content_type}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let body = reply.json();
        (
            body["upload_url"].as_str().expect("upload_url").to_owned(),
            body["object_path"]
                .as_str()
                .expect("object_path")
                .to_owned(),
        )
    }

    /// PUTs `bytes` to a signed URL.
    pub async fn put(&self, url: &str, content_type: &str, bytes: Vec<u8>) -> Reply {
        send(
            self.http
                .put(url)
                .header("content-type", content_type)
                .body(bytes),
        )
        .await
    }

    /// GETs a URL (e.g. a signed download URL).
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http
            .get(url)
            .send()
            .await
            .expect("GET reaches the server")
    }

    /// Initiate, sign, PUT and complete one file; returns `(upload_id, item_ids)`.
    pub async fn upload(&self, file_name: &str, bytes: &[u8]) -> (String, Vec<String>) {
        let upload_id = self.initiate(1, bytes.len() as u64).await;
        let (url, _) = self.sign(&upload_id, file_name, "image/tiff").await;
        assert_eq!(
            self.put(&url, "image/tiff", bytes.to_vec()).await.status,
            200
        );
        let done = self
            .op("uploads.complete", json!({"upload_id": upload_id}))
            .await;
        assert_eq!(done.status, 200, "{}", done.text);
        let items = done.json()["item_ids"]
            .as_array()
            .expect("item_ids")
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect();
        (upload_id, items)
    }

    /// A download descriptor for `item_id`/`asset_id`.
    pub async fn asset_descriptor(&self, item_id: &str, asset_id: &str) -> Value {
        let reply = self
            .op(
                "items.asset.download",
                json!({"item_id": item_id, "asset_id": asset_id}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()
    }
}

/// Sends a request and reads the whole reply.
pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body reads");
    Reply {
        status,
        headers,
        text,
    }
}

/// Deterministic test bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
