//! [`Error`]: the one error type of every operation, and [`BodySnippet`], the bounded and
//! redacted piece of a response body it keeps for diagnosis.
//!
//! Callers usually ask questions ([`Error::status`], [`Error::problem`],
//! [`Error::is_retryable`], ...) rather than match variants; the enum is `#[non_exhaustive]`
//! so new kinds of failure can be added without breaking them.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use progenitor_client::Error as GenError;

use crate::models::{HttpValidationError, Problem};
use crate::ops::OperationSpec;
use crate::redact;

/// Everything that can go wrong with an operation.
///
/// `Display` is one line a person can act on, always starting with the operation id, e.g.
/// `uploads.initiate: 402 Payment Required — Storage quota exceeded: ...`. Neither `Display`
/// nor `Debug` ever shows the token or the query string of a signed URL.
/// Each piece of server text is redacted on its own, then the line as a whole, as it is
/// shown, so redacting it again changes nothing.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with a documented error status and an RFC 7807 Problem body.
    #[error("{}", redact::text(&format!("{operation}: {} {} — {}", status.as_u16(), redact::text(&problem.title), redact::text(&problem.detail))))]
    Problem {
        /// The operation id, e.g. `uploads.initiate`.
        operation: Cow<'static, str>,
        /// The HTTP status.
        status: StatusCode,
        /// The decoded Problem, extension members included.
        problem: Box<Problem>,
        /// The response headers.
        headers: Box<HeaderMap>,
    },
    /// The API rejected the request body (422), in FastAPI's validation shape.
    #[error("{}", redact::text(&format!("{operation}: {} {} — {}", status.as_u16(), reason(*status), summarize(error))))]
    Validation {
        /// The operation id.
        operation: Cow<'static, str>,
        /// The HTTP status (422).
        status: StatusCode,
        /// Every field the API complained about.
        error: Box<HttpValidationError>,
        /// The response headers.
        headers: Box<HeaderMap>,
    },
    /// A status the operation does not declare (e.g. a 502 from a proxy, a 429).
    #[error("{}", redact::text(&format!("{operation}: undeclared status {} {} — body: {body}", status.as_u16(), reason(*status))))]
    UnexpectedStatus {
        /// The operation id.
        operation: Cow<'static, str>,
        /// The HTTP status.
        status: StatusCode,
        /// The response headers.
        headers: Box<HeaderMap>,
        /// The start of the body, bounded and redacted.
        body: BodySnippet,
    },
    /// Storage (the host behind a signed URL) answered a transfer with an error status.
    /// The companion crate `geopera-transfer` reports storage's answers this way; no
    /// operation of this crate talks to storage. What storage said is in `reply`: its error
    /// code and message (Google Cloud Storage's and S3's XML error body,
    /// `<Error><Code>…</Code><Message>…</Message></Error>`: `AccessDenied`,
    /// `SignatureDoesNotMatch`, `ExpiredToken`, `NoSuchKey`, `BadDigest`, `SlowDown`, ...).
    #[error("{}", redact::text(&format!("{operation}: {} {} — {reply} (after {bytes_done} bytes)", status.as_u16(), reason(*status))))]
    Storage {
        /// The step, e.g. `storage.get` or `storage.put`.
        operation: Cow<'static, str>,
        /// The HTTP status.
        status: StatusCode,
        /// Bytes of the object moved before storage answered: for a download, those
        /// already written (kept for a resume); for an upload, those the refused PUT had
        /// sent (an object is stored whole or not at all).
        bytes_done: u64,
        /// The response headers.
        headers: Box<HeaderMap>,
        /// Storage's code and message, and the start of its body.
        reply: Box<StorageReply>,
    },
    /// A declared status whose body is not the declared JSON (an HTML error page, truncated
    /// or malformed JSON, the wrong shape). The status is kept.
    #[error("{}", redact::text(&format!("{operation}: {} {} with a body that is not the declared JSON ({source}) — body: {body}", status.as_u16(), reason(*status))))]
    Decode {
        /// The operation id.
        operation: Cow<'static, str>,
        /// The HTTP status.
        status: StatusCode,
        /// The response headers.
        headers: Box<HeaderMap>,
        /// The start of the body, bounded and redacted.
        body: BodySnippet,
        /// What the JSON decoder said (its text can quote the body, so it prints redacted).
        source: Redacted<serde_json::Error>,
    },
    /// The request did not complete: connection refused, timeout, connection dropped while
    /// the response was read, TLS failure.
    #[error("{}", redact::text(&format!("{operation}: {kind}: {source}")))]
    Transport {
        /// The operation id.
        operation: Cow<'static, str>,
        /// What kind of transport failure.
        kind: TransportKind,
        /// The status, when the failure happened after the response head arrived.
        status: Option<StatusCode>,
        /// The underlying error, printed redacted with its whole chain.
        source: Redacted<reqwest::Error>,
    },
    /// A local file could not be read or written while moving bytes to or from storage
    /// (the companion crate `geopera-transfer`; no operation of this crate touches files),
    /// or what arrived did not add up (a body shorter than its announced length).
    #[error("{}", redact::text(&format!("{operation}: {source}")))]
    Io {
        /// The step, e.g. `storage.get` or `storage.put`.
        operation: Cow<'static, str>,
        /// What the file system (or the length check) said.
        source: std::io::Error,
    },
    /// The bytes that arrived from storage do not match the checksum storage gave for the
    /// object (the CRC32C in its `x-goog-hash`): corrupted on the way or spliced from two
    /// versions. The companion crate `geopera-transfer` checks every download's CRC32C as
    /// it streams, and removes what it wrote.
    #[error("{}", redact::text(&format!("{operation}: {algorithm} mismatch after {bytes} bytes: storage announced {expected:08x}, the bytes give {actual:08x}")))]
    Integrity {
        /// The step, e.g. `storage.get`.
        operation: Cow<'static, str>,
        /// The checksum compared: `crc32c`.
        algorithm: &'static str,
        /// What storage announced.
        expected: u32,
        /// What the bytes give.
        actual: u32,
        /// How many bytes were checked.
        bytes: u64,
    },
    /// The input was rejected before anything was sent.
    #[error("{}", redact::text(&format!("{operation}: invalid input{}: {}; nothing was sent", field.as_ref().map(|f| format!(" `{f}`")).unwrap_or_default(), redact::text(message))))]
    InvalidInput {
        /// The operation id.
        operation: Cow<'static, str>,
        /// The offending field, when one can be named.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// A client could not be configured (bad base URL, missing token, TLS backend).
    #[error("client configuration: {message}")]
    Config {
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A [`blocking::Geopera`](crate::blocking::Geopera) call or a `*_blocking` function
    /// was made inside an async runtime, where blocking would stall the runtime; use the
    /// async client or function instead.
    #[error(
        "{operation}: a blocking call was made inside an async runtime; await the async call (`geopera::Geopera`, `send`) instead"
    )]
    BlockingInRuntime {
        /// The operation id.
        operation: Cow<'static, str>,
    },
}

/// An underlying error whose text may quote server data or a URL. `Display` and `Debug`
/// print it, with its own source chain, redacted; as an error it has no further source,
/// so code that walks the chain itself (anyhow's `{:#}`, a logger) cannot reach the raw
/// text. [`Redacted::get_ref`] gives the original for inspection.
pub struct Redacted<E>(E);

impl<E> Redacted<E> {
    /// Wraps an error.
    pub fn new(error: E) -> Redacted<E> {
        Redacted(error)
    }

    /// The original error. Its `Display` is not redacted: do not log it.
    pub fn get_ref(&self) -> &E {
        &self.0
    }

    /// Unwraps the original error.
    pub fn into_inner(self) -> E {
        self.0
    }
}

impl<E: std::error::Error + 'static> fmt::Display for Redacted<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact::error_chain(&self.0))
    }
}

impl<E: std::error::Error + 'static> fmt::Debug for Redacted<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redacted({:?})", self.to_string())
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Redacted<E> {}

/// `Debug` is the variant name with the (redacted) `Display` text and the request id: the
/// fields themselves may hold server text with signed URLs in it.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            Error::Problem { .. } => "Problem",
            Error::Validation { .. } => "Validation",
            Error::UnexpectedStatus { .. } => "UnexpectedStatus",
            Error::Storage { .. } => "Storage",
            Error::Decode { .. } => "Decode",
            Error::Transport { .. } => "Transport",
            Error::InvalidInput { .. } => "InvalidInput",
            Error::Io { .. } => "Io",
            Error::Integrity { .. } => "Integrity",
            Error::Config { .. } => "Config",
            Error::BlockingInRuntime { .. } => "BlockingInRuntime",
        };
        let mut d = f.debug_struct(variant);
        d.field("message", &self.to_string());
        if let Some(id) = self.request_id() {
            d.field("request_id", &id);
        }
        d.finish()
    }
}

/// The kinds of [`Error::Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made (refused, DNS, TLS handshake); nothing reached the API.
    Connect,
    /// The request or connection timed out.
    Timeout,
    /// The connection broke after the request was sent, or while the body was read.
    Interrupted,
    /// Anything else reqwest reported.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Interrupted => "connection interrupted",
            TransportKind::Other => "transport error",
        })
    }
}

impl TransportKind {
    /// Classifies a reqwest error, walking its source chain for I/O timeouts: what
    /// [`Error::Transport`] is built with, also for a transfer to or from storage.
    pub fn of(e: &reqwest::Error) -> TransportKind {
        if e.is_timeout() || chain_has_timeout(e) {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else if e.is_body() || e.is_decode() || e.is_request() {
            TransportKind::Interrupted
        } else {
            TransportKind::Other
        }
    }
}

fn chain_has_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = e.source();
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        source = s.source();
    }
    false
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("")
}

/// `body.project_id: Field required; body.total_bytes: ...` (at most three entries).
fn summarize(error: &HttpValidationError) -> String {
    let parts: Vec<String> = error
        .detail
        .iter()
        .take(3)
        .map(|d| {
            let loc: Vec<String> = d
                .loc
                .iter()
                .map(|l| match l {
                    crate::models::ValidationErrorLocItem::String(s) => s.clone(),
                    crate::models::ValidationErrorLocItem::Integer(i) => i.to_string(),
                })
                .collect();
            format!("{}: {}", redact::text(&loc.join(".")), redact::text(&d.msg))
        })
        .collect();
    let more = error.detail.len().saturating_sub(3);
    match (parts.is_empty(), more) {
        (true, _) => "the request body was rejected".into(),
        (false, 0) => parts.join("; "),
        (false, n) => format!("{} (and {n} more)", parts.join("; ")),
    }
}

/// Statuses worth retrying: 408, 429, 502, 503, 504.
pub(crate) const RETRYABLE_STATUSES: &[u16] = &[408, 429, 502, 503, 504];

impl Error {
    /// The HTTP status, when a response arrived. To compare with a number, use
    /// [`Error::status_code`] (`e.status_code() == Some(402)`), or compare with a constant:
    /// `e.status() == Some(geopera::StatusCode::PAYMENT_REQUIRED)`.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Problem { status, .. }
            | Error::Validation { status, .. }
            | Error::UnexpectedStatus { status, .. }
            | Error::Storage { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            Error::Transport { status, .. } => *status,
            _ => None,
        }
    }

    /// The HTTP status as a number, when a response arrived: Python's
    /// `resp.status_code`, so the seed's `if resp.status_code == 402:` is
    /// `Err(e) if e.status_code() == Some(402) =>`.
    ///
    /// ```
    /// # fn quota(e: &geopera::Error) -> bool {
    /// e.status_code() == Some(402)
    /// # }
    /// ```
    pub fn status_code(&self) -> Option<u16> {
        self.status().map(|s| s.as_u16())
    }

    /// The Problem body of a documented error response.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The validation details of a 422 response.
    pub fn validation(&self) -> Option<&HttpValidationError> {
        match self {
            Error::Validation { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The operation id the error belongs to (`"client"` for configuration errors).
    pub fn operation(&self) -> &str {
        match self {
            Error::Problem { operation, .. }
            | Error::Validation { operation, .. }
            | Error::UnexpectedStatus { operation, .. }
            | Error::Storage { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Transport { operation, .. }
            | Error::InvalidInput { operation, .. }
            | Error::Io { operation, .. }
            | Error::Integrity { operation, .. }
            | Error::BlockingInRuntime { operation } => operation,
            Error::Config { .. } => "client",
        }
    }

    /// The response headers, when a response arrived.
    pub fn headers(&self) -> Option<&HeaderMap> {
        match self {
            Error::Problem { headers, .. }
            | Error::Validation { headers, .. }
            | Error::UnexpectedStatus { headers, .. }
            | Error::Storage { headers, .. }
            | Error::Decode { headers, .. } => Some(headers),
            _ => None,
        }
    }

    /// The server's request id (`x-request-id`), to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        self.headers().and_then(crate::response::request_id)
    }

    /// The start of the raw body, when the body could not be read as the declared type.
    pub fn body(&self) -> Option<&BodySnippet> {
        match self {
            Error::UnexpectedStatus { body, .. } | Error::Decode { body, .. } => Some(body),
            Error::Storage { reply, .. } => Some(&reply.body),
            _ => None,
        }
    }

    /// Storage's error code (`AccessDenied`, `NoSuchKey`, `BadDigest`, ...), when storage
    /// refused a transfer and said why.
    pub fn storage_code(&self) -> Option<&str> {
        match self {
            Error::Storage { reply, .. } => reply.code(),
            _ => None,
        }
    }

    /// What storage said when it refused a transfer: its code, message and body.
    pub fn storage_reply(&self) -> Option<&StorageReply> {
        match self {
            Error::Storage { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// How many bytes of the object a failed transfer had moved: for
    /// [`Error::Storage`] those moved before storage answered, for [`Error::Integrity`]
    /// those checked. `None` for errors that are not about moving an object's bytes.
    pub fn bytes_done(&self) -> Option<u64> {
        match self {
            Error::Storage { bytes_done, .. } => Some(*bytes_done),
            Error::Integrity { bytes, .. } => Some(*bytes),
            _ => None,
        }
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        )
    }

    /// Whether no connection could be made, so nothing reached the API.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        )
    }

    /// Whether repeating the same call may succeed: transport failures and the statuses
    /// 408, 429, 502, 503 and 504. It says nothing about whether repeating is *safe*: an
    /// interrupted `uploads.initiate` may already have reserved quota (see
    /// [`crate::RetryPolicy`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            _ => self
                .status()
                .is_some_and(|s| RETRYABLE_STATUSES.contains(&s.as_u16())),
        }
    }

    /// The `Retry-After` delay the server asked for, in whole seconds.
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers()
            .and_then(|h| retry_after_at(h, SystemTime::now()))
    }
}

/// `Retry-After` as a delay from `now`, in either of its forms: delta-seconds, or an
/// HTTP-date (a date in the past is no delay). `None` when absent or unreadable. Nothing in
/// the header can make it panic: more seconds than a `u64` holds is the longest delay, and
/// a date is only compared with `now`.
fn retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only too many of them fails to parse.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The most of an error response's body read to decode it; a longer body is kept as a
/// snippet and reported as not the declared JSON.
const ERROR_BODY_LIMIT: usize = 1 << 20;

impl Error {
    /// The error for one failed attempt of operation `spec`, from progenitor's result: the
    /// one place where a response, a transport failure or an undecodable body becomes an
    /// [`Error`]. progenitor sees only the success responses (`build/normalize.rs`), so
    /// every other status arrives here whole and is decoded by [`Error::from_response`].
    pub(crate) async fn from_generated(spec: &'static OperationSpec, error: GenError) -> Error {
        let operation = Cow::Borrowed(spec.id);
        let success = || StatusCode::from_u16(spec.success_status()).unwrap_or(StatusCode::OK);
        match error {
            GenError::UnexpectedResponse(response) => Error::from_response(spec, response).await,
            GenError::ErrorResponse(value) => Error::UnexpectedStatus {
                operation,
                status: value.status(),
                headers: Box::new(value.headers().clone()),
                body: BodySnippet::new(b""),
            },
            GenError::InvalidResponsePayload(bytes, source) => Error::Decode {
                operation,
                status: success(),
                headers: Box::default(),
                body: BodySnippet::new(&bytes),
                source: Redacted::new(source),
            },
            GenError::ResponseBodyError(e) => Error::Transport {
                operation,
                kind: TransportKind::of(&e),
                status: Some(success()),
                source: Redacted::new(e),
            },
            GenError::CommunicationError(e) | GenError::InvalidUpgrade(e) => Error::Transport {
                operation,
                kind: TransportKind::of(&e),
                status: None,
                source: Redacted::new(e),
            },
            GenError::InvalidRequest(message) | GenError::Custom(message) => Error::InvalidInput {
                operation,
                field: None,
                message,
            },
        }
    }

    /// A response whose status is not the operation's success, decoded by its status: a
    /// declared status with a Problem body is [`Error::Problem`], a 422 with FastAPI's
    /// validation body [`Error::Validation`], a declared status with any other body
    /// [`Error::Decode`] (status kept), and an undeclared status
    /// [`Error::UnexpectedStatus`] whatever its body.
    async fn from_response(spec: &'static OperationSpec, mut response: reqwest::Response) -> Error {
        let operation = Cow::Borrowed(spec.id);
        let status = response.status();
        let headers = Box::new(std::mem::take(response.headers_mut()));
        let bytes = read_bounded(response, ERROR_BODY_LIMIT).await;
        if status.is_success() || !spec.declares(status.as_u16()) {
            return Error::UnexpectedStatus {
                operation,
                status,
                headers,
                body: BodySnippet::new(&bytes),
            };
        }
        let source = match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => {
                return Error::Problem {
                    operation,
                    status,
                    problem: Box::new(problem),
                    headers,
                };
            }
            Err(e) => e,
        };
        if status == StatusCode::UNPROCESSABLE_ENTITY
            && let Ok(error) = serde_json::from_slice::<HttpValidationError>(&bytes)
        {
            return Error::Validation {
                operation,
                status,
                error: Box::new(error),
                headers,
            };
        }
        Error::Decode {
            operation,
            status,
            headers,
            body: BodySnippet::new(&bytes),
            source: Redacted::new(source),
        }
    }
}

/// Reads at most `limit` bytes of a body; a body that breaks off keeps what arrived.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit.saturating_sub(out.len());
                out.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
            }
            Ok(None) | Err(_) => break,
        }
    }
    out
}

impl Error {
    /// Removes the secrets of `url` (its signature, and any other parameter of its query
    /// named as a credential) from the server text the error keeps, however the server
    /// echoes them: what `geopera-transfer` applies to every error storage answers with.
    pub fn without_signed_url(self, url: &crate::models::SignedUrl) -> Error {
        url.secrets()
            .iter()
            .fold(self, |error, secret| error.without_credential(secret))
    }

    /// Removes the client's own credential (`secret`, its token or API key) from the server
    /// text the error keeps: a server that echoes it back, in any spelling, must not have it
    /// printed by `Display` or `Debug` or handed on through [`Error::problem`],
    /// [`Error::validation`] or [`Error::body`]. A decoder message that quotes it is kept
    /// as text without it.
    pub(crate) fn without_credential(mut self, secret: &str) -> Error {
        if secret.is_empty() {
            return self;
        }
        let scrub = |text: &mut String| {
            if text.contains(secret) {
                *text = redact::verbatim(text, secret);
            }
        };
        match &mut self {
            Error::Problem { problem, .. } => {
                // Through its JSON, so every member is reached whatever the document gives
                // the model (the live document's Problem keeps no extension members).
                if let Ok(mut value) = serde_json::to_value(&**problem) {
                    json_without(&mut value, secret);
                    if let Ok(clean) = serde_json::from_value(value) {
                        **problem = clean;
                    }
                }
            }
            Error::Validation { error, .. } => {
                for detail in &mut error.detail {
                    scrub(&mut detail.msg);
                    scrub(&mut detail.type_);
                    for loc in &mut detail.loc {
                        if let crate::models::ValidationErrorLocItem::String(s) = loc {
                            scrub(s);
                        }
                    }
                }
            }
            Error::UnexpectedStatus { body, .. } => body.remove(secret),
            Error::Storage { reply, .. } => {
                for text in [&mut reply.code, &mut reply.message].into_iter().flatten() {
                    scrub(text);
                }
                reply.body.remove(secret);
            }
            Error::Decode { body, source, .. } => {
                body.remove(secret);
                let quoted = source.0.to_string();
                if quoted.contains(secret) {
                    source.0 = <serde_json::Error as serde::de::Error>::custom(redact::verbatim(
                        &quoted, secret,
                    ));
                }
            }
            Error::InvalidInput { message, .. } => scrub(message),
            // A transport error quotes the request URL, which carries no credential.
            Error::Transport { .. }
            | Error::Io { .. }
            | Error::Integrity { .. }
            | Error::Config { .. }
            | Error::BlockingInRuntime { .. } => {}
        }
        self
    }
}

/// Removes `secret` from every string of a JSON value.
fn json_without(value: &mut serde_json::Value, secret: &str) {
    match value {
        serde_json::Value::String(s) if s.contains(secret) => *s = redact::verbatim(s, secret),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| json_without(v, secret)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| json_without(v, secret)),
        _ => {}
    }
}

/// The first bytes of a response body, lossily decoded as UTF-8, with URL query strings and
/// bearer tokens removed. Kept on errors so a proxy's HTML page or a cut-off JSON document
/// can be seen without flooding logs or leaking a signed URL.
#[derive(Clone, PartialEq, Eq)]
pub struct BodySnippet {
    text: String,
    total_len: usize,
}

/// How many characters of a credential a cut-off snippet may end with before they count
/// as showing it.
const SECRET_START: usize = 4;

impl BodySnippet {
    /// How many bytes of the body are kept at most.
    pub const LIMIT: usize = 512;

    /// Bounds and redacts `body`.
    pub fn new(body: &[u8]) -> BodySnippet {
        let cut = &body[..body.len().min(Self::LIMIT)];
        BodySnippet {
            text: redact::text(&String::from_utf8_lossy(cut)),
            total_len: body.len(),
        }
    }

    /// Removes `secret` from the kept text, and the start of it that the cut at
    /// [`Self::LIMIT`] may have left at the end.
    fn remove(&mut self, secret: &str) {
        let mut text = redact::verbatim(&self.text, secret);
        if self.is_truncated()
            && let Some(kept) = (SECRET_START..secret.len())
                .rev()
                .filter_map(|n| secret.get(..n))
                .find_map(|start| text.strip_suffix(start))
        {
            text = format!("{kept}{}", redact::MARKER);
        }
        self.text = text;
    }

    /// The kept, redacted text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The length of the whole body in bytes.
    pub fn total_len(&self) -> usize {
        self.total_len
    }

    /// Whether the body was longer than [`Self::LIMIT`].
    pub fn is_truncated(&self) -> bool {
        self.total_len > Self::LIMIT
    }
}

/// What storage answered when it refused a transfer: the code and message of its XML
/// error body (Google Cloud Storage's and S3's `<Error><Code>…</Code><Message>…</Message>`),
/// when it had them, and the start of the body. All of it is bounded and redacted when it
/// is made, like a [`BodySnippet`]. `Display` is `Code: message`, or the body when storage
/// gave neither; `Debug` shows the fields, already redacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageReply {
    code: Option<String>,
    message: Option<String>,
    body: BodySnippet,
}

impl StorageReply {
    /// The most characters of a code kept.
    pub const CODE_LIMIT: usize = 64;
    /// The most characters of a message kept.
    pub const MESSAGE_LIMIT: usize = 1024;

    /// Storage's `code` and `message` as read from `body` (by the caller: this crate
    /// reads no XML), bounded, redacted and kept with a snippet of `body`. Blank ones count
    /// as absent.
    pub fn new(code: Option<&str>, message: Option<&str>, body: &[u8]) -> StorageReply {
        let keep = |text: Option<&str>, limit: usize| {
            text.map(str::trim)
                .filter(|text| !text.is_empty())
                .map(|text| redact::text(&text.chars().take(limit).collect::<String>()))
        };
        StorageReply {
            code: keep(code, Self::CODE_LIMIT),
            message: keep(message, Self::MESSAGE_LIMIT),
            body: BodySnippet::new(body),
        }
    }

    /// Storage's error code: `AccessDenied`, `NoSuchKey`, `BadDigest`, ...
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Storage's message, redacted.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The start of the body, bounded and redacted.
    pub fn body(&self) -> &BodySnippet {
        &self.body
    }
}

impl fmt::Display for StorageReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => write!(f, "{code}: {message}"),
            (Some(text), None) | (None, Some(text)) => f.write_str(text),
            (None, None) => write!(f, "body: {}", self.body),
        }
    }
}

impl fmt::Display for BodySnippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total_len == 0 {
            return f.write_str("<empty>");
        }
        let one_line: String = self
            .text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut shown = one_line.trim().to_owned();
        if self.is_truncated() {
            let _ = write!(shown, " … ({} bytes in all)", self.total_len);
        }
        // Redacted again, as shown: a control character turned space can complete a
        // `Bearer <token>`, and trimming can change where a value ends. A value cut off
        // at its start takes the length with it.
        f.write_str(&redact::text(&shown))
    }
}

impl fmt::Debug for BodySnippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySnippet")
            .field("text", &self.text)
            .field("total_len", &self.total_len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_dates_are_honoured_and_nothing_panics() {
        use reqwest::header::HeaderValue;
        // Wed, 21 Oct 2015 07:28:00 GMT
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let at = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            retry_after_at(&h, now)
        };
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(at("Wed, 21 Oct 2015 07:28:05 GMT"), secs(5));
        assert_eq!(at("Wednesday, 21-Oct-15 07:28:05 GMT"), secs(5));
        assert_eq!(at("Wed Oct 21 07:28:05 2015"), secs(5));
        assert_eq!(at("Wed, 21 Oct 2015 07:28:00 GMT"), secs(0));
        assert_eq!(
            at("Wed, 21 Oct 2015 07:27:00 GMT"),
            secs(0),
            "past: no delay"
        );
        assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), secs(0));
        assert!(at("Fri, 31 Dec 9999 23:59:59 GMT") > secs(250_000_000_000));
        assert_eq!(at(" 7 "), secs(7));
        assert_eq!(at("18446744073709551615"), secs(u64::MAX));
        assert_eq!(
            at("99999999999999999999999"),
            secs(u64::MAX),
            "too many seconds to count is still a delay, the longest"
        );
        for nonsense in [
            "",
            "-1",
            "+5",
            "1.5",
            "soon",
            "Wed, 32 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(at(nonsense), None, "{nonsense:?}");
        }
    }

    fn problem(status: i64, title: &str, detail: &str) -> Problem {
        serde_json::from_value(
            serde_json::json!({"status": status, "title": title, "detail": detail}),
        )
        .unwrap()
    }

    #[test]
    fn a_storage_reply_is_bounded_and_redacted_and_shown_by_what_it_has() {
        let long = "X".repeat(500);
        let reply = StorageReply::new(
            Some(&long),
            Some(" Expired: see https://s.example/o?X-Goog-Signature=abcdef0123 "),
            b"<Error/>",
        );
        assert_eq!(reply.code().map(str::len), Some(StorageReply::CODE_LIMIT));
        let message = reply.message().unwrap_or_default();
        assert!(
            message.starts_with("Expired: see https://s.example/o"),
            "{message}"
        );
        assert!(!message.contains("abcdef0123"), "{message}");
        let blank = StorageReply::new(Some("  "), None, b"<html>bad gateway</html>");
        assert_eq!((blank.code(), blank.message()), (None, None));
        assert_eq!(blank.to_string(), "body: <html>bad gateway</html>");
        let e = Error::Storage {
            operation: Cow::Borrowed("storage.put"),
            status: StatusCode::BAD_REQUEST,
            bytes_done: 42,
            headers: Box::default(),
            reply: Box::new(StorageReply::new(
                Some("BadDigest"),
                Some("digest of hunter2hunter2 differs"),
                b"<Error><Code>BadDigest</Code><Message>digest of hunter2hunter2 differs</Message></Error>",
            )),
        };
        assert_eq!(
            e.to_string(),
            "storage.put: 400 Bad Request — BadDigest: digest of hunter2hunter2 differs (after 42 bytes)"
        );
        let e = e.without_credential("hunter2hunter2");
        let shown = format!("{e} {e:?} {:?}", e.storage_reply());
        assert!(!shown.contains("hunter2hunter2"), "{shown}");
        assert_eq!(
            (e.storage_code(), e.bytes_done()),
            (Some("BadDigest"), Some(42))
        );
        assert_eq!(e.body().map(|b| b.total_len()), Some(88));
    }

    #[test]
    fn error_is_small_and_thread_safe() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 80,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn problem_display_is_one_actionable_line() {
        let e = Error::Problem {
            operation: "uploads.initiate".into(),
            status: StatusCode::PAYMENT_REQUIRED,
            problem: Box::new(problem(
                402,
                "Payment Required",
                "Storage quota exceeded: 5 GiB requested, 1 GiB free",
            )),
            headers: Box::default(),
        };
        assert_eq!(
            e.to_string(),
            "uploads.initiate: 402 Payment Required — Storage quota exceeded: 5 GiB requested, 1 GiB free"
        );
        assert_eq!(e.status(), Some(StatusCode::PAYMENT_REQUIRED));
        assert_eq!(
            e.problem().map(|p| p.detail.as_str()),
            Some("Storage quota exceeded: 5 GiB requested, 1 GiB free")
        );
        assert!(!e.is_retryable());
        assert_eq!(e.operation(), "uploads.initiate");
    }

    /// A 422 of `uploads.initiate` with this `detail` list.
    fn validation(detail: serde_json::Value) -> Error {
        let error: HttpValidationError =
            serde_json::from_value(serde_json::json!({ "detail": detail })).unwrap();
        Error::Validation {
            operation: "uploads.initiate".into(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: Box::new(error),
            headers: Box::default(),
        }
    }

    #[test]
    fn validation_display_lists_fields() {
        let e = validation(serde_json::json!([
            {"loc": ["body", "project_id"], "msg": "Field required", "type": "missing"},
            {"loc": ["body", "total_bytes"], "msg": "Input should be greater than or equal to 0", "type": "greater_than_equal"}
        ]));
        assert_eq!(
            e.to_string(),
            "uploads.initiate: 422 Unprocessable Entity — body.project_id: Field required; body.total_bytes: Input should be greater than or equal to 0"
        );
        assert_eq!(e.validation().map(|v| v.detail.len()), Some(2));
    }

    #[test]
    fn validation_display_redacts_locations_too() {
        // Found with the `decode_response` fuzz target: `loc` entries are server text.
        let e = validation(serde_json::json!([
            {"loc": ["https://h/p?sig=SIGSECRET", 0], "msg": "m", "type": "x"}
        ]));
        assert_eq!(
            e.to_string(),
            "uploads.initiate: 422 Unprocessable Entity — https://h/p?<redacted>: m"
        );
    }

    #[test]
    fn decode_display_redacts_what_the_json_decoder_quotes() {
        // Found by the `decode_response` fuzz target: serde_json's message quotes the
        // offending string, here a whole body that is one JSON string.
        let body = br#""see https://h/p?sig=SIGSECRET or Bearer TOKSECRET""#;
        let source = serde_json::from_slice::<Problem>(body).unwrap_err();
        assert!(source.to_string().contains("SIGSECRET"));
        let e = Error::Decode {
            operation: "uploads.fail".into(),
            status: StatusCode::OK,
            headers: Box::default(),
            body: BodySnippet::new(body),
            source: Redacted::new(source),
        };
        let mut chain = String::new();
        let mut next = std::error::Error::source(&e);
        while let Some(s) = next {
            chain.push_str(&s.to_string());
            chain.push_str(&format!("{s:?}"));
            next = s.source();
        }
        assert!(
            chain.contains("invalid type"),
            "the chain still explains: {chain}"
        );
        for shown in [e.to_string(), format!("{e:?}"), chain] {
            assert!(
                !shown.contains("SIGSECRET") && !shown.contains("TOKSECRET"),
                "{shown}"
            );
        }
    }

    #[test]
    fn snippet_is_bounded_and_redacted() {
        let mut body = b"<html>see https://storage.example/o/a.tif?X-Signature=deadbeef&X-Expires=9 for details ".to_vec();
        body.extend(std::iter::repeat_n(b'x', 2000));
        let s = BodySnippet::new(&body);
        assert!(s.is_truncated());
        assert_eq!(s.total_len(), body.len());
        assert!(!s.to_string().contains("deadbeef"), "{s}");
        assert!(
            s.to_string()
                .contains("https://storage.example/o/a.tif?<redacted>"),
            "{s}"
        );
        assert!(s.as_str().len() <= BodySnippet::LIMIT + 16);
        assert_eq!(BodySnippet::new(b"").to_string(), "<empty>");
    }

    #[test]
    fn snippet_display_stays_redacted_on_one_line() {
        // Found by the `redact` fuzz target: `Bearer\0s` is no token, but printed on one
        // line it became `Bearer s`.
        for raw in [
            &b"[Bearer\0s\x01pra_\0\0/q"[..],
            b"Bearer\tTOKSECRET",
            b"x Bearer\nTOKSECRET",
            // Found by the `redact` fuzz target: trimmed, the value `bearer ` lost the space
            // that made it a scheme alone, and became a credential.
            b"\"authorization\":\"bearer ",
        ] {
            let shown = BodySnippet::new(raw).to_string();
            assert!(
                !shown.contains("TOKSECRET") && !shown.contains("Bearer s"),
                "{shown}"
            );
            assert_eq!(redact::text(&shown), shown);
        }
    }

    #[test]
    fn display_is_redacted_as_one_line() {
        // Found by the `decode_response` fuzz target: title and detail were redacted one by
        // one, so a title ending in `Bearer ` made the dash after it a token once joined.
        let e = Error::Problem {
            operation: "uploads.progress".into(),
            status: StatusCode::SERVICE_UNAVAILABLE,
            problem: Box::new(problem(503, "Service UnavailableBearer ", "try later")),
            headers: Box::default(),
        };
        let v = validation(serde_json::json!([
            {"loc": ["body"], "msg": "bad Bearer", "type": "x"},
            {"loc": ["body"], "msg": "m", "type": "x"},
            {"loc": ["body"], "msg": "m", "type": "x"},
            {"loc": ["body"], "msg": "m", "type": "x"}
        ]));
        for shown in [e.to_string(), v.to_string()] {
            assert_eq!(redact::text(&shown), shown);
        }
    }

    #[test]
    fn a_cut_snippet_shows_its_length_stably() {
        // Found by the `redact` fuzz target: a secret value runs over spaces to the end of
        // the kept text, so the length shown after it was taken for more of the value.
        for end in ["&x-amz-security-token=SIGSECRET more", "&sig="] {
            let mut body = "x".repeat(BodySnippet::LIMIT + 5 - end.len());
            body.push_str(end);
            body.push_str("SIGSECRET and more");
            let shown = BodySnippet::new(body.as_bytes()).to_string();
            assert!(!shown.contains("SIGSECRET"), "{shown}");
            assert_eq!(redact::text(&shown), shown);
        }
    }

    #[test]
    fn display_and_debug_redact_server_text() {
        let e = Error::Problem {
            operation: "uploads.signed_url".into(),
            status: StatusCode::FORBIDDEN,
            problem: Box::new(problem(
                403,
                "Forbidden",
                "expired: https://s/o?sig=SIGSECRET, Bearer TOKSECRET",
            )),
            headers: Box::default(),
        };
        for shown in [e.to_string(), format!("{e:?}"), format!("{e:#?}")] {
            assert!(
                !shown.contains("SIGSECRET") && !shown.contains("TOKSECRET"),
                "{shown}"
            );
        }
        assert!(
            format!("{e:?}").starts_with("Problem { message: \"uploads.signed_url: 403 Forbidden"),
            "{e:?}"
        );
        let e = Error::InvalidInput {
            operation: "x".into(),
            field: Some("url".into()),
            message: "bad value http://h/p?k=SIGSECRET".into(),
        };
        assert!(!e.to_string().contains("SIGSECRET"));
    }

    #[test]
    fn the_clients_credential_is_removed_from_all_server_text() {
        let secret = "tok-CRED/SECRET.42";
        let e = Error::Problem {
            operation: "uploads.fail".into(),
            status: StatusCode::UNAUTHORIZED,
            problem: Box::new(
                serde_json::from_value(serde_json::json!({
                    "title": "Unauthorized", "status": 401,
                    "detail": "unknown token tok-CRED/SECRET.42",
                    "sent": {"headers": ["tok-CRED/SECRET.42"]}
                }))
                .unwrap(),
            ),
            headers: Box::default(),
        }
        .without_credential(secret);
        let problem = serde_json::to_string(e.problem().unwrap()).unwrap();
        assert!(!problem.contains("CRED"), "{problem}");
        assert_eq!(
            e.to_string(),
            "uploads.fail: 401 Unauthorized — unknown token <redacted>"
        );

        // A decoder message quoting the whole body, and a snippet cut in the token's middle.
        let mut body = b"\"tok-CRED/SECRET.42\"".to_vec();
        let source = serde_json::from_slice::<Problem>(&body).unwrap_err();
        body.extend(std::iter::repeat_n(
            b' ',
            BodySnippet::LIMIT - body.len() - 6,
        ));
        body.extend(b"tok-CRED/SECRET.42");
        let e = Error::Decode {
            operation: "uploads.fail".into(),
            status: StatusCode::OK,
            headers: Box::default(),
            body: BodySnippet::new(&body),
            source: Redacted::new(source),
        }
        .without_credential(secret);
        for shown in [
            e.to_string(),
            format!("{e:?}"),
            e.body().unwrap().as_str().into(),
        ] {
            assert!(
                !shown.contains("CRED") && !shown.contains("tok-C"),
                "{shown}"
            );
        }
        assert!(e.to_string().contains("invalid type: string"), "{e}");
    }

    #[test]
    fn retryable_statuses() {
        for (code, retry) in [
            (408, true),
            (429, true),
            (500, false),
            (502, true),
            (503, true),
            (504, true),
            (404, false),
        ] {
            let e = Error::UnexpectedStatus {
                operation: "x".into(),
                status: StatusCode::from_u16(code).unwrap(),
                headers: Box::default(),
                body: BodySnippet::new(b""),
            };
            assert_eq!(e.is_retryable(), retry, "{code}");
        }
    }
}
