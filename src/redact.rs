//! Redaction of secrets in text that may reach logs or error messages. A secret is found by
//! what it is, not by how one URL happened to be spelled:
//!
//! * the query of any URL, dropped whole: absolute in any scheme and case, with `/` or
//!   JSON's escaped `\/`, or relative (`/storage/o.tif?...`). Signed URLs carry their
//!   signature in the query, and each object store names it differently (`X-Goog-Signature`,
//!   `X-Amz-Signature`, `sig`, `X-Geopera-Signature`), so nothing of a query is kept;
//! * the value of every parameter or field whose name says it holds a secret (signatures,
//!   credentials, tokens, API keys, passwords, authorization; see [`secret_name`]), in any
//!   case and wherever it stands: `name=value` or `name%3Dvalue` inside or outside a URL,
//!   a JSON or Python field (`"name": "value"`, escaped or not) and, for HTTP credential
//!   headers such as `Authorization` and `x-api-key`, `Name: value`;
//! * the token after `Bearer` (any case) and the rest of a `gpra_` API key;
//! * with [`verbatim`], the client's own credential wherever it appears.
//!
//! [`json`] applies the same to every string of a JSON value (a download descriptor).
//!
//! Each secret becomes [`MARKER`]. Redacting redacted text changes nothing, and no input
//! makes these functions panic: they only cut text next to ASCII delimiters, which are
//! always character boundaries.

use std::fmt::Write as _;
use std::ops::Range;

/// What a secret is replaced with.
pub(crate) const MARKER: &str = "<redacted>";

/// Returns `text` with every secret the rules above recognise replaced by [`MARKER`].
pub fn text(text: &str) -> String {
    let text = url_queries(text);
    let text = assignments(&text);
    tokens(&text)
}

/// `https://host/path?sig=...` -> `https://host/path?<redacted>`. An empty query has
/// nothing to hide and stays, so redacting redacted text changes nothing.
pub fn url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) if !query.is_empty() => format!("{base}?{MARKER}"),
        _ => url.to_owned(),
    }
}

/// Returns `text` with every occurrence of `secret` (the client's own token or API key)
/// replaced by [`MARKER`]. Markers already in the text are left whole, so a secret that
/// happens to spell part of one cannot break it.
pub fn verbatim(text: &str, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if rest.starts_with(MARKER) {
            out.push_str(MARKER);
            MARKER.len()
        } else if rest.starts_with(secret) {
            out.push_str(MARKER);
            secret.len()
        } else {
            out.push(c);
            c.len_utf8()
        };
        rest = &rest[len..];
    }
    out
}

/// Whitespace and control characters: they end a URL, a token or a value.
fn is_space(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// Characters that separate a URL from the text before it.
fn starts_word_after(c: char) -> bool {
    is_space(c)
        || matches!(
            c,
            '"' | '\'' | '`' | '<' | '>' | '(' | ')' | '[' | ']' | '{' | '}' | ','
        )
}

/// Where the query starting at `from` ends: at a character that cannot be in a URL in
/// free text, or at an escaped quote or line break (the URL stood in a JSON string).
fn query_end(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    text[from..]
        .char_indices()
        .find(|&(j, c)| {
            is_space(c)
                || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | ']' | '}' | ',')
                || (c == '\\'
                    && matches!(
                        bytes.get(from + j + 1),
                        Some(b'"' | b'\'' | b'n' | b'r' | b't')
                    ))
        })
        .map_or(text.len(), |(j, _)| from + j)
}

/// Drops the query of every URL: a `?` followed by a non-empty query, in a word holding a
/// `/` (so `HTTPS://h/o?..`, `https:\/\/h\/o?..` and `/storage/o?..` all count).
fn url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // `text[..copied]` is in `out`
    let mut slash = false; // the current word holds a `/`
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        let next = at + c.len_utf8();
        if starts_word_after(c) {
            slash = false;
        } else if c == '/' {
            slash = true;
        } else if c == '?' && slash {
            let end = query_end(text, next);
            if end > next {
                out.push_str(&text[copied..next]);
                out.push_str(MARKER);
                copied = end;
                at = end;
                slash = false;
                continue;
            }
        }
        at = next;
    }
    out.push_str(&text[copied..]);
    out
}

/// How a name and its value are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `name=value`, `name%3Dvalue`: a query parameter, in or out of a URL.
    Param,
    /// `"name": value` or `'name': value`: a JSON or Python field.
    Field,
    /// `Name: value`: an HTTP header.
    Header,
}

/// Words that make a name secret when it ends with one (`X-Goog-Signature`,
/// `X-Amz-Credential`, `X-Amz-Security-Token`, `access_token`, `client_secret`, ...).
const SECRET_WORDS: &[&str] = &[
    "signature",
    "sig",
    "credential",
    "credentials",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "authorization",
    "auth",
    "apikey",
    "cookie",
    "jwt",
];

/// Words that make a following `key` a credential (`api_key`, `x-api-key`, `apiKey`,
/// `secret_access_key`, ...); a bare `key` is one too, but `asset_key` is not.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "account",
    "subscription",
    "signing",
    "client",
    "master",
    "auth",
    "session",
    "sas",
];

/// Single-word header names that carry a credential (`Authorization: ...`). Other header
/// names need two words (`x-api-key`, `X-Amz-Security-Token`), so prose such as
/// `token: expired` or `key: project_id` is not taken for a header.
const HEADER_WORDS: &[&str] = &["authorization", "cookie", "apikey"];

/// Authentication schemes kept in front of an `Authorization` value, so
/// `Authorization: Bearer <redacted>` still says which kind of credential it was.
const SCHEMES: &[&str] = &["bearer", "basic", "digest", "token", "negotiate"];

/// The lower-case words of a name: split at `-`, `_`, `.` and camelCase humps.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        let hump = c.is_ascii_uppercase()
            && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
        if (!c.is_ascii_alphanumeric() || hump) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
            prev = Some(c);
        } else {
            prev = None;
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a parameter or field called `name` holds a secret: its last word is one of
/// [`SECRET_WORDS`], or it is `key` alone or after one of [`KEY_QUALIFIERS`]. As a header
/// (`Name: value`) it also needs two words or one of [`HEADER_WORDS`].
pub(crate) fn secret_name(name: &str, header: bool) -> bool {
    let words = words(name);
    let (last, before) = match words.as_slice() {
        [] => return false,
        [.., before, last] => (last.as_str(), Some(before.as_str())),
        [last] => (last.as_str(), None),
    };
    let secret = SECRET_WORDS.contains(&last)
        || (last == "key" && before.is_none_or(|b| KEY_QUALIFIERS.contains(&b)));
    secret && (!header || before.is_some() || HEADER_WORDS.contains(&last))
}

/// Bytes a parameter or field name is made of.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Replaces the value of every secret parameter, field or header (see [`Form`]).
fn assignments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let separator = match bytes[at] {
            b'=' => Some((b'=', 1)),
            b':' => Some((b':', 1)),
            b'%' if bytes.get(at + 1) == Some(&b'3')
                && matches!(bytes.get(at + 2), Some(b'D' | b'd')) =>
            {
                Some((b'=', 3))
            }
            _ => None,
        };
        let Some((separator, len)) = separator else {
            at += 1;
            continue;
        };
        match secret_value(text, copied, at, separator, len) {
            Some(value) => {
                out.push_str(&text[copied..value.start]);
                out.push_str(MARKER);
                copied = value.end;
                at = value.end;
            }
            None => at += len,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The value to replace after the separator at `at` (`=` or `:`, `len` bytes long), when
/// the name before it (not reaching back past `floor`) is a secret one and the value is
/// not already a marker.
fn secret_value(
    text: &str,
    floor: usize,
    at: usize,
    separator: u8,
    len: usize,
) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    // Back over blanks, a closing quote (maybe escaped: `\"`), then the name.
    let mut start = at;
    while start > floor && matches!(bytes[start - 1], b' ' | b'\t') {
        start -= 1;
    }
    let quoted = start > floor && matches!(bytes[start - 1], b'"' | b'\'');
    if quoted {
        start -= 1;
        while start > floor && bytes[start - 1] == b'\\' {
            start -= 1;
        }
    }
    let name_end = start;
    while start > floor && is_name_byte(bytes[start - 1]) {
        start -= 1;
    }
    // An escaped `&` just before the name (`%26sig`, JSON's `\u0026sig`) is not part of it.
    let escape = match start.checked_sub(1).and_then(|i| bytes.get(i)) {
        Some(b'%') => start..start + 2,
        Some(b'\\') if bytes.get(start) == Some(&b'u') => start + 1..start + 5,
        _ => start..start,
    };
    if !escape.is_empty()
        && escape.end < name_end
        && bytes[escape.clone()].iter().all(u8::is_ascii_hexdigit)
    {
        start = escape.end;
    }
    let name = &text[start..name_end];
    let form = match (separator, quoted) {
        (b'=', _) => Form::Param,
        (_, true) => Form::Field,
        (_, false) => Form::Header,
    };
    if !secret_name(name, form == Form::Header) {
        return None;
    }
    let mut value = value_span(bytes, at + len, form);
    if words(name).last().is_some_and(|w| w == "authorization") {
        value.start = after_scheme(text, value.clone());
    }
    let shown = &text[value.clone()];
    // Already redacted: a marker alone, or a marker and more words after it (a value that
    // runs over spaces, such as a header's, reaches past what the first pass left).
    let redacted = shown
        .strip_prefix(MARKER)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(is_space));
    (!shown.is_empty() && !redacted).then_some(value)
}

/// The value starting after blanks at `from`: up to the matching quote when quoted
/// (`"..."`, `'...'`, or `\"...\"` in escaped JSON), else up to what ends a value of its
/// form. A line break always ends it.
fn value_span(bytes: &[u8], from: usize, form: Form) -> Range<usize> {
    let mut start = from;
    while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    let mut quote_at = start;
    while quote_at < bytes.len() && bytes[quote_at] == b'\\' {
        quote_at += 1;
    }
    if let Some(&quote @ (b'"' | b'\'')) = bytes.get(quote_at) {
        let escapes = quote_at - start;
        let start = quote_at + 1;
        return start..closing_quote(bytes, start, quote, escapes);
    }
    let end = bytes[start..]
        .iter()
        .position(|&b| {
            b < b' '
                || b == 0x7f
                || matches!(b, b'"' | b'\'' | b'`' | b'\\')
                || match form {
                    // A query parameter ends at the next one; spaces stay in the value
                    // (a decoded `+`).
                    Form::Param => b == b'&',
                    // A header runs to the end of its line.
                    Form::Header => false,
                    // A bare JSON value (a number, `null`, an unquoted word).
                    Form::Field => b == b' ' || matches!(b, b',' | b'}' | b']' | b'{' | b'['),
                }
        })
        .map_or(bytes.len(), |n| start + n);
    start..end
}

/// Where a quoted value starting at `start` ends: at `quote` preceded by exactly the
/// `escapes` backslashes that opened it (`"` in JSON, `\"` in JSON inside JSON), skipping
/// escaped characters inside a plain JSON string, or at a line break.
fn closing_quote(bytes: &[u8], start: usize, quote: u8, escapes: usize) -> usize {
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'\r' | b'\n' => return at,
            // An escaped character, but never an escaped line break.
            b'\\' if escapes == 0 => match bytes.get(at + 1) {
                Some(b'\r' | b'\n') => return at + 1,
                _ => at += 2,
            },
            b if b == quote
                && at >= start + escapes
                && bytes[at - escapes..at].iter().all(|&b| b == b'\\') =>
            {
                return at - escapes;
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Skips an authentication scheme (`Bearer `, `Basic `, ...) at the start of `value`.
fn after_scheme(text: &str, value: Range<usize>) -> usize {
    let shown = &text[value.clone()];
    for scheme in SCHEMES {
        if let Some(head) = shown.get(..scheme.len())
            && head.eq_ignore_ascii_case(scheme)
        {
            let rest = &shown[scheme.len()..];
            let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            if blanks > 0 {
                return value.start + scheme.len() + blanks;
            }
        }
    }
    value.start
}

/// Masks the token after every `Bearer` (any case, then blanks) and the rest of every
/// `gpra_` key. A token runs to a space, a quote or a backslash, punctuation included.
fn tokens(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let token_start = if starts_with_ignore_case(&bytes[at..], b"bearer") {
            let after = at + "bearer".len();
            let blanks = bytes[after..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            (blanks > 0).then_some(after + blanks)
        } else if starts_with_ignore_case(&bytes[at..], b"gpra_") {
            Some(at + "gpra_".len())
        } else {
            None
        };
        let Some(start) = token_start else {
            at += 1;
            continue;
        };
        let end = text[start..]
            .char_indices()
            .find(|&(_, c)| is_space(c) || matches!(c, '"' | '\'' | '`' | '\\'))
            .map_or(text.len(), |(j, _)| start + j);
        let token = &text[start..end];
        // A second `bearer` is not a token but the start of another (`bearer Bearer x`).
        if token.is_empty() || token == MARKER || token.eq_ignore_ascii_case("bearer") {
            at = start;
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(MARKER);
        copied = end;
        at = end;
    }
    out.push_str(&text[copied..]);
    out
}

fn starts_with_ignore_case(bytes: &[u8], word: &[u8]) -> bool {
    bytes
        .get(..word.len())
        .is_some_and(|b| b.eq_ignore_ascii_case(word))
}

/// A copy of a JSON value with every string redacted as [`text`] redacts (so every URL
/// loses its query), at any depth, and every scalar under a secret name
/// (`{"x-goog-api-key": ...}`, `{"token": ...}`) replaced by [`MARKER`].
pub fn json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, value)| {
                    let value =
                        if secret_name(key, false) && !value.is_array() && !value.is_object() {
                            Value::String(MARKER.to_owned())
                        } else {
                            json(value)
                        };
                    (text(key), value)
                })
                .collect(),
        ),
        scalar => scalar.clone(),
    }
}

/// An error and its whole source chain on one line, redacted.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(line, ": {s}");
        source = s.source();
    }
    text(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_query() {
        assert_eq!(
            text("PUT to http://127.0.0.1:9/storage/a_b.tif?sig=abc&exp=1 failed"),
            "PUT to http://127.0.0.1:9/storage/a_b.tif?<redacted> failed"
        );
        assert_eq!(
            text("(url: \"https://x/y?token=s3cret\")"),
            "(url: \"https://x/y?<redacted>\")"
        );
        assert_eq!(
            text("https://x/y and http://z/w?q=1"),
            "https://x/y and http://z/w?<redacted>"
        );
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        // Found by the `redact` fuzz target: the marker's `<` ends a URL, so a second pass
        // saw `https://x/y?` and appended another `<redacted>`.
        for raw in [
            "https://x/y?sig=1 and http://z?",
            "https://?(qq!qqq(",
            "see http://h/p? now",
            "Bearer abc https://x/gpra_k?q=1",
        ] {
            let once = text(raw);
            assert_eq!(text(&once), once, "{raw:?}");
            assert_eq!(url(&url(raw)), url(raw), "{raw:?}");
        }
        assert_eq!(text("https://x/y?<redacted>"), "https://x/y?<redacted>");
        assert_eq!(url("https://x/y?"), "https://x/y?");
    }

    /// Each spelling that leaked a secret through an error message (issue #10), and what
    /// is left of it.
    const SPELLINGS: &[(&str, &str)] = &[
        // An upper-case scheme.
        (
            "see HTTPS://S.EXAMPLE/O.TIF?X-Geopera-Signature=SIGSECRET now",
            "see HTTPS://S.EXAMPLE/O.TIF?<redacted> now",
        ),
        // JSON-escaped slashes.
        (
            r#"{"url":"https:\/\/s.example\/o.tif?X-Goog-Signature=SIGSECRET"}"#,
            r#"{"url":"https:\/\/s.example\/o.tif?<redacted>"}"#,
        ),
        // A relative URL.
        (
            "PUT /storage/u/a.tif?X-Geopera-Expires=9&X-Geopera-Signature=SIGSECRET: 403",
            "PUT /storage/u/a.tif?<redacted> 403",
        ),
        // A decoded query: a value with a space ends the URL early...
        (
            "no /storage/a.tif?X-Geopera-Content-Type=image/tiff; charset=x&X-Geopera-Signature=SIGSECRET",
            "no /storage/a.tif?<redacted> charset=x&X-Geopera-Signature=<redacted>",
        ),
        // ... and a secret value may hold one itself (a `+` decoded).
        (
            "X-Amz-Security-Token=SIGSECRET SIGSECRET&X-Amz-Date=20240101T000000Z",
            "X-Amz-Security-Token=<redacted>&X-Amz-Date=20240101T000000Z",
        ),
        // Lower-case `bearer`.
        ("token was bearer TOKSECRET", "token was bearer <redacted>"),
        // A token with punctuation.
        ("Bearer abc!TOKSECRET", "Bearer <redacted>"),
        // An API key header.
        ("x-api-key: KEYSECRET", "x-api-key: <redacted>"),
        (
            "X-API-KEY: KEYSECRET!x\r\nHost: h",
            "X-API-KEY: <redacted>\r\nHost: h",
        ),
        // Authorization in header form, any scheme or none.
        (
            "Authorization: Basic KEYSECRET==",
            "Authorization: Basic <redacted>",
        ),
        ("authorization: KEYSECRET", "authorization: <redacted>"),
        // JSON and Python forms, escaped or not.
        (
            r#"{"Authorization":"Bearer TOKSECRET","x-api-key": "KEYSECRET","n":1}"#,
            r#"{"Authorization":"Bearer <redacted>","x-api-key": "<redacted>","n":1}"#,
        ),
        (
            r#"{\"authorization\":\"Token TOKSECRET\"}"#,
            r#"{\"authorization\":\"Token <redacted>\"}"#,
        ),
        (
            "{'access_token': 'TOKSECRET', 'expires_in': 3600}",
            "{'access_token': '<redacted>', 'expires_in': 3600}",
        ),
        (r#"{"apiKey":TOKSECRET}"#, r#"{"apiKey":<redacted>}"#),
        // Query form, outside any URL: object stores' signatures and credentials.
        (
            "X-Goog-Credential=svc%40p.iam%2F20240101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Signature=SIGSECRET",
            "X-Goog-Credential=<redacted>&X-Goog-Signature=<redacted>",
        ),
        (
            "sv=2022-11-02&se=2024-01-01&sig=SIGSECRET%3D",
            "sv=2022-11-02&se=2024-01-01&sig=<redacted>",
        ),
        (
            "authorization=Bearer%20TOKSECRET&api_key=KEYSECRET",
            "authorization=<redacted>&api_key=<redacted>",
        ),
        // An escaped `&` glued to a lower-case name.
        ("a%3D1%26sig%3DSIGSECRET", "a%3D1%26sig%3D<redacted>"),
        (
            r#""b=2\u0026token=SIGSECRET""#,
            r#""b=2\u0026token=<redacted>""#,
        ),
        // Percent-encoded `=` and `&`, as in a URL nested in a query.
        (
            "next%3D%2Fo%3Fa%3D1%26X-Amz-Signature%3DSIGSECRET",
            "next%3D%2Fo%3Fa%3D1%26X-Amz-Signature%3D<redacted>",
        ),
    ];

    #[test]
    fn every_spelling_loses_its_secret() {
        for (raw, want) in SPELLINGS {
            let shown = text(raw);
            assert_eq!(&shown, want, "{raw:?}");
            assert!(!shown.contains("SECRET"), "{raw:?} -> {shown:?}");
            assert_eq!(text(&shown), shown, "{raw:?}: a second pass changed it");
        }
    }

    #[test]
    fn names_that_only_look_secret_are_kept() {
        for kept in [
            "asset_key=visual",
            "duplicate key: project_id",
            "Invalid token: it expired",
            "X-Goog-Date=20240101T000000Z&X-Goog-SignedHeaders=host",
            "monkey=banana",
            "see /docs/errors for details",
            "https://s.example/o.tif?",
            "and/or? yes",
        ] {
            assert_eq!(text(kept), kept);
        }
    }

    #[test]
    fn the_clients_own_credential_goes_wherever_it_is() {
        let secret = "tok-CRED!SECRET";
        assert_eq!(
            verbatim("echo: tok-CRED!SECRET and tok-CRED!SECRET.", secret),
            "echo: <redacted> and <redacted>."
        );
        // A credential that happens to spell part of the marker cannot break it.
        assert_eq!(verbatim("a <redacted> b", "dact"), "a <redacted> b");
        assert_eq!(verbatim("anything", ""), "anything");
    }

    #[test]
    fn a_line_break_ends_every_value() {
        for (raw, want) in [
            ("x-api-key: k\nnext: 1", "x-api-key: <redacted>\nnext: 1"),
            ("sig=a b\r\nnext", "sig=<redacted>\r\nnext"),
            ("{\"sig\":\"a\\\nnext\"", "{\"sig\":\"<redacted>\nnext\""),
            ("Bearer a\nnext", "Bearer <redacted>\nnext"),
        ] {
            assert_eq!(text(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        for raw in [
            "é?ü/sig=ä",
            "/?",
            "?",
            "=",
            ":",
            "%3D",
            "%3",
            "\"sig\":\"",
            "sig=",
            "Bearer",
            "bearer ",
            "'a':'",
            r"\",
            r#"\""#,
            "gpra_",
            "ü:ü=ü\"ü'ü\\ü",
            "x-api-key:\u{1F600}\u{1F600}",
            "/é?é é",
        ] {
            let once = text(raw);
            assert_eq!(text(&once), once, "{raw:?}");
            let _ = verbatim(raw, "é");
        }
    }

    #[test]
    fn tokens_are_masked() {
        assert_eq!(
            text("Authorization: Bearer abc.def-ghi"),
            "Authorization: Bearer <redacted>"
        );
        // Split so the source holds nothing shaped like a real key.
        let fake_key = format!("gpra_{}", "0123456789abcdefXYZ");
        assert_eq!(text(&format!("key {fake_key}.")), "key gpra_<redacted>");
        assert_eq!(text("nothing secret"), "nothing secret");
    }
}
