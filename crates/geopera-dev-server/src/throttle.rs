//! Per-connection bandwidth caps for storage bodies, as an object store applies them: a
//! token bucket for each object GET or PUT. HTTP/1.1 serves one request at a time on a
//! connection, so a cap on each body is a cap on its connection, and a client that wants
//! more throughput has to open more connections (a parallel ranged download does).

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use std::io;
use std::time::Duration;
use tokio::time::Instant;

/// The longest burst a bucket allows, in time at its rate: bodies go out in pieces this
/// long, each sent when the bucket holds enough tokens for it.
const BURST: Duration = Duration::from_millis(20);
/// The smallest and largest piece a body is cut into, whatever the rate.
const MIN_PIECE: usize = 4 * 1024;
const MAX_PIECE: usize = 1024 * 1024;

/// A token bucket of `rate` bytes per second holding at most one piece (about
/// [`BURST`] of traffic), kept as the time its debt is paid off (the generic cell rate
/// algorithm, which behaves as a token bucket without a refill timer).
#[derive(Debug)]
pub(super) struct Throttle {
    rate: u64,
    piece: usize,
    /// When every byte let through so far has been paid for at `rate`.
    paid_until: Option<Instant>,
}

impl Throttle {
    /// A bucket of `bytes_per_sec`; `None` for 0 (no cap).
    pub(super) fn new(bytes_per_sec: u64) -> Option<Throttle> {
        if bytes_per_sec == 0 {
            return None;
        }
        let burst = u128::from(bytes_per_sec).saturating_mul(BURST.as_millis()) / 1000;
        let piece = usize::try_from(burst)
            .unwrap_or(MAX_PIECE)
            .clamp(MIN_PIECE, MAX_PIECE);
        Some(Throttle {
            rate: bytes_per_sec,
            piece,
            paid_until: None,
        })
    }

    /// The most bytes sent at once.
    pub(super) fn piece(&self) -> usize {
        self.piece
    }

    /// How long `bytes` must wait at `now` before they go, and books them.
    fn book(&mut self, bytes: usize, now: Instant) -> Duration {
        let cost = Duration::from_secs_f64(bytes as f64 / self.rate as f64);
        let allowance = Duration::from_secs_f64(self.piece as f64 / self.rate as f64);
        let start = self.paid_until.map_or(now, |paid| paid.max(now));
        let paid = start.checked_add(cost).unwrap_or(start);
        self.paid_until = Some(paid);
        // A full bucket lets one piece go at once; beyond that, bytes wait for tokens.
        paid.checked_sub(allowance)
            .map_or(Duration::ZERO, |release| {
                release.saturating_duration_since(now)
            })
    }

    /// Waits until `bytes` may go.
    pub(super) async fn take(&mut self, bytes: usize) {
        let wait = self.book(bytes, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// `body` at no more than `bytes_per_sec` (`None` or 0: as it comes), cut into pieces of
/// at most one burst. Errors pass through.
pub(super) fn throttled<S>(
    body: S,
    bytes_per_sec: Option<u64>,
) -> impl Stream<Item = io::Result<Bytes>> + Send
where
    S: Stream<Item = io::Result<Bytes>> + Send + 'static,
{
    let throttle = bytes_per_sec.and_then(Throttle::new);
    let state = (Box::pin(body), throttle, Bytes::new());
    futures_util::stream::unfold(state, |(mut body, mut throttle, mut rest)| async move {
        if rest.is_empty() {
            match body.next().await? {
                Ok(chunk) => rest = chunk,
                Err(err) => return Some((Err(err), (body, throttle, Bytes::new()))),
            }
        }
        let piece = match throttle.as_mut() {
            Some(throttle) => {
                let piece = rest.split_to(rest.len().min(throttle.piece()));
                throttle.take(piece.len()).await;
                piece
            }
            None => std::mem::take(&mut rest),
        };
        Some((Ok(piece), (body, throttle, rest)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_no_cap_and_pieces_follow_the_rate() {
        assert!(Throttle::new(0).is_none());
        assert_eq!(Throttle::new(1).map(|t| t.piece()), Some(MIN_PIECE));
        // 50 MB/s: 20 ms is 1 MB.
        assert_eq!(
            Throttle::new(50_000_000).map(|t| t.piece()),
            Some(1_000_000)
        );
        assert_eq!(Throttle::new(u64::MAX).map(|t| t.piece()), Some(MAX_PIECE));
    }

    #[test]
    fn the_first_piece_goes_at_once_and_later_ones_wait_for_their_tokens() {
        let mut t = Throttle::new(1_000_000).unwrap();
        let piece = t.piece();
        assert_eq!(piece, 20_000);
        let now = Instant::now();
        assert_eq!(t.book(piece, now), Duration::ZERO);
        // The second piece waits for the first to be paid: 20 ms at 1 MB/s.
        assert_eq!(t.book(piece, now), Duration::from_millis(20));
        assert_eq!(t.book(piece, now), Duration::from_millis(40));
        // After an idle second the bucket is full again, but holds no more than one piece.
        let later = now + Duration::from_secs(1);
        assert_eq!(t.book(piece, later), Duration::ZERO);
        assert_eq!(t.book(piece, later), Duration::from_millis(20));
    }

    #[tokio::test(start_paused = true)]
    async fn a_capped_body_takes_its_bytes_over_rate_and_arrives_whole() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let chunks: Vec<io::Result<Bytes>> = data
            .chunks(64 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let started = Instant::now();
        let pieces: Vec<Bytes> = throttled(futures_util::stream::iter(chunks), Some(100_000))
            .map(|p| p.unwrap())
            .collect()
            .await;
        // 300 kB at 100 kB/s, less the one piece (4 KiB, 41 ms) a full bucket lets
        // through at once; the paused clock's timer rounds each wait up to a millisecond.
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(2_958) && elapsed <= Duration::from_millis(3_040),
            "{elapsed:?}"
        );
        assert!(pieces.iter().all(|p| p.len() <= MIN_PIECE));
        assert!(pieces.concat() == data);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_cap_chunks_pass_untouched_and_errors_pass_through() {
        let chunks = vec![Ok(Bytes::from_static(b"abc")), Err(io::Error::other("cut"))];
        let started = Instant::now();
        let items: Vec<io::Result<Bytes>> = throttled(futures_util::stream::iter(chunks), None)
            .collect()
            .await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap(), &Bytes::from_static(b"abc"));
        assert!(items[1].is_err());
    }
}
