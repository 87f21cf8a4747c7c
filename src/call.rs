//! One call's journey: [`Call`] wraps a progenitor client built for this call, whose
//! [`CallContext`] carries what the hooks learn attempt by attempt. The generated
//! `send_detailed` runs an attempt, hands the result to [`Call::settle`] (which either
//! waits out a retry delay or maps the result into a [`Response`] or the one [`Error`]
//! type), and loops while the retry policy says so.
//!
//! Two things pass through the context rather than through progenitor's result:
//! * the response headers: the exec hook moves them out of the response (progenitor would
//!   clone them for its `ResponseValue` and we would clone them again), so every
//!   [`Response`] and error is built from that one map;
//! * the status: progenitor drops it when a declared status has an unreadable body (an HTML
//!   500 from a proxy), so [`Error::Decode`] takes it from here.
//!
//! Retrying by re-running the generated method (which rebuilds the request from the
//! borrowed input) means nothing is cloned before a first attempt that usually succeeds.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use progenitor_client::{Error as GenError, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::client::Shared;
use crate::error::{BodySnippet, Redacted, TransportKind};
use crate::generated::types::ErrorBody;
use crate::retry::Verdict;
use crate::{AuthenticatedClient, Error, Response};

/// What the generated `ops` modules know about their operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperationMeta {
    pub(crate) id: &'static str,
    pub(crate) idempotent: bool,
}

/// The progenitor client's inner value: the operation, the client's settings and what this
/// call's attempts observed. Public only because the generated client names it; it has no
/// public API.
pub struct CallContext {
    pub(crate) operation: Cow<'static, str>,
    pub(crate) idempotent: bool,
    pub(crate) shared: Arc<Shared>,
    attempts: Mutex<Attempts>,
}

/// The state of one call's attempts.
#[derive(Debug)]
struct Attempts {
    /// When the call started: the retry deadline counts from here.
    started: Instant,
    /// The number of the latest attempt (0 before the first).
    attempt: u32,
    /// The latest response's status and headers (`None` when it failed before a response).
    observed: Option<(StatusCode, HeaderMap)>,
    /// Set when the latest attempt is to be repeated after this delay.
    retry_in: Option<Duration>,
}

impl Attempts {
    fn new() -> Attempts {
        Attempts {
            started: Instant::now(),
            attempt: 0,
            observed: None,
            retry_in: None,
        }
    }
}

impl Clone for CallContext {
    /// A copy for a new call: same operation and settings, no attempts yet.
    fn clone(&self) -> CallContext {
        CallContext {
            operation: self.operation.clone(),
            idempotent: self.idempotent,
            shared: self.shared.clone(),
            attempts: Mutex::new(Attempts::new()),
        }
    }
}

impl CallContext {
    fn attempts(&self) -> MutexGuard<'_, Attempts> {
        // Nothing panics while holding the lock; a poisoned one still holds valid data.
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts an attempt: forgets the previous one and returns the new attempt's number.
    pub(crate) fn begin_attempt(&self) -> u32 {
        let mut a = self.attempts();
        a.attempt += 1;
        a.observed = None;
        a.retry_in = None;
        a.attempt
    }

    /// Whether repeating this call after an ambiguous failure is safe.
    pub(crate) fn safe_to_repeat(&self) -> bool {
        self.idempotent || self.shared.retry.retry_non_idempotent
    }

    /// Records the status and headers of the attempt's response.
    pub(crate) fn observe(&self, status: StatusCode, headers: HeaderMap) {
        self.attempts().observed = Some((status, headers));
    }

    /// Applies the retry policy to the attempt's verdict: returns the delay before the next
    /// attempt, and remembers it for [`Call::settle`], when the policy allows one more.
    pub(crate) fn decide(&self, verdict: Verdict) -> Option<Duration> {
        let Verdict::Retry { after, .. } = verdict else {
            return None;
        };
        let mut a = self.attempts();
        a.retry_in = self
            .shared
            .retry
            .next_delay(a.attempt, a.started.elapsed(), after);
        a.retry_in
    }

    /// How many attempts the call has made so far.
    fn attempts_made(&self) -> u32 {
        self.attempts().attempt
    }

    fn take_retry(&self) -> Option<Duration> {
        self.attempts().retry_in.take()
    }

    fn take_observed(&self) -> Option<(StatusCode, HeaderMap)> {
        self.attempts().observed.take()
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
            attempts: Mutex::new(Attempts::new()),
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

    /// The operation id, for errors.
    pub(crate) fn operation(&self) -> Cow<'static, str> {
        self.context().operation.clone()
    }

    /// How many attempts the call has made so far, for [`Response::attempts`].
    pub(crate) fn attempts(&self) -> u32 {
        self.context().attempts_made()
    }

    /// Ends an attempt: `None` when the retry policy repeats it (after dropping this
    /// attempt's result and waiting out the delay the exec hook chose), else the outcome.
    pub(crate) async fn settle<T>(
        &self,
        result: Result<ResponseValue<T>, GenError<ErrorBody>>,
    ) -> Option<Result<Response<T>, Error>> {
        let result = self.unless_retried(result).await?;
        Some(self.finish(result).await)
    }

    /// Gives an attempt's result back when it is final; when the retry policy repeats the
    /// attempt, drops it, waits out the delay the exec hook chose and returns `None`.
    pub(crate) async fn unless_retried<R>(&self, result: R) -> Option<R> {
        let delay = self.context().take_retry();
        let Some(delay) = delay else {
            return Some(result);
        };
        drop(result);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        None
    }

    /// The latest response's headers, which the exec hook moved out of the response.
    pub(crate) fn take_headers(&self) -> HeaderMap {
        self.context()
            .take_observed()
            .map(|(_, h)| h)
            .unwrap_or_default()
    }

    /// Maps progenitor's result into ours, with the status and headers the exec hook took.
    pub(crate) async fn finish<T>(
        &self,
        result: Result<ResponseValue<T>, GenError<ErrorBody>>,
    ) -> Result<Response<T>, Error> {
        let operation = self.operation();
        // The hook moved the headers out of the response; progenitor's copy is empty.
        let observed = self.context().take_observed();
        match result {
            Ok(rv) => {
                let status = rv.status();
                let headers = observed.map_or_else(|| rv.headers().clone(), |(_, h)| h);
                Ok(Response::new(status, headers, rv.into_inner()).with_attempts(self.attempts()))
            }
            Err(GenError::ErrorResponse(rv)) => {
                let status = rv.status();
                let headers = observed.map_or_else(|| rv.headers().clone(), |(_, h)| h);
                Err(error_body(operation, status, headers, rv.into_inner()))
            }
            Err(GenError::InvalidResponsePayload(bytes, source)) => {
                let (status, headers) = observed.unwrap_or((StatusCode::OK, HeaderMap::new()));
                Err(Error::Decode {
                    operation,
                    status,
                    headers: Box::new(headers),
                    body: BodySnippet::new(&bytes),
                    source: Redacted::new(source),
                })
            }
            Err(GenError::UnexpectedResponse(response)) => {
                let headers = observed.map_or_else(|| response.headers().clone(), |(_, h)| h);
                Err(unexpected(operation, response, headers).await)
            }
            Err(
                GenError::CommunicationError(e)
                | GenError::ResponseBodyError(e)
                | GenError::InvalidUpgrade(e),
            ) => {
                let status = observed.map(|(s, _)| s);
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
pub(crate) async fn unexpected(
    operation: Cow<'static, str>,
    response: reqwest::Response,
    headers: HeaderMap,
) -> Error {
    let status = response.status();
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
