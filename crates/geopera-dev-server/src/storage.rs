//! Object storage behind signed URLs: `PUT /storage/{object_path}` streams the body to a temp
//! file and renames it into place (constant memory, never a half-written object, re-PUT
//! replaces); `GET` streams the object, honours one byte range, and meters egress.
//!
//! Errors are S3/GCS-style XML. Query strings hold signatures and are never logged or echoed.

use super::body;
use super::clock::now_unix;
use super::error::StorageError;
use super::faults::{FaultKind, FaultTarget, Surface, intercept};
use super::object_io::{ChunkWriter, read_chunks};
use super::range::{ByteRange, parse_range};
use super::records::EgressRecord;
use super::signing::{Denied, SignedMethod, verify};
use super::state::{CommitError, DevState, UploadClosed};
use super::throttle::{Throttle, throttled};
use super::url::decode_path;
use super::validate::file_name_problem;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::io::{self, SeekFrom};
use std::path::PathBuf;
use tokio::fs::File;
use tokio::io::AsyncSeekExt;

/// `PUT /storage/{object_path}` with a signed upload URL.
pub(super) async fn put_object(State(state): State<DevState>, request: Request) -> Response {
    let resource = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let mut body = Some(body);
    let fault = state.take_fault(&FaultTarget::ObjectPut);
    let cap = storage_limits(&state, fault.as_ref()).await;
    let response = match intercept(
        fault,
        Surface::Storage {
            resource: &resource,
        },
    )
    .await
    {
        Some(response) => response,
        None => {
            state.count_call("storage.put");
            match put(&state, parts, &mut body, cap).await {
                Ok(response) => response,
                Err(err) => err.into_response_for(&resource),
            }
        }
    };
    // A refused PUT still reads what the client is sending (up to the object limit)
    // before answering, as object stores do: a client streaming a large body then sees
    // the 403 instead of a connection reset in the middle of its upload.
    if let Some(unread) = body {
        drain(unread, state.config().max_object_bytes).await;
    }
    response
}

/// Waits out the configured storage latency, and gives the request's bandwidth cap: the
/// fault's when a `Bandwidth` fault hit it, else the configured one.
async fn storage_limits(state: &DevState, fault: Option<&FaultKind>) -> Option<u64> {
    if let Some(latency) = state.config().storage_latency {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(FaultKind::Bandwidth { bytes_per_sec }) => Some(*bytes_per_sec),
        _ => state.config().storage_bandwidth,
    }
}

/// Reads and discards a request body, giving up after `limit` bytes.
async fn drain(body: Body, limit: u64) {
    let mut stream = body.into_data_stream();
    let mut seen = 0u64;
    while let Some(Ok(chunk)) = stream.next().await {
        seen = seen.saturating_add(chunk.len() as u64);
        if seen > limit {
            break;
        }
    }
}

/// `GET /storage/{object_path}` (and `HEAD`) with a signed download URL.
pub(super) async fn get_object(State(state): State<DevState>, request: Request) -> Response {
    let resource = request.uri().path().to_owned();
    let fault = state.take_fault(&FaultTarget::ObjectGet);
    let cap = storage_limits(&state, fault.as_ref()).await;
    if let Some(response) = intercept(
        fault,
        Surface::Storage {
            resource: &resource,
        },
    )
    .await
    {
        return response;
    }
    state.count_call("storage.get");
    let (parts, _body) = request.into_parts();
    match get(&state, &parts, cap).await {
        Ok(response) => response,
        Err(err) => err.into_response_for(&resource),
    }
}

fn internal(err: io::Error) -> StorageError {
    StorageError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        format!("Storage I/O failed: {}", err.kind()),
    )
}

fn too_large(max: u64) -> StorageError {
    StorageError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "EntityTooLarge",
        format!("Your proposed upload exceeds the maximum allowed object size of {max} bytes"),
    )
}

fn no_such_key() -> StorageError {
    StorageError::new(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
    )
}

/// The decoded object path of a `/storage/…` URI, refusing paths that are not clean.
pub(crate) fn object_path(uri: &Uri) -> Result<String, StorageError> {
    let invalid = || {
        StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidURI",
            "Couldn't parse the specified URI.",
        )
    };
    let raw = uri.path().strip_prefix("/storage/").ok_or_else(invalid)?;
    let path = decode_path(raw).ok_or_else(invalid)?;
    if file_name_problem(&path).is_some() {
        return Err(invalid());
    }
    Ok(path)
}

/// The storage error for a refused signature.
fn denied(reason: Denied) -> StorageError {
    let forbidden = |code, message: String| StorageError::new(StatusCode::FORBIDDEN, code, message);
    match reason {
        Denied::Malformed(param) => forbidden(
            "AccessDenied",
            format!(
                "Query-string authentication requires a valid {param} parameter; use a URL issued by the API"
            ),
        ),
        Denied::BadSignature => forbidden(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Use the URL exactly as issued."
                .into(),
        ),
        Denied::Expired { expires } => forbidden(
            "ExpiredToken",
            format!(
                "Request has expired: the URL expired at {}; request a fresh URL",
                super::clock::rfc3339(expires)
            ),
        ),
        Denied::WrongMethod { signed } => forbidden(
            "AccessDenied",
            format!("This URL was signed for {} requests only", signed.as_str()),
        ),
        Denied::WrongContentType { signed, sent } => forbidden(
            "SignatureDoesNotMatch",
            format!(
                "The Content-Type header ({}) does not match the signed content type ({signed})",
                sent.as_deref().unwrap_or("missing")
            ),
        ),
    }
}

/// The storage error for a validly signed upload URL whose session is no longer open.
fn closed(reason: UploadClosed) -> StorageError {
    let message = match reason {
        UploadClosed::Finished(status) => format!(
            "The upload session is {}: its upload URLs stopped working when it closed. \
             Start a new upload with uploads.initiate",
            status.as_str()
        ),
        UploadClosed::NoSession => {
            "This URL does not belong to an open upload session; use a URL from uploads.signed_url"
                .to_owned()
        }
    };
    StorageError::new(StatusCode::FORBIDDEN, "AccessDenied", message)
}

/// Removes the temp file unless the upload was committed.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn put(
    state: &DevState,
    parts: Parts,
    body: &mut Option<Body>,
    cap: Option<u64>,
) -> Result<Response, StorageError> {
    let object_path = object_path(&parts.uri)?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let grant = verify(
        state.key(),
        &object_path,
        parts.uri.query(),
        SignedMethod::Put,
        content_type,
        now_unix(),
    )
    .map_err(denied)?;
    // Checked before the body is read, and again when it is moved into place.
    state.db().upload_open(&object_path).map_err(closed)?;
    let max = state.config().max_object_bytes;
    if content_length(&parts.headers).is_some_and(|len| len > max) {
        return Err(too_large(max));
    }
    let mut temp = TempFile {
        path: state.temp_file(),
        armed: true,
    };
    let size = match body.take() {
        Some(body) => write_body(state, body, &temp, max, cap).await?,
        None => return Err(internal(io::Error::other("request body already consumed"))),
    };
    state
        .commit_upload(&temp.path, &object_path, size, &grant.content_type)
        .map_err(|err| match err {
            CommitError::Closed(reason) => closed(reason),
            CommitError::Io(err) => internal(err),
        })?;
    temp.armed = false;
    Ok(StatusCode::OK.into_response())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Streams `body` into the temp file; memory use does not grow with size.
async fn write_body(
    state: &DevState,
    body: Body,
    temp: &TempFile,
    max: u64,
    cap: Option<u64>,
) -> Result<u64, StorageError> {
    let mut throttle = cap.and_then(Throttle::new);
    let file = File::create(&temp.path).await.map_err(internal)?;
    let mut out = ChunkWriter::new(file.into_std().await);
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            if body::is_timeout(&err) {
                StorageError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "RequestTimeout",
                    format!(
                        "Your socket connection to the server was not read from or written to \
                         within the timeout period: no body bytes for {} ms",
                        state
                            .config()
                            .body_read_timeout
                            .unwrap_or_default()
                            .as_millis()
                    ),
                )
            } else {
                StorageError::new(
                    StatusCode::BAD_REQUEST,
                    "IncompleteBody",
                    "The request body ended early or could not be read",
                )
            }
        })?;
        size = size.saturating_add(chunk.len() as u64);
        if size > max {
            return Err(too_large(max));
        }
        out.write(&chunk).await.map_err(internal)?;
        if let Some(throttle) = throttle.as_mut() {
            // Reading no further until the bytes are paid for holds the client back
            // through TCP's flow control.
            throttle.take(chunk.len()).await;
        }
    }
    out.finish().await.map_err(internal)?;
    Ok(size)
}

async fn get(state: &DevState, parts: &Parts, cap: Option<u64>) -> Result<Response, StorageError> {
    let object_path = object_path(&parts.uri)?;
    let grant = verify(
        state.key(),
        &object_path,
        parts.uri.query(),
        SignedMethod::Get,
        None,
        now_unix(),
    )
    .map_err(denied)?;
    let (content_type, attribution) = {
        let db = state.db();
        let meta = db.objects.get(&object_path).ok_or_else(no_such_key)?;
        (
            meta.content_type.clone(),
            db.grants.get(&grant.grant_id).cloned(),
        )
    };
    let mut file = File::open(state.object_file(&object_path))
        .await
        .map_err(|err| match err.kind() {
            io::ErrorKind::NotFound => no_such_key(),
            _ => internal(err),
        })?;
    let metadata = file.metadata().await.map_err(internal)?;
    let size = metadata.len();
    let etag = entity_tag(&metadata);
    if let Some(wanted) = parts.headers.get(header::IF_MATCH)
        && !matches_etag(wanted, &etag)
    {
        return Err(StorageError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold.",
        ));
    }
    let range_header = parts
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (status, start, len) = match parse_range(range_header, size) {
        ByteRange::Full => (StatusCode::OK, 0, size),
        ByteRange::Partial { start, end } => (
            StatusCode::PARTIAL_CONTENT,
            start,
            end.saturating_sub(start).saturating_add(1),
        ),
        ByteRange::Unsatisfiable => {
            let mut response = StorageError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                format!("The requested range is not satisfiable (object size {size})"),
            )
            .into_response_for(parts.uri.path());
            insert(
                &mut response,
                header::CONTENT_RANGE,
                format!("bytes */{size}"),
            );
            return Ok(response);
        }
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await.map_err(internal)?;
    }
    let mut meter = (parts.method != Method::HEAD).then(|| {
        let (operation, user_agent, requester_ip) = match attribution {
            Some(a) => (a.operation.to_owned(), a.user_agent, a.requester_ip),
            None => ("storage.get".to_owned(), None, None),
        };
        EgressMeter::new(
            state.clone(),
            EgressRecord {
                operation,
                object_path,
                bytes: 0,
                complete: false,
                user_agent,
                requester_ip,
            },
            len,
        )
    });
    let chunks = read_chunks(file.into_std().await, len, move |sent| {
        if let Some(meter) = meter.as_mut() {
            meter.add(sent);
        }
    });
    let mut response = Response::new(Body::from_stream(throttled(chunks, cap)));
    *response.status_mut() = status;
    insert(&mut response, header::CONTENT_TYPE, content_type);
    insert(&mut response, header::CONTENT_LENGTH, len.to_string());
    insert(&mut response, header::ACCEPT_RANGES, "bytes".to_owned());
    insert(&mut response, header::ETAG, etag);
    if status == StatusCode::PARTIAL_CONTENT {
        insert(
            &mut response,
            header::CONTENT_RANGE,
            format!(
                "bytes {start}-{}/{size}",
                start.saturating_add(len).saturating_sub(1)
            ),
        );
    }
    Ok(response)
}

/// A strong entity tag for the stored object: its size and modification time. A re-PUT
/// renames a new file into place, so the tag changes with the object.
fn entity_tag(metadata: &std::fs::Metadata) -> String {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    format!("\"{:x}-{modified:x}\"", metadata.len())
}

/// Whether an `If-Match` value (`*` or a list of entity tags) names `etag`.
fn matches_etag(wanted: &HeaderValue, etag: &str) -> bool {
    wanted.to_str().is_ok_and(|list| {
        list.split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag == etag)
    })
}

/// Sets a header whose value came from us (or from a validated content type).
fn insert(response: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}

/// Counts bytes handed to the connection and files one egress record: as soon as the last
/// requested byte is handed over, or with what was sent when the download is abandoned.
struct EgressMeter {
    state: DevState,
    record: EgressRecord,
    expected: u64,
    filed: bool,
}

impl EgressMeter {
    fn new(state: DevState, record: EgressRecord, expected: u64) -> EgressMeter {
        let mut meter = EgressMeter {
            state,
            record,
            expected,
            filed: false,
        };
        if expected == 0 {
            meter.file(true);
        }
        meter
    }

    fn add(&mut self, bytes: u64) {
        self.record.bytes = self.record.bytes.saturating_add(bytes);
        if self.record.bytes >= self.expected {
            self.file(true);
        }
    }

    fn file(&mut self, complete: bool) {
        if !self.filed {
            self.filed = true;
            self.record.complete = complete;
            self.state.file_egress(self.record.clone());
        }
    }
}

impl Drop for EgressMeter {
    fn drop(&mut self) {
        if self.record.bytes > 0 {
            self.file(false);
        }
    }
}
