//! Percent-encoding for object paths and signed-URL query strings (RFC 3986 unreserved set).

/// Encodes every byte outside `A-Z a-z 0-9 - . _ ~` (and `/` when `keep_slash`).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        let plain = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/');
        if plain {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Encodes an object path for use in a URL path, keeping `/` separators.
pub(crate) fn encode_path(path: &str) -> String {
    encode(path, true)
}

/// Encodes one query-string key or value.
pub(crate) fn encode_component(text: &str) -> String {
    encode(text, false)
}

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`); `None` on a bad escape or bad UTF-8.
fn decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
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
