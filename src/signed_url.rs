//! Signed URLs, which carry their credential in the query string: [`SignedUrl`] never
//! shows that query in `Debug` or `Display`, and [`SignedUrlOutput`] (the result of
//! `uploads.signed_url`) holds one. `build.rs` tells progenitor to use this type in place
//! of the one it would generate, whose derived `Debug` would print the signature.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A short-lived signed URL. `Debug` and `Display` print it with the query redacted;
/// [`SignedUrl::expose`] gives the full URL for the transfer itself.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignedUrl(String);

impl SignedUrl {
    /// Wraps a URL string.
    pub fn new(url: impl Into<String>) -> SignedUrl {
        SignedUrl(url.into())
    }

    /// The full URL, signature included: pass it to the HTTP client, never to a log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL without its query string (safe to log).
    pub fn redacted(&self) -> String {
        crate::redact::url(&self.0)
    }
}

impl fmt::Debug for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignedUrl({:?})", self.redacted())
    }
}

impl fmt::Display for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The result of `uploads.signed_url`: where to PUT the bytes, and where they land.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedUrlOutput {
    /// The URL to PUT the file's bytes to (with the signed content type).
    pub upload_url: SignedUrl,
    /// Where the object lands in storage.
    pub object_path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_signature() {
        let out: SignedUrlOutput = serde_json::from_value(serde_json::json!({
            "upload_url": "http://127.0.0.1:1/storage/uploads/u/a.tif?expires=1&signature=SIGSECRET",
            "object_path": "uploads/u/a.tif"
        }))
        .unwrap();
        for shown in [
            format!("{out:?}"),
            format!("{}", out.upload_url),
            format!("{:?}", out.upload_url),
        ] {
            assert!(!shown.contains("SIGSECRET"), "{shown}");
            assert!(
                shown.contains("/storage/uploads/u/a.tif?<redacted>"),
                "{shown}"
            );
        }
        assert!(out.upload_url.expose().ends_with("signature=SIGSECRET"));
        assert_eq!(
            serde_json::to_value(&out).unwrap()["upload_url"],
            out.upload_url.expose()
        );
    }
}
