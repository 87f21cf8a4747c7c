//! [`Response`]: what `send_detailed` and the fluent `.detailed()` return — the parsed body
//! beside the status and headers it came with, and how many attempts the call took.

use std::fmt;
use std::future::Future;
use std::ops::Deref;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};
use serde::de::DeserializeOwned;

/// A successful response: status, headers, the number of attempts the call took and the
/// parsed body. Derefs to the body.
///
/// Python's attributes are methods here (the compiler's "use parentheses to call the
/// method" points at them), and fields of the body are reached through `Deref`:
///
/// | Python (`sync_detailed` / `detailed=True`) | Rust |
/// |---|---|
/// | `resp.status_code` | [`Response::status_code`] (a `u16`), or [`Response::status`] (a [`StatusCode`], `resp.status() == 200` compiles) |
/// | `resp.parsed` | [`Response::parsed`] / [`Response::body`] (`&T`), [`Response::into_body`] (`T`), or `resp.id` (through `Deref`) |
/// | `resp.headers` | [`Response::headers`] |
/// | `resp.content` | not kept: the body is decoded as it arrives; `serde_json::to_vec(resp.body())` re-encodes it |
///
/// A status other than the operation's success status is never a `Response`: it is an
/// [`crate::Error`], whose [`crate::Error::status_code`] answers the same question.
pub struct Response<T> {
    /// progenitor's value as the call returned it: holding it keeps the headers without
    /// copying them.
    value: ResponseValue<T>,
    attempts: u32,
}

impl<T> Response<T> {
    /// Assembles a response of one attempt; useful for test fixtures.
    pub fn new(status: StatusCode, headers: HeaderMap, body: T) -> Response<T> {
        Response {
            value: ResponseValue::new(body, status, headers),
            attempts: 1,
        }
    }

    /// The response of a call that took `attempts` attempts.
    pub(crate) fn from_generated(value: ResponseValue<T>, attempts: u32) -> Response<T> {
        Response { value, attempts }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.value.status()
    }

    /// The HTTP status as a number: Python's `resp.status_code`.
    pub fn status_code(&self) -> u16 {
        self.status().as_u16()
    }

    /// The parsed body: Python's `resp.parsed`, the same as [`Response::body`].
    pub fn parsed(&self) -> &T {
        &self.value
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.value.headers()
    }

    /// The parsed body.
    #[doc(alias = "parsed")]
    pub fn body(&self) -> &T {
        &self.value
    }

    /// Consumes the response, returning the parsed body.
    pub fn into_body(self) -> T {
        self.value.into_inner()
    }

    /// The same response, as if the call had taken `attempts` attempts (at least 1); for
    /// test fixtures of code that looks at [`Response::attempts`].
    pub fn with_attempts(mut self, attempts: u32) -> Response<T> {
        self.attempts = attempts.max(1);
        self
    }

    /// How many attempts the call took: 1 when the first one succeeded, more when the
    /// client's [`crate::RetryPolicy`] repeated it after a transient failure (a 503, a
    /// dropped connection). This response answers the last attempt.
    ///
    /// A repeat can answer differently from the attempt whose answer was lost: a server
    /// that already acted on the first `uploads.complete` may answer the repeat with no
    /// `item_ids` (see [`crate::fluent::Uploads::complete`]). When that matters, check
    /// `attempts() > 1`.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The server's request id (`x-request-id`), to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        request_id(self.headers())
    }

    /// Maps the body, keeping status, headers and attempt count.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        let (status, headers, attempts) = (self.status(), self.headers().clone(), self.attempts);
        Response {
            value: ResponseValue::new(f(self.into_body()), status, headers),
            attempts,
        }
    }

    /// Maps the body with a function that can fail, keeping status, headers and attempts.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Response<U>, E> {
        let (status, headers, attempts) = (self.status(), self.headers().clone(), self.attempts);
        Ok(Response {
            value: ResponseValue::new(f(self.into_body())?, status, headers),
            attempts,
        })
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Clone> Clone for Response<T> {
    fn clone(&self) -> Response<T> {
        Response {
            value: ResponseValue::new(self.body().clone(), self.status(), self.headers().clone()),
            attempts: self.attempts,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status())
            .field("attempts", &self.attempts)
            .field("headers", self.headers())
            .field("body", self.body())
            .finish()
    }
}

/// The header that carries the server's request id.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The `x-request-id` header, when present and printable.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(X_REQUEST_ID).and_then(|v| v.to_str().ok())
}

/// Decodes a success response: what the generated methods call where progenitor's own code
/// calls `ResponseValue::from_response` (`build/streamline.rs` puts it there). The same
/// status, headers, body and errors, but the headers are moved out of the response, where
/// progenitor clones them and drops the originals.
///
/// The body is read chunk by chunk (one chunk, kept as is, for an API response) rather than
/// with `Response::bytes`, whose future holds the response twice over: this future is
/// part of every call's, and about 500 bytes smaller for it. A body error carries the URL,
/// as `bytes()` gives it.
///
/// A plain `fn` returning an `async move` block rather than an `async fn`: an `async fn`
/// keeps its argument twice in its future (as passed, and as the local it is moved into).
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps each argument twice in its future"
)]
pub(crate) fn decode<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> {
    async move {
        let full = read_body(&mut response).await.map_err(|e| {
            progenitor_client::Error::ResponseBodyError(e.with_url(response.url().clone()))
        })?;
        // Taken after the body is read, so they are not held across its `.await` too.
        let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
        let inner = serde_json::from_slice(&full)
            .map_err(|e| progenitor_client::Error::InvalidResponsePayload(full, e))?;
        Ok(ResponseValue::new(inner, status, headers))
    }
}

/// The whole body: the first chunk itself when it is the only one, else the chunks copied
/// into one buffer.
async fn read_body(response: &mut reqwest::Response) -> reqwest::Result<bytes::Bytes> {
    let Some(first) = response.chunk().await? else {
        return Ok(bytes::Bytes::new());
    };
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut all = bytes::BytesMut::with_capacity(first.len() + second.len());
    all.extend_from_slice(&first);
    all.extend_from_slice(&second);
    while let Some(chunk) = response.chunk().await? {
        all.extend_from_slice(&chunk);
    }
    Ok(all.freeze())
}
