//! What uploads and downloads share: storage errors as `geopera::Error`, the retry
//! decision for one failed storage request, `x-goog-hash` CRC32C values, signed URLs'
//! expiry, and content types by file extension.

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use geopera::models::SignedUrl;
use geopera::reqwest;
use geopera::reqwest::header::HeaderMap;
use geopera::{Error, Redacted, RetryPolicy, StorageReply, TransportKind};

/// How long before its expiry a signed URL is signed again by default, before a transfer
/// (or a resumed part of one) starts with it.
pub const DEFAULT_RESIGN_MARGIN: Duration = Duration::from_secs(60);

/// The header Google Cloud Storage carries object checksums in.
pub(crate) const X_GOOG_HASH: &str = "x-goog-hash";

/// `crc` as `x-goog-hash` writes it: base64 of its big-endian bytes.
pub(crate) fn crc32c_text(crc: u32) -> String {
    STANDARD.encode(crc.to_be_bytes())
}

/// The CRC32C in a response's `x-goog-hash` headers (one header listing several
/// checksums, or one header each), if one is there and readable.
pub(crate) fn x_goog_crc32c(headers: &HeaderMap) -> Option<u32> {
    headers
        .get_all(X_GOOG_HASH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("crc32c"))
        .and_then(|(_, value)| STANDARD.decode(value.trim()).ok())
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .map(u32::from_be_bytes)
}

/// When a signed URL in Google Cloud Storage's V4 format expires: `X-Goog-Date` plus
/// `X-Goog-Expires`. `None` for a URL without them (another store's, or unreadable).
pub(crate) fn url_expiry(url: &SignedUrl) -> Option<SystemTime> {
    let parsed = reqwest::Url::parse(url.expose()).ok()?;
    let mut date = None;
    let mut expires = None;
    for (name, value) in parsed.query_pairs() {
        if name.eq_ignore_ascii_case("X-Goog-Date") {
            date = chrono::NaiveDateTime::parse_from_str(&value, "%Y%m%dT%H%M%SZ").ok();
        } else if name.eq_ignore_ascii_case("X-Goog-Expires") {
            expires = value.parse::<u64>().ok();
        }
    }
    let signed = u64::try_from(date?.and_utc().timestamp()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(signed.checked_add(expires?)?))
}

/// Whether `url` expires less than `margin` after `now` (or already has).
pub(crate) fn expires_within(url: &SignedUrl, margin: Duration, now: SystemTime) -> bool {
    url_expiry(url).is_some_and(|expiry| {
        expiry
            .duration_since(now)
            .map_or(true, |left| left < margin)
    })
}

/// The step name of a PUT to a signed upload URL, in errors.
pub(crate) const PUT: &str = "storage.put";
/// The step name of a GET of a signed download URL, in errors.
pub(crate) const GET: &str = "storage.get";

/// The most of a storage error body kept for the error.
const ERROR_BODY_LIMIT: usize = 8 * 1024;

/// A request that did not complete. The URL is dropped from the error, so its signed
/// query cannot be printed; `Error::Transport` redacts its text once more.
pub(crate) fn transport(operation: &'static str, e: reqwest::Error) -> Error {
    let e = e.without_url();
    Error::Transport {
        operation: Cow::Borrowed(operation),
        kind: TransportKind::of(&e),
        status: e.status(),
        source: Redacted::new(e),
    }
}

/// A local file error, or a body that did not add up.
pub(crate) fn io(operation: &'static str, e: std::io::Error) -> Error {
    Error::Io {
        operation: Cow::Borrowed(operation),
        source: e,
    }
}

/// A storage answer with an error status: storage's code and message from its XML body,
/// the start of the body, and `bytes_done` (see [`Error::Storage`]). `url`'s signature is
/// removed from all of it, whatever storage echoed back, and the text is redacted.
pub(crate) async fn status(
    operation: &'static str,
    mut response: reqwest::Response,
    url: &SignedUrl,
    bytes_done: u64,
) -> Error {
    let status = response.status();
    let headers = Box::new(std::mem::take(response.headers_mut()));
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = ERROR_BODY_LIMIT.saturating_sub(body.len());
                body.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
            }
            Ok(None) | Err(_) => break,
        }
    }
    let (code, message) = xml_error(&body);
    let error = Error::Storage {
        operation: Cow::Borrowed(operation),
        status,
        bytes_done,
        headers,
        reply: Box::new(StorageReply::new(
            code.as_deref(),
            message.as_deref(),
            &body,
        )),
    };
    error.without_signed_url(url)
}

/// The `<Code>` and `<Message>` of the XML error body Google Cloud Storage and S3 send,
/// `<Error><Code>NoSuchKey</Code><Message>…</Message>…</Error>`; `None` for each one
/// missing, or in a body that is not such a document (a proxy's page). The SDK's
/// [`StorageReply`] bounds and redacts them.
fn xml_error(body: &[u8]) -> (Option<String>, Option<String>) {
    let Some(document) = std::str::from_utf8(body)
        .ok()
        .and_then(|text| roxmltree::Document::parse(text).ok())
    else {
        return (None, None);
    };
    let root = document.root_element();
    if !root.has_tag_name("Error") {
        return (None, None);
    }
    let child = |name: &str| {
        root.children()
            .find(|node| node.has_tag_name(name))
            .and_then(|node| node.text())
            .map(str::to_owned)
    };
    (child("Code"), child("Message"))
}

/// What to do after one failed storage request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Sign again (or resolve the descriptor again), then repeat at once.
    Resign,
    /// Repeat after this delay.
    Retry(Duration),
    /// Give up with the error.
    Fail,
}

/// Counts the attempts of one file's transfer against the client's [`RetryPolicy`] and a
/// budget of signatures.
pub(crate) struct Attempts {
    policy: RetryPolicy,
    attempt: u32,
    started: Instant,
    signatures: u32,
    max_signatures: u32,
}

impl Attempts {
    pub(crate) fn new(policy: RetryPolicy, max_signatures: u32) -> Attempts {
        Attempts {
            policy,
            attempt: 1,
            started: Instant::now(),
            signatures: 1,
            max_signatures: max_signatures.max(1),
        }
    }

    /// Signatures used so far, the first included.
    pub(crate) fn signatures(&self) -> u32 {
        self.signatures
    }

    /// Takes one signature from the budget for signing again ahead of an expiry: `false`
    /// (keep the URL) when the budget is spent.
    pub(crate) fn try_resign(&mut self) -> bool {
        if self.signatures < self.max_signatures {
            self.signatures = self.signatures.saturating_add(1);
            return true;
        }
        false
    }

    /// An attempt moved bytes forward: the next failure starts a fresh count.
    pub(crate) fn progressed(&mut self) {
        self.attempt = 1;
        self.started = Instant::now();
    }

    /// The verdict on `e`: a 403 is a stale or rejected signature, signed again while
    /// the budget lasts; a transport failure, a stalled attempt, 408, 429 and 5xx are
    /// repeated under the policy (after `Retry-After` when sent); anything else is final.
    pub(crate) fn next(&mut self, e: &Error) -> Next {
        let code = e.status_code();
        if code == Some(403) {
            if self.signatures < self.max_signatures {
                self.signatures = self.signatures.saturating_add(1);
                return Next::Resign;
            }
            return Next::Fail;
        }
        let stalled =
            matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::TimedOut);
        let transient = matches!(e, Error::Transport { .. })
            || stalled
            || code.is_some_and(|c| c == 408 || c == 429 || (500..600).contains(&c));
        if !transient {
            return Next::Fail;
        }
        self.retry(e)
    }

    /// The verdict on a failure known to be transient: repeated under the policy.
    pub(crate) fn retry(&mut self, e: &Error) -> Next {
        match self
            .policy
            .next_delay(self.attempt, self.started.elapsed(), e.retry_after())
        {
            Some(delay) => {
                self.attempt = self.attempt.saturating_add(1);
                Next::Retry(delay)
            }
            None => Next::Fail,
        }
    }
}

/// The content type of a file by its extension (case-insensitive): GeoTIFF, JPEG 2000,
/// PNG, JPEG, JSON and GeoJSON; anything else is `application/octet-stream`.
pub fn content_type_for(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "tif" | "tiff" => "image/tiff",
        "jp2" => "image/jp2",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        "geojson" => "application/geo+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geopera::reqwest::header::HeaderValue;

    #[test]
    fn x_goog_hash_crc32c_values_are_read_strictly() {
        let mut headers = HeaderMap::new();
        // The check value of "123456789" is 0xE3069283: base64 of e3 06 92 83.
        headers.insert(
            "x-goog-hash",
            HeaderValue::from_static("crc32c=4waSgw==,md5=JdVU1pZ3t1gzp0MDGKMNHg=="),
        );
        assert_eq!(x_goog_crc32c(&headers), Some(0xE306_9283));
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        let mut two = HeaderMap::new();
        two.append(
            "x-goog-hash",
            HeaderValue::from_static("md5=JdVU1pZ3t1gzp0MDGKMNHg=="),
        );
        two.append("x-goog-hash", HeaderValue::from_static("crc32c=AAAAAA=="));
        assert_eq!(x_goog_crc32c(&two), Some(0));
        for bad in [
            "crc32c=4waSgw=",
            "crc32c=4waSgx==",
            "crc32c=4wa*gw==",
            "md5=xyz",
        ] {
            let mut h = HeaderMap::new();
            h.insert("x-goog-hash", HeaderValue::from_static(bad));
            assert_eq!(x_goog_crc32c(&h), None, "{bad}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type_for(Path::new("a/harbour.TIF")), "image/tiff");
        assert_eq!(content_type_for(Path::new("x.tiff")), "image/tiff");
        assert_eq!(content_type_for(Path::new("x.jp2")), "image/jp2");
        assert_eq!(content_type_for(Path::new("x.png")), "image/png");
        assert_eq!(content_type_for(Path::new("x.jpg")), "image/jpeg");
        assert_eq!(content_type_for(Path::new("x.json")), "application/json");
        assert_eq!(
            content_type_for(Path::new("x.geojson")),
            "application/geo+json"
        );
        assert_eq!(
            content_type_for(Path::new("tif")),
            "application/octet-stream"
        );
        assert_eq!(
            content_type_for(Path::new("x.bin")),
            "application/octet-stream"
        );
    }

    fn status_error(code: u16) -> Error {
        Error::Storage {
            operation: Cow::Borrowed(PUT),
            status: geopera::StatusCode::from_u16(code).unwrap_or_default(),
            bytes_done: 0,
            headers: Box::default(),
            reply: Box::new(StorageReply::new(None, None, b"")),
        }
    }

    #[test]
    fn storages_code_and_message_are_read_from_its_xml_error() {
        let gcs = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>\
            <Message>The specified key does not exist &amp; never did.</Message>\
            <Details>No such object: b/o</Details></Error>";
        assert_eq!(
            xml_error(gcs),
            (
                Some("NoSuchKey".to_owned()),
                Some("The specified key does not exist & never did.".to_owned())
            )
        );
        assert_eq!(
            xml_error(b"<Error><Message>m</Message></Error>"),
            (None, Some("m".to_owned()))
        );
        for other in [
            &b"<html><body><h1>502 Bad Gateway</h1></body></html>"[..],
            b"<Error><Code>Cut",
            b"{\"error\": \"json\"}",
            b"\xff\xfe<Error/>",
            b"",
        ] {
            assert_eq!(xml_error(other), (None, None), "{other:?}");
        }
    }

    #[tokio::test]
    async fn a_signature_storage_echoes_is_removed_from_every_part_of_the_error() {
        let signature = "5f1e0d9c8b7a69584736251403f2e1d0c9b8a7968574635241302f1e0d9c8b7a";
        let url = SignedUrl::new(format!(
            "http://127.0.0.1:1/b/o?X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Signature={signature}"
        ));
        let body = format!(
            "<Error><Code>SignatureDoesNotMatch{signature}</Code><Message>We computed a \
             signature other than {signature}.</Message><Details>{signature}</Details></Error>"
        );
        let response = http::Response::builder()
            .status(403)
            .header("x-echo", "none")
            .body(body)
            .map(reqwest::Response::from)
            .unwrap();
        let e = status(GET, response, &url, 7).await;
        let shown = format!("{e} {e:?} {:?}", e.body().map(ToString::to_string));
        assert!(!shown.contains(signature), "{shown}");
        let reply = e.storage_reply().expect("a storage error");
        assert_eq!(e.bytes_done(), Some(7));
        let code = reply.code().unwrap_or_default();
        assert!(code.starts_with("SignatureDoesNotMatch"), "{code}");
        assert!(!code.contains(signature), "{code}");
        let message = reply.message().unwrap_or_default();
        assert!(message.starts_with("We computed"), "{message}");
        assert!(!message.contains(signature), "{message}");
        assert_eq!(e.status_code(), Some(403));
    }

    #[test]
    fn crc32c_is_read_from_x_goog_hash_in_either_layout() {
        let mut headers = HeaderMap::new();
        assert_eq!(x_goog_crc32c(&headers), None);
        headers.insert(
            X_GOOG_HASH,
            "crc32c=4waSgw==,md5=JfnnlDI7RTiF9RgfG2JNCw=="
                .parse()
                .unwrap(),
        );
        assert_eq!(x_goog_crc32c(&headers), Some(0xE306_9283));
        let mut two = HeaderMap::new();
        two.append(X_GOOG_HASH, "md5=JfnnlDI7RTiF9RgfG2JNCw==".parse().unwrap());
        two.append(X_GOOG_HASH, "CRC32C=4waSgw==".parse().unwrap());
        assert_eq!(x_goog_crc32c(&two), Some(0xE306_9283));
        let mut bad = HeaderMap::new();
        bad.insert(X_GOOG_HASH, "crc32c=AAAA".parse().unwrap());
        assert_eq!(x_goog_crc32c(&bad), None, "three bytes is no CRC32C");
        assert_eq!(crc32c_text(0xE306_9283), "4waSgw==");
    }

    #[test]
    fn a_urls_expiry_is_its_date_plus_its_lifetime() {
        let url = SignedUrl::new(
            "http://h/o?X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Date=20231114T221320Z&X-Goog-Expires=900&X-Goog-Signature=ab",
        );
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 900);
        assert_eq!(url_expiry(&url), Some(expiry));
        let margin = Duration::from_secs(60);
        assert!(!expires_within(
            &url,
            margin,
            expiry - Duration::from_secs(61)
        ));
        assert!(expires_within(
            &url,
            margin,
            expiry - Duration::from_secs(59)
        ));
        assert!(expires_within(
            &url,
            margin,
            expiry + Duration::from_secs(1)
        ));
        for other in [
            "http://h/o?X-Amz-Date=20231114T221320Z&X-Amz-Expires=900",
            "http://h/o?X-Goog-Date=yesterday&X-Goog-Expires=900",
            "http://h/o?X-Goog-Date=20231114T221320Z",
            "not a url",
        ] {
            let url = SignedUrl::new(other);
            assert_eq!(url_expiry(&url), None, "{other}");
            assert!(!expires_within(&url, margin, expiry), "{other}");
        }
    }

    #[test]
    fn forbidden_resigns_within_budget_and_5xx_retries_under_the_policy() {
        let policy = RetryPolicy::default()
            .with_max_attempts(2)
            .with_backoff(Duration::ZERO, Duration::ZERO);
        let mut a = Attempts::new(policy, 2);
        assert_eq!(a.next(&status_error(403)), Next::Resign);
        assert_eq!(a.next(&status_error(403)), Next::Fail);
        assert_eq!(a.signatures(), 2);
        assert_eq!(a.next(&status_error(503)), Next::Retry(Duration::ZERO));
        assert_eq!(a.next(&status_error(503)), Next::Fail);
        a.progressed();
        assert_eq!(a.next(&status_error(500)), Next::Retry(Duration::ZERO));
        assert_eq!(a.next(&status_error(404)), Next::Fail);
        let mut b = Attempts::new(RetryPolicy::default(), 2);
        assert!(b.try_resign());
        assert!(!b.try_resign(), "the budget is spent");
        assert_eq!(b.signatures(), 2);
    }
}
