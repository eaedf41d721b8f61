//! Rate limits: token buckets held in memory only, per paired device, per
//! client for the public endpoints (its address hashed with a per-process
//! salt, so no address is kept, even in memory), and one shared bucket for
//! pairing attempts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::proxy::limited_as;
use super::ApiError;
use crate::random::random_bytes;

/// Requests a device may make in a burst, and how fast the allowance refills:
/// far above what a phone needs, low enough to stop a runaway client.
pub const BURST: f64 = 60.0;
pub const REFILL_PER_SECOND: f64 = 30.0;
/// Pairing attempts allowed per minute across all clients: codes are
/// guessable only by trying, so guessing stays hopeless however many
/// addresses a guesser has.
const PAIR_ATTEMPTS_PER_MINUTE: f64 = 30.0;
/// Pairing attempts one client may make in a burst, and the refill: a
/// councillor mistyping a code tries a few times; a guesser on one address
/// cannot use up everyone's attempts, so nobody is locked out of pairing.
const CLIENT_PAIR_BURST: f64 = 5.0;
const CLIENT_PAIRS_PER_SECOND: f64 = 1.0 / 30.0;
/// Reports accepted per minute from everyone together: the ceiling a flood
/// from many addresses hits, far above what a ward sends (a busy week is a
/// few dozen), while look-ups and the councillor's sync go on.
pub const REPORTS_PER_MINUTE: f64 = 120.0;
/// Reports one client may send in a burst, and the refill: a resident sends
/// a few; a flood is stopped.
const REPORT_BURST: f64 = 5.0;
const REPORTS_PER_SECOND: f64 = 1.0 / 60.0;
/// Photos one client may send in a burst, and the refill: each report's
/// photos; a resident's photos are attached only to a report they sent.
const PHOTO_BURST: f64 = REPORT_BURST * beatbook_core::photo::MAX_PHOTOS as f64;
const PHOTOS_PER_SECOND: f64 = REPORTS_PER_SECOND * beatbook_core::photo::MAX_PHOTOS as f64;
/// Residents' photos accepted per minute from everyone together: the
/// ceiling on the disk a flood from many addresses can fill (at most 2 MiB
/// each).
pub const PHOTOS_PER_MINUTE: f64 = 60.0;
/// Status look-ups one client may make in a burst, and the refill: enough to
/// check a handful of codes, far too few to guess any.
const LOOKUP_BURST: f64 = 30.0;
const LOOKUPS_PER_SECOND: f64 = 0.5;
/// The most buckets kept: at this many, the full ones (which say nothing a
/// new bucket would not) are forgotten, and if every one is still in use, a
/// new client shares one overflow allowance with every other newcomer of its
/// kind until a place is free. Memory stays bounded under a flood from any
/// number of addresses, and newcomers are slowed, never shut out.
pub const MAX_BUCKETS: usize = 20_000;
/// How many clients' allowances an overflow allowance is worth.
const OVERFLOW_SCALE: f64 = 20.0;

/// Whole seconds until a bucket holding `tokens` has one to give.
fn wait(tokens: f64, per_second: f64) -> u64 {
    ((1.0 - tokens) / per_second).ceil().max(1.0) as u64
}

/// Whose allowance a request draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Device(i64),
    /// Pairing attempts, shared by everyone.
    Pairing,
    /// Pairing attempts from one client.
    PairingFrom(ClientKey),
    /// Reports from everyone together.
    AllReports,
    /// Reports sent from one client (see [`RateLimits::client`]).
    Reports(ClientKey),
    /// Status look-ups from one client.
    Lookups(ClientKey),
    /// Residents' photos from everyone together.
    AllPhotos,
    /// Residents' photos from one client.
    Photos(ClientKey),
    /// What newcomers of one kind share while the table is full.
    Overflow(Kind),
}

/// The kinds of per-client allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Pairing,
    Reports,
    Lookups,
    Photos,
}

impl Bucket {
    /// The kind, for a per-client bucket.
    fn per_client(self) -> Option<Kind> {
        match self {
            Bucket::PairingFrom(_) => Some(Kind::Pairing),
            Bucket::Reports(_) => Some(Kind::Reports),
            Bucket::Lookups(_) => Some(Kind::Lookups),
            Bucket::Photos(_) => Some(Kind::Photos),
            _ => None,
        }
    }
}

/// A client's address hashed with the process's salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey(u64);

pub struct RateLimits {
    buckets: Mutex<HashMap<Bucket, (f64, Instant)>>,
    /// Random per process: client addresses are hashed with it.
    salt: [u8; 16],
    /// A device's allowance.
    burst: f64,
    per_second: f64,
    /// Multiplies the public allowances (pairing, reports, look-ups).
    public_scale: f64,
}

impl RateLimits {
    pub fn new(burst: f64, per_second: f64, public_scale: f64) -> Self {
        RateLimits {
            buckets: Mutex::new(HashMap::new()),
            salt: random_bytes(),
            burst,
            per_second,
            public_scale,
        }
    }

    /// A client's key. The address itself is neither stored nor logged.
    pub fn client(&self, ip: Option<IpAddr>) -> ClientKey {
        let ip = ip.map(|ip| limited_as(ip).to_string()).unwrap_or_default();
        let digest = Sha256::new()
            .chain_update(self.salt)
            .chain_update(ip.as_bytes())
            .finalize();
        ClientKey(u64::from_le_bytes(
            digest[..8].try_into().unwrap_or_default(),
        ))
    }

    /// How many requests a bucket allows in a burst, and how fast it refills.
    fn allowance(&self, bucket: Bucket) -> (f64, f64) {
        let (burst, per_second) = match bucket {
            Bucket::Device(_) => return (self.burst, self.per_second),
            Bucket::Pairing => (PAIR_ATTEMPTS_PER_MINUTE, PAIR_ATTEMPTS_PER_MINUTE / 60.0),
            Bucket::PairingFrom(_) => (CLIENT_PAIR_BURST, CLIENT_PAIRS_PER_SECOND),
            Bucket::AllReports => (REPORTS_PER_MINUTE, REPORTS_PER_MINUTE / 60.0),
            Bucket::Reports(_) => (REPORT_BURST, REPORTS_PER_SECOND),
            Bucket::Lookups(_) => (LOOKUP_BURST, LOOKUPS_PER_SECOND),
            Bucket::AllPhotos => (PHOTOS_PER_MINUTE, PHOTOS_PER_MINUTE / 60.0),
            Bucket::Photos(_) => (PHOTO_BURST, PHOTOS_PER_SECOND),
            Bucket::Overflow(kind) => {
                let (burst, per_second) = match kind {
                    Kind::Pairing => (CLIENT_PAIR_BURST, CLIENT_PAIRS_PER_SECOND),
                    Kind::Reports => (REPORT_BURST, REPORTS_PER_SECOND),
                    Kind::Lookups => (LOOKUP_BURST, LOOKUPS_PER_SECOND),
                    Kind::Photos => (PHOTO_BURST, PHOTOS_PER_SECOND),
                };
                (burst * OVERFLOW_SCALE, per_second * OVERFLOW_SCALE)
            }
        };
        (burst * self.public_scale, per_second * self.public_scale)
    }

    /// Whether the bucket has a request to give, without taking it: 429
    /// with how long to wait if not.
    pub fn check(&self, bucket: Bucket) -> Result<(), ApiError> {
        let (burst, per_second) = self.allowance(bucket);
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let tokens = buckets.get(&bucket).map_or(burst, |(tokens, last)| {
            (*tokens + last.elapsed().as_secs_f64() * per_second).min(burst)
        });
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(ApiError::too_many(wait(tokens, per_second)))
        }
    }

    /// Takes one request from the bucket's allowance, or answers 429 with
    /// how long to wait.
    pub fn take(&self, bucket: Bucket) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut bucket = bucket;
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&bucket) {
            // A bucket that has refilled completely is the same as none.
            buckets.retain(|key, (tokens, last)| {
                let (burst, per_second) = self.allowance(*key);
                *tokens + now.duration_since(*last).as_secs_f64() * per_second < burst
            });
            if let Some(kind) = bucket.per_client().filter(|_| buckets.len() >= MAX_BUCKETS) {
                bucket = Bucket::Overflow(kind);
            }
        }
        let (burst, per_second) = self.allowance(bucket);
        let (tokens, last) = buckets.entry(bucket).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(ApiError::too_many(wait(*tokens, per_second)))
        }
    }

    /// Gives back a request `take` counted that cost nothing: a report sent
    /// again because its answer was lost, which the server already held.
    pub fn give_back(&self, bucket: Bucket) {
        let (burst, _) = self.allowance(bucket);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((tokens, _)) = buckets.get_mut(&bucket) {
            *tokens = (*tokens + 1.0).min(burst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_stays_bounded_under_a_flood_from_any_number_of_addresses() {
        let limits = RateLimits::new(BURST, REFILL_PER_SECOND, 1.0);
        for i in 0..(MAX_BUCKETS as u64 + 500) {
            let client = ClientKey(i);
            let _ = limits.take(Bucket::Reports(client));
        }
        let held = limits.buckets.lock().unwrap().len();
        // Past the bound, only the shared overflow allowances are added.
        assert!(held <= MAX_BUCKETS + 3, "{held} buckets");
        // The councillor's device and the shared buckets are never refused
        // a place; a newcomer shares the overflow allowance.
        assert!(limits.take(Bucket::Device(1)).is_ok());
        assert!(limits.take(Bucket::Lookups(ClientKey(u64::MAX))).is_ok());
        assert!(limits
            .buckets
            .lock()
            .unwrap()
            .contains_key(&Bucket::Overflow(Kind::Lookups)));
    }

    #[test]
    fn one_client_cannot_use_up_everyone_s_pairing_attempts() {
        let limits = RateLimits::new(BURST, REFILL_PER_SECOND, 1.0);
        let guesser = limits.client(Some("203.0.113.9".parse().unwrap()));
        let councillor = limits.client(Some("198.51.100.1".parse().unwrap()));
        let mut refused = 0;
        for _ in 0..100 {
            if limits.take(Bucket::PairingFrom(guesser)).is_err() {
                refused += 1;
                continue;
            }
            limits.take(Bucket::Pairing).unwrap();
        }
        assert_eq!(refused, 100 - CLIENT_PAIR_BURST as usize);
        assert!(limits.take(Bucket::PairingFrom(councillor)).is_ok());
        assert!(limits.take(Bucket::Pairing).is_ok());
    }
}
