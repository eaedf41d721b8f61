//! Proof of work, for when a shared ceiling is reached: rather than refusing
//! every newcomer while a flood from many addresses lasts, the server sets a
//! small puzzle (about a second of a slow phone's work) in its 429 answer,
//! and lets the request in past the ceiling once the puzzle is solved. A
//! resident pays a second; a flood pays a second for every request.
//!
//! The puzzle: find a nonce such that SHA-256 of the seed's bytes followed
//! by the nonce (8 bytes, little-endian) starts with `bits` zero bits. The
//! answer goes in the [`HEADER`] header as `<seed>:<nonce>`; the server
//! takes each seed once, and only for a few minutes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The request header that carries a solved puzzle.
pub const HEADER: &str = "beatbook-proof";

/// A puzzle set by the server, in a 429 answer's `challenge`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Made and signed by the server.
    pub seed: String,
    /// How many leading zero bits the hash must have.
    pub bits: u8,
}

/// Leading zero bits of a hash.
fn zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        if *byte != 0 {
            return bits + byte.leading_zeros();
        }
        bits += 8;
    }
    bits
}

impl Challenge {
    /// Whether `nonce` solves this puzzle.
    pub fn solved_by(&self, nonce: u64) -> bool {
        let digest = Sha256::new()
            .chain_update(self.seed.as_bytes())
            .chain_update(nonce.to_le_bytes())
            .finalize();
        zero_bits(&digest) >= u32::from(self.bits)
    }

    /// Tries `count` nonces from `from` (a slice of the work, so a page can
    /// draw between slices): the first that solves the puzzle.
    pub fn try_nonces(&self, from: u64, count: u64) -> Option<u64> {
        let seeded = Sha256::new().chain_update(self.seed.as_bytes());
        (from..from.saturating_add(count)).find(|nonce| {
            let digest = seeded.clone().chain_update(nonce.to_le_bytes()).finalize();
            zero_bits(&digest) >= u32::from(self.bits)
        })
    }

    /// The header's value for a solving `nonce`.
    pub fn proof(&self, nonce: u64) -> String {
        format!("{}:{nonce}", self.seed)
    }
}

/// A proof header's seed and nonce, if it has that shape.
pub fn parse(value: &str) -> Option<(&str, u64)> {
    let (seed, nonce) = value.rsplit_once(':')?;
    Some((seed, nonce.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_solution_found_is_one_the_server_accepts_and_no_other_is() {
        let challenge = Challenge {
            seed: "1733371200.0011223344556677.8899aabbccddeeff".into(),
            bits: 12,
        };
        let nonce = challenge.try_nonces(0, 1 << 20).expect("a solution");
        assert!(challenge.solved_by(nonce));
        let proof = challenge.proof(nonce);
        assert_eq!(parse(&proof), Some((challenge.seed.as_str(), nonce)));
        // The first solution is the first: none before it solves.
        assert!((0..nonce).all(|n| !challenge.solved_by(n)));
        // Another seed's solution is not this one's, bar chance.
        let other = Challenge {
            seed: "1733371200.ffeeddccbbaa9988.7766554433221100".into(),
            ..challenge.clone()
        };
        let theirs = other.try_nonces(0, 1 << 20).unwrap();
        assert_ne!(theirs, nonce);
        assert_eq!(parse("no nonce here"), None);
        assert_eq!(parse("seed:12x"), None);
    }

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(zero_bits(&[0, 0, 0b0001_0000, 0xFF]), 19);
        assert_eq!(zero_bits(&[0x80]), 0);
        assert_eq!(zero_bits(&[0, 0]), 16);
    }
}
