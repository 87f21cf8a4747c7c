//! Object storage behind signed URLs: `PUT /storage/{object_path}` streams the body to a temp
//! file and renames it into place (constant memory, never a half-written object, re-PUT
//! replaces); `GET` streams the object, honours one byte range, and meters egress.
//!
//! Errors are S3/GCS-style XML. Query strings hold signatures and are never logged or echoed.

use super::body;
use super::clock::now_unix;
use super::error::StorageError;
use super::faults::{BodyFault, DropConnection, FaultKind, FaultTarget, Surface, intercept};
use super::object_hash::{ObjectHashes, parse_declared};
use super::object_io::{ChunkWriter, read_chunks};
use super::range::{ByteRange, parse_range};
use super::records::EgressRecord;
use super::serve::LocalAddr;
use super::signing::{Denied, Presented, SignedMethod, verify};
use super::state::{CommitError, DevState, StoredObject, UploadClosed};
use super::throttle::{Throttle, throttled};
use super::url::decode_path;
use super::validate::file_name_problem;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use std::io::{self, SeekFrom};
use std::path::PathBuf;
use tokio::fs::File;
use tokio::io::AsyncSeekExt;

/// `PUT /storage/{object_path}` with a signed upload URL.
pub(super) async fn put_object(State(state): State<DevState>, request: Request) -> Response {
    let resource = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let fault = state.take_fault(&FaultTarget::ObjectPut);
    let cap = storage_limits(&state, fault.as_ref()).await;
    if let Some(body_fault) = BodyFault::of(fault.as_ref()) {
        return cut_request_body(body, body_fault).await;
    }
    let mut body = Some(body);
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

/// Reads `fault.after()` bytes of a request body (or all of a shorter one), then drops the
/// connection without a response, or holds it without reading more.
async fn cut_request_body(body: Body, fault: BodyFault) -> Response {
    let mut stream = body.into_data_stream();
    let mut seen = 0u64;
    while seen < fault.after() {
        match stream.next().await {
            Some(Ok(chunk)) => seen = seen.saturating_add(chunk.len() as u64),
            Some(Err(_)) | None => break,
        }
    }
    if let BodyFault::StallAfter(_) = fault {
        // Held (with the unread body) until the client gives up or the server stops.
        std::future::pending::<()>().await;
    }
    let mut response = StatusCode::BAD_GATEWAY.into_response();
    response.extensions_mut().insert(DropConnection);
    response
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
    let body_fault = BodyFault::of(fault.as_ref());
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
    match get(&state, &parts, cap, body_fault).await {
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

/// The storage error for a refused signature. For a PUT whose signature fails,
/// `content_types` is `(signed, sent)` when the session signed another content type than
/// the request carries: the likely reason, told in the details.
fn denied(reason: Denied, content_types: Option<(String, Option<String>)>) -> StorageError {
    let forbidden = |code, message: String| StorageError::new(StatusCode::FORBIDDEN, code, message);
    match reason {
        Denied::Malformed(param) => forbidden(
            "AccessDenied",
            format!(
                "Query-string authentication requires a valid {param} parameter; use a URL issued by the API"
            ),
        ),
        Denied::BadSignature => {
            let err = forbidden(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. \
                 Use the URL exactly as issued, with the signed headers."
                    .into(),
            );
            match content_types {
                Some((signed, sent)) => err.with_details(format!(
                    "The Content-Type header ({}) does not match the signed content type ({signed})",
                    sent.as_deref().unwrap_or("missing")
                )),
                None => err,
            }
        }
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
    }
}

/// The `Host` a storage request was sent to, as signed URLs name it: the request's `Host`,
/// else the address the connection arrived on, else `127.0.0.1` (in-process calls), as
/// the operations build the URLs.
fn request_host(parts: &Parts) -> String {
    if let Some(host) = parts
        .headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
    {
        return host.to_owned();
    }
    match parts.extensions.get::<LocalAddr>() {
        Some(LocalAddr(local)) => local.to_string(),
        None => "127.0.0.1".to_owned(),
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
    let host = request_host(&parts);
    let presented = Presented {
        method: SignedMethod::Put,
        object_path: &object_path,
        query: parts.uri.query(),
        host: &host,
        content_type,
    };
    let signed_type = state.db().signed_content_type(&object_path);
    verify(state.key(), presented, now_unix()).map_err(|reason| {
        let mismatch = signed_type.clone().filter(|signed| {
            !content_type.is_some_and(|sent| sent.trim().eq_ignore_ascii_case(signed.trim()))
        });
        denied(
            reason,
            mismatch.map(|signed| (signed, content_type.map(str::to_owned))),
        )
    })?;
    let declared = parse_declared(
        parts
            .headers
            .get_all("x-goog-hash")
            .iter()
            .filter_map(|value| value.to_str().ok()),
    )
    .map_err(|entry| {
        StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidDigest",
            "The x-goog-hash header is not a valid crc32c or md5 value",
        )
        .with_details(format!("Unreadable x-goog-hash entry: {entry}"))
    })?;
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
    let (size, hashes) = match body.take() {
        Some(body) => write_body(state, body, &temp, max, cap).await?,
        None => return Err(internal(io::Error::other("request body already consumed"))),
    };
    let crc_differs = declared.crc32c.is_some_and(|crc| crc != hashes.crc32c);
    let md5_differs = declared.md5.is_some_and(|md5| md5 != hashes.md5);
    if crc_differs || md5_differs {
        return Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "BadDigest",
            "The x-goog-hash you specified did not match what we received.",
        )
        .with_details(format!(
            "Received {size} bytes with {}; nothing was stored",
            hashes.header()
        )));
    }
    let stored = StoredObject {
        size,
        content_type: signed_type
            .as_deref()
            .or(content_type.map(str::trim))
            .unwrap_or_default(),
        hashes,
    };
    state
        .commit_upload(&temp.path, &object_path, stored)
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

/// Streams `body` into the temp file (memory use does not grow with size); its size and
/// hashes.
async fn write_body(
    state: &DevState,
    body: Body,
    temp: &TempFile,
    max: u64,
    cap: Option<u64>,
) -> Result<(u64, ObjectHashes), StorageError> {
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
    let hashes = out.finish().await.map_err(internal)?;
    Ok((size, hashes))
}

async fn get(
    state: &DevState,
    parts: &Parts,
    cap: Option<u64>,
    body_fault: Option<BodyFault>,
) -> Result<Response, StorageError> {
    let object_path = object_path(&parts.uri)?;
    let host = request_host(parts);
    let presented = Presented {
        method: SignedMethod::Get,
        object_path: &object_path,
        query: parts.uri.query(),
        host: &host,
        content_type: None,
    };
    let grant = verify(state.key(), presented, now_unix()).map_err(|r| denied(r, None))?;
    // Opened under the lock that replacing an object takes, so the hashes describe the
    // bytes served.
    let (file, content_type, hashes, attribution) = {
        let db = state.db();
        let meta = db.objects.get(&object_path).ok_or_else(no_such_key)?;
        let file = std::fs::File::open(state.object_file(&object_path)).map_err(|err| match err
            .kind()
        {
            io::ErrorKind::NotFound => no_such_key(),
            _ => internal(err),
        })?;
        (
            file,
            meta.content_type.clone(),
            meta.hashes,
            db.grants.get(&grant.grant_id).cloned(),
        )
    };
    let mut file = File::from_std(file);
    let etag = hashes.etag();
    if let Some(response) = precondition(parts, &etag) {
        return Ok(response);
    }
    let size = file.metadata().await.map_err(internal)?.len();
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
    let body = match body_fault {
        Some(fault) => Body::from_stream(throttled(faulty(chunks, fault), cap)),
        None => Body::from_stream(throttled(chunks, cap)),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    insert(&mut response, header::CONTENT_TYPE, content_type);
    insert(&mut response, header::ETAG, etag);
    insert(
        &mut response,
        header::HeaderName::from_static("x-goog-hash"),
        hashes.header(),
    );
    insert(&mut response, header::CONTENT_LENGTH, len.to_string());
    insert(&mut response, header::ACCEPT_RANGES, "bytes".to_owned());
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

/// The answer to `If-Match` / `If-None-Match` on an object whose ETag is `etag`, when
/// one of them decides it: 412 when `If-Match` names neither it nor `*`, else 304 when
/// `If-None-Match` names it or `*`. `None`: serve the object.
fn precondition(parts: &Parts, etag: &str) -> Option<Response> {
    let names = |name: header::HeaderName| -> Option<bool> {
        let mut values = parts.headers.get_all(name).iter().peekable();
        values.peek()?;
        Some(
            values
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(str::trim)
                .any(|tag| tag == "*" || tag == etag),
        )
    };
    if names(header::IF_MATCH) == Some(false) {
        return Some(
            StorageError::new(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
            )
            .with_details(format!("If-Match did not name the object's ETag {etag}"))
            .into_response_for(parts.uri.path()),
        );
    }
    if names(header::IF_NONE_MATCH) == Some(true) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert(&mut response, header::ETAG, etag.to_owned());
        return Some(response);
    }
    None
}

/// `chunks` until `fault.after()` bytes have passed (the chunk that crosses the limit cut
/// to fit), then an error that makes the server close the connection, or nothing ever
/// again. The fault strikes only with more of the body to come: a body no longer than the
/// limit ends as usual.
fn faulty(
    chunks: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    fault: BodyFault,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    /// Where the faulty body stands.
    enum Step {
        /// Below the limit: pass chunks on.
        Passing(u64),
        /// At the limit with more to come: strike on the next poll.
        Strike,
        /// Struck (dropped): the stream is over.
        Done,
    }
    let limit = fault.after();
    futures_util::stream::unfold(
        (Box::pin(chunks), Step::Passing(0)),
        move |(mut chunks, step)| async move {
            let passed = match step {
                Step::Done => return None,
                Step::Strike => {
                    if let BodyFault::StallAfter(_) = fault {
                        std::future::pending::<()>().await;
                    }
                    let cut = io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "injected fault: the connection was dropped mid-body",
                    );
                    return Some((Err(cut), (chunks, Step::Done)));
                }
                Step::Passing(passed) => passed,
            };
            // The end of a body no longer than the limit is the end: nothing strikes.
            match chunks.next().await? {
                Ok(mut chunk) => {
                    let room = usize::try_from(limit.saturating_sub(passed)).unwrap_or(usize::MAX);
                    if chunk.len() > room {
                        // The limit falls inside this chunk: send what fits, then strike.
                        chunk.truncate(room);
                        return Some((Ok(chunk), (chunks, Step::Strike)));
                    }
                    let passed = passed.saturating_add(chunk.len() as u64);
                    Some((Ok(chunk), (chunks, Step::Passing(passed))))
                }
                Err(err) => Some((Err(err), (chunks, Step::Done))),
            }
        },
    )
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
