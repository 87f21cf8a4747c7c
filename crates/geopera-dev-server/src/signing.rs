//! HMAC-SHA256 signed storage URLs: what a URL grants, how it is signed, and how it is checked.
//!
//! Pure functions over an explicit `now`, so expiry is testable without waiting. The signature
//! covers the method, object path, expiry, content type and a grant id (the key egress
//! attribution is filed under). Query strings carry signatures: never log them.

use super::entropy::{hex, unhex};
use super::url::{encode_component, parse_query};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const P_METHOD: &str = "X-Geopera-Method";
const P_EXPIRES: &str = "X-Geopera-Expires";
const P_CONTENT_TYPE: &str = "X-Geopera-Content-Type";
const P_GRANT: &str = "X-Geopera-Grant";
const P_SIGNATURE: &str = "X-Geopera-Signature";

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

    fn parse(text: &str) -> Option<SignedMethod> {
        match text {
            "PUT" => Some(SignedMethod::Put),
            "GET" => Some(SignedMethod::Get),
            _ => None,
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
    /// For PUT the `Content-Type` the request must carry; for GET the type served.
    pub(crate) content_type: String,
    /// Unix seconds; the URL works while `now < expires`.
    pub(crate) expires: u64,
    /// Unique per issued URL.
    pub(crate) grant_id: String,
}

/// Why a storage request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denied {
    /// A signature parameter is missing or unreadable.
    Malformed(&'static str),
    /// The signature does not match the parameters (tampered, or another server's URL).
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
    /// A PUT whose `Content-Type` differs from the signed one.
    WrongContentType {
        /// The signed content type.
        signed: String,
        /// What the request sent, if anything.
        sent: Option<String>,
    },
}

impl Grant {
    fn string_to_sign(&self) -> String {
        format!(
            "GEOPERA-HMAC-SHA256\n{}\n{}\n{}\n{}\n{}",
            self.method.as_str(),
            self.object_path,
            self.expires,
            self.content_type,
            self.grant_id
        )
    }

    fn mac(&self, key: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length, so this never takes the error path in practice.
        let mut mac = HmacSha256::new_from_slice(key)
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
        format!(
            "{P_METHOD}={}&{P_EXPIRES}={}&{P_CONTENT_TYPE}={}&{P_GRANT}={}&{P_SIGNATURE}={}",
            self.method.as_str(),
            self.expires,
            encode_component(&self.content_type),
            encode_component(&self.grant_id),
            self.signature(key)
        )
    }
}

/// Checks a storage request against its signed query string.
///
/// Order: parameters present, signature valid, not expired, method matches, and for PUT the
/// request's `Content-Type` equals the signed one (ASCII case-insensitive, surrounding
/// whitespace ignored). A `HEAD` request should be passed as [`SignedMethod::Get`].
pub(crate) fn verify(
    key: &[u8],
    object_path: &str,
    query: Option<&str>,
    method: SignedMethod,
    content_type: Option<&str>,
    now: u64,
) -> Result<Grant, Denied> {
    let pairs = parse_query(query.unwrap_or(""));
    let param = |name: &'static str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .ok_or(Denied::Malformed(name))
    };
    let signed_method = SignedMethod::parse(param(P_METHOD)?).ok_or(Denied::Malformed(P_METHOD))?;
    let expires = param(P_EXPIRES)?
        .parse::<u64>()
        .map_err(|_| Denied::Malformed(P_EXPIRES))?;
    let signature = unhex(param(P_SIGNATURE)?).ok_or(Denied::Malformed(P_SIGNATURE))?;
    let grant = Grant {
        method: signed_method,
        object_path: object_path.to_owned(),
        content_type: param(P_CONTENT_TYPE)?.to_owned(),
        expires,
        grant_id: param(P_GRANT)?.to_owned(),
    };
    grant
        .mac(key)
        .verify_slice(&signature)
        .map_err(|_| Denied::BadSignature)?;
    if now >= grant.expires {
        return Err(Denied::Expired { expires });
    }
    if method != grant.method {
        return Err(Denied::WrongMethod {
            signed: grant.method,
        });
    }
    if method == SignedMethod::Put {
        let sent = content_type.map(str::trim);
        if !sent.is_some_and(|sent| sent.eq_ignore_ascii_case(grant.content_type.trim())) {
            return Err(Denied::WrongContentType {
                signed: grant.content_type,
                sent: sent.map(str::to_owned),
            });
        }
    }
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test-key";
    const NOW: u64 = 1_700_000_000;

    fn put_grant() -> Grant {
        Grant {
            method: SignedMethod::Put,
            object_path: "uploads/upl_1/a b.tif".into(),
            content_type: "image/tiff".into(),
            expires: NOW + 60,
            grant_id: "gr_1".into(),
        }
    }

    fn check(
        query: &str,
        method: SignedMethod,
        ct: Option<&str>,
        now: u64,
    ) -> Result<Grant, Denied> {
        verify(KEY, "uploads/upl_1/a b.tif", Some(query), method, ct, now)
    }

    #[test]
    fn a_fresh_url_verifies_and_returns_its_grant() {
        let grant = put_grant();
        let query = grant.to_query(KEY);
        assert_eq!(
            check(&query, SignedMethod::Put, Some(" Image/TIFF "), NOW),
            Ok(grant)
        );
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
        let later = query.replace(&format!("{}", NOW + 60), &format!("{}", NOW + 6000));
        assert_eq!(
            check(&later, SignedMethod::Put, Some("image/tiff"), NOW),
            Err(Denied::BadSignature)
        );
        let other_type = query.replace("image%2Ftiff", "text%2Fplain");
        assert_eq!(
            check(&other_type, SignedMethod::Put, Some("text/plain"), NOW),
            Err(Denied::BadSignature)
        );
        let as_get = query.replace("Method=PUT", "Method=GET");
        assert_eq!(
            check(&as_get, SignedMethod::Get, None, NOW),
            Err(Denied::BadSignature)
        );
        let other_path = verify(
            KEY,
            "uploads/upl_1/other.tif",
            Some(&query),
            SignedMethod::Put,
            Some("image/tiff"),
            NOW,
        );
        assert_eq!(other_path, Err(Denied::BadSignature));
        let other_key = verify(
            b"other",
            "uploads/upl_1/a b.tif",
            Some(&query),
            SignedMethod::Put,
            Some("image/tiff"),
            NOW,
        );
        assert_eq!(other_key, Err(Denied::BadSignature));
    }

    #[test]
    fn wrong_method_and_wrong_content_type_are_told_apart() {
        let query = put_grant().to_query(KEY);
        assert_eq!(
            check(&query, SignedMethod::Get, None, NOW),
            Err(Denied::WrongMethod {
                signed: SignedMethod::Put
            })
        );
        assert_eq!(
            check(&query, SignedMethod::Put, Some("text/plain"), NOW),
            Err(Denied::WrongContentType {
                signed: "image/tiff".into(),
                sent: Some("text/plain".into())
            })
        );
        assert_eq!(
            check(&query, SignedMethod::Put, None, NOW),
            Err(Denied::WrongContentType {
                signed: "image/tiff".into(),
                sent: None
            })
        );
    }

    #[test]
    fn get_urls_ignore_the_request_content_type() {
        let grant = Grant {
            method: SignedMethod::Get,
            ..put_grant()
        };
        let query = grant.to_query(KEY);
        assert!(check(&query, SignedMethod::Get, Some("text/plain"), NOW).is_ok());
    }

    #[test]
    fn missing_or_garbled_parameters_are_malformed() {
        assert_eq!(
            check("", SignedMethod::Put, None, NOW),
            Err(Denied::Malformed(P_METHOD))
        );
        assert!(verify(KEY, "x", None, SignedMethod::Get, None, NOW).is_err());
        let query = put_grant().to_query(KEY);
        let no_sig = query
            .split("&X-Geopera-Signature")
            .next()
            .unwrap_or_default();
        assert_eq!(
            check(no_sig, SignedMethod::Put, None, NOW),
            Err(Denied::Malformed(P_SIGNATURE))
        );
        let bad_hex = format!("{no_sig}&X-Geopera-Signature=zz");
        assert_eq!(
            check(&bad_hex, SignedMethod::Put, None, NOW),
            Err(Denied::Malformed(P_SIGNATURE))
        );
        let bad_expiry = query.replace(&format!("Expires={}", NOW + 60), "Expires=soon");
        assert_eq!(
            check(&bad_expiry, SignedMethod::Put, None, NOW),
            Err(Denied::Malformed(P_EXPIRES))
        );
    }
}
