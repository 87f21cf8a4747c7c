//! The fluent client, [`Geopera`]: short calls whose paths mirror the dotted operation
//! ids (`client.uploads().initiate(..)`, `client.items().asset().download(..)`) for the
//! seed's operations, and [`Geopera::call`] for every operation of the document
//! (`client.call(ops::ProjectsList, json!({..}))`), each a thin call into [`crate::ops`].
//!
//! Every call is awaited directly for the typed output (decoded JSON for
//! `uploads.complete` and the downloads, as in the Python SDK, wrapped in
//! [`Completion`](crate::models::Completion) and [`Descriptor`](crate::models::Descriptor)
//! for typed accessors and safe printing), or with `.detailed()` for the whole
//! [`crate::Response`]. The synchronous twin of this client is `geopera::blocking::Geopera`
//! (feature `blocking`). Bodies are the typed model or a `serde_json::json!`
//! value converted for you; a value that does not fit fails locally, naming the field.
//! The wrapped [`AuthenticatedClient`] is the public field `.client`: the escape hatch to
//! the generated layer.
//!
//! What this layer is *not*: a transfer engine. It never moves file bytes; callers PUT and
//! GET the signed URLs (see the examples).

mod clip;
mod items;
mod request;
mod session;
mod uploads;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

pub use crate::call::BoxFuture;
pub use clip::{Clip, ClipJob};
pub use items::{Items, ItemsAsset};
pub use request::{IntoInput, Request};
pub use session::{ABANDONED_STEP, UploadSession};
pub use uploads::Uploads;

use crate::models::UploadFailInput;
use crate::ops::Operation;
use crate::{AuthenticatedClient, ClientBuilder, Error, Response, RetryPolicy};

/// The fluent Geopera client. Cheap to clone; share it across tasks.
#[derive(Debug, Clone)]
pub struct Geopera {
    /// The wrapped generated-layer client, for [`crate::ops`] calls.
    pub client: AuthenticatedClient,
    releases: Arc<Mutex<Vec<oneshot::Receiver<()>>>>,
}

impl From<AuthenticatedClient> for Geopera {
    fn from(client: AuthenticatedClient) -> Geopera {
        Geopera {
            client,
            releases: Arc::default(),
        }
    }
}

impl Geopera {
    /// A client for the production API with a bearer `token`.
    pub fn new(token: impl AsRef<str>) -> Result<Geopera, Error> {
        Ok(AuthenticatedClient::builder().token(token).build()?.into())
    }

    /// A builder for every setting (base URL, timeouts, headers, retries, ...). To wrap a
    /// ready [`AuthenticatedClient`] instead, use `Geopera::from(client)`.
    pub fn builder() -> GeoperaBuilder {
        GeoperaBuilder {
            inner: ClientBuilder::new(),
        }
    }

    /// From `GEOPERA_API_URL` and `GEOPERA_API_TOKEN`, as the official CLI reads them.
    pub fn from_env() -> Result<Geopera, Error> {
        Ok(AuthenticatedClient::from_env()?.into())
    }

    /// The `uploads.*` operations.
    pub fn uploads(&self) -> Uploads<'_> {
        Uploads { geopera: self }
    }

    /// The `items.*` operations.
    pub fn items(&self) -> Items<'_> {
        Items { geopera: self }
    }

    /// The `clip.*` operations.
    pub fn clip(&self) -> Clip<'_> {
        Clip { geopera: self }
    }

    /// Any operation of the document, with types: `op` is its marker type from
    /// [`crate::ops`] (`ops::UploadsInitiate`, ...), the body its input model or a JSON
    /// value converted to it, and the result its output model. The named namespaces
    /// ([`Geopera::uploads`], ...) are this same call for the seed's operations.
    ///
    /// ```no_run
    /// # async fn run(client: geopera::Geopera) -> Result<(), geopera::Error> {
    /// use geopera::ops;
    /// let signed = client
    ///     .call(ops::UploadsSignedUrl, serde_json::json!({"upload_id": "upl_1", "file_name": "a.tif"}))
    ///     .await?;
    /// println!("PUT to {}", signed.upload_url); // printed without its signature
    /// # Ok(())
    /// # }
    /// ```
    pub fn call<O: Operation>(&self, op: O, body: impl IntoInput<O::Input>) -> Request<'_, O> {
        let _ = op;
        Request::new(&self.client, body)
    }

    /// Calls an operation by id with a JSON body and returns decoded JSON, for ids known
    /// only at run time (like the TypeScript client's `invoke` and the CLI's `op`). The id
    /// must be one of [`crate::ops::OPERATIONS`]: the call is that operation's typed call,
    /// so the body is checked against its input model before anything is sent, and the
    /// retry policy treats it as it does the typed call. An id the document does not have
    /// is an [`Error::InvalidInput`] (build against a newer document with
    /// `GEOPERA_OPENAPI_PATH` to reach newer operations).
    pub async fn invoke(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        self.invoke_detailed(operation, body)
            .await
            .map(Response::into_body)
    }

    /// [`Geopera::invoke`], returning status, headers and the attempt count too.
    pub async fn invoke_detailed(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<Response<serde_json::Value>, Error> {
        let call = crate::call::Invoke {
            client: &self.client,
            body,
        };
        match crate::ops::visit(operation, call) {
            Some(call) => call.await,
            None => Err(Error::InvalidInput {
                operation: operation.to_owned().into(),
                field: None,
                message: format!(
                    "no operation with this id in this build's document ({} operations; see geopera::ops::OPERATIONS)",
                    crate::ops::OPERATIONS.len()
                ),
            }),
        }
    }

    /// Waits until every background `uploads.fail` started by a dropped
    /// [`UploadSession`] has finished. Call it before shutdown, or in tests.
    pub async fn settle_abandoned(&self) {
        loop {
            let pending: Vec<_> = match self.releases.lock() {
                Ok(mut r) => r.drain(..).collect(),
                Err(_) => return,
            };
            if pending.is_empty() {
                return;
            }
            for done in pending {
                let _ = done.await;
            }
        }
    }

    /// Sends `uploads.fail` for an abandoned session without blocking the caller: on the
    /// current runtime when there is one, else on a short-lived thread of its own.
    pub(crate) fn release_in_background(&self, body: UploadFailInput) {
        let (done, finished) = oneshot::channel();
        if let Ok(mut r) = self.releases.lock() {
            r.push(finished);
        }
        let client = self.client.clone();
        let release = async move {
            if let Err(e) = crate::ops::uploads_fail::send(&client, &body).await {
                tracing::warn!(operation = "uploads.fail", error = %e, "releasing an abandoned upload session failed");
            }
            let _ = done.send(());
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(release);
            }
            Err(_) => {
                let spawned = std::thread::Builder::new().name("geopera-release".into()).spawn(move || {
                    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(rt) => rt.block_on(release),
                        Err(e) => tracing::warn!(error = %e, "no runtime to release an abandoned upload session"),
                    }
                });
                if let Err(e) = spawned {
                    tracing::warn!(error = %e, "no thread to release an abandoned upload session");
                }
            }
        }
    }
}

/// Builds a [`Geopera`] client; the setters mirror [`ClientBuilder`]'s.
#[derive(Debug, Default)]
#[must_use]
pub struct GeoperaBuilder {
    inner: ClientBuilder,
}

impl GeoperaBuilder {
    /// The API base URL.
    pub fn base_url(self, url: impl AsRef<str>) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.base_url(url),
        }
    }
    /// A bearer token.
    pub fn token(self, token: impl AsRef<str>) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.token(token),
        }
    }
    /// An `x-api-key` instead of the bearer token.
    pub fn api_key(self, key: impl AsRef<str>) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.api_key(key),
        }
    }
    /// The timeout of one attempt.
    pub fn timeout(self, timeout: impl Into<Option<Duration>>) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.timeout(timeout),
        }
    }
    /// The connect timeout.
    pub fn connect_timeout(self, timeout: impl Into<Option<Duration>>) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.connect_timeout(timeout),
        }
    }
    /// A header sent with every API request.
    pub fn default_header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.default_header(name, value),
        }
    }
    /// The retry policy.
    pub fn retry_policy(self, retry: RetryPolicy) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.retry_policy(retry),
        }
    }
    /// The caller's own `reqwest::Client`.
    pub fn http_client(self, client: reqwest::Client) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.http_client(client),
        }
    }
    /// Allows plain `http://` on a non-loopback host.
    pub fn allow_http(self, allow: bool) -> GeoperaBuilder {
        GeoperaBuilder {
            inner: self.inner.allow_http(allow),
        }
    }
    /// Builds the client.
    pub fn build(self) -> Result<Geopera, Error> {
        Ok(self.inner.build()?.into())
    }
}
