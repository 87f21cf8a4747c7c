//! Wall-clock helpers: Unix seconds now, their RFC 3339 form and Google Cloud Storage's
//! `X-Goog-Date` (chrono, as in the SDK). Nothing here can overflow: instants are capped at
//! [`LAST_SECOND`].

use chrono::{DateTime, SecondsFormat};
use std::time::{SystemTime, UNIX_EPOCH};

/// 9999-12-31T23:59:59Z, the last instant RFC 3339's four-digit year can write: the cap
/// on every expiry the server signs or prints.
pub(super) const LAST_SECOND: u64 = 253_402_300_799;

/// Seconds since the Unix epoch; a clock set before 1970 reads as 0.
pub(super) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `X-Goog-Date`'s layout for chrono.
const GOOG_DATE: &str = "%Y%m%dT%H%M%SZ";

/// Formats Unix seconds as an RFC 3339 UTC timestamp, e.g. `2023-11-14T22:13:20Z`; instants
/// past [`LAST_SECOND`] are written as it.
pub(super) fn rfc3339(secs: u64) -> String {
    // LAST_SECOND fits an i64 and chrono's range, so neither fallback is ever taken.
    let secs = i64::try_from(secs.min(LAST_SECOND)).unwrap_or(0);
    DateTime::from_timestamp(secs, 0)
        .unwrap_or(DateTime::UNIX_EPOCH)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Formats Unix seconds as Google Cloud Storage's `X-Goog-Date`, e.g. `20231114T221320Z`
/// (capped at [`LAST_SECOND`] like [`rfc3339`]).
pub(super) fn goog_date(secs: u64) -> String {
    // LAST_SECOND fits an i64 and chrono's range, so neither fallback is ever taken.
    let secs = i64::try_from(secs.min(LAST_SECOND)).unwrap_or(0);
    DateTime::from_timestamp(secs, 0)
        .unwrap_or(DateTime::UNIX_EPOCH)
        .format(GOOG_DATE)
        .to_string()
}

/// Reads an `X-Goog-Date` (`YYYYMMDD'T'HHMMSS'Z'`) as Unix seconds; `None` for anything
/// else, an impossible date or time, or an instant before 1970.
pub(super) fn parse_goog_date(text: &str) -> Option<u64> {
    // chrono alone would also take signs and shorter fields; GCS's form is exactly 16 bytes
    // of digits around a `T` and a `Z`.
    let shape = text.len() == 16
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let instant = chrono::NaiveDateTime::parse_from_str(text, GOOG_DATE).ok()?;
    u64::try_from(instant.and_utc().timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_leap_day_and_a_recent_instant() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn instants_past_year_9999_are_written_as_its_last_second() {
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_800), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn goog_dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(goog_date(1_700_000_000), "20231114T221320Z");
        assert_eq!(goog_date(951_782_400), "20000229T000000Z");
        for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_799, LAST_SECOND] {
            assert_eq!(parse_goog_date(&goog_date(secs)), Some(secs));
        }
        for bad in [
            "",
            "20231114T221320",
            "2023-11-14T22:13:20Z",
            "20230230T000000Z",
            "20231314T000000Z",
            "20231114T241320Z",
            "2023111+T221320Z",
            "19691231T235959Z",
            "20231114t221320Z",
        ] {
            assert_eq!(parse_goog_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now_unix() > 1_577_836_800);
    }
}
