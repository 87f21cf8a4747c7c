//! Fault injection for tests: fail, delay or cut off the next N requests to an operation or to
//! object storage, and render each fault the way a real failure would look on the wire.

use super::error::{StorageError, problem_response, reason};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Where a fault applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultTarget {
    /// `POST /v1/op/{operation_id}`, e.g. `FaultTarget::Operation("uploads.initiate".into())`.
    Operation(String),
    /// Signed-URL uploads (`PUT /storage/…`).
    ObjectPut,
    /// Signed-URL downloads (`GET /storage/…`).
    ObjectGet,
}

impl FaultTarget {
    /// A target for the operation `operation_id`.
    pub fn operation(operation_id: impl Into<String>) -> FaultTarget {
        FaultTarget::Operation(operation_id.into())
    }
}

/// A fault that hits the next `times` requests to its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// How many requests it applies to (0 is ignored).
    pub times: u32,
    /// What happens to each of them.
    pub kind: FaultKind,
}

impl Fault {
    /// `kind`, applied to the next `times` requests.
    pub fn new(times: u32, kind: FaultKind) -> Fault {
        Fault { times, kind }
    }
}

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with `status` instead of handling the request: a Problem body for operations, an
    /// XML storage error for storage; `Retry-After: <secs>` when given. An invalid status code
    /// becomes 500.
    Status {
        /// The HTTP status to answer with.
        status: u16,
        /// Seconds for a `Retry-After` header.
        retry_after: Option<u32>,
    },
    /// Wait, then handle the request normally: added latency (on storage, the
    /// per-request form of [`DevConfig::storage_latency`](super::DevConfig::storage_latency)).
    Delay(Duration),
    /// Storage only: handle the request normally, with its body (a GET's response, a PUT's
    /// request) capped at `bytes_per_sec`, as an object store caps one connection; this
    /// request's cap in place of [`DevConfig::storage_bandwidth`](super::DevConfig::storage_bandwidth).
    /// 0 lifts the cap for the request. On an operation it does nothing.
    Bandwidth {
        /// The cap, in bytes per second.
        bytes_per_sec: u64,
    },
    /// Close the connection without any response. Through [`router`](super::router) alone
    /// (no connection to close) this renders as a 502 Problem.
    DropConnection,
    /// A 200 `application/json` response whose body is cut off mid-way; the request is not handled.
    TruncatedJson,
    /// A `text/html` 500 page, as a proxy in front of the API would send.
    Html500,
    /// Object storage: the connection is closed once this many bytes of the body have
    /// passed: of the object for a GET (after a normal response head), of the request
    /// body for a PUT (nothing is stored, no response is sent). For an operation, as
    /// [`FaultKind::DropConnection`].
    DropAfterBytes(u64),
    /// Object storage: once this many bytes of the body have passed, the connection is
    /// held open without sending (GET) or reading (PUT) anything more, until the client
    /// gives up or the server shuts down. For an operation, the request is held before
    /// any answer.
    StallAfterBytes(u64),
}

/// What a storage fault does to a body that is otherwise served normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyFault {
    /// Close the connection after this many body bytes.
    DropAfter(u64),
    /// Hold the connection after this many body bytes.
    StallAfter(u64),
}

impl BodyFault {
    /// The body fault `kind` is, if any.
    pub(super) fn of(kind: Option<&FaultKind>) -> Option<BodyFault> {
        match kind? {
            FaultKind::DropAfterBytes(bytes) => Some(BodyFault::DropAfter(*bytes)),
            FaultKind::StallAfterBytes(bytes) => Some(BodyFault::StallAfter(*bytes)),
            _ => None,
        }
    }

    /// How many body bytes pass before the fault strikes.
    pub(super) fn after(self) -> u64 {
        match self {
            BodyFault::DropAfter(bytes) | BodyFault::StallAfter(bytes) => bytes,
        }
    }
}

/// Pending faults per target, consumed in insertion order.
#[derive(Debug, Default)]
pub(super) struct FaultBook {
    queues: HashMap<FaultTarget, VecDeque<Fault>>,
}

impl FaultBook {
    /// Queues `fault` behind the faults already pending for `target`.
    pub(super) fn push(&mut self, target: FaultTarget, fault: Fault) {
        if fault.times > 0 {
            self.queues.entry(target).or_default().push_back(fault);
        }
    }

    /// Consumes one application of the next fault for `target`.
    pub(super) fn take(&mut self, target: &FaultTarget) -> Option<FaultKind> {
        let queue = self.queues.get_mut(target)?;
        let front = queue.front_mut()?;
        let kind = front.kind.clone();
        front.times = front.times.saturating_sub(1);
        if front.times == 0 {
            queue.pop_front();
        }
        Some(kind)
    }

    /// How many requests to `target` will still be faulted.
    pub(super) fn pending(&self, target: &FaultTarget) -> u32 {
        self.queues
            .get(target)
            .map_or(0, |queue| queue.iter().map(|fault| fault.times).sum())
    }

    /// Drops every pending fault.
    pub(super) fn clear(&mut self) {
        self.queues.clear();
    }
}

/// Marks a response whose connection must be closed without sending it.
#[derive(Debug, Clone, Copy)]
pub(super) struct DropConnection;

/// Which wire format a fault's response should imitate.
#[derive(Debug, Clone, Copy)]
pub(super) enum Surface<'a> {
    /// The JSON API.
    Api,
    /// Object storage; `resource` is the request path (no query).
    Storage {
        /// The request path.
        resource: &'a str,
    },
}

/// Applies a consumed fault: `None` means handle the request normally (after any delay;
/// on storage, body faults are applied by the handler as the body passes).
pub(super) async fn intercept(kind: Option<FaultKind>, surface: Surface<'_>) -> Option<Response> {
    match kind? {
        FaultKind::DropAfterBytes(_) | FaultKind::StallAfterBytes(_)
            if matches!(surface, Surface::Storage { .. }) =>
        {
            None
        }
        FaultKind::StallAfterBytes(_) => std::future::pending().await,
        FaultKind::Delay(duration) => {
            tokio::time::sleep(duration).await;
            None
        }
        // Applied by the storage routes to the body.
        FaultKind::Bandwidth { .. } => None,
        FaultKind::Status {
            status,
            retry_after,
        } => Some(status_response(status, retry_after, surface)),
        FaultKind::DropConnection | FaultKind::DropAfterBytes(_) => {
            let mut response = problem_response(
                StatusCode::BAD_GATEWAY,
                "Injected fault: the connection was dropped without a response",
                None,
            );
            response.extensions_mut().insert(DropConnection);
            Some(response)
        }
        FaultKind::TruncatedJson => Some(truncated_json()),
        FaultKind::Html500 => Some(html_500()),
    }
}

fn status_response(status: u16, retry_after: Option<u32>, surface: Surface<'_>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let detail = format!(
        "Injected fault: the dev server was told to answer {} {}",
        status.as_u16(),
        reason(status)
    );
    match surface {
        Surface::Api => problem_response(status, &detail, retry_after),
        Surface::Storage { resource } => {
            let mut response =
                StorageError::new(status, storage_code(status), detail).into_response_for(resource);
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
    }
}

/// The S3-style error code a storage service uses for `status`.
fn storage_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "InvalidRequest",
        403 => "AccessDenied",
        404 => "NoSuchKey",
        408 => "RequestTimeout",
        429 | 503 => "SlowDown",
        500 => "InternalError",
        502 | 504 => "ServiceUnavailable",
        _ => "InjectedFault",
    }
}

/// The first half of a valid JSON object: valid UTF-8, invalid JSON.
fn truncated_body() -> &'static str {
    const FULL: &str = r#"{"id": "fault_truncated", "status": "this body was cut off on purpose by an injected TruncatedJson fault"}"#;
    &FULL[..FULL.len() / 2]
}

fn truncated_json() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        truncated_body(),
    )
        .into_response()
}

fn html_500() -> Response {
    const PAGE: &str = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html")],
        PAGE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: &str) -> FaultTarget {
        FaultTarget::operation(id)
    }

    #[test]
    fn faults_are_consumed_in_order_times_each_per_target() {
        let mut book = FaultBook::default();
        book.push(op("a"), Fault::new(2, FaultKind::Html500));
        book.push(op("a"), Fault::new(1, FaultKind::TruncatedJson));
        book.push(op("a"), Fault::new(0, FaultKind::DropConnection));
        book.push(
            FaultTarget::ObjectGet,
            Fault::new(1, FaultKind::DropConnection),
        );
        assert_eq!(book.pending(&op("a")), 3);
        assert_eq!(book.take(&op("a")), Some(FaultKind::Html500));
        assert_eq!(book.take(&op("a")), Some(FaultKind::Html500));
        assert_eq!(book.take(&op("a")), Some(FaultKind::TruncatedJson));
        assert_eq!(book.take(&op("a")), None);
        assert_eq!(book.take(&op("b")), None);
        assert_eq!(book.pending(&FaultTarget::ObjectGet), 1);
        book.clear();
        assert_eq!(book.take(&FaultTarget::ObjectGet), None);
    }

    #[tokio::test]
    async fn status_faults_render_per_surface() {
        let kind = FaultKind::Status {
            status: 503,
            retry_after: Some(7),
        };
        let api = intercept(Some(kind.clone()), Surface::Api).await.unwrap();
        assert_eq!(api.status(), 503);
        assert_eq!(
            api.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(api.headers()[header::RETRY_AFTER], "7");
        let storage = intercept(
            Some(kind),
            Surface::Storage {
                resource: "/storage/x",
            },
        )
        .await
        .unwrap();
        assert_eq!(storage.headers()[header::CONTENT_TYPE], "application/xml");
        let invalid = intercept(
            Some(FaultKind::Status {
                status: 42,
                retry_after: None,
            }),
            Surface::Api,
        )
        .await
        .unwrap();
        assert_eq!(invalid.status(), 500);
    }

    #[tokio::test]
    async fn delays_fall_through_and_drops_are_marked() {
        assert!(
            intercept(Some(FaultKind::Delay(Duration::ZERO)), Surface::Api)
                .await
                .is_none()
        );
        assert!(intercept(None, Surface::Api).await.is_none());
        let dropped = intercept(Some(FaultKind::DropConnection), Surface::Api)
            .await
            .unwrap();
        assert!(dropped.extensions().get::<DropConnection>().is_some());
    }

    #[tokio::test]
    async fn body_faults_pass_storage_requests_through_and_drop_operations() {
        let storage = Surface::Storage {
            resource: "/storage/x",
        };
        for kind in [FaultKind::DropAfterBytes(5), FaultKind::StallAfterBytes(5)] {
            assert!(intercept(Some(kind.clone()), storage).await.is_none());
        }
        assert_eq!(
            BodyFault::of(Some(&FaultKind::StallAfterBytes(7))),
            Some(BodyFault::StallAfter(7))
        );
        assert_eq!(BodyFault::of(Some(&FaultKind::Html500)), None);
        let dropped = intercept(Some(FaultKind::DropAfterBytes(5)), Surface::Api)
            .await
            .unwrap();
        assert!(dropped.extensions().get::<DropConnection>().is_some());
    }

    #[test]
    fn truncated_json_does_not_parse() {
        let body = truncated_body();
        assert!(body.starts_with("{\"id\""));
        let err = serde_json::from_str::<serde_json::Value>(body).unwrap_err();
        assert!(err.is_eof());
    }
}
