//! What uploads and downloads share: storage errors as `geopera::Error`, the retry
//! decision for one failed storage request, and content types by file extension.

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};

use geopera::reqwest;
use geopera::{BodySnippet, Error, Redacted, RetryPolicy, TransportKind};

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

/// A storage answer with an error status, with the start of its (XML) body, redacted.
pub(crate) async fn status(operation: &'static str, mut response: reqwest::Response) -> Error {
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
    Error::UnexpectedStatus {
        operation: Cow::Borrowed(operation),
        status,
        headers,
        body: BodySnippet::new(&body),
    }
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

    /// An attempt moved bytes forward: the next failure starts a fresh count.
    pub(crate) fn progressed(&mut self) {
        self.attempt = 1;
        self.started = Instant::now();
    }

    /// The verdict on `e`: a 403 is a stale or rejected signature, signed again while
    /// the budget lasts; a transport failure, 408, 429 and 5xx are repeated under the
    /// policy (after `Retry-After` when sent); anything else is final.
    pub(crate) fn next(&mut self, e: &Error) -> Next {
        let code = e.status_code();
        if code == Some(403) {
            if self.signatures < self.max_signatures {
                self.signatures = self.signatures.saturating_add(1);
                return Next::Resign;
            }
            return Next::Fail;
        }
        let transient = matches!(e, Error::Transport { .. })
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
        Error::UnexpectedStatus {
            operation: Cow::Borrowed(PUT),
            status: geopera::StatusCode::from_u16(code).unwrap_or_default(),
            headers: Box::default(),
            body: BodySnippet::new(b""),
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
    }
}
