//! [`RetryPolicy`] and the small classifiers that decide, attempt by attempt, whether a call
//! is repeated.
//!
//! Every Geopera operation is a `POST`, so "is it worth repeating" and "is it safe to
//! repeat" are separate questions:
//!
//! * a connection that could not be made never reached the API, so it is retried for every
//!   operation;
//! * a timeout, a dropped connection or a 408/429/502/503/504 may come *after* the API acted,
//!   so those are retried only for operations marked idempotent in the spec
//!   (`x-idempotent`: `signed_url`, `progress`, `complete`, `fail` and the downloads).
//!   `uploads.initiate` reserves quota on every call, so repeating it after an ambiguous
//!   failure could reserve twice: that is opt-in, with
//!   [`RetryPolicy::retry_non_idempotent`].

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::error::RETRYABLE_STATUSES;
use crate::{Error, TransportKind};

/// How calls are repeated after transient failures. Attached to an
/// [`crate::AuthenticatedClient`]; [`RetryPolicy::disabled`] turns retries off.
///
/// Backoff is exponential with full jitter (a random delay between zero and
/// `initial_backoff * 2^(attempt-1)`, capped at `max_backoff`); a `Retry-After` header (in
/// seconds or as an HTTP-date) replaces the computed delay. No attempt starts after
/// `max_elapsed`: a delay that would end past it means no retry, and the error is returned
/// at once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retries).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub initial_backoff: Duration,
    /// The largest backoff between two attempts.
    pub max_backoff: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
    /// Also retry ambiguous failures of non-idempotent operations (`uploads.initiate`).
    pub retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// No retries at all: every failure is returned as it happens.
    pub fn disabled() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts in all (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> RetryPolicy {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first retry's backoff ceiling and the largest backoff.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> RetryPolicy {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the overall deadline after which no retry starts.
    pub fn with_max_elapsed(mut self, deadline: Duration) -> RetryPolicy {
        self.max_elapsed = deadline;
        self
    }

    /// Also retries ambiguous failures of non-idempotent operations. Off by default: a
    /// repeated `uploads.initiate` after a timeout may reserve quota twice.
    pub fn retry_non_idempotent(mut self, yes: bool) -> RetryPolicy {
        self.retry_non_idempotent = yes;
        self
    }

    /// The delay before the attempt that follows attempt `attempt` (counted from 1), or
    /// `None` when there is to be no further attempt: `attempt` reached `max_attempts`, or
    /// the delay (the server's `Retry-After` when it sent one, else the jittered backoff)
    /// would not end before `max_elapsed`, counted from the call's start `elapsed` ago.
    ///
    /// It depends on nothing else (no clock), and every duration from the network is only
    /// compared, never added: a `Retry-After` of `u64::MAX` seconds is "no retry", at once.
    /// Public so a transfer to or from storage can be repeated under the same policy as
    /// the calls.
    pub fn next_delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        server_delay: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let remaining = self.max_elapsed.checked_sub(elapsed)?;
        let delay = server_delay.unwrap_or_else(|| self.backoff(attempt));
        (delay < remaining).then_some(delay)
    }

    /// The jittered backoff before attempt `attempt + 1` (`attempt` counts from 1).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let ceiling = exp.min(self.max_backoff);
        // Checked rather than `mul_f64`, which panics on a product it cannot represent.
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * jitter())
            .map_or(ceiling, |d| d.min(ceiling))
    }
}

/// A uniformly distributed number in [0, 1), from the standard library's randomly keyed
/// hasher (no RNG dependency needed for jitter).
fn jitter() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What a classifier says about one attempt's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Return the outcome as it is.
    Done,
    /// Repeat, after the server's requested delay if it gave one.
    Retry {
        /// Why, for the trace.
        reason: &'static str,
        /// `Retry-After`, when the server sent one.
        after: Option<Duration>,
    },
}

/// Classifies a failed attempt: a connection that could not be made never reached the
/// API and is worth repeating for every operation; a timeout, a dropped connection or a
/// status of [`RETRYABLE_STATUSES`] only where repeating is safe (`safe_to_repeat`), and
/// then after the server's `Retry-After` when it sent one.
pub(crate) fn classify(error: &Error, safe_to_repeat: bool) -> Verdict {
    match error {
        Error::Transport {
            kind: TransportKind::Connect,
            ..
        } => Verdict::Retry {
            reason: "connect failed",
            after: None,
        },
        Error::Transport {
            kind: TransportKind::Timeout | TransportKind::Interrupted,
            ..
        } if safe_to_repeat => Verdict::Retry {
            reason: "transport failure",
            after: None,
        },
        Error::Transport { .. } => Verdict::Done,
        e if safe_to_repeat
            && e.status()
                .is_some_and(|s| RETRYABLE_STATUSES.contains(&s.as_u16())) =>
        {
            Verdict::Retry {
                reason: "retryable status",
                after: e.retry_after(),
            }
        }
        _ => Verdict::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn status_error(code: u16, retry_after: Option<&'static str>) -> Error {
        let mut headers = HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(v));
        }
        Error::UnexpectedStatus {
            operation: "a.b".into(),
            status: StatusCode::from_u16(code).unwrap(),
            headers: Box::new(headers),
            body: crate::BodySnippet::new(b""),
        }
    }

    #[test]
    fn statuses_retry_only_when_safe() {
        for code in [408, 429, 502, 503, 504] {
            let e = status_error(code, None);
            assert!(
                matches!(classify(&e, true), Verdict::Retry { .. }),
                "{code}"
            );
            assert_eq!(classify(&e, false), Verdict::Done, "{code}");
        }
        for code in [400, 401, 402, 403, 404, 422, 500, 501] {
            assert_eq!(
                classify(&status_error(code, None), true),
                Verdict::Done,
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_seconds_are_honoured() {
        assert_eq!(
            classify(&status_error(503, Some("7")), true),
            Verdict::Retry {
                reason: "retryable status",
                after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        let p = RetryPolicy::default()
            .with_backoff(Duration::from_millis(100), Duration::from_millis(400));
        for attempt in 1..40 {
            let ceiling = Duration::from_millis(100)
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(Duration::from_millis(400));
            assert!(p.backoff(attempt) <= ceiling, "attempt {attempt}");
        }
        let samples: Vec<Duration> = (0..32).map(|_| p.backoff(3)).collect();
        assert!(samples.iter().any(|d| *d != samples[0]), "jitter varies");
    }

    #[test]
    fn a_server_delay_past_the_deadline_means_no_retry() {
        // Defaults: 3 attempts, 30 s. The call has run for a second.
        let p = RetryPolicy::default();
        let second = Duration::from_secs(1);
        for past in [
            Duration::from_secs(u64::MAX),
            Duration::MAX,
            Duration::from_secs(29),
        ] {
            assert_eq!(p.next_delay(1, second, Some(past)), None, "{past:?}");
        }
        let fits = Duration::from_millis(28_999);
        assert_eq!(p.next_delay(1, second, Some(fits)), Some(fits));
        assert_eq!(
            p.next_delay(2, second, Some(Duration::ZERO)),
            Some(Duration::ZERO)
        );
        // Out of attempts, or past the deadline: no retry, whatever the delay.
        assert_eq!(p.next_delay(3, second, Some(Duration::ZERO)), None);
        assert_eq!(p.next_delay(u32::MAX, second, None), None);
        assert_eq!(p.next_delay(1, Duration::from_secs(30), None), None);
        assert_eq!(p.next_delay(1, Duration::MAX, Some(Duration::ZERO)), None);
        // The computed backoff stays inside the deadline too.
        let d = p.next_delay(1, second, None).unwrap();
        assert!(d <= Duration::from_millis(200), "{d:?}");
    }

    #[test]
    fn extreme_policies_do_not_panic() {
        let p = RetryPolicy::default()
            .with_max_attempts(u32::MAX)
            .with_backoff(Duration::MAX, Duration::MAX)
            .with_max_elapsed(Duration::MAX);
        for attempt in [1, 2, 63, 64, 65, u32::MAX - 1] {
            for elapsed in [Duration::ZERO, Duration::from_secs(1), Duration::MAX] {
                let _ = p.next_delay(attempt, elapsed, None);
                let _ = p.next_delay(attempt, elapsed, Some(Duration::MAX));
            }
        }
    }

    #[test]
    fn disabled_means_one_attempt() {
        assert_eq!(RetryPolicy::disabled().max_attempts, 1);
        assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts, 1);
    }
}
