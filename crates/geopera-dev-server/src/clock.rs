//! Wall-clock helpers: Unix seconds now, expiry instants, and their RFC 3339 form (chrono, as
//! in the SDK). Nothing here can overflow: sums saturate and instants are capped at
//! [`LAST_SECOND`], whatever TTL a caller configures.

use chrono::{DateTime, SecondsFormat};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// Unix seconds `ttl` after `now`, whole seconds, capped at [`LAST_SECOND`].
pub(super) fn expiry(now: u64, ttl: Duration) -> u64 {
    now.saturating_add(ttl.as_secs()).min(LAST_SECOND)
}

/// Formats Unix seconds as an RFC 3339 UTC timestamp, e.g. `2023-11-14T22:13:20Z`; instants
/// past [`LAST_SECOND`] are written as it.
pub(super) fn rfc3339(secs: u64) -> String {
    // LAST_SECOND fits an i64 and chrono's range, so neither fallback is ever taken.
    let secs = i64::try_from(secs.min(LAST_SECOND)).unwrap_or(0);
    DateTime::from_timestamp(secs, 0)
        .unwrap_or(DateTime::UNIX_EPOCH)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
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
    fn expiries_saturate_and_stop_at_the_last_second() {
        assert_eq!(expiry(100, Duration::from_secs(60)), 160);
        assert_eq!(expiry(100, Duration::from_millis(1_999)), 101);
        assert_eq!(expiry(100, Duration::MAX), LAST_SECOND);
        assert_eq!(expiry(u64::MAX, Duration::from_secs(1)), LAST_SECOND);
    }

    #[test]
    fn instants_past_year_9999_are_written_as_its_last_second() {
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_800), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now_unix() > 1_577_836_800);
    }
}
