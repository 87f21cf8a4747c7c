//! Signed storage URLs in Google Cloud Storage's V4 query format (`GOOG4-HMAC-SHA256`):
//! what a URL grants, how it is signed, and how it is checked.
//!
//! A URL carries `X-Goog-Algorithm`, `X-Goog-Credential` (`<access id>/<date>/auto/storage/
//! goog4_request`), `X-Goog-Date`, `X-Goog-Expires`, `X-Goog-SignedHeaders`, one parameter
//! of our own (`x-geopera-grant`, the id egress attribution is filed under, signed like
//! every other parameter) and `X-Goog-Signature`: the hex HMAC-SHA256, under a key derived
//! from the server's secret as GCS derives it, of a string to sign that hashes the
//! canonical request (method, path, sorted query without the signature, the signed
//! headers, `UNSIGNED-PAYLOAD`). Download URLs sign `host`; upload URLs sign
//! `content-type;host`, so a PUT must carry the signed content type. One departure, since
//! only this server ever checks its signatures: the `content-type` value is signed in
//! lower case, as media types compare case-insensitively.
//!
//! Pure functions over an explicit `now`, so expiry is testable without waiting. Query
//! strings carry signatures: never log them.

use super::clock::{goog_date, parse_goog_date};
use super::entropy::{hex, unhex};
use super::url::{encode_component, encode_path, parse_query};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const P_ALGORITHM: &str = "X-Goog-Algorithm";
const P_CREDENTIAL: &str = "X-Goog-Credential";
const P_DATE: &str = "X-Goog-Date";
const P_EXPIRES: &str = "X-Goog-Expires";
const P_SIGNED_HEADERS: &str = "X-Goog-SignedHeaders";
const P_SIGNATURE: &str = "X-Goog-Signature";
const P_GRANT: &str = "x-geopera-grant";

const ALGORITHM: &str = "GOOG4-HMAC-SHA256";
/// The HMAC key's access id, the first part of `X-Goog-Credential`.
const ACCESS_ID: &str = "GOOG1GEOPERADEVSERVER";
/// The rest of the credential scope after the date.
const SCOPE_TAIL: &str = "auto/storage/goog4_request";
/// The longest validity GCS accepts in `X-Goog-Expires`: seven days.
pub(crate) const MAX_EXPIRES: u64 = 604_800;

/// The HTTP method a URL is signed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignedMethod {
    /// Upload URL.
    Put,
    /// Download URL.
    Get,
}

impl SignedMethod {
    /// `PUT` or `GET`.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            SignedMethod::Put => "PUT",
            SignedMethod::Get => "GET",
        }
    }

    /// The headers a URL for this method signs.
    fn signed_headers(self) -> &'static str {
        match self {
            SignedMethod::Put => "content-type;host",
            SignedMethod::Get => "host",
        }
    }
}

/// What one signed URL allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The only method the URL works with.
    pub(crate) method: SignedMethod,
    /// The object, e.g. `uploads/upl_…/scene.tif` (decoded, no leading slash).
    pub(crate) object_path: String,
    /// The `Host` the URL names (`127.0.0.1:8787`), signed as GCS signs it.
    pub(crate) host: String,
    /// For PUT the `Content-Type` the request must carry; `None` for GET.
    pub(crate) content_type: Option<String>,
    /// `X-Goog-Date`, Unix seconds: when the URL was signed.
    pub(crate) signed_at: u64,
    /// `X-Goog-Expires`: seconds the URL works after `signed_at` (at most [`MAX_EXPIRES`]).
    pub(crate) expires_in: u64,
    /// Unique per issued URL.
    pub(crate) grant_id: String,
}

/// The request a signed URL is presented with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presented<'a> {
    /// `PUT`, or `GET` (also for `HEAD`).
    pub(crate) method: SignedMethod,
    /// The decoded object path.
    pub(crate) object_path: &'a str,
    /// The query string, without `?`.
    pub(crate) query: Option<&'a str>,
    /// The request's `Host`.
    pub(crate) host: &'a str,
    /// The request's `Content-Type`.
    pub(crate) content_type: Option<&'a str>,
}

/// Why a storage request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denied {
    /// A signature parameter is missing or unreadable.
    Malformed(&'static str),
    /// The signature does not match the request (tampered, another server's URL, or for a
    /// PUT another content type than the signed one).
    BadSignature,
    /// The URL's expiry has passed.
    Expired {
        /// When it expired (Unix seconds).
        expires: u64,
    },
    /// Signed for another method.
    WrongMethod {
        /// What the URL allows.
        signed: SignedMethod,
    },
}

/// `content-type` as signed: trimmed, inner whitespace runs collapsed, lower case.
fn canonical_content_type(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// A host as signed: lower case, without the default HTTP port.
pub(crate) fn canonical_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    match host.strip_suffix(":80") {
        Some(bare) => bare.to_owned(),
        None => host,
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never takes the error path in practice.
    let mut mac =
        HmacSha256::new_from_slice(key).unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl Grant {
    /// Unix seconds; the URL works while `now < expires`.
    pub(crate) fn expires(&self) -> u64 {
        self.signed_at.saturating_add(self.expires_in)
    }

    fn date(&self) -> String {
        goog_date(self.signed_at)
    }

    fn scope(&self) -> String {
        let date = self.date();
        format!("{}/{SCOPE_TAIL}", date.get(..8).unwrap_or_default())
    }

    /// The query parameters but the signature, as `(name, value)`.
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            (P_ALGORITHM, ALGORITHM.to_owned()),
            (P_CREDENTIAL, format!("{ACCESS_ID}/{}", self.scope())),
            (P_DATE, self.date()),
            (P_EXPIRES, self.expires_in.to_string()),
            (P_SIGNED_HEADERS, self.method.signed_headers().to_owned()),
            (P_GRANT, self.grant_id.clone()),
        ]
    }

    /// The canonical request GCS's V4 signing hashes.
    fn canonical_request(&self) -> String {
        let mut query: Vec<(String, String)> = self
            .params()
            .into_iter()
            .map(|(name, value)| (encode_component(name), encode_component(&value)))
            .collect();
        query.sort();
        let query: Vec<String> = query
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let mut headers = String::new();
        if let Some(content_type) = &self.content_type {
            headers.push_str(&format!(
                "content-type:{}\n",
                canonical_content_type(content_type)
            ));
        }
        headers.push_str(&format!("host:{}\n", canonical_host(&self.host)));
        format!(
            "{}\n/storage/{}\n{}\n{headers}\n{}\nUNSIGNED-PAYLOAD",
            self.method.as_str(),
            encode_path(&self.object_path),
            query.join("&"),
            self.method.signed_headers()
        )
    }

    fn string_to_sign(&self) -> String {
        format!(
            "{ALGORITHM}\n{}\n{}\n{}",
            self.date(),
            self.scope(),
            hex(&Sha256::digest(self.canonical_request().as_bytes()))
        )
    }

    /// HMAC-SHA256 over the string to sign, under the key derived from `secret` for the
    /// signing day, location `auto` and service `storage`, as GCS derives it.
    fn mac(&self, secret: &[u8]) -> HmacSha256 {
        let mut first = b"GOOG4".to_vec();
        first.extend_from_slice(secret);
        let date = self.date();
        let key = hmac(&first, date.get(..8).unwrap_or_default().as_bytes());
        let key = hmac(&key, b"auto");
        let key = hmac(&key, b"storage");
        let key = hmac(&key, b"goog4_request");
        // A 32-byte key is always accepted.
        let mut mac = HmacSha256::new_from_slice(&key)
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()));
        mac.update(self.string_to_sign().as_bytes());
        mac
    }

    /// The hex signature of this grant under `key`.
    pub(crate) fn signature(&self, key: &[u8]) -> String {
        hex(&self.mac(key).finalize().into_bytes())
    }

    /// The signed query string (without `?`) that carries this grant.
    pub(crate) fn to_query(&self, key: &[u8]) -> String {
        let mut query: Vec<String> = self
            .params()
            .into_iter()
            .map(|(name, value)| format!("{name}={}", encode_component(&value)))
            .collect();
        query.push(format!("{P_SIGNATURE}={}", self.signature(key)));
        query.join("&")
    }
}

/// Checks a storage request against its signed query string.
///
/// Order: parameters present and well formed, the method the URL was signed for (told by
/// its signed headers), the signature over the request as presented (so a PUT with another
/// content type fails it), then expiry. A `HEAD` request should be presented as
/// [`SignedMethod::Get`].
pub(crate) fn verify(key: &[u8], request: Presented<'_>, now: u64) -> Result<Grant, Denied> {
    let pairs = parse_query(request.query.unwrap_or(""));
    let param = |name: &'static str| {
        let mut found = pairs.iter().filter(|(key, _)| key == name);
        match (found.next(), found.next()) {
            (Some((_, value)), None) => Ok(value.as_str()),
            _ => Err(Denied::Malformed(name)),
        }
    };
    if param(P_ALGORITHM)? != ALGORITHM {
        return Err(Denied::Malformed(P_ALGORITHM));
    }
    let date = param(P_DATE)?;
    let signed_at = parse_goog_date(date).ok_or(Denied::Malformed(P_DATE))?;
    let expires_in = param(P_EXPIRES)?
        .parse::<u64>()
        .ok()
        .filter(|secs| *secs <= MAX_EXPIRES)
        .ok_or(Denied::Malformed(P_EXPIRES))?;
    let credential = format!(
        "{ACCESS_ID}/{}/{SCOPE_TAIL}",
        date.get(..8).unwrap_or_default()
    );
    if param(P_CREDENTIAL)? != credential {
        return Err(Denied::Malformed(P_CREDENTIAL));
    }
    let signed_method = match param(P_SIGNED_HEADERS)? {
        "host" => SignedMethod::Get,
        "content-type;host" => SignedMethod::Put,
        _ => return Err(Denied::Malformed(P_SIGNED_HEADERS)),
    };
    let signature = unhex(param(P_SIGNATURE)?).ok_or(Denied::Malformed(P_SIGNATURE))?;
    let grant_id = param(P_GRANT)?.to_owned();
    // Every parameter is signed: one the signature does not cover is refused.
    if pairs.len() != 7 {
        return Err(Denied::BadSignature);
    }
    if signed_method != request.method {
        return Err(Denied::WrongMethod {
            signed: signed_method,
        });
    }
    let grant = Grant {
        method: signed_method,
        object_path: request.object_path.to_owned(),
        host: request.host.to_owned(),
        content_type: (signed_method == SignedMethod::Put)
            .then(|| request.content_type.unwrap_or_default().trim().to_owned()),
        signed_at,
        expires_in,
        grant_id,
    };
    grant
        .mac(key)
        .verify_slice(&signature)
        .map_err(|_| Denied::BadSignature)?;
    if now >= grant.expires() {
        return Err(Denied::Expired {
            expires: grant.expires(),
        });
    }
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test-key";
    const NOW: u64 = 1_700_000_000;
    const HOST: &str = "127.0.0.1:8787";
    const PATH: &str = "uploads/upl_1/a b.tif";

    fn put_grant() -> Grant {
        Grant {
            method: SignedMethod::Put,
            object_path: PATH.into(),
            host: HOST.into(),
            content_type: Some("image/tiff".into()),
            signed_at: NOW,
            expires_in: 60,
            grant_id: "gr_1".into(),
        }
    }

    fn presented<'a>(
        query: &'a str,
        method: SignedMethod,
        content_type: Option<&'a str>,
    ) -> Presented<'a> {
        Presented {
            method,
            object_path: PATH,
            query: Some(query),
            host: HOST,
            content_type,
        }
    }

    fn check(
        query: &str,
        method: SignedMethod,
        ct: Option<&str>,
        now: u64,
    ) -> Result<Grant, Denied> {
        verify(KEY, presented(query, method, ct), now)
    }

    #[test]
    fn urls_carry_the_gcs_v4_parameters() {
        let query = put_grant().to_query(KEY);
        let names: Vec<String> = parse_query(&query).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "X-Goog-Algorithm",
                "X-Goog-Credential",
                "X-Goog-Date",
                "X-Goog-Expires",
                "X-Goog-SignedHeaders",
                "x-geopera-grant",
                "X-Goog-Signature"
            ]
        );
        assert!(query.starts_with(
            "X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Credential=GOOG1GEOPERADEVSERVER%2F20231114%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20231114T221320Z&X-Goog-Expires=60&X-Goog-SignedHeaders=content-type%3Bhost&"
        ), "{query}");
        let signature = parse_query(&query)
            .pop()
            .map(|(_, v)| v)
            .unwrap_or_default();
        assert_eq!(signature.len(), 64);
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn a_fresh_url_verifies_and_returns_its_grant() {
        let grant = put_grant();
        let query = grant.to_query(KEY);
        let mut expected = grant.clone();
        expected.content_type = Some("Image/TIFF".into());
        assert_eq!(
            check(&query, SignedMethod::Put, Some(" Image/TIFF "), NOW),
            Ok(expected)
        );
        let get = Grant {
            method: SignedMethod::Get,
            content_type: None,
            ..grant
        };
        let query = get.to_query(KEY);
        assert_eq!(
            check(&query, SignedMethod::Get, Some("text/plain"), NOW),
            Ok(get.clone()),
            "GET URLs ignore the request's content type"
        );
        let other_host = Presented {
            host: "127.0.0.1:80",
            ..presented(&query, SignedMethod::Get, None)
        };
        assert_eq!(verify(KEY, other_host, NOW), Err(Denied::BadSignature));
        let default_port = Grant {
            host: "example.test:80".into(),
            ..get
        };
        let query = default_port.to_query(KEY);
        let bare = Presented {
            host: "EXAMPLE.test",
            ..presented(&query, SignedMethod::Get, None)
        };
        assert!(verify(KEY, bare, NOW).is_ok());
    }

    #[test]
    fn expiry_is_exclusive() {
        let query = put_grant().to_query(KEY);
        assert!(check(&query, SignedMethod::Put, Some("image/tiff"), NOW + 59).is_ok());
        assert_eq!(
            check(&query, SignedMethod::Put, Some("image/tiff"), NOW + 60),
            Err(Denied::Expired { expires: NOW + 60 })
        );
    }

    #[test]
    fn tampering_with_any_signed_part_breaks_the_signature() {
        let query = put_grant().to_query(KEY);
        let ok = |q: &str| check(q, SignedMethod::Put, Some("image/tiff"), NOW);
        for (what, tampered) in [
            ("expires", query.replace("Expires=60", "Expires=6000")),
            ("date", query.replace("T221320Z", "T221321Z")),
            ("grant", query.replace("grant=gr_1", "grant=gr_2")),
            ("extra", format!("{query}&generation=1")),
        ] {
            assert_eq!(ok(&tampered), Err(Denied::BadSignature), "{what}");
        }
        assert_eq!(
            check(&query, SignedMethod::Put, Some("text/plain"), NOW),
            Err(Denied::BadSignature),
            "another content type"
        );
        let other_path = Presented {
            object_path: "uploads/upl_1/other.tif",
            ..presented(&query, SignedMethod::Put, Some("image/tiff"))
        };
        assert_eq!(verify(KEY, other_path, NOW), Err(Denied::BadSignature));
        assert_eq!(
            verify(
                b"other",
                presented(&query, SignedMethod::Put, Some("image/tiff")),
                NOW
            ),
            Err(Denied::BadSignature)
        );
    }

    #[test]
    fn a_url_used_with_another_method_says_which_it_was_signed_for() {
        let query = put_grant().to_query(KEY);
        assert_eq!(
            check(&query, SignedMethod::Get, None, NOW),
            Err(Denied::WrongMethod {
                signed: SignedMethod::Put
            })
        );
        let get = Grant {
            method: SignedMethod::Get,
            content_type: None,
            ..put_grant()
        };
        assert_eq!(
            check(
                &get.to_query(KEY),
                SignedMethod::Put,
                Some("image/tiff"),
                NOW
            ),
            Err(Denied::WrongMethod {
                signed: SignedMethod::Get
            })
        );
    }

    #[test]
    fn missing_or_garbled_parameters_are_malformed() {
        assert_eq!(
            check("", SignedMethod::Put, None, NOW),
            Err(Denied::Malformed(P_ALGORITHM))
        );
        let query = put_grant().to_query(KEY);
        let no_sig = query.split("&X-Goog-Signature").next().unwrap_or_default();
        assert_eq!(
            check(no_sig, SignedMethod::Put, None, NOW),
            Err(Denied::Malformed(P_SIGNATURE))
        );
        for (param, garbled) in [
            (P_SIGNATURE, format!("{no_sig}&X-Goog-Signature=zz")),
            (P_EXPIRES, query.replace("Expires=60", "Expires=soon")),
            (P_EXPIRES, query.replace("Expires=60", "Expires=604801")),
            (P_DATE, query.replace("Date=20231114T", "Date=20231314T")),
            (P_ALGORITHM, query.replace("HMAC-SHA256", "RSA-SHA256")),
            (
                P_CREDENTIAL,
                query.replace("%2F20231114%2F", "%2F20231115%2F"),
            ),
            (
                P_SIGNED_HEADERS,
                query.replace("content-type%3Bhost", "host%3Bx"),
            ),
            (P_DATE, format!("{query}&X-Goog-Date=20231114T221320Z")),
        ] {
            assert_eq!(
                check(&garbled, SignedMethod::Put, None, NOW),
                Err(Denied::Malformed(param)),
                "{garbled}"
            );
        }
    }
}
