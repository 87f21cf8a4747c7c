//! Optional one-line-per-request logging to stderr: method, path, status, duration. Never the
//! query string (it carries signatures) and never headers (they carry tokens).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Middleware that prints `PUT /storage/uploads/upl_…/a.tif -> 200 (3 ms)`.
pub(super) async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    eprintln!(
        "{method} {path} -> {} ({} ms)",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}
