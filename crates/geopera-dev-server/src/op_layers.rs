//! The layers in front of the operation handlers that are not auth (`auth.rs`): reading the
//! body before anything answers, and injected API faults. See `operations.rs` for the order.

use super::body;
use super::error::ApiError;
use super::faults::{FaultTarget, Surface, intercept};
use super::operations::{Route, find_by_path};
use super::state::DevState;
use super::url::decode_path;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;

/// The operation a request is for, put in its extensions by [`read_body`] (absent for an
/// unknown operation id).
#[derive(Clone, Copy)]
pub(super) struct ResolvedOp(pub(super) &'static Route);

/// Why the request body could not be read (too large, stalled, broken), put in the request's
/// extensions by [`read_body`] and answered by the body extractor, after faults and auth.
#[derive(Debug, Clone)]
pub(super) struct UnreadBody(pub(super) ApiError);

/// Layer: reads the whole body into memory first, so that every answer, even an early 404
/// or 401, leaves the connection usable (see `body.rs`), and notes the operation. A body
/// over the configured limit or stalled past the read timeout is not an answer yet: it is
/// noted as [`UnreadBody`] and reported where the API reports it.
pub(super) async fn read_body(
    State(state): State<DevState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let body = match read_limited(&state, body, &parts.headers).await {
        Ok(bytes) => Body::from(bytes),
        Err(err) => {
            parts.extensions.insert(UnreadBody(err));
            Body::empty()
        }
    };
    // Decoded, as a path parameter is: `/v1/op/uploads%2Einitiate` is `uploads.initiate`.
    if let Some(route) = decode_path(parts.uri.path()).and_then(|path| find_by_path(&path)) {
        parts.extensions.insert(ResolvedOp(route));
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Layer: applies the next injected fault of the request's operation (answering for it, or
/// delaying it), then counts the call; requests for unknown operations pass untouched.
pub(super) async fn inject_faults(
    State(state): State<DevState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(&ResolvedOp(route)) = request.extensions().get::<ResolvedOp>() else {
        return next.run(request).await;
    };
    let fault = state.take_fault(&FaultTarget::Operation(route.id().to_owned()));
    if let Some(response) = intercept(fault, Surface::Api).await {
        return response;
    }
    state.count_call(route.id());
    next.run(request).await
}

/// Reads the whole body, refusing more than the configured limit with a 413 Problem and a
/// body that stalls past the read timeout with a 408 Problem.
async fn read_limited(
    state: &DevState,
    body: Body,
    headers: &HeaderMap,
) -> Result<Vec<u8>, ApiError> {
    let limit = state.config().max_request_bytes;
    let too_large = || {
        ApiError::problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body exceeds the {limit}-byte limit for operations"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            if body::is_timeout(&err) {
                ApiError::problem(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "The request body stalled: no bytes arrived for {} ms; send the body without pausing",
                        state.config().body_read_timeout.unwrap_or_default().as_millis()
                    ),
                )
            } else {
                ApiError::problem(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read",
                )
            }
        })?;
        if out.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
