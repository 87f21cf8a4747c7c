//! Entry points for cargo-fuzz; not a public API.
//!
//! Each function runs the SDK's or the dev server's real code on arbitrary input and panics
//! when an invariant breaks, so that the fuzzer reports the input. The targets in `fuzz/`
//! call them (see `.ci/fuzz`); nothing else should, and nothing here is covered by semver.

use std::any::Any;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::response::IntoResponse;
use progenitor_client::{Error as GenError, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::dev_server::error::ApiError;
use crate::dev_server::ops::{OPERATIONS, OpContext};
use crate::dev_server::range::{ByteRange, parse_range};
use crate::dev_server::signing::{Denied, Grant, SignedMethod, verify};
use crate::dev_server::url::{decode_path, encode_component, encode_path, parse_query};
use crate::dev_server::validate::parse_body;
use crate::dev_server::{DevConfig, DevState, SessionStatus};
use crate::error::RETRYABLE_STATUSES;
use crate::models::{Descriptor, SignedUrlOutput};
use crate::ops::{Operation, OperationVisitor};
use crate::{BodySnippet, Error, ops, redact};

// ----- response decoding -----

/// Decodes `body` as the SDK decodes a response of the operation `op_index` picks from
/// [`ops::OPERATIONS`] (modulo their number) with `status` and `headers` (`name: value`
/// lines; unreadable lines are skipped): progenitor's status dispatch (its view of the
/// document has only the success responses), then `Error::from_generated`, exactly as
/// `ops::<op>::send_detailed` runs them; then exercises every accessor of the result.
///
/// Panics when: a status outside 100..=999 aside, anything panics; an error names another
/// operation or status; an undeclared status is not [`Error::UnexpectedStatus`]; `Display`
/// shows an unredacted URL query or token; a signed URL shows its query.
pub fn decode_response(op_index: u8, status: u16, headers: &str, body: &[u8]) {
    let Ok(status) = StatusCode::from_u16(status) else {
        return; // not a status an HTTP client can hand over
    };
    let spec = &ops::OPERATIONS[usize::from(op_index) % ops::OPERATIONS.len()];
    let headers = header_map(headers);
    let declared = spec.declares(status.as_u16());
    let decoded = ops::visit(
        spec.id,
        Decode {
            status,
            headers: &headers,
            body,
        },
    )
    .expect("every row of the table visits");
    match &decoded {
        Ok(response_status) => {
            assert!(
                declared && status.is_success(),
                "{}: {status} decoded as success",
                spec.id
            );
            assert_eq!(*response_status, status);
        }
        Err(error) => {
            check_error(error, spec.id, status);
            if !declared {
                assert!(
                    matches!(error, Error::UnexpectedStatus { .. }),
                    "{}: undeclared {status} gave {error:?}",
                    spec.id
                );
                let kept = error.body().map(BodySnippet::total_len);
                assert_eq!(kept, Some(body.len().min(1 << 20)));
            } else if status.is_success() {
                assert!(matches!(error, Error::Decode { .. }), "{error:?}");
            } else {
                assert!(
                    matches!(error, Error::Problem { .. } | Error::Decode { .. })
                        || (status == StatusCode::UNPROCESSABLE_ENTITY
                            && matches!(error, Error::Validation { .. })),
                    "{}: declared {status} gave {error:?}",
                    spec.id
                );
            }
        }
    }
}

/// One in-memory response of operation `O`, decoded as its typed call decodes it.
struct Decode<'a> {
    status: StatusCode,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl OperationVisitor for Decode<'_> {
    type Output = Result<StatusCode, Error>;

    fn visit<O: Operation>(self) -> Result<StatusCode, Error> {
        let mut response = axum::http::Response::new(self.body.to_vec());
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        let response = reqwest::Response::from(response);
        let success = self.status.is_success() && O::SPEC.declares(self.status.as_u16());
        ready(async move {
            let result = if success {
                ResponseValue::<O::Output>::from_response::<()>(response).await
            } else {
                Err(GenError::UnexpectedResponse(response))
            };
            match result {
                Ok(value) => {
                    let output = value.into_inner();
                    let output: &dyn Any = &output;
                    if let Some(signed) = output.downcast_ref::<SignedUrlOutput>() {
                        check_signed_url(signed);
                    }
                    if let Some(descriptor) = output.downcast_ref::<Descriptor>() {
                        check_descriptor(descriptor);
                    }
                    let _ = format!("{output:?}");
                    Ok(self.status)
                }
                Err(e) => Err(Error::from_generated(O::SPEC, e).await),
            }
        })
    }
}

/// Runs a future that cannot wait on anything (its response is in memory) to completion.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("decoding an in-memory response waited: it would hang"),
    }
}

/// A download descriptor prints redacted, stably, and its signed URL never shows its query.
fn check_descriptor(descriptor: &Descriptor) {
    let redacted = descriptor.redacted();
    assert_eq!(descriptor.to_string(), redacted.to_string());
    assert_eq!(format!("{descriptor:?}"), format!("Descriptor({redacted})"));
    assert_eq!(
        redact::json(&redacted),
        redacted,
        "redacting twice changed it"
    );
    if let Some(url) = descriptor.url() {
        assert_eq!(url.to_string(), redact::url(url.expose()));
    }
}

/// A signed URL never shows its query: `Debug` and `Display` keep only what precedes `?`.
fn check_signed_url(output: &SignedUrlOutput) {
    let url = &output.upload_url;
    let full = url.expose();
    let shown = url.to_string();
    match full.split_once('?') {
        Some((base, query)) if !query.is_empty() => {
            assert_eq!(shown, format!("{base}?<redacted>"));
        }
        _ => assert_eq!(shown, full),
    }
    assert_eq!(format!("{url:?}"), format!("SignedUrl({shown:?})"));
    let _ = format!("{output:?}");
}

fn header_map(lines: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in lines.lines() {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.trim().as_bytes()),
                HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    headers
}

/// What holds for every error made from a response: it names the operation and status,
/// its accessors agree, and its one-line text is already redacted.
fn check_error(error: &Error, operation: &str, status: StatusCode) {
    assert_eq!(error.operation(), operation);
    assert_eq!(error.status(), Some(status));
    assert_eq!(
        error.is_retryable(),
        RETRYABLE_STATUSES.contains(&status.as_u16())
    );
    assert!(!error.is_timeout() && !error.is_connect());
    assert!(error.headers().is_some());
    let _ = (
        error.request_id(),
        error.retry_after(),
        error.problem(),
        error.validation(),
        error
            .body()
            .map(|b| (b.as_str(), b.is_truncated(), b.to_string())),
    );
    let shown = error.to_string();
    assert!(shown.starts_with(&format!("{operation}: ")), "{shown}");
    assert_redacted(&shown);
    let debug = format!("{error:?} {error:#?}");
    assert!(!debug.is_empty());
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        let _ = s.to_string();
        source = s.source();
    }
}

/// `text` has no URL query or token left that redaction would remove.
fn assert_redacted(text: &str) {
    assert_eq!(redact::text(text), text, "shown unredacted");
}

// ----- redaction -----

/// Redacts `text` as every error message and body snippet is redacted; redaction is
/// idempotent (what it leaves is clean), and so is a body snippet's `Display`.
pub fn redact_text(text: &str) {
    let once = redact::text(text);
    assert_eq!(
        redact::text(&once),
        once,
        "redacting twice changed {text:?}"
    );
    let url = redact::url(text);
    assert_eq!(redact::url(&url), url);
    let snippet = BodySnippet::new(text.as_bytes());
    assert_redacted(&snippet.to_string());
    assert_eq!(snippet.total_len(), text.len());
}

/// What every planted secret is made of; the fuzzer's own text never holds it.
const PLANTED: &str = "PLNT";

/// Punctuation a planted secret may hold in each place, chosen so that the place still
/// ends where the secret ends (a URL at a space, a quoted value at its quote, ...).
mod punctuation {
    /// In a URL's query (and, past a decoded space, a bare parameter).
    pub const URL: &str = "!#$%(*+-./:;=?@[^_{|~";
    /// A bare `name=value`: spaces and brackets too, but not `&`.
    pub const PARAM: &str = " !#$%()*+,-./:;<=>?@[]^_{|}~";
    /// A header value: anything up to the end of the line but quotes and backslashes.
    pub const HEADER: &str = " !#$%&()*+,-./:;<=>?@[]^_{|}~";
    /// A JSON string, plain or escaped.
    pub const JSON: &str = " !#$%&'()*+,-./:;<=>?@[]^_`{|}~";
    /// A Python string.
    pub const PYTHON: &str = " !\"#$%&()*+,-./:;<=>?@[]^_`{|}~";
    /// A bare JSON value.
    pub const BARE: &str = "!#$%&()*+-./:;<=>?@^_|~";
    /// A bearer token or API key: no space, quote or backslash.
    pub const TOKEN: &str = "!#$%&()*+,-./:;<=>?@[]^_{|}~";
    /// An RFC 7235 token68, what a client's own credential is made of.
    pub const TOKEN68: &str = "-._~+/";
}

/// Parameter and field names that hold a secret, as object stores, OAuth and the API
/// spell them.
const SECRET_PARAMS: &[&str] = &[
    "X-Geopera-Signature",
    "X-Goog-Signature",
    "X-Goog-Credential",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "sig",
    "Signature",
    "token",
    "access_token",
    "api_key",
    "apiKey",
    "key",
    "client_secret",
    "password",
    "authorization",
    "x-api-key",
];

/// Header names that carry a credential.
const SECRET_HEADERS: &[&str] = &[
    "Authorization",
    "Proxy-Authorization",
    "x-api-key",
    "X-Goog-Api-Key",
    "X-Amz-Security-Token",
    "api-key",
    "Cookie",
];

/// The fuzzer's choices for one planted secret, read byte by byte (zeros once used up).
struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at = self.at.saturating_add(1);
        b
    }

    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[usize::from(self.byte()) % from.len()]
    }

    fn char_of(&mut self, set: &str) -> char {
        let chars: Vec<char> = set.chars().collect();
        chars[usize::from(self.byte()) % chars.len()]
    }

    /// `word` as it is, upper-cased or lower-cased.
    fn cased(&mut self, word: &str) -> String {
        match self.byte() % 3 {
            0 => word.to_owned(),
            1 => word.to_ascii_uppercase(),
            _ => word.to_ascii_lowercase(),
        }
    }

    /// One to three `PLNT` words joined by punctuation from `set`, maybe with punctuation
    /// before and after.
    fn secret(&mut self, set: &str) -> String {
        let flags = self.byte();
        let mut secret = String::new();
        if flags & 1 != 0 {
            secret.push(self.char_of(set));
        }
        for (n, letter) in ['a', 'b', 'c'].into_iter().enumerate() {
            if n > usize::from(flags >> 1 & 3) {
                break;
            }
            if n > 0 {
                secret.push(self.char_of(set));
            }
            secret.push_str(PLANTED);
            secret.push(letter);
        }
        if flags & 8 != 0 {
            secret.push(self.char_of(set));
        }
        secret
    }

    /// `Bearer `, `Basic `, `token ` or nothing, for an authorization value.
    fn scheme(&mut self, name: &str) -> String {
        if name.to_ascii_lowercase().ends_with("authorization") {
            let scheme = self.pick(&["", "Bearer ", "Basic ", "token "]);
            self.cased(scheme)
        } else {
            String::new()
        }
    }
}

/// One line holding a planted secret, in a shape the choices pick, and the client
/// credential to remove when the secret stands for one.
fn plant(c: &mut Choices<'_>) -> (String, Option<String>) {
    let line = match c.byte() % 10 {
        // A URL, absolute (any scheme and case, `/` or `\/`) or relative, with the secret
        // somewhere in its query; maybe after a decoded value with a space in it.
        form @ (0 | 1) => {
            let slash = if c.byte() & 1 == 0 { "/" } else { "\\/" };
            let origin = if form == 0 {
                let scheme = c.pick(&["https", "http", "gs", "s3"]);
                let host = c.pick(&["s.example", "storage.googleapis.com", "127.0.0.1:8787"]);
                format!("{}:{slash}{slash}{host}", c.cased(scheme))
            } else {
                String::new()
            };
            let path = c
                .pick(&["/o.tif", "/b/k%20x.tif", "/storage/uploads/u/a.tif", ""])
                .replace('/', slash);
            let path = if origin.is_empty() && path.is_empty() {
                format!("{slash}o")
            } else {
                path
            };
            let spaced = c.byte().is_multiple_of(4);
            let name = if spaced {
                c.pick(SECRET_PARAMS)
            } else {
                c.pick(&[SECRET_PARAMS, &["q", "X-Unknown"]].concat())
            };
            let before = if spaced {
                "X-Geopera-Content-Type=image/tiff; charset=x&"
            } else {
                c.pick(&["", "X-Goog-Date=20240101T000000Z&", "sv=2022-11-02&se=1&"])
            };
            let after = c.pick(&["", "&X-Goog-Expires=600", "#frag"]);
            let lead = c.pick(&["", "GET ", "(", "\"", "url: "]);
            let trail = c.pick(&["", ")", "\"", "\\\"", " failed", ","]);
            let name = c.cased(name);
            let secret = c.secret(punctuation::URL);
            format!("{lead}{origin}{path}?{before}{name}={secret}{after}{trail}")
        }
        // `name=value` outside any URL, `=` maybe percent-encoded, `&` maybe escaped.
        2 => {
            let equals = c.pick(&["=", "%3D", "%3d", " = "]);
            let and = c.pick(&["&", "%26", "\\u0026", "&amp;"]);
            let name = c.pick(SECRET_PARAMS);
            let name = c.cased(name);
            let secret = c.secret(punctuation::PARAM);
            format!("sv{equals}1{and}{name}{equals}{secret}{and}X-Goog-Expires{equals}600")
        }
        // `Name: value`, the header form.
        3 => {
            let name = c.pick(SECRET_HEADERS);
            let colon = c.pick(&[": ", ":", " : ", ":\t"]);
            let scheme = c.scheme(name);
            let end = c.pick(&["", "\r", " "]);
            let name = c.cased(name);
            let secret = c.secret(punctuation::HEADER);
            format!("{name}{colon}{scheme}{secret}{end}")
        }
        // `"name": "value"`, in JSON or in JSON inside a JSON string.
        4 => {
            let quote = c.pick(&["\"", "\\\""]);
            let name = c.pick(&[SECRET_PARAMS, SECRET_HEADERS].concat());
            let colon = c.pick(&[":", ": ", " : "]);
            let scheme = c.scheme(name);
            let name = c.cased(name);
            let secret = c.secret(punctuation::JSON);
            format!(
                "{{{quote}n{quote}:1,{quote}{name}{quote}{colon}{quote}{scheme}{secret}{quote}}}"
            )
        }
        // `{'name': 'value'}`, as Python prints a dict.
        5 => {
            let name = c.pick(&[SECRET_PARAMS, SECRET_HEADERS].concat());
            let scheme = c.scheme(name);
            let name = c.cased(name);
            let secret = c.secret(punctuation::PYTHON);
            format!("{{'{name}': '{scheme}{secret}'}}")
        }
        // `{"name": value}` with an unquoted value.
        6 => {
            let name = c.pick(SECRET_PARAMS);
            let name = c.cased(name);
            let secret = c.secret(punctuation::BARE);
            format!("{{\"{name}\":{secret},\"n\":1}}")
        }
        // A bearer token.
        7 => {
            let bearer = c.cased("Bearer");
            let gap = c.pick(&[" ", "\t", "  "]);
            let trail = c.pick(&["", " ok", "\"", "'"]);
            let secret = c.secret(punctuation::TOKEN);
            format!("{bearer}{gap}{secret}{trail}")
        }
        // The client's own credential, verbatim.
        8 => {
            let lead = c.pick(&["", "token ", "(", "\"", "key="]);
            let trail = c.pick(&["", ")", "\"", ".", " was refused"]);
            let credential = c.secret(punctuation::TOKEN68);
            let line = format!("{lead}{credential}{trail}");
            return (line, Some(credential));
        }
        // An API key.
        _ => {
            let prefix = c.cased("gpra_");
            let secret = c.secret(punctuation::TOKEN);
            format!("key {prefix}{secret}")
        }
    };
    (line, None)
}

/// Plants a secret, in a shape `plan` picks, on a line of its own inside `context` (the
/// fuzzer's free text, at a place `plan` picks too), then redacts the text as the SDK does:
/// on its own (with the client's credential removed first, when the secret stands for
/// it) and as the body of an error response.
///
/// Panics when: anything panics; any part of the planted secret survives either way;
/// redacting the redacted text changes it.
pub fn redact_planted(plan: &[u8], context: &str) {
    let mut choices = Choices { bytes: plan, at: 0 };
    let (line, credential) = plant(&mut choices);
    let credential = credential.unwrap_or_default();
    let context = context.replace(PLANTED, "plnt");
    let split = usize::from(choices.byte()) % (context.chars().count() + 1);
    let split = context
        .char_indices()
        .nth(split)
        .map_or(context.len(), |(i, _)| i);
    let (before, after) = context.split_at(split);
    let text = format!("{before}\n{line}\n{after}");

    let once = redact::text(&redact::verbatim(&text, &credential));
    assert!(!once.contains(PLANTED), "{line:?} survived: {once:?}");
    assert_eq!(
        redact::text(&once),
        once,
        "redacting twice changed {text:?}"
    );

    let error = Error::UnexpectedStatus {
        operation: "uploads.progress".into(),
        status: StatusCode::IM_A_TEAPOT,
        headers: Box::default(),
        body: BodySnippet::new(text.as_bytes()),
    }
    .without_credential(&credential);
    let snippet = error
        .body()
        .map(|b| b.as_str().to_owned())
        .unwrap_or_default();
    for shown in [error.to_string(), format!("{error:?}"), snippet] {
        assert!(!shown.contains(PLANTED), "{line:?} survived: {shown:?}");
    }
    assert_redacted(&error.to_string());
}

// ----- dev server: request bodies -----

/// The content types `op_index / 8` picks: none, JSON, a `+json` type, and not JSON.
const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("application/geo+json; charset=utf-8"),
    Some("text/plain"),
];

/// Runs one operation request of the dev server on `body`: `op_index % 8` picks the
/// operation, `op_index / 8 % 4` the request's content type. The body is parsed as the
/// operation route parses it and handed to the operation's handler against fresh state
/// holding project `prj_fuzz`; `itm_fuzz` (asset `visual`) and `clip_fuzz` (mosaic
/// `visual`) exist when the body names them, and these two-byte names stand for upload
/// sessions made on demand: `@O` open with `a.tif` stored, `@M` open with `a.tif` signed
/// but never stored, `@T` open on `itm_fuzz` with `a.tif` stored, `@V` open with more
/// stored than reserved, `@D` completed, `@F` failed.
///
/// Panics when: anything panics; the answer is a 5xx; the SDK cannot decode the answer as
/// the operation's output (200) or as a Problem / validation error (4xx); the quota
/// bookkeeping no longer adds up.
pub fn dev_validate(op_index: u8, body: &[u8]) {
    let op = &OPERATIONS[usize::from(op_index) % OPERATIONS.len()];
    let content_type = CONTENT_TYPES[usize::from(op_index / 8 % 4)];
    let mut world = World::new(body);
    let body = world.expand(body);
    let state = &world.state;

    let result = parse_body(content_type, &body)
        .map_err(ApiError::from)
        .and_then(|parsed| (op.run)(state, &world.ctx, parsed));
    let (status, headers, bytes) = match result {
        Ok(value) => (
            StatusCode::OK,
            HeaderMap::new(),
            serde_json::to_vec(&value).expect("a JSON value serializes"),
        ),
        Err(error) => {
            let response = error.into_response();
            let (parts, body) = response.into_parts();
            let bytes = ready(axum::body::to_bytes(body, usize::MAX)).expect("an in-memory body");
            (parts.status, parts.headers, bytes.to_vec())
        }
    };
    assert!(
        !status.is_server_error(),
        "{}: {status}: {}",
        op.id,
        String::from_utf8_lossy(&bytes)
    );
    let decoded = ops::visit(
        op.id,
        Decode {
            status,
            headers: &headers,
            body: &bytes,
        },
    )
    .expect("the dev server serves operations of the table");
    match decoded {
        Ok(_) => assert_eq!(status, StatusCode::OK),
        Err(error) => {
            assert!(
                matches!(error, Error::Problem { .. } | Error::Validation { .. }),
                "{}: the SDK cannot read the dev server's {status}: {error:?}: {}",
                op.id,
                String::from_utf8_lossy(&bytes)
            );
            check_error(&error, op.id, status);
        }
    }

    let sessions = state.sessions();
    let reserved: u64 = sessions.iter().map(|s| s.reserved_bytes).sum();
    assert_eq!(state.reserved_bytes(), reserved, "reservations drifted");
    assert!(
        state.used_bytes().saturating_add(reserved) <= state.quota_bytes(),
        "quota overcommitted"
    );
    for session in &sessions {
        if session.status.is_finished() {
            assert_eq!(session.reserved_bytes, 0, "a finished session keeps quota");
        }
    }
}

/// Fresh dev server state with the fixtures one request body names.
struct World {
    state: DevState,
    ctx: OpContext,
    sessions: Vec<(&'static [u8], String)>,
}

impl World {
    const PROJECT: &'static str = "prj_fuzz";
    const ITEM: &'static str = "itm_fuzz";
    const CLIP: &'static str = "clip_fuzz";

    fn new(body: &[u8]) -> World {
        let state =
            DevState::new(DevConfig::default().quota_bytes(1 << 20)).expect("a temp data dir");
        state.add_project(World::PROJECT);
        let names = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        if names(World::ITEM.as_bytes()) || names(b"@T") {
            state
                .add_item(
                    World::ITEM,
                    World::PROJECT,
                    "visual",
                    b"II*\0",
                    "image/tiff",
                )
                .expect("seeding an item");
        }
        if names(World::CLIP.as_bytes()) {
            state
                .add_clip_job(World::CLIP, &[("visual", "v.tif", b"II*\0", "image/tiff")])
                .expect("seeding a clip job");
        }
        let ctx = OpContext {
            base_url: "http://127.0.0.1:8787".into(),
            user_agent: Some("geopera-fuzz".into()),
            peer_ip: None,
        };
        let mut world = World {
            state,
            ctx,
            sessions: Vec::new(),
        };
        for name in [b"@O", b"@M", b"@T", b"@V", b"@D", b"@F"] {
            if names(name) {
                let id = world.session(name);
                world.sessions.push((name.as_slice(), id));
            }
        }
        world
    }

    /// Runs a fixture request through the handler, which must accept it.
    fn run(&self, operation: &str, body: Value) -> Value {
        let op = OPERATIONS
            .iter()
            .find(|op| op.id == operation)
            .expect("a dev server operation");
        (op.run)(&self.state, &self.ctx, Some(body))
            .unwrap_or_else(|e| panic!("fixture {operation} refused: {e:?}"))
    }

    fn session(&self, name: &[u8]) -> String {
        let mut initiate =
            json!({"project_id": World::PROJECT, "file_count": 2, "total_bytes": 64});
        match name {
            b"@T" => {
                initiate["target_item_id"] = json!(World::ITEM);
                initiate["asset_key"] = json!("extra");
            }
            b"@V" => initiate["total_bytes"] = json!(1),
            _ => {}
        }
        let id = self.run("uploads.initiate", initiate)["id"]
            .as_str()
            .expect("an upload id")
            .to_owned();
        self.run(
            "uploads.signed_url",
            json!({"upload_id": id, "file_name": "a.tif", "content_type": "image/tiff"}),
        );
        if name != b"@M" {
            self.state
                .put_object_bytes(&format!("uploads/{id}/a.tif"), b"abcd", "image/tiff")
                .expect("storing a fixture object");
        }
        match name {
            b"@D" => drop(self.run("uploads.complete", json!({"upload_id": id}))),
            b"@F" => drop(self.run(
                "uploads.fail",
                json!({"upload_id": id, "error_message": "fixture"}),
            )),
            _ => {}
        }
        let status = self.state.session(&id).map(|s| s.status);
        assert!(status.is_some_and(|s| (s == SessionStatus::Completed) == (name == b"@D")));
        id
    }

    /// `body` with every session name replaced by its upload id.
    fn expand(&mut self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len());
        let mut rest = body;
        while !rest.is_empty() {
            match self
                .sessions
                .iter()
                .find(|(name, _)| rest.starts_with(name))
            {
                Some((name, id)) => {
                    out.extend_from_slice(id.as_bytes());
                    rest = &rest[name.len()..];
                }
                None => {
                    out.push(rest[0]);
                    rest = &rest[1..];
                }
            }
        }
        out
    }
}

// ----- dev server: signed URLs -----

const KEY: &[u8] = b"geopera-fuzz-signing-key";
const PUT_PATH: &str = "uploads/upl_fuzz/a b.tif";
const GET_PATH: &str = "items/itm_fuzz/visual";
const EXPIRES: u64 = 1_700_000_600;

/// The two grants [`dev_verify`] signs.
fn signed_grants() -> [Grant; 2] {
    [
        Grant {
            method: SignedMethod::Put,
            object_path: PUT_PATH.into(),
            content_type: "image/tiff".into(),
            expires: EXPIRES,
            grant_id: "up_fuzz".into(),
        },
        Grant {
            method: SignedMethod::Get,
            object_path: GET_PATH.into(),
            content_type: "image/tiff".into(),
            expires: EXPIRES,
            grant_id: "dl_fuzz".into(),
        },
    ]
}

/// Checks a storage request's query string for `path` at time `now` as the storage routes
/// do, for PUT (with `content_type`) and GET, against a fixed key that signed one PUT URL
/// and one GET URL. In `query`, `{put}` and `{get}` stand for those URLs' query strings
/// and `{putsig}` / `{getsig}` for their signatures; in `path`, `{put}` and `{get}` for
/// their object paths, so the fuzzer can start from real URLs and tamper with them.
///
/// Panics when: anything panics; a grant is accepted that was not signed exactly so, or
/// for another method, path or content type, or past its expiry; a grant signed for the
/// fuzzer's own path and content type does not verify until, and only until, it expires;
/// a query pair does not survive encoding; the storage routes accept an object path that
/// could leave its folder.
pub fn dev_verify(query: &str, path: &str, content_type: Option<&str>, now: u64) {
    let grants = signed_grants();
    let query = query
        .replace("{putsig}", &grants[0].signature(KEY))
        .replace("{getsig}", &grants[1].signature(KEY))
        .replace("{put}", &grants[0].to_query(KEY))
        .replace("{get}", &grants[1].to_query(KEY));
    let path = path.replace("{put}", PUT_PATH).replace("{get}", GET_PATH);

    for method in [SignedMethod::Put, SignedMethod::Get] {
        if let Ok(grant) = verify(KEY, &path, Some(&query), method, content_type, now) {
            assert!(
                grants.contains(&grant),
                "accepted an unsigned grant {grant:?}"
            );
            assert_eq!(grant.method, method);
            assert_eq!(grant.object_path, path);
            assert!(now < grant.expires, "accepted after expiry");
            if method == SignedMethod::Put {
                assert!(content_type.is_some_and(|sent| {
                    sent.trim().eq_ignore_ascii_case(grant.content_type.trim())
                }));
            }
        }
    }

    if let Some(expires) = now.checked_add(1) {
        let own = Grant {
            method: SignedMethod::Put,
            object_path: path.clone(),
            content_type: content_type
                .unwrap_or("application/octet-stream")
                .to_owned(),
            expires,
            grant_id: "up_own".into(),
        };
        let signed = own.to_query(KEY);
        let sent = Some(own.content_type.as_str());
        assert_eq!(
            verify(KEY, &path, Some(&signed), SignedMethod::Put, sent, now),
            Ok(own.clone())
        );
        assert_eq!(
            verify(KEY, &path, Some(&signed), SignedMethod::Put, sent, expires),
            Err(Denied::Expired { expires })
        );
    }

    for (key, value) in parse_query(&query) {
        let encoded = format!("{}={}", encode_component(&key), encode_component(&value));
        assert_eq!(parse_query(&encoded), [(key, value)]);
    }

    if let Ok(uri) = format!("/storage/{path}").parse::<axum::http::Uri>()
        && let Ok(object) = crate::dev_server::storage::object_path(&uri)
    {
        assert!(
            !object.starts_with('/')
                && !object.contains('\\')
                && !object.chars().any(char::is_control)
                && object.split('/').all(|s| !matches!(s, "" | "." | "..")),
            "storage accepts {object:?}"
        );
        assert_eq!(
            decode_path(&encode_path(&object)).as_deref(),
            Some(&*object)
        );
    }
}

// ----- dev server: byte ranges -----

/// Parses a `Range` header for an object of `len` bytes; a range served lies inside it.
pub fn dev_range(header: &str, len: u64) {
    match parse_range(Some(header), len) {
        ByteRange::Partial { start, end } => {
            assert!(
                start <= end && end < len,
                "{header:?} on {len} bytes: {start}-{end}"
            );
        }
        ByteRange::Full | ByteRange::Unsatisfiable => {}
    }
    assert_eq!(
        parse_range(Some(header), len),
        parse_range(Some(header.trim()), len)
    );
}

#[cfg(test)]
mod tests {
    /// The `redact` target's planted-secret check over many plans, deterministically: a
    /// quick guard between fuzzing runs.
    #[test]
    fn planted_secrets_never_survive() {
        let contexts = [
            "",
            "x",
            "see Bearer",
            "{\"token\":\"a\\",
            "https://h/p?",
            "é sig=",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..20_000 {
            let mut plan = [0u8; 16];
            for b in &mut plan {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = seed as u8;
            }
            super::redact_planted(&plan, contexts[n % contexts.len()]);
        }
    }
}
