//! Unpredictable bytes from the operating system, hex encoding (the `hex` crate), and unique
//! ids.
//!
//! Randomness is the OS's CSPRNG through `getrandom` (0.2, the version *ring* already puts
//! in the SDK's build, so it costs no extra build time there). The per-start signing key,
//! the ready token and the id seed come from it.

use sha2::{Digest, Sha256};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// 32 bytes from the OS's random number generator.
pub(super) fn random_bytes() -> io::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| io::Error::other(format!("the OS random number generator failed: {e}")))?;
    Ok(bytes)
}

/// Lower-case hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// Decodes lower- or upper-case hex; `None` on odd length or a non-hex digit.
pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    ::hex::decode(text).ok()
}

/// Mints ids such as `upl_3f9a0c1d2e4b5a69`: unique within a run, unpredictable across runs.
pub(super) struct Ids {
    seed: [u8; 32],
    next: AtomicU64,
}

impl Ids {
    /// A generator with a fresh random seed.
    pub(super) fn new() -> io::Result<Ids> {
        Ok(Ids {
            seed: random_bytes()?,
            next: AtomicU64::new(0),
        })
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
        assert_ne!(random_bytes().ok(), random_bytes().ok());
        assert!(random_bytes().is_ok());
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
        let ids = Ids::new().expect("OS randomness");
        let minted: HashSet<String> = (0..1000).map(|_| ids.next("upl_")).collect();
        assert_eq!(minted.len(), 1000);
        assert!(
            minted
                .iter()
                .all(|id| id.starts_with("upl_") && id.len() == 20)
        );
        let fresh = || Ids::new().expect("OS randomness").next("x_");
        assert_ne!(fresh(), fresh());
    }
}
