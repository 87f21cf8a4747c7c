//! Parsing one HTTP `Range: bytes=…` request header against an object's size (RFC 9110 §14).
//!
//! Written here rather than taken from `http-range-header`: that crate refuses what this
//! parser tolerates and its tests pin (whitespace around the numbers, a `+` sign, numbers
//! past `u64`), and it reports a malformed header and an unsatisfiable one as one error
//! type, where this server must answer the first with the whole object (200) and only the
//! second with 416. Mapping one onto the other would be longer than the ~60 lines below.

/// What to serve for a GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// No usable range: the whole object, 200.
    Full,
    /// Bytes `start..=end`, 206.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Interprets a `Range` header for an object of `size` bytes.
///
/// Supports a single `a-b`, `a-` or `-n`. A missing header, another unit, a syntax error, a
/// reversed range or several ranges are ignored (the whole object is served), as the RFC allows.
pub(crate) fn parse_range(header: Option<&str>, size: u64) -> ByteRange {
    let Some(spec) = header.map(str::trim).and_then(|h| strip_unit(h)) else {
        return ByteRange::Full;
    };
    if spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return ByteRange::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return match digits(last) {
            None => ByteRange::Full,
            Some(suffix) if suffix == 0 || size == 0 => ByteRange::Unsatisfiable,
            Some(suffix) => ByteRange::Partial {
                start: size.saturating_sub(suffix),
                end: size.saturating_sub(1),
            },
        };
    }
    let Some(start) = digits(first) else {
        return ByteRange::Full;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match digits(last) {
            Some(end) if end >= start => end,
            _ => return ByteRange::Full,
        }
    };
    if start >= size {
        ByteRange::Unsatisfiable
    } else {
        ByteRange::Partial {
            start,
            end: end.min(size.saturating_sub(1)),
        }
    }
}

fn strip_unit(header: &str) -> Option<&str> {
    let (unit, spec) = header.split_once('=')?;
    unit.trim().eq_ignore_ascii_case("bytes").then_some(spec)
}

/// A non-empty run of ASCII digits as u64 (saturating: a huge number is still a number).
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteRange::*;

    fn p(start: u64, end: u64) -> ByteRange {
        Partial { start, end }
    }

    #[test]
    fn closed_open_and_suffix_ranges() {
        assert_eq!(parse_range(Some("bytes=0-9"), 100), p(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 100), p(10, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), p(90, 99));
        assert_eq!(parse_range(Some("Bytes = 5 - 5"), 100), p(5, 5));
    }

    #[test]
    fn ranges_are_clamped_to_the_object() {
        assert_eq!(parse_range(Some("bytes=90-1000"), 100), p(90, 99));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), p(0, 99));
        assert_eq!(
            parse_range(Some("bytes=0-99999999999999999999999"), 100),
            p(0, 99)
        );
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=100-200"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-5"), 0), Unsatisfiable);
    }

    #[test]
    fn unusable_headers_mean_the_whole_object() {
        for header in [
            None,
            Some("bytes=5-2"),
            Some("bytes=0-1,4-5"),
            Some("items=0-1"),
            Some("bytes=a-b"),
            Some("bytes=-"),
            Some("bytes=1"),
            Some("bytes=+1-2"),
            Some(""),
        ] {
            assert_eq!(parse_range(header, 100), Full, "{header:?}");
        }
    }
}
