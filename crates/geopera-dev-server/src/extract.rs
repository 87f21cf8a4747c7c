//! The extractors of the operation handlers: [`OpContext`] (what a handler knows about the
//! request besides its body) and [`Valid`] (the body, parsed as FastAPI parses it and
//! validated into the SDK's input model).

use super::error::ApiError;
use super::inputs::FromBody;
use super::op_layers::UnreadBody;
use super::serve::{LocalAddr, PeerAddr};
use super::state::DevState;
use super::validate::{max_string_bytes, parse_body, truncate_utf8};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use std::convert::Infallible;

/// What a handler knows about the request besides its body.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpContext {
    /// e.g. `http://127.0.0.1:8787`, the prefix of signed URLs.
    pub(crate) base_url: String,
    /// The request's `User-Agent`.
    pub(crate) user_agent: Option<String>,
    /// The peer's IP, when served over a socket.
    pub(crate) peer_ip: Option<String>,
}

impl FromRequestParts<DevState> for OpContext {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &DevState,
    ) -> Result<OpContext, Infallible> {
        Ok(OpContext {
            base_url: base_url(state, parts),
            // Stored with download grants: bounded like the body's `user_agent` field.
            user_agent: header_str(&parts.headers, header::USER_AGENT.as_str())
                .map(|agent| truncate_utf8(agent, max_string_bytes("user_agent")).to_owned()),
            peer_ip: parts
                .extensions
                .get::<PeerAddr>()
                .map(|peer| peer.0.ip().to_string()),
        })
    }
}

/// The request body as the operation's input model `T`, or the API's error: the read
/// failure noted by `op_layers::read_body` (413, 408), else a 422 in FastAPI's shape.
pub(crate) struct Valid<T>(pub(crate) T);

impl<T: FromBody> FromRequest<DevState> for Valid<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &DevState) -> Result<Valid<T>, ApiError> {
        if let Some(UnreadBody(err)) = request.extensions().get::<UnreadBody>() {
            return Err(err.clone());
        }
        let content_type =
            header_str(request.headers(), header::CONTENT_TYPE.as_str()).map(str::to_owned);
        // Already in memory and within the configured limit (`read_body`): this only takes it.
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(|_| {
                ApiError::problem(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read",
                )
            })?;
        let parsed = parse_body(content_type.as_deref(), &bytes)?;
        T::from_body(parsed).map(Valid)
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
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
