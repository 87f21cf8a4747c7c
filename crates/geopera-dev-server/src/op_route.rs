//! `POST /v1/op/{operation_id}`: find the operation, apply faults, count the call, check auth,
//! read the body (size-limited), parse it as FastAPI would, run the handler, render the result.

use super::auth::authorize;
use super::body;
use super::dispatch::{self, OpContext, ROUTES};
use super::error::ApiError;
use super::faults::{FaultTarget, Surface, intercept};
use super::serve::{LocalAddr, PeerAddr};
use super::state::DevState;
use super::validate::{max_string_bytes, parse_body, truncate_utf8};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use futures_util::StreamExt;

/// The handler behind `POST /v1/op/{operation_id}`.
pub(super) async fn handle(
    State(state): State<DevState>,
    path: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    // The body is read before any answer, even an early 404 or 401, so the connection
    // stays usable. A body that is not read to its end (too large, stalled) ends the
    // connection with `Connection: close` (see `body::guard`).
    let (parts, body) = request.into_parts();
    let body = read_limited(&state, body, &parts.headers).await;
    let Some(op) = path.ok().and_then(|Path(id)| dispatch::find(&id)) else {
        let known: Vec<&str> = ROUTES.iter().map(|route| route.id()).collect();
        return ApiError::not_found(format!(
            "Unknown operation; the dev server implements: {}",
            known.join(", ")
        ))
        .into_response();
    };
    let fault = state.take_fault(&FaultTarget::Operation(op.id().to_owned()));
    if let Some(response) = intercept(fault, Surface::Api).await {
        return response;
    }
    state.count_call(op.id());

    // Access tokens issued by the stand-in realm hold every scope.
    if state.realm().accepts(&parts.headers) {
    } else if let Err(err) = authorize(
        &parts.headers,
        &state.config().tokens,
        op.id(),
        op.spec.required_scope,
    ) {
        return err.into_response();
    }
    let bytes = match body {
        Ok(bytes) => bytes,
        Err(err) => return err.into_response(),
    };
    let content_type = header_str(&parts.headers, header::CONTENT_TYPE.as_str());
    let parsed = match parse_body(content_type, &bytes) {
        Ok(parsed) => parsed,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let ctx = OpContext {
        base_url: base_url(&state, &parts),
        // Stored with download grants: bounded like the body's `user_agent` field.
        user_agent: header_str(&parts.headers, header::USER_AGENT.as_str())
            .map(|agent| truncate_utf8(agent, max_string_bytes("user_agent")).to_owned()),
        peer_ip: parts
            .extensions
            .get::<PeerAddr>()
            .map(|peer| peer.0.ip().to_string()),
    };
    match (op.run)(&state, &ctx, parsed) {
        Ok(value) => Json(value).into_response(),
        Err(err) => err.into_response(),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
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
    let declared =
        header_str(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
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

/// The scheme and authority signed URLs start with: the configured public URL, else the
/// request's `Host` (when it looks like a host), else the address the connection arrived
/// on (an HTTP/1.0 request may send no `Host`), else `http://127.0.0.1` (in-process calls).
pub(super) fn base_url(state: &DevState, parts: &Parts) -> String {
    if let Some(url) = &state.config().public_url {
        return url.clone();
    }
    let host = header_str(&parts.headers, header::HOST.as_str()).filter(|host| {
        !host.is_empty()
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
            })
    });
    match (host, parts.extensions.get::<LocalAddr>()) {
        (Some(host), _) => format!("http://{host}"),
        (None, Some(LocalAddr(local))) => format!("http://{local}"),
        (None, None) => "http://127.0.0.1".to_owned(),
    }
}
