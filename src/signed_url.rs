//! Signed URLs, which carry their credential in the query string: [`SignedUrl`] never
//! shows that query in `Debug` or `Display`; [`SignedUrlOutput`] (the result of
//! `uploads.signed_url`) holds one, and a [`Descriptor`] (the result of the download
//! operations) holds them anywhere in its JSON. `build.rs` tells progenitor to use these
//! types in place of the ones it would generate, whose derived `Debug` would print the
//! signature.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

    /// The decoded values of the query parameters that are secrets: those redaction treats
    /// as secrets by name (`X-Goog-Signature`, `X-Amz-Signature`, `sig`, a credential, a
    /// token, a key), and any whose name ends in `signature` however it is written.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let Ok(parsed) = reqwest::Url::parse(&self.0) else {
            return Vec::new();
        };
        parsed
            .query_pairs()
            .filter(|(name, _)| {
                crate::redact::secret_name(name, false)
                    || name.to_ascii_lowercase().ends_with("signature")
            })
            .map(|(_, value)| value.into_owned())
            .filter(|value| !value.is_empty())
            .collect()
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

/// A download descriptor: what `items.asset.download`, `clip.job.download` and
/// `clip.job.downloads` return. Its shape depends on the operation and the asset, so it
/// stays the decoded JSON value; what it adds is that printing it is safe.
///
/// `Debug` and `Display` show the JSON with every URL's query redacted, at any depth (and
/// any other secret the error messages hide, such as a field named `x-goog-api-key`), so
/// `println!("{descriptor}")` (or `{:#}`, pretty-printed) is the way to see its keys.
/// Reading the signed URL itself is explicit, as for [`SignedUrl`]: [`Descriptor::url`]
/// returns one, to [`SignedUrl::expose`] for the transfer. [`Descriptor::field`] reads any
/// other member, redacted the same way; [`Descriptor::expose_json`] is the raw value.
///
/// There is no `descriptor["url"]`: an `Index` (or a `Deref` to the value) would read the
/// signed URL without saying so.
///
/// ```
/// use geopera::models::Descriptor;
///
/// let d = Descriptor::from(serde_json::json!({
///     "url": "https://storage.example/o.tif?X-Goog-Signature=abc123", "size": 4,
/// }));
/// assert_eq!(d.to_string(), r#"{"size":4,"url":"https://storage.example/o.tif?<redacted>"}"#);
/// assert_eq!(d.field("size"), Some(serde_json::json!(4)));
/// let url = d.url().expect("a signed URL");
/// assert!(url.expose().ends_with("X-Goog-Signature=abc123")); // for the GET only
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Descriptor(Value);

impl Descriptor {
    /// Wraps a decoded descriptor.
    pub fn new(value: Value) -> Descriptor {
        Descriptor(value)
    }

    /// The signed URL to fetch: the string in `url`, else in `href`, else the first
    /// `http://` or `https://` string anywhere in the descriptor (objects in key order).
    pub fn url(&self) -> Option<SignedUrl> {
        let member = |key| self.0.get(key).and_then(Value::as_str);
        member("url")
            .or_else(|| member("href"))
            .or_else(|| first_http(&self.0))
            .map(SignedUrl::new)
    }

    /// The member `key` of the descriptor's top-level object, redacted as `Display` shows
    /// it: safe to print, and the way to read fields such as `size` or `expires_at`.
    pub fn field(&self, key: &str) -> Option<Value> {
        self.0.get(key).map(crate::redact::json)
    }

    /// A copy of the whole descriptor as `Display` shows it, every secret redacted.
    pub fn redacted(&self) -> Value {
        crate::redact::json(&self.0)
    }

    /// The descriptor as it arrived, signed URLs included: for code that must see every
    /// field raw. Do not log it.
    pub fn expose_json(&self) -> &Value {
        &self.0
    }

    /// Unwraps the descriptor as it arrived, signed URLs included.
    pub fn into_json(self) -> Value {
        self.0
    }
}

impl From<Value> for Descriptor {
    fn from(value: Value) -> Descriptor {
        Descriptor(value)
    }
}

/// The first `http://` or `https://` string of a JSON value, depth first.
fn first_http(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => {
            let starts = |p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
            (starts("http://") || starts("https://")).then_some(s.as_str())
        }
        Value::Array(items) => items.iter().find_map(first_http),
        Value::Object(members) => members.values().find_map(first_http),
        _ => None,
    }
}

/// The redacted JSON; `{:#}` pretty-prints it.
impl fmt::Display for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.redacted(), f)
    }
}

/// `Descriptor(<the redacted JSON>)`; `{:#?}` pretty-prints it.
impl fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write!(f, "Descriptor({:#})", self.redacted())
        } else {
            write!(f, "Descriptor({})", self.redacted())
        }
    }
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

    #[test]
    fn a_urls_secrets_are_its_secret_parameters_values_decoded() {
        let url = SignedUrl::new(
            "https://s.example/b/o?X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Credential=svc%2F1\
             &X-Goog-Signature=ab12&X-Amz-Signature=cd34&SIG=ef56&xgoogsignature=gh78\
             &X-Goog-Expires=900&token=",
        );
        assert_eq!(url.secrets(), ["svc/1", "ab12", "cd34", "ef56", "gh78"]);
        assert!(SignedUrl::new("not a url").secrets().is_empty());
    }

    const SIGNED: &str =
        "https://storage.googleapis.com/b/o.tif?X-Goog-Credential=svc&X-Goog-Signature=SIGSECRET";

    fn descriptor() -> serde_json::Value {
        serde_json::json!({
            "url": SIGNED,
            "href": SIGNED,
            "size": 4,
            "expires_at": "2030-01-01T00:00:00Z",
            "files": [{"mosaic_type": "visual", "links": {"href": "/storage/c.tif?sig=SIGSECRET"}}],
            "headers": {"x-goog-api-key": "KEYSECRET"}
        })
    }

    #[test]
    fn printing_a_descriptor_hides_every_signed_url() {
        let d: Descriptor = serde_json::from_value(descriptor()).unwrap();
        for shown in [
            format!("{d:?}"),
            format!("{d:#?}"),
            format!("{d}"),
            format!("{d:#}"),
        ] {
            assert!(
                !shown.contains("SIGSECRET") && !shown.contains("KEYSECRET"),
                "{shown}"
            );
            assert!(shown.contains("b/o.tif?<redacted>"), "{shown}");
            assert!(shown.contains("/storage/c.tif?<redacted>"), "{shown}");
            assert!(shown.contains("2030-01-01T00:00:00Z"), "{shown}");
        }
        assert!(format!("{d:?}").starts_with("Descriptor({"), "{d:?}");
        assert_eq!(d.field("size"), Some(serde_json::json!(4)));
        assert_eq!(
            d.field("url"),
            Some(serde_json::json!(
                "https://storage.googleapis.com/b/o.tif?<redacted>"
            ))
        );
        assert_eq!(d.field("nothing"), None);
    }

    #[test]
    fn reading_the_url_is_explicit() {
        let d = Descriptor::from(descriptor());
        assert_eq!(d.url().map(|u| u.expose().to_owned()), Some(SIGNED.into()));
        assert_eq!(d.expose_json(), &descriptor());
        // `url`, then `href`, then the first http(s) string at any depth.
        let href =
            Descriptor::from(serde_json::json!({"href": "https://h/a?s=1", "z": "https://h/b"}));
        assert_eq!(href.url().unwrap().expose(), "https://h/a?s=1");
        let nested = Descriptor::from(
            serde_json::json!({"files": [{"name": "a", "link": "HTTPS://h/c?s=1"}]}),
        );
        assert_eq!(nested.url().unwrap().expose(), "HTTPS://h/c?s=1");
        assert_eq!(
            Descriptor::from(serde_json::json!({"job_id": "c"})).url(),
            None
        );
    }

    #[test]
    fn a_descriptor_round_trips_through_serde_unchanged() {
        let d: Descriptor = serde_json::from_value(descriptor()).unwrap();
        assert_eq!(serde_json::to_value(&d).unwrap(), descriptor());
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Descriptor>(&text).unwrap(), d);
        assert_eq!(d.into_json(), descriptor());
    }
}
