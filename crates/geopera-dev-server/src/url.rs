//! Percent-encoding for object paths and signed-URL query strings (RFC 3986 unreserved set),
//! on the `percent-encoding` crate (the one `url` uses, so it is already in every build of
//! the SDK). Decoding is strict on top of it: a `%` not followed by two hex digits, or bytes
//! that are not UTF-8, make the whole text unreadable instead of passing through.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Everything but RFC 3986's unreserved `A-Z a-z 0-9 - . _ ~` is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`COMPONENT`], keeping `/` between path segments.
const PATH: &AsciiSet = &COMPONENT.remove(b'/');

/// Encodes an object path for use in a URL path, keeping `/` separators.
pub(crate) fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// Encodes one query-string key or value.
pub(crate) fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`); `None` for a malformed
/// escape or text that is not UTF-8 once decoded.
fn decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let spaced;
    let text = if plus_is_space {
        spaced = text.replace('+', " ");
        spaced.as_str()
    } else {
        text
    };
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

/// Decodes a URL path (a `+` stays a `+`).
pub(crate) fn decode_path(path: &str) -> Option<String> {
    decode(path, false)
}

/// Splits a query string into decoded `(key, value)` pairs; undecodable pairs are dropped.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(key, true)?, decode(value, true)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_encoding_keeps_slashes_and_escapes_the_rest() {
        assert_eq!(
            encode_path("uploads/upl_1/harbour 2024 (v2)?.tif"),
            "uploads/upl_1/harbour%202024%20%28v2%29%3F.tif"
        );
        assert_eq!(encode_path("é"), "%C3%A9");
        assert_eq!(
            decode_path("uploads/a%20b+c%C3%A9").as_deref(),
            Some("uploads/a b+cé")
        );
    }

    #[test]
    fn component_encoding_escapes_slashes() {
        assert_eq!(
            encode_component("image/tiff; x=1"),
            "image%2Ftiff%3B%20x%3D1"
        );
    }

    #[test]
    fn bad_escapes_and_bad_utf8_are_rejected() {
        assert_eq!(decode_path("%zz"), None);
        assert_eq!(decode_path("%+5"), None);
        assert_eq!(decode_path("abc%2"), None);
        assert_eq!(decode_path("%FF"), None);
    }

    #[test]
    fn query_pairs_are_decoded_and_round_trip() {
        let value = "image/tiff; application=geotiff";
        let query = format!("a=1&ct={}&flag&b=x+y&bad=%zz", encode_component(value));
        let pairs = parse_query(&query);
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "1".into()),
                ("ct".into(), value.into()),
                ("flag".into(), String::new()),
                ("b".into(), "x y".into()),
            ]
        );
    }
}
