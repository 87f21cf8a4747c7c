//! The embedded Geopera dev server: the whole upload and download flow offline, with real
//! signed URLs, quota accounting, FastAPI-shaped validation errors and injectable faults.
//!
//! Start one in a test with [`DevServer::start`], or build the pieces yourself: [`DevState`]
//! holds everything, [`router`] gives an axum `Router` for in-process `oneshot` calls, and
//! [`serve`] runs it on a listener until a shutdown future completes.
//!
//! Routes: `POST /v1/op/{operation_id}` (the eight upload and download operations),
//! `PUT`/`GET /storage/{object_path}` (signed URLs), `GET /healthz`, and a stand-in for the
//! platform's OpenID Connect realm under `/realms/public/` (userinfo, device login, tokens).
//! Each operation is a handler from the SDK's input model to its output model, behind
//! layers that read the body, inject faults and check the token's scope; request logging
//! wraps every route.
//!
//! Storage behaves as Google Cloud Storage's XML API, where the platform keeps its files:
//! signed URLs in GCS's V4 query format (`X-Goog-Algorithm`, `-Credential`, `-Date`,
//! `-Expires`, `-SignedHeaders`, `-Signature`), errors as GCS's XML
//! `Error` documents (`Code`, `Message`, `Details`), `ETag` and `x-goog-hash` (CRC32C and MD5) on every object read,
//! `If-Match` / `If-None-Match` and single byte ranges honoured, and an upload's declared
//! `x-goog-hash` checked (400 `BadDigest`, nothing stored).
//!
//! Not for production: the signing key is per start and state lives in memory.
//!
//! The same server runs as the `geopera-dev-server` binary (`cargo run -p geopera-dev-server`)
//! for clients in other languages.

#![warn(missing_docs)]

mod auth;
mod body;
mod clock;
mod config;
mod data_dir;
mod demo;
mod downloads;
mod entropy;
pub(crate) mod error;
mod extract;
mod faults;
mod flags;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod inputs;
mod log;
mod mint;
mod object_hash;
mod object_io;
mod op_layers;
pub(crate) mod operations;
pub(crate) mod range;
mod realm;
mod records;
mod serve;
mod server;
pub(crate) mod signing;
mod state;
pub(crate) mod storage;
mod throttle;
mod uploads;
pub(crate) mod url;
pub(crate) mod validate;

pub use config::DevConfig;
pub use faults::{Fault, FaultKind, FaultTarget};
pub use flags::{Flags, run};
pub use records::{
    AssetSnapshot, DemoIds, EgressRecord, ItemSnapshot, SessionSnapshot, SessionStatus, SignedFile,
};
pub use serve::serve;
pub use server::DevServer;
pub use state::DevState;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

/// The dev server's routes over `state`, for in-process use (e.g. `tower::ServiceExt::oneshot`)
/// or for [`serve`]. Through the router alone the `DropConnection` fault renders as a 502.
pub fn router(state: DevState) -> Router {
    let log = state.config().log_requests;
    let body_timeout = state.config().body_read_timeout;
    let router = Router::new()
        .route("/healthz", get(healthz))
        .merge(operations::router(&state))
        .route(
            "/storage/{*object_path}",
            get(storage::get_object).put(storage::put_object),
        )
        .merge(realm::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn(move |request, next| {
            body::guard(body_timeout, request, next)
        }));
    if log {
        router.layer(axum::middleware::from_fn(log::log_request))
    } else {
        router
    }
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

// The fallbacks answer without reading any body; `body::guard` then ends the connection.
async fn not_found() -> Response {
    error::ApiError::not_found("No such route; operations are POST /v1/op/{operation_id}")
        .into_response()
}

async fn method_not_allowed() -> Response {
    error::problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed; operations are POST, storage URLs take PUT (upload) or GET (download)",
        None,
    )
}
