//! Unpredictable bytes without a `rand` dependency, hex encoding, and unique ids.
//!
//! Randomness comes from std's `RandomState` (seeded by the OS once per thread), mixed with the
//! time, the process id and a counter through SHA-256. Good enough for a per-start signing key
//! and ids that must not collide across runs; not a CSPRNG for production secrets.

use sha2::{Digest, Sha256};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static CALLS: AtomicU64 = AtomicU64::new(0);

/// 32 bytes that differ on every call and every start.
pub(super) fn random_bytes() -> [u8; 32] {
    let mut digest = Sha256::new();
    for lane in 0..4u64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(lane);
        digest.update(hasher.finish().to_le_bytes());
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    digest.update(nanos.to_le_bytes());
    digest.update(std::process::id().to_le_bytes());
    digest.update(CALLS.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    digest.finalize().into()
}

/// Lower-case hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Decodes lower- or upper-case hex; `None` on odd length or a non-hex digit.
pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

/// Mints ids such as `upl_3f9a0c1d2e4b5a69`: unique within a run, unpredictable across runs.
pub(super) struct Ids {
    seed: [u8; 32],
    next: AtomicU64,
}

impl Ids {
    /// A generator with a fresh random seed.
    pub(super) fn new() -> Ids {
        Ids {
            seed: random_bytes(),
            next: AtomicU64::new(0),
        }
    }

    /// The next id with `prefix` (no separator added: pass `"upl_"`).
    pub(super) fn next(&self, prefix: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let digest = Sha256::new()
            .chain_update(self.seed)
            .chain_update(n.to_le_bytes())
            .finalize();
        format!("{prefix}{}", hex(&digest[..8]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_bytes_differ_between_calls() {
        assert_ne!(random_bytes(), random_bytes());
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex("0001ABff").as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn ids_are_prefixed_unique_and_differ_between_generators() {
        let ids = Ids::new();
        let minted: HashSet<String> = (0..1000).map(|_| ids.next("upl_")).collect();
        assert_eq!(minted.len(), 1000);
        assert!(
            minted
                .iter()
                .all(|id| id.starts_with("upl_") && id.len() == 20)
        );
        assert_ne!(Ids::new().next("x_"), Ids::new().next("x_"));
    }
}
