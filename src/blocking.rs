//! The synchronous client (feature `blocking`): [`blocking::Geopera`](Geopera) mirrors
//! [`crate::Geopera`] call for call, for a plain `fn main` and for scripts ported from the
//! Python SDK, whose fluent client is synchronous.
//!
//! It wraps the async client, as `reqwest::blocking` wraps reqwest's: each call runs the
//! async call to completion on one shared, lazily started background runtime (one worker
//! thread). Where the async client is awaited, the blocking one ends a call with
//! [`Request::send`] (the body) or [`Request::detailed`] (the whole [`Response`]):
//!
//! | Python | async Rust | blocking Rust |
//! |---|---|---|
//! | `client.uploads.initiate({...})` | `client.uploads().initiate(json!({..})).await?` | `client.uploads().initiate(json!({..})).send()?` |
//! | `..., detailed=True` | `.detailed().await?` | `.detailed()?` |
//! | — | `client.call(ops::UploadsProgress, body).await?` | `client.call(ops::UploadsProgress, body).send()?` |
//! | — | `client.invoke("id", json).await?` | `client.invoke("id", json)?` |
//!
//! Inside an async runtime a blocking call would stall it, so there every call returns
//! [`Error::BlockingInRuntime`] instead of blocking or panicking: use the async client
//! there. The `send_blocking` / `send_detailed_blocking` twins of every [`crate::ops`]
//! module run on the same runtime.
//!
//! ```no_run
//! use geopera::blocking::Geopera;
//! use geopera::models::UploadInitiate;
//!
//! fn main() -> Result<(), geopera::Error> {
//!     let client = Geopera::from_env()?;
//!     let session = client.uploads().initiate(UploadInitiate::for_files("prj_1", [1024])).send()?;
//!     // ... sign, PUT, then:
//!     let done = client.uploads().complete(&session.id).send()?;
//!     println!("items: {:?}", done.item_ids());
//!     Ok(())
//! }
//! ```

use std::borrow::Cow;
use std::future::{Future, IntoFuture};
use std::sync::OnceLock;

use crate::fluent::IntoInput;
use crate::models::{
    AssetDownloadInput, ClipDownloadInput, ClipJobInput, Completion, SignedUrlInput,
    SignedUrlOutput, UploadFailInput, UploadInitiate, UploadOutput, UploadProgressInput,
    UploadsCompleteBody,
};
use crate::ops::{self, Operation};
use crate::{AuthenticatedClient, Error, Response};

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Runs `future` to completion on the shared runtime, or returns
/// [`Error::BlockingInRuntime`] naming `operation` when called inside a runtime.
pub(crate) fn block_on<T>(
    operation: impl Into<Cow<'static, str>>,
    future: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::BlockingInRuntime {
            operation: operation.into(),
        });
    }
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("geopera-blocking")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match runtime {
        Ok(rt) => rt.block_on(future),
        Err(e) => Err(Error::Config {
            message: format!("starting the blocking runtime: {e}"),
        }),
    }
}

/// The synchronous fluent client: [`crate::Geopera`]'s calls, each ending in
/// [`Request::send`] or [`Request::detailed`] instead of `.await`. Cheap to clone; share it
/// across threads.
#[derive(Debug, Clone)]
pub struct Geopera {
    /// The wrapped generated-layer client, for [`crate::ops`] calls (and their
    /// `send_blocking` twins): Python's `client.client`.
    pub client: AuthenticatedClient,
    inner: crate::Geopera,
}

impl From<crate::Geopera> for Geopera {
    fn from(inner: crate::Geopera) -> Geopera {
        Geopera {
            client: inner.client.clone(),
            inner,
        }
    }
}

impl From<AuthenticatedClient> for Geopera {
    fn from(client: AuthenticatedClient) -> Geopera {
        crate::Geopera::from(client).into()
    }
}

impl Geopera {
    /// A client for the production API with a bearer `token`: Python's
    /// `Geopera(token="...")`.
    pub fn new(token: impl AsRef<str>) -> Result<Geopera, Error> {
        crate::Geopera::new(token).map(Geopera::from)
    }

    /// From `GEOPERA_API_URL` and `GEOPERA_API_TOKEN`, as [`crate::Geopera::from_env`].
    pub fn from_env() -> Result<Geopera, Error> {
        crate::Geopera::from_env().map(Geopera::from)
    }

    /// The async builder: finish it with
    /// [`GeoperaBuilder::build_blocking`](crate::GeoperaBuilder::build_blocking).
    pub fn builder() -> crate::GeoperaBuilder {
        crate::Geopera::builder()
    }

    /// The async client this one wraps, for code that is async after all (run it with
    /// [`Geopera::block_on`]).
    pub fn as_async(&self) -> &crate::Geopera {
        &self.inner
    }

    /// Runs `future` to completion on the runtime every call of this client runs on, and
    /// returns its output: for async code built on the wrapped client ([`as_async`]),
    /// such as a crate that moves the bytes of signed URLs, or your own PUT through
    /// `client.client.http_client()`. A connection the pool opens stays tied to the
    /// runtime that opened it, so a future that uses this client's pool must run here,
    /// not on a runtime of its own.
    ///
    /// The future's error is any type a [`geopera::Error`](Error) converts into (that
    /// error itself, `Box<dyn Error>`, `anyhow::Error`). Inside an async runtime it returns
    /// [`Error::BlockingInRuntime`] naming `operation`, converted, without polling
    /// `future`, as every blocking call does.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), geopera::Error> {
    /// use geopera::models::{AssetDownloadInput, Descriptor};
    ///
    /// let client = geopera::blocking::Geopera::from_env()?;
    /// // Two downloads resolved at once, from synchronous code.
    /// let (a, b): (Descriptor, Descriptor) = client.block_on("items.asset.download", async {
    ///     let items = client.as_async().items();
    ///     let a = items.asset().download(AssetDownloadInput::new("it_1", "visual"));
    ///     let b = items.asset().download(AssetDownloadInput::new("it_2", "visual"));
    ///     tokio::try_join!(a.into_future(), b.into_future())
    /// })?;
    /// # let _ = (a, b); Ok(()) }
    /// ```
    ///
    /// [`as_async`]: Geopera::as_async
    pub fn block_on<T, E: From<Error>>(
        &self,
        operation: impl Into<Cow<'static, str>>,
        future: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        match block_on(operation, async { Ok(future.await) }) {
            Ok(output) => output,
            Err(e) => Err(E::from(e)),
        }
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

    /// Any operation of the document, with types, as [`crate::Geopera::call`].
    pub fn call<O: Operation>(&self, op: O, body: impl IntoInput<O::Input>) -> Request<'_, O> {
        Request {
            inner: self.inner.call(op, body),
        }
    }

    /// Calls an operation by id with a JSON body, as [`crate::Geopera::invoke`].
    pub fn invoke(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        block_on(operation.to_owned(), self.inner.invoke(operation, body))
    }

    /// [`Geopera::invoke`], returning status, headers and the attempt count too.
    pub fn invoke_detailed(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<Response<serde_json::Value>, Error> {
        block_on(
            operation.to_owned(),
            self.inner.invoke_detailed(operation, body),
        )
    }

    /// Waits until every background `uploads.fail` started by a dropped [`UploadSession`]
    /// has finished, as [`crate::Geopera::settle_abandoned`]. Inside an async runtime it
    /// returns [`Error::BlockingInRuntime`].
    pub fn settle_abandoned(&self) -> Result<(), Error> {
        block_on("uploads.fail", async {
            self.inner.settle_abandoned().await;
            Ok(())
        })
    }
}

impl crate::GeoperaBuilder {
    /// Builds the synchronous client ([`blocking::Geopera`](Geopera)).
    pub fn build_blocking(self) -> Result<Geopera, Error> {
        self.build().map(Geopera::from)
    }
}

/// One call, ready to send: [`Request::send`] for the body, [`Request::detailed`] for the
/// whole [`Response`]. (The async client's [`crate::fluent::Request`], run to completion.)
#[must_use = "a request does nothing until it is sent"]
#[derive(Debug)]
pub struct Request<'a, Op: Operation> {
    inner: crate::fluent::Request<'a, Op>,
}

impl<'a, Op: Operation> Request<'a, Op> {
    /// The input model as it will be sent, or the local error that stops it.
    pub fn input(&self) -> Result<&Op::Input, &Error> {
        self.inner.input()
    }

    /// Sends the call and returns the body: the async call's `.await`.
    pub fn send(self) -> Result<Op::Output, Error> {
        block_on(Op::SPEC.id, self.inner.into_future())
    }

    /// Sends the call and returns status, headers, attempt count and body: Python's
    /// `detailed=True`.
    pub fn detailed(self) -> Result<Response<Op::Output>, Error> {
        block_on(Op::SPEC.id, self.inner.detailed())
    }
}

/// The `uploads.*` namespace of a blocking [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct Uploads<'a> {
    geopera: &'a Geopera,
}

impl<'a> Uploads<'a> {
    /// `uploads.initiate`, as [`crate::fluent::Uploads::initiate`].
    pub fn initiate(
        self,
        body: impl IntoInput<UploadInitiate>,
    ) -> Request<'a, ops::UploadsInitiate> {
        self.geopera.call(ops::UploadsInitiate, body)
    }

    /// `uploads.signed_url`, as [`crate::fluent::Uploads::signed_url`].
    pub fn signed_url(
        self,
        body: impl IntoInput<SignedUrlInput>,
    ) -> Request<'a, ops::UploadsSignedUrl> {
        self.geopera.call(ops::UploadsSignedUrl, body)
    }

    /// `uploads.progress`, as [`crate::fluent::Uploads::progress`].
    pub fn progress(
        self,
        body: impl IntoInput<UploadProgressInput>,
    ) -> Request<'a, ops::UploadsProgress> {
        self.geopera.call(ops::UploadsProgress, body)
    }

    /// `uploads.complete`, as [`crate::fluent::Uploads::complete`]: the body may be an
    /// upload id held any ordinary way, the [`UploadOutput`] of `initiate`, JSON, the
    /// model, or `()`.
    pub fn complete(
        self,
        body: impl IntoInput<UploadsCompleteBody>,
    ) -> Request<'a, ops::UploadsComplete> {
        self.geopera.call(ops::UploadsComplete, body)
    }

    /// `uploads.fail`, as [`crate::fluent::Uploads::fail`].
    pub fn fail(self, body: impl IntoInput<UploadFailInput>) -> Request<'a, ops::UploadsFail> {
        self.geopera.call(ops::UploadsFail, body)
    }

    /// Initiates a session and returns its guard, as [`crate::fluent::Uploads::session`]:
    /// dropped without `complete` or `fail`, it calls `uploads.fail` in the background.
    pub fn session(self, body: impl IntoInput<UploadInitiate>) -> Result<UploadSession, Error> {
        let inner = &self.geopera.inner;
        block_on(ops::UploadsInitiate::SPEC.id, inner.uploads().session(body))
            .map(|inner| UploadSession { inner })
    }
}

/// The `items.*` namespace of a blocking [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct Items<'a> {
    geopera: &'a Geopera,
}

impl<'a> Items<'a> {
    /// The `items.asset.*` namespace.
    pub fn asset(self) -> ItemsAsset<'a> {
        ItemsAsset {
            geopera: self.geopera,
        }
    }
}

/// The `items.asset.*` namespace of a blocking [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct ItemsAsset<'a> {
    geopera: &'a Geopera,
}

impl<'a> ItemsAsset<'a> {
    /// `items.asset.download`, as [`crate::fluent::ItemsAsset::download`].
    pub fn download(
        self,
        body: impl IntoInput<AssetDownloadInput>,
    ) -> Request<'a, ops::ItemsAssetDownload> {
        self.geopera.call(ops::ItemsAssetDownload, body)
    }
}

/// The `clip.*` namespace of a blocking [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct Clip<'a> {
    geopera: &'a Geopera,
}

impl<'a> Clip<'a> {
    /// The `clip.job.*` namespace.
    pub fn job(self) -> ClipJob<'a> {
        ClipJob {
            geopera: self.geopera,
        }
    }
}

/// The `clip.job.*` namespace of a blocking [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct ClipJob<'a> {
    geopera: &'a Geopera,
}

impl<'a> ClipJob<'a> {
    /// `clip.job.download`, as [`crate::fluent::ClipJob::download`].
    pub fn download(
        self,
        body: impl IntoInput<ClipDownloadInput>,
    ) -> Request<'a, ops::ClipJobDownload> {
        self.geopera.call(ops::ClipJobDownload, body)
    }

    /// `clip.job.downloads`, as [`crate::fluent::ClipJob::downloads`].
    pub fn downloads(
        self,
        body: impl IntoInput<ClipJobInput>,
    ) -> Request<'a, ops::ClipJobDownloads> {
        self.geopera.call(ops::ClipJobDownloads, body)
    }
}

/// An open upload session of the blocking client: [`crate::UploadSession`], whose every
/// step blocks. Dropped while still open (an early `?`, a panic), it calls `uploads.fail`
/// with `error_step` `"abandoned"` on a short-lived thread of its own;
/// [`Geopera::settle_abandoned`] waits for it.
#[derive(Debug)]
#[must_use = "a dropped session is failed in the background; call complete() or fail()"]
pub struct UploadSession {
    inner: crate::UploadSession,
}

impl UploadSession {
    /// The upload id every step carries.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// Whether the session is still open.
    pub fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    /// Signs one file of the session for a PUT with `content_type`.
    pub fn sign(&self, file_name: &str, content_type: &str) -> Result<SignedUrlOutput, Error> {
        block_on(
            ops::UploadsSignedUrl::SPEC.id,
            self.inner.sign(file_name, content_type),
        )
    }

    /// Reports progress (`bytes_uploaded` is cumulative).
    pub fn progress(&self, status: &str, bytes_uploaded: u64) -> Result<UploadOutput, Error> {
        block_on(
            ops::UploadsProgress::SPEC.id,
            self.inner.progress(status, bytes_uploaded),
        )
    }

    /// Completes the session, as [`crate::UploadSession::complete`] (a failed completion
    /// fails the session). Inside an async runtime it returns
    /// [`Error::BlockingInRuntime`] and the session, dropped open, is failed in the
    /// background.
    pub fn complete(self) -> Result<Completion, Error> {
        block_on(ops::UploadsComplete::SPEC.id, self.inner.complete())
    }

    /// Fails the session with a message and the step that failed, releasing its
    /// reservation.
    pub fn fail(self, error_message: &str, error_step: &str) -> Result<UploadOutput, Error> {
        block_on(
            ops::UploadsFail::SPEC.id,
            self.inner.fail(error_message, error_step),
        )
    }
}
