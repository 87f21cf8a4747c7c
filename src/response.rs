//! [`Response`]: what `send_detailed` and the fluent `.detailed()` return — the parsed body
//! beside the status and headers it came with.

use std::ops::Deref;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};

/// A successful response: status, headers and the parsed body. Derefs to the body.
#[derive(Debug, Clone)]
pub struct Response<T> {
    status: StatusCode,
    headers: HeaderMap,
    body: T,
}

impl<T> Response<T> {
    /// Assembles a response; useful for test fixtures.
    pub fn new(status: StatusCode, headers: HeaderMap, body: T) -> Response<T> {
        Response {
            status,
            headers,
            body,
        }
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

    /// Maps the body, keeping status and headers.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            status: self.status,
            headers: self.headers,
            body: f(self.body),
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
