//! # geopera
//!
//! Async-first Rust SDK for the Geopera geospatial data platform.

#![warn(missing_docs)]

mod auth;
#[cfg(feature = "blocking")]
mod blocking;
mod call;
mod client;
mod error;
pub mod fluent;
mod generated;
mod hooks;
mod invoke;
pub mod models;
pub mod ops;
mod redact;
mod response;
mod retry;
mod signed_url;

pub use call::CallContext;
pub use client::{AuthenticatedClient, ClientBuilder, DEFAULT_BASE_URL, USER_AGENT};
pub use error::{BodySnippet, Error, TransportKind};
pub use fluent::{Geopera, GeoperaBuilder, UploadSession};
pub use response::Response;
pub use retry::RetryPolicy;
