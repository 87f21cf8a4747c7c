//! Request bodies, for every route in one middleware: a read timeout, so a client that stops
//! sending mid-body cannot hold a connection forever, and `Connection: close` on every answer
//! that leaves its request body unread.
//!
//! Why the second: an answer sent before the body is read (a 401, a 404, a 413, an injected
//! fault, a handler that never looks at its body) makes hyper close the connection after it,
//! since the unread bytes would otherwise be taken for the next request. Without the header
//! a pooling client does not know, reuses the connection and gets a broken pipe.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tower_http::timeout::{TimeoutBody, TimeoutError};

/// Middleware: bounds how long the request body may stall (when `timeout` is set) and marks
/// the response `Connection: close` unless the handler read the body to its end.
pub(super) async fn guard(timeout: Option<Duration>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let tracked = ReadToEnd::new(body);
    let read = Arc::clone(&tracked.read);
    let body = match timeout {
        Some(timeout) => Body::new(TimeoutBody::new(timeout, tracked)),
        None => Body::new(tracked),
    };
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Whether a body read failed because the body stalled longer than the read timeout.
pub(super) fn is_timeout(err: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = cause {
        if err.is::<TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// A body that records whether it was read to its end.
struct ReadToEnd {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl ReadToEnd {
    fn new(inner: Body) -> ReadToEnd {
        // A request without a body has nothing left to read.
        let read = Arc::new(AtomicBool::new(inner.is_end_stream()));
        ReadToEnd { inner, read }
    }
}

impl HttpBody for ReadToEnd {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => this.inner.is_end_stream(),
            Poll::Ready(Some(Err(_))) | Poll::Pending => false,
        };
        if ended {
            this.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;
    use futures_util::StreamExt;
    use tower_service::Service;

    async fn read_all(body: Body) -> Result<usize, axum::Error> {
        let mut stream = body.into_data_stream();
        let mut len = 0;
        while let Some(chunk) = stream.next().await {
            len += chunk?.len();
        }
        Ok(len)
    }

    async fn respond(
        app: &mut axum::Router,
        body: Body,
    ) -> (Option<HeaderValue>, axum::http::StatusCode) {
        let request = axum::http::Request::post("/").body(body).expect("request");
        let response = app.call(request).await.expect("infallible");
        (
            response.headers().get(header::CONNECTION).cloned(),
            response.status(),
        )
    }

    #[tokio::test]
    async fn only_answers_that_leave_the_body_unread_close_the_connection() {
        let mut reads = axum::Router::new()
            .route(
                "/",
                post(|request: Request| async move {
                    read_all(request.into_body())
                        .await
                        .map(|_| ())
                        .is_ok()
                        .to_string()
                }),
            )
            .layer(axum::middleware::from_fn(|r, n| guard(None, r, n)));
        let mut ignores = axum::Router::new()
            .route("/", post(|| async { "ignored" }))
            .layer(axum::middleware::from_fn(|r, n| guard(None, r, n)));
        assert_eq!(respond(&mut reads, Body::from("abc")).await.0, None);
        assert_eq!(respond(&mut reads, Body::empty()).await.0, None);
        assert_eq!(respond(&mut ignores, Body::empty()).await.0, None);
        let (connection, _) = respond(&mut ignores, Body::from("abc")).await;
        assert_eq!(connection, Some(HeaderValue::from_static("close")));
    }

    #[tokio::test]
    async fn a_stalled_body_fails_with_a_timeout_error() {
        let (_keep_open, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let stalled = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        }));
        let body = Body::new(TimeoutBody::new(
            Duration::from_millis(20),
            ReadToEnd::new(stalled),
        ));
        let err = read_all(body).await.expect_err("the body stalls");
        assert!(is_timeout(&err), "{err}");
        let other = axum::Error::new(std::io::Error::other("reset"));
        assert!(!is_timeout(&other));
    }
}
