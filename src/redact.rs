//! Redaction of secrets in text that may reach logs or error messages: the query string of
//! any URL (signed URLs carry their signature there) and bearer tokens.

use std::fmt::Write as _;

/// Characters that end a URL inside free text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | ']' | '}' | ',')
}

/// Returns `text` with every URL's query string replaced by `<redacted>` and every
/// `Bearer <token>` / `gpra_...` token masked.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url(rest) {
        out.push_str(&rest[..start]);
        let url_and_more = &rest[start..];
        let end = url_and_more.find(ends_url).unwrap_or(url_and_more.len());
        out.push_str(&url(&url_and_more[..end]));
        rest = &url_and_more[end..];
    }
    out.push_str(rest);
    tokens(&out)
}

fn find_url(s: &str) -> Option<usize> {
    match (s.find("http://"), s.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `https://host/path?sig=...` -> `https://host/path?<redacted>`. An empty query has
/// nothing to hide and stays, so redacting redacted text changes nothing.
pub fn url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) if !query.is_empty() => format!("{base}?<redacted>"),
        _ => url.to_owned(),
    }
}

fn tokens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let bearer = rest.find("Bearer ").map(|i| (i, i + "Bearer ".len()));
        let key = rest.find("gpra_").map(|i| (i, i + "gpra_".len()));
        let next = match (bearer, key) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        let Some((_, secret_start)) = next else { break };
        out.push_str(&rest[..secret_start]);
        let tail = &rest[secret_start..];
        let len = tail
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '~' | '+' | '/' | '='))
            })
            .unwrap_or(tail.len());
        if len > 0 {
            out.push_str("<redacted>");
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
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
