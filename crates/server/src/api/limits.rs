//! Rate limits: token buckets held in memory only, per paired device, per
//! client for the public endpoints (its address hashed with a per-process
//! salt, so no address is kept, even in memory), and shared ceilings for
//! everyone together. Pairing attempts are kept in a table of their own, so
//! a flood of them crowds out no one's reports or look-ups. Past a shared
//! ceiling, a request that answers a puzzle is let in all the same
//! (`api::puzzles`).

use std::collections::{HashMap, VecDeque};
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
/// Residents' photos accepted from everyone together: a burst of 60 (a busy
/// evening's reports, each with its photos), then 240 an hour. The ceiling
/// on the disk a flood from many addresses can fill (at most 2 MiB each):
/// past it, each photo costs the sender a puzzle.
pub const PHOTO_BURST_ALL: f64 = 60.0;
pub const PHOTOS_PER_HOUR: f64 = 240.0;
/// Status look-ups and requests for erasure from everyone together: each is
/// a query on the one database connection, so a flood of them from many
/// addresses is held here, far above what a ward's residents make.
const ALL_LOOKUPS_BURST: f64 = 300.0;
const ALL_LOOKUPS_PER_SECOND: f64 = 20.0;
/// Status look-ups one client may make in a burst, and the refill: enough to
/// check a handful of codes, far too few to guess any.
const LOOKUP_BURST: f64 = 30.0;
const LOOKUPS_PER_SECOND: f64 = 0.5;
/// The most buckets kept in a table: at this many, a newcomer takes the
/// place of one of the longest-kept buckets that has filled up again (which
/// says nothing a new bucket would not), looking at a few only, never the
/// whole table; if none has, it shares one overflow allowance with every
/// other newcomer of its kind until a place is free. Memory stays bounded
/// under a flood from any number of addresses, and newcomers are slowed,
/// never shut out.
pub const MAX_BUCKETS: usize = 20_000;
/// How many of the longest-kept buckets a newcomer looks at for a place.
const LOOK_AT: usize = 16;
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
    /// Status look-ups and requests for erasure from everyone together.
    AllLookups,
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

    /// Whether the bucket is kept in the pairing table.
    fn pairing(self) -> bool {
        matches!(
            self,
            Bucket::Pairing | Bucket::PairingFrom(_) | Bucket::Overflow(Kind::Pairing)
        )
    }
}

/// Buckets, and the order they were first kept in.
#[derive(Default)]
struct Table {
    buckets: HashMap<Bucket, (f64, Instant)>,
    kept: VecDeque<Bucket>,
}

/// A client's address hashed with the process's salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey(u64);

pub struct RateLimits {
    buckets: Mutex<Table>,
    pairing: Mutex<Table>,
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
            buckets: Mutex::default(),
            pairing: Mutex::default(),
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
            Bucket::AllLookups => (ALL_LOOKUPS_BURST, ALL_LOOKUPS_PER_SECOND),
            Bucket::Reports(_) => (REPORT_BURST, REPORTS_PER_SECOND),
            Bucket::Lookups(_) => (LOOKUP_BURST, LOOKUPS_PER_SECOND),
            Bucket::AllPhotos => (PHOTO_BURST_ALL, PHOTOS_PER_HOUR / 3600.0),
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

    fn table(&self, bucket: Bucket) -> std::sync::MutexGuard<'_, Table> {
        let table = if bucket.pairing() {
            &self.pairing
        } else {
            &self.buckets
        };
        table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the bucket has a request to give, without taking it: 429
    /// with how long to wait if not.
    pub fn check(&self, bucket: Bucket) -> Result<(), ApiError> {
        let (burst, per_second) = self.allowance(bucket);
        let table = self.table(bucket);
        let tokens = table.buckets.get(&bucket).map_or(burst, |(tokens, last)| {
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
        let mut table = self.table(bucket);
        let mut bucket = bucket;
        if table.buckets.len() >= MAX_BUCKETS && !table.buckets.contains_key(&bucket) {
            let freed = self.free_a_place(&mut table, now);
            if let Some(kind) = bucket.per_client().filter(|_| !freed) {
                bucket = Bucket::Overflow(kind);
            }
        }
        let (burst, per_second) = self.allowance(bucket);
        let table = &mut *table;
        let (tokens, last) = table.buckets.entry(bucket).or_insert_with(|| {
            table.kept.push_back(bucket);
            (burst, now)
        });
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(ApiError::too_many(wait(*tokens, per_second)))
        }
    }

    /// Forgets one of the longest-kept buckets that has filled up again,
    /// looking at [`LOOK_AT`] at most; those still in use go to the back.
    fn free_a_place(&self, table: &mut Table, now: Instant) -> bool {
        for _ in 0..LOOK_AT {
            let Some(key) = table.kept.pop_front() else {
                return false;
            };
            let Some((tokens, last)) = table.buckets.get(&key) else {
                continue;
            };
            let (burst, per_second) = self.allowance(key);
            if *tokens + now.duration_since(*last).as_secs_f64() * per_second >= burst {
                table.buckets.remove(&key);
                return true;
            }
            table.kept.push_back(key);
        }
        false
    }

    /// Gives back a request `take` counted that cost nothing: a report sent
    /// again because its answer was lost, which the server already held.
    pub fn give_back(&self, bucket: Bucket) {
        let (burst, _) = self.allowance(bucket);
        if let Some((tokens, _)) = self.table(bucket).buckets.get_mut(&bucket) {
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
        let held = limits.buckets.lock().unwrap().buckets.len();
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
            .buckets
            .contains_key(&Bucket::Overflow(Kind::Lookups)));
    }

    #[test]
    fn a_flood_of_pairing_attempts_crowds_out_no_one_s_look_ups() {
        let limits = RateLimits::new(BURST, REFILL_PER_SECOND, 1.0);
        for i in 0..(MAX_BUCKETS as u64 + 500) {
            let _ = limits.take(Bucket::PairingFrom(ClientKey(i)));
        }
        let resident = ClientKey(u64::MAX);
        assert!(limits.take(Bucket::Lookups(resident)).is_ok());
        assert!(
            limits
                .buckets
                .lock()
                .unwrap()
                .buckets
                .contains_key(&Bucket::Lookups(resident)),
            "the resident has an allowance of its own, not the overflow"
        );
    }

    #[test]
    fn a_full_table_makes_room_from_buckets_that_filled_up_again() {
        let limits = RateLimits::new(BURST, REFILL_PER_SECOND, 1.0);
        // A full table of clients that looked once: their buckets still
        // hold one request less than full, so none can go yet.
        for i in 0..MAX_BUCKETS as u64 {
            limits.take(Bucket::Lookups(ClientKey(i))).unwrap();
        }
        let newcomer = ClientKey(u64::MAX);
        limits.take(Bucket::Lookups(newcomer)).unwrap();
        assert!(!limits
            .buckets
            .lock()
            .unwrap()
            .buckets
            .contains_key(&Bucket::Lookups(newcomer)));
        // Two seconds on, the first have filled up again (half a look-up a
        // second): the next newcomer takes one's place.
        {
            let mut table = limits.buckets.lock().unwrap();
            let earlier = Instant::now() - std::time::Duration::from_secs(3);
            for (_, (_, last)) in table.buckets.iter_mut() {
                *last = earlier;
            }
        }
        let next = ClientKey(u64::MAX - 1);
        limits.take(Bucket::Lookups(next)).unwrap();
        let table = limits.buckets.lock().unwrap();
        assert!(table.buckets.contains_key(&Bucket::Lookups(next)));
        assert!(table.buckets.len() <= MAX_BUCKETS + 1);
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
