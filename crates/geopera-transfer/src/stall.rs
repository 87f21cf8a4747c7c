//! Stalled-stream protection: an attempt whose throughput stays below a floor for a grace
//! period is abandoned and retried (a download resumes), as aws-sdk-rust's
//! `StalledStreamProtectionConfig` does. A connection that stays open but stops moving
//! bytes otherwise holds a transfer for as long as the operating system keeps it.

use std::borrow::Cow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use geopera::Error;

/// The default floor: 1 byte per second.
pub const DEFAULT_MIN_THROUGHPUT: u64 = 1;
/// The default grace period: 20 seconds, as aws-sdk-rust's.
pub const DEFAULT_STALL_GRACE: Duration = Duration::from_secs(20);

/// When an attempt counts as stalled: fewer than `min_throughput` bytes per second moved
/// over a window of `grace`, counted from the start of the attempt, request and response
/// head included. The default (1 byte/s over 20 s) only catches connections that stopped;
/// raise the floor to also abandon ones that merely crawl.
///
/// A stalled attempt fails with [`geopera::Error::Io`] of kind
/// [`TimedOut`](std::io::ErrorKind::TimedOut), which is retried under the client's
/// `RetryPolicy` like a broken connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallProtection {
    inner: Option<(u64, Duration)>,
}

impl Default for StallProtection {
    fn default() -> StallProtection {
        StallProtection::new(DEFAULT_MIN_THROUGHPUT, DEFAULT_STALL_GRACE)
    }
}

impl StallProtection {
    /// Abandons an attempt that moves fewer than `min_throughput` bytes per second (at
    /// least 1) over `grace` (at least a millisecond).
    pub fn new(min_throughput: u64, grace: Duration) -> StallProtection {
        StallProtection {
            inner: Some((min_throughput.max(1), grace.max(Duration::from_millis(1)))),
        }
    }

    /// No protection: an attempt waits as long as its connection stays open.
    pub fn disabled() -> StallProtection {
        StallProtection { inner: None }
    }

    /// The floor in bytes per second and the grace period, unless disabled.
    pub fn limits(&self) -> Option<(u64, Duration)> {
        self.inner
    }
}

/// Watches one attempt: the transfer counts the bytes it moves with [`Watchdog::moved`],
/// sends its requests with [`Watchdog::send`] and runs its reads through a [`Watch`].
pub(crate) struct Watchdog {
    limits: Option<(u64, Duration)>,
    moved: AtomicU64,
    /// The current window's start and the bytes moved before it.
    window: Mutex<(Instant, u64)>,
}

impl Watchdog {
    /// A watchdog whose first window starts now.
    pub(crate) fn new(protection: StallProtection) -> Watchdog {
        Watchdog {
            limits: protection.limits(),
            moved: AtomicU64::new(0),
            window: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Counts `n` bytes moved.
    pub(crate) fn moved(&self, n: u64) {
        self.moved.fetch_add(n, Ordering::Relaxed);
    }

    /// The bytes counted so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.moved.load(Ordering::Relaxed)
    }

    /// Whether the window that just ended moved too little; a window that moved enough
    /// makes way for the next one.
    fn check(&self, now: Instant) -> bool {
        let Some((floor, grace)) = self.limits else {
            return false;
        };
        let moved = self.moved.load(Ordering::Relaxed);
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let (start, before) = *window;
        let elapsed = now.saturating_duration_since(start);
        if elapsed < grace {
            return false;
        }
        let bytes = u128::from(moved.saturating_sub(before));
        // bytes / seconds < floor, in integers: bytes * 1000 < floor * milliseconds.
        if bytes.saturating_mul(1000) < u128::from(floor).saturating_mul(elapsed.as_millis()) {
            return true;
        }
        *window = (now, moved);
        false
    }

    /// A timer for the reads and requests of one attempt, `operation` naming it in the
    /// error: see [`Watch::guard`].
    pub(crate) fn watch(&self, operation: &'static str) -> Watch<'_> {
        let tick = self.limits.map(|(_, grace)| {
            // Checked at least hourly, so a grace of any length re-arms without overflow.
            let every = (grace / 4).clamp(Duration::from_millis(1), Duration::from_secs(3600));
            (every, Box::pin(tokio::time::sleep(every)))
        });
        Watch {
            dog: self,
            operation,
            tick,
        }
    }

    /// Sends one storage request for `operation` unless the attempt stalls first: the
    /// response, or the stall's or the connection's error (without the URL).
    pub(crate) async fn send(
        &self,
        operation: &'static str,
        request: geopera::reqwest::RequestBuilder,
    ) -> Result<geopera::reqwest::Response, Error> {
        self.watch(operation)
            .guard(request.send())
            .await?
            .map_err(|e| crate::storage::transport(operation, e))
    }

    /// The error a stalled attempt fails with.
    pub(crate) fn error(&self, operation: &'static str) -> Error {
        let (floor, grace) = self.limits.unwrap_or_default();
        Error::Io {
            operation: Cow::Borrowed(operation),
            source: std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the transfer stalled: fewer than {floor} bytes/s for {} ms; the attempt was abandoned",
                    grace.as_millis()
                ),
            ),
        }
    }
}

/// One timer for a whole read loop, re-armed when it fires, instead of one timer per
/// read: a body arrives in many thousands of chunks, and registering and cancelling a
/// timer for each of them costs more than the rest of the loop's bookkeeping.
pub(crate) struct Watch<'a> {
    dog: &'a Watchdog,
    operation: &'static str,
    /// The check interval (a quarter of the grace period) and the timer; `None` when
    /// protection is disabled.
    tick: Option<(Duration, std::pin::Pin<Box<tokio::time::Sleep>>)>,
}

impl Watch<'_> {
    /// Waits for `step` (a request, a read) unless the attempt counts as stalled first,
    /// checked each time the timer fires; a stalled attempt fails with
    /// [`Watchdog::error`]. A `step` that is ready wins over a timer that fired.
    pub(crate) async fn guard<F: Future>(&mut self, step: F) -> Result<F::Output, Error> {
        let Some((every, timer)) = &mut self.tick else {
            return Ok(step.await);
        };
        let mut step = std::pin::pin!(step);
        loop {
            tokio::select! {
                biased;
                out = &mut step => return Ok(out),
                () = timer.as_mut() => {
                    let now = Instant::now();
                    if self.dog.check(now) {
                        return Err(self.dog.error(self.operation));
                    }
                    let at = tokio::time::Instant::from_std(now);
                    timer.as_mut().reset(at.checked_add(*every).unwrap_or(at));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_below_the_floor_trips_and_one_above_makes_way_for_the_next() {
        let dog = Watchdog::new(StallProtection::new(100, Duration::from_secs(10)));
        let start = dog.window.lock().unwrap_or_else(|p| p.into_inner()).0;
        let at = |secs| start + Duration::from_secs(secs);
        assert!(!dog.check(at(5)), "the window has not ended");
        dog.moved(1000);
        assert!(!dog.check(at(10)), "100 bytes/s is enough");
        dog.moved(999);
        assert!(!dog.check(at(15)), "a new window started at 10 s");
        assert!(dog.check(at(20)), "999 bytes in 10 s is below 100 bytes/s");
    }

    #[tokio::test]
    async fn a_watch_lets_a_ready_step_through_and_abandons_one_that_never_moves() {
        let endless = Watchdog::new(StallProtection::new(1, Duration::MAX));
        assert_eq!(
            endless.watch("storage.get").guard(async { 1 }).await.ok(),
            Some(1)
        );
        let dog = Watchdog::new(StallProtection::new(1, Duration::from_millis(40)));
        let mut watch = dog.watch("storage.get");
        assert_eq!(watch.guard(async { 7 }).await.ok(), Some(7));
        let stalled = tokio::time::timeout(
            Duration::from_secs(30),
            watch.guard(std::future::pending::<()>()),
        )
        .await
        .expect("the watch gave up on its own");
        assert!(
            matches!(&stalled, Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::TimedOut),
            "{stalled:?}"
        );
    }

    #[test]
    fn disabled_protection_never_trips_and_limits_are_kept_sane() {
        let dog = Watchdog::new(StallProtection::disabled());
        assert!(!dog.check(Instant::now() + Duration::from_secs(1_000_000)));
        assert_eq!(
            StallProtection::new(0, Duration::ZERO).limits(),
            Some((1, Duration::from_millis(1)))
        );
        assert_eq!(
            StallProtection::default().limits(),
            Some((1, Duration::from_secs(20)))
        );
        let e = Watchdog::new(StallProtection::default()).error("storage.get");
        assert!(
            e.to_string()
                .contains("stalled: fewer than 1 bytes/s for 20000 ms"),
            "{e}"
        );
    }
}
