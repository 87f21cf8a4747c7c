//! [`Response`]: what `send_detailed` and the fluent `.detailed()` return — the parsed body
//! beside the status and headers it came with, and the number of attempts it took.

use std::ops::Deref;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};

/// A successful response: status, headers and the parsed body, and how many attempts the
/// call took. Derefs to the body.
#[derive(Debug, Clone)]
pub struct Response<T> {
    status: StatusCode,
    headers: HeaderMap,
    body: T,
    attempts: u32,
}

impl<T> Response<T> {
    /// Assembles a response of one attempt; useful for test fixtures.
    pub fn new(status: StatusCode, headers: HeaderMap, body: T) -> Response<T> {
        Response {
            status,
            headers,
            body,
            attempts: 1,
        }
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
    /// `item_ids`. When that matters, check `attempts() > 1`.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The parsed body.
    pub fn body(&self) -> &T {
        &self.body
    }

    /// Consumes the response, returning the parsed body.
    pub fn into_body(self) -> T {
        self.body
    }

    /// The server's request id (`x-request-id`), to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }

    /// Maps the body, keeping status, headers and the attempt count.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            status: self.status,
            headers: self.headers,
            body: f(self.body),
            attempts: self.attempts,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.body
    }
}

/// The header that carries the server's request id.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The `x-request-id` header, when present and printable.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(X_REQUEST_ID).and_then(|v| v.to_str().ok())
}
