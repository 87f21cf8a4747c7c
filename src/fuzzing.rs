//! Entry points for cargo-fuzz; not a public API.
//!
//! Compiled only under `--cfg fuzzing` (cargo fuzz passes it to every crate it builds) and
//! in this crate's unit tests. Each function runs the SDK's real code on arbitrary input and
//! panics when an invariant breaks, so that the fuzzer reports the input. The targets in
//! `fuzz/` call them (see `.ci/fuzz`); the dev server's targets reuse [`decode`],
//! [`check_error`] and [`ready`] to check that the SDK reads its answers. Nothing else should
//! call them, and nothing here is covered by semver.

use std::any::Any;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use progenitor_client::{Error as GenError, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

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
        let mut response = http::Response::new(self.body.to_vec());
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

/// Decodes one in-memory response of operation `id` as its typed call decodes it: `Ok` with
/// the status of a declared success, or the [`Error`] the call would return; `None` for an
/// id outside the operation table.
pub fn decode(
    id: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Result<StatusCode, Error>> {
    ops::visit(
        id,
        Decode {
            status,
            headers,
            body,
        },
    )
}

/// Runs a future that cannot wait on anything (its response is in memory) to completion.
///
/// Panics when the future waits.
pub fn ready<F: Future>(future: F) -> F::Output {
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
pub fn check_error(error: &Error, operation: &str, status: StatusCode) {
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
