//! One call's journey: [`Call`] wraps a progenitor client built for this call (its
//! [`CallContext`] records what the hooks observe), and [`Call::finish`] maps progenitor's
//! result into a [`Response`] or the one [`Error`] type.
//!
//! progenitor drops the status when a declared error status has an unreadable body (an
//! HTML 500 from a proxy); the exec hook records status and headers in the context first,
//! so [`Error::Decode`] keeps them.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use progenitor_client::{Error as GenError, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::client::Shared;
use crate::error::{BodySnippet, Redacted, TransportKind};
use crate::generated::types::ErrorBody;
use crate::{AuthenticatedClient, Error, Response};

/// What the generated `ops` modules know about their operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperationMeta {
    pub(crate) id: &'static str,
    pub(crate) idempotent: bool,
}

/// The progenitor client's inner value: the operation and what its attempts observed.
/// Public only because the generated client names it; it has no public API.
#[derive(Clone)]
pub struct CallContext {
    pub(crate) operation: Cow<'static, str>,
    pub(crate) idempotent: bool,
    pub(crate) shared: Arc<Shared>,
    observed: Arc<Mutex<Option<(StatusCode, HeaderMap)>>>,
}

impl CallContext {
    /// Records the status and headers of the attempt whose response is returned.
    pub(crate) fn observe(&self, status: StatusCode, headers: &HeaderMap) {
        if let Ok(mut o) = self.observed.lock() {
            *o = Some((status, headers.clone()));
        }
    }

    fn observed(&self) -> Option<(StatusCode, HeaderMap)> {
        self.observed.lock().ok().and_then(|o| o.clone())
    }
}

impl std::fmt::Debug for CallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallContext")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

/// One call in flight.
pub(crate) struct Call {
    client: crate::generated::Client,
}

impl AuthenticatedClient {
    /// Starts a call of a generated operation.
    pub(crate) fn call(&self, meta: &OperationMeta) -> Call {
        self.call_named(Cow::Borrowed(meta.id), meta.idempotent)
    }

    /// Starts a call of any operation id.
    pub(crate) fn call_named(&self, operation: Cow<'static, str>, idempotent: bool) -> Call {
        let context = CallContext {
            operation,
            idempotent,
            shared: self.shared.clone(),
            observed: Arc::default(),
        };
        Call {
            client: crate::generated::Client::new_with_client(
                &self.shared.base_url,
                self.shared.http.clone(),
                context,
            ),
        }
    }
}

impl Call {
    /// The progenitor client for this call.
    pub(crate) fn client(&self) -> &crate::generated::Client {
        &self.client
    }

    fn context(&self) -> &CallContext {
        &self.client.inner
    }

    /// The `x-api-key` value, when the client authenticates that way.
    pub(crate) fn api_key(&self) -> Option<&str> {
        match &self.context().shared.credential {
            crate::auth::Credential::ApiKey(k) => Some(k),
            crate::auth::Credential::Bearer(_) => None,
        }
    }

    fn operation(&self) -> Cow<'static, str> {
        self.context().operation.clone()
    }

    /// Maps progenitor's result into ours.
    pub(crate) async fn finish<T>(
        self,
        result: Result<ResponseValue<T>, GenError<ErrorBody>>,
    ) -> Result<Response<T>, Error> {
        let operation = self.operation();
        match result {
            Ok(rv) => {
                let (status, headers) = (rv.status(), rv.headers().clone());
                Ok(Response::new(status, headers, rv.into_inner()))
            }
            Err(GenError::ErrorResponse(rv)) => {
                let (status, headers) = (rv.status(), rv.headers().clone());
                Err(error_body(operation, status, headers, rv.into_inner()))
            }
            Err(GenError::InvalidResponsePayload(bytes, source)) => {
                let (status, headers) = self
                    .context()
                    .observed()
                    .unwrap_or((StatusCode::OK, HeaderMap::new()));
                Err(Error::Decode {
                    operation,
                    status,
                    headers: Box::new(headers),
                    body: BodySnippet::new(&bytes),
                    source: Redacted::new(source),
                })
            }
            Err(GenError::UnexpectedResponse(response)) => {
                Err(unexpected(operation, response).await)
            }
            Err(
                GenError::CommunicationError(e)
                | GenError::ResponseBodyError(e)
                | GenError::InvalidUpgrade(e),
            ) => {
                let status = self.context().observed().map(|(s, _)| s);
                Err(Error::Transport {
                    operation,
                    kind: TransportKind::of(&e),
                    status,
                    source: Redacted::new(e),
                })
            }
            Err(GenError::InvalidRequest(message) | GenError::Custom(message)) => {
                Err(Error::InvalidInput {
                    operation,
                    field: None,
                    message,
                })
            }
        }
    }
}

/// A declared error response: a Problem wins; a validation body counts only on 422 (any
/// other status with a body that only fits the loose validation shape is not a documented
/// error, so it becomes [`Error::Decode`] with the body kept).
pub(crate) fn error_body(
    operation: Cow<'static, str>,
    status: StatusCode,
    headers: HeaderMap,
    body: ErrorBody,
) -> Error {
    match body {
        ErrorBody::Problem(problem) => Error::Problem {
            operation,
            status,
            problem: Box::new(problem),
            headers: Box::new(headers),
        },
        ErrorBody::HttpValidationError(error) if status == StatusCode::UNPROCESSABLE_ENTITY => {
            Error::Validation {
                operation,
                status,
                error: Box::new(error),
                headers: Box::new(headers),
            }
        }
        ErrorBody::HttpValidationError(other) => {
            let raw = serde_json::to_vec(&other).unwrap_or_default();
            let source = <serde_json::Error as serde::de::Error>::custom(
                "expected a Problem (type, title, status, detail) for this status",
            );
            Error::Decode {
                operation,
                status,
                headers: Box::new(headers),
                body: BodySnippet::new(&raw),
                source: Redacted::new(source),
            }
        }
    }
}

/// An undeclared status: the body is read (bounded) for the snippet.
pub(crate) async fn unexpected(operation: Cow<'static, str>, response: reqwest::Response) -> Error {
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_bounded(response, BodySnippet::LIMIT * 8).await;
    Error::UnexpectedStatus {
        operation,
        status,
        headers: Box::new(headers),
        body: BodySnippet::new(&body),
    }
}

/// Reads at most `limit` bytes of a body; a body that breaks off keeps what arrived.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk[..chunk.len().min(limit - out.len())]),
            Ok(None) | Err(_) => break,
        }
    }
    out
}
