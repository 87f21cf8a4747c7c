//! # geopera
//!
//! Async-first Rust SDK for the [Geopera](https://geopera.com) geospatial data platform:
//! upload sessions, signed URLs, download descriptors. Its companion crate
//! [`geopera-dev-server`](https://github.com/geo-pera/geopera-rust/tree/main/crates/geopera-dev-server)
//! runs the whole flow offline, in your tests or as a binary.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use geopera::Geopera;
//! use geopera_dev_server::DevServer;
//! use geopera::models::UploadInitiate;
//!
//! // A local stand-in for the platform; against the real API use Geopera::from_env().
//! let server = DevServer::start().await?;
//! server.state().add_project("prj_demo");
//! let client = server.client_builder().build()?; // base URL and token of the dev server
//!
//! let bytes = b"II*\0 a tiny GeoTIFF".to_vec();
//! let session = client.uploads().session(UploadInitiate::for_files("prj_demo", [bytes.len() as u64])).await?;
//! let signed = session.sign("scene.tif", "image/tiff").await?;
//! // The SDK never moves bytes: PUT them to the signed URL yourself.
//! client.client.http_client()
//!     .put(signed.upload_url.expose())
//!     .header("content-type", "image/tiff")
//!     .body(bytes.clone())
//!     .send().await?
//!     .error_for_status()?;
//! let done = session.complete().await?;
//! let item_id = *done.item_ids().first().ok_or("no item was created")?;
//!
//! // A new upload's asset is keyed by its file's stem: "scene".
//! let asset_id = geopera::models::Completion::asset_key("scene.tif");
//! let descriptor = client.items().asset().download(serde_json::json!({"item_id": item_id, "asset_id": asset_id})).await?;
//! println!("{descriptor}"); // its signed URL prints without the query
//! let url = descriptor.url().ok_or("no signed URL in the descriptor")?;
//! let downloaded = client.client.http_client().get(url.expose()).send().await?.error_for_status()?.bytes().await?;
//! assert_eq!(downloaded.as_ref(), bytes.as_slice());
//! # Ok(())
//! # }
//! ```
//!
//! ## Layers
//!
//! A call's journey reads top to bottom, and errors come back through one type, [`Error`]:
//!
//! * [`Geopera`] (the fluent layer, [`fluent`]): `client.uploads().initiate(..)`,
//!   `client.items().asset().download(..)`, ... Bodies are models or `serde_json::json!`
//!   values; await for the body or call `.detailed()` for a [`Response`]. Its synchronous
//!   twin is `blocking::Geopera` (feature `blocking`).
//!
//! Coming from the Python SDK? [`porting`] walks its uploads & downloads page in Rust.
//! * [`ops`]: one generated module per operation with `send` / `send_detailed` (and
//!   `send_blocking` twins behind the `blocking` feature) taking an [`AuthenticatedClient`]
//!   — the escape hatch, exposed as [`Geopera::client`]. `send_detailed` repeats an attempt
//!   while the client's [`RetryPolicy`] says so.
//! * progenitor's generated client and the hooks in this crate (credentials, one
//!   `tracing` span per attempt and its retry verdict), then reqwest.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | TLS through rustls with the *ring* crypto provider (see below) |
//! | `aws-lc-rs` | no | TLS through rustls with reqwest's own provider, aws-lc-rs (a C library: slow to build) |
//! | `native-tls` | no | TLS through the platform's library instead |
//! | `http2` | no | HTTP/2 to the API |
//! | `blocking` | no | [`blocking::Geopera`], the synchronous fluent client, and `send_blocking` / `send_detailed_blocking` in every `ops` module |
//!
//! With `rustls` (the default), reqwest is built without a crypto provider, and rustls needs
//! one installed for the process. When a geopera client builds its own `reqwest::Client`
//! (every builder except one given [`ClientBuilder::http_client`]) and no provider is
//! installed yet, it installs *ring*'s as the process default; one you installed first is
//! kept. The hazard: a `reqwest::Client` built *elsewhere*, before any geopera client and
//! without a provider installed, panics in `reqwest::Client::build()`. Install one first
//! (`rustls::crypto::ring::default_provider().install_default()`), build a geopera client
//! first, or turn on reqwest's own `rustls` feature (or geopera's `aws-lc-rs`) in your
//! crate.
//!
//! ## Secrets
//!
//! The token is marked sensitive on the wire and redacted in every `Debug`; signed URLs
//! ([`models::SignedUrl`]) and download descriptors ([`models::Descriptor`]) print without
//! their query, and reading one is explicit (`expose()`, `url()`). Error messages and traces
//! are redacted by what a secret is, whatever its spelling: every URL's query (absolute or
//! relative, any case, JSON-escaped or not), the value of every parameter, field or header
//! named as a signature, credential, token or key, bearer tokens, and the client's own
//! credential wherever a server echoes it.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
mod call;
mod client;
mod completion;
mod error;
pub mod fluent;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
mod generated;
mod hooks;
pub mod models;
pub mod ops;
pub mod porting;
mod redact;
mod response;
mod retry;
mod signed_url;

pub use client::{
    AuthenticatedClient, ClientBuilder, DEFAULT_BASE_URL, POOL_IDLE_TIMEOUT, USER_AGENT,
};
pub use error::{BodySnippet, Error, Redacted, StorageReply, TransportKind};
pub use fluent::{Geopera, GeoperaBuilder, UploadSession};
pub use ops::{Operation, OperationSpec};
pub use response::Response;
pub use retry::RetryPolicy;

/// The HTTP client this crate is built on, re-exported at the version it uses, for callers
/// who build their own pool (`ClientBuilder::http_client`) or PUT and GET signed URLs with
/// it.
pub use reqwest;
/// The HTTP status type of [`Response::status`] and [`Error::status`], re-exported so
/// `e.status() == Some(StatusCode::PAYMENT_REQUIRED)` needs no dependency of your own.
/// (For an integer, [`Error::status_code`] and [`Response::status_code`] give a `u16`.)
pub use reqwest::StatusCode;
