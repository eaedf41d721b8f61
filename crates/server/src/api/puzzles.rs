//! The puzzles the server sets past a shared ceiling, and the answers it
//! takes ([`beatbook_core::protocol::proof`]). A seed is the time it was
//! made, a random part and a keyed hash of both, so the server keeps no
//! state for the puzzles it sets, only for the answers it has taken (each
//! once, for as long as a seed is good).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use beatbook_core::protocol::proof::{self, Challenge};
use sha2::{Digest, Sha256};

use crate::random::{hex, random_bytes};

/// Leading zero bits asked for: about 260,000 hashes, a second or less of a
/// slow phone's work.
pub const PUZZLE_BITS: u8 = 18;
/// How long a seed is good for: time to solve it and send again.
const GOOD_FOR: Duration = Duration::from_secs(300);
/// The longest seed this server writes: the time, 16 and 32 hex digits.
const MAX_SEED: usize = 20 + 1 + 16 + 1 + 32;
/// The most answers remembered at once; past it, answers are refused until
/// old ones expire (a flood of solved puzzles is a flood of work).
const MAX_TAKEN: usize = 100_000;

pub struct Puzzles {
    key: [u8; 32],
    bits: u8,
    taken: Mutex<Taken>,
}

/// Seeds answered, and when each was made, oldest first.
#[derive(Default)]
struct Taken {
    seen: HashSet<String>,
    order: VecDeque<(u64, String)>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Puzzles {
    pub fn new(bits: u8) -> Puzzles {
        Puzzles {
            key: random_bytes(),
            bits,
            taken: Mutex::default(),
        }
    }

    fn signature(&self, made: u64, random: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.key)
            .chain_update(made.to_le_bytes())
            .chain_update(random.as_bytes())
            .finalize();
        hex(&digest[..16])
    }

    /// A new puzzle.
    pub fn set(&self) -> Challenge {
        let made = now_secs();
        let random = hex(&random_bytes::<8>());
        let signature = self.signature(made, &random);
        Challenge {
            seed: format!("{made}.{random}.{signature}"),
            bits: self.bits,
        }
    }

    /// Whether the request's proof answers a puzzle this server set, in
    /// time, and not answered before; the answer is taken.
    pub fn answered(&self, headers: &HeaderMap) -> bool {
        let Some((seed, nonce)) = headers
            .get(proof::HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(proof::parse)
        else {
            return false;
        };
        // Only the form this server writes: a padded or signed number would
        // make one signed seed into many answers.
        if seed.len() > MAX_SEED {
            return false;
        }
        let mut parts = seed.splitn(3, '.');
        let (Some(made_text), Some(random), Some(signature)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(made) = made_text.parse::<u64>() else {
            return false;
        };
        let hex = |t: &str, n: usize| {
            t.len() == n && t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if made.to_string() != made_text || !hex(random, 16) || !hex(signature, 32) {
            return false;
        }
        let now = now_secs();
        let fresh = made <= now + 5 && now.saturating_sub(made) <= GOOD_FOR.as_secs();
        if !fresh || self.signature(made, random) != signature {
            return false;
        }
        let challenge = Challenge {
            seed: seed.to_owned(),
            bits: self.bits,
        };
        if !challenge.solved_by(nonce) {
            return false;
        }
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        let Taken { seen, order } = &mut *taken;
        while let Some((at, _)) = order.front() {
            if now.saturating_sub(*at) <= GOOD_FOR.as_secs() {
                break;
            }
            if let Some((_, old)) = order.pop_front() {
                seen.remove(&old);
            }
        }
        if seen.len() >= MAX_TAKEN || !seen.insert(seed.to_owned()) {
            return false;
        }
        order.push_back((made, seed.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_proof(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(proof::HEADER, value.parse().unwrap());
        headers
    }

    #[test]
    fn a_solved_puzzle_lets_one_request_in_and_no_forged_or_reused_one_does() {
        let puzzles = Puzzles::new(8);
        let challenge = puzzles.set();
        let nonce = challenge.try_nonces(0, 1 << 16).unwrap();
        let proof = challenge.proof(nonce);
        assert!(puzzles.answered(&with_proof(&proof)));
        assert!(!puzzles.answered(&with_proof(&proof)), "each answer once");
        assert!(!puzzles.answered(&HeaderMap::new()));

        // A seed this server did not sign, however well solved.
        let forged = Challenge {
            seed: format!(
                "{}.0011223344556677.00000000000000000000000000000000",
                now_secs()
            ),
            bits: 8,
        };
        let nonce = forged.try_nonces(0, 1 << 16).unwrap();
        assert!(!puzzles.answered(&with_proof(&forged.proof(nonce))));

        // The same signed seed written another way is not another answer.
        let fresh = puzzles.set();
        for written in [format!("0{}", fresh.seed), format!("+{}", fresh.seed)] {
            let other = Challenge {
                seed: written,
                bits: 8,
            };
            let nonce = other.try_nonces(0, 1 << 16).unwrap();
            assert!(!puzzles.answered(&with_proof(&other.proof(nonce))));
        }

        // A wrong nonce, and an old seed.
        let fresh = puzzles.set();
        let wrong = (0..).find(|n| !fresh.solved_by(*n)).unwrap();
        assert!(!puzzles.answered(&with_proof(&fresh.proof(wrong))));
        let made = now_secs() - GOOD_FOR.as_secs() - 10;
        let random = "0011223344556677";
        let old = Challenge {
            seed: format!("{made}.{random}.{}", puzzles.signature(made, random)),
            bits: 8,
        };
        let nonce = old.try_nonces(0, 1 << 16).unwrap();
        assert!(!puzzles.answered(&with_proof(&old.proof(nonce))));
    }
}
