//! Who is let in: every connection holds a [`Ticket`] from the moment it is
//! accepted (in TLS mode, before its handshake), so the server never has
//! more open than it has room for. One client (an IPv4 address, or an IPv6
//! /64) holds at most so many; when the server or a client is full, the
//! connection idle the longest makes way for the newcomer, so no one can
//! hold the door shut by opening connections and sending nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::api::proxy::{limited_as, Cidr};

/// The connections let in, and how many each client holds.
pub struct Door {
    /// Open at once, pending handshakes included.
    room: usize,
    /// Open at once from one client, unless it is a trusted proxy.
    per_client: usize,
    /// Proxies that speak for many clients: no per-client cap.
    trusted: Vec<Cidr>,
    opened: Instant,
    inside: Mutex<Inside>,
}

#[derive(Default)]
struct Inside {
    next: u64,
    guests: HashMap<u64, Arc<Guest>>,
    per_client: HashMap<IpAddr, usize>,
}

/// One connection, as the door sees it.
pub struct Guest {
    client: IpAddr,
    /// When bytes last moved, in milliseconds since the door opened.
    last: AtomicU64,
    /// Requests being answered on it now.
    busy: AtomicUsize,
    shed: AtomicBool,
    leave: Notify,
    opened: Instant,
}

impl Guest {
    /// Bytes moved: the connection is in use.
    pub fn moved(&self) {
        self.last
            .store(self.opened.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// A request is being answered until the returned guard is dropped:
    /// a connection waiting on the server is not idle.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Resolves when the door asks this connection to make way.
    pub async fn asked_to_leave(&self) {
        self.leave.notified().await;
    }
}

/// A request in progress on a connection.
pub struct Busy(Arc<Guest>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.moved();
    }
}

/// A connection's place inside; dropping it frees the place.
pub struct Ticket {
    door: Arc<Door>,
    id: u64,
    pub guest: Arc<Guest>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut inside = self.door.lock();
        inside.guests.remove(&self.id);
        if let Some(held) = inside.per_client.get_mut(&self.guest.client) {
            *held -= 1;
            if *held == 0 {
                inside.per_client.remove(&self.guest.client);
            }
        }
    }
}

impl Door {
    pub fn new(room: usize, per_client: usize, trusted: Vec<Cidr>) -> Arc<Door> {
        Arc::new(Door {
            room: room.max(1),
            per_client: per_client.max(1),
            trusted,
            opened: Instant::now(),
            inside: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inside> {
        self.inside.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a connection from `peer` in, asking the longest-idle connection
    /// of the same client (when it holds its share) or of anyone (when the
    /// server is full) to make way. `None` when every connection that would
    /// have to make way is answering a request: the newcomer is closed.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Ticket> {
        let client = limited_as(peer);
        let capped = !self.trusted.iter().any(|cidr| cidr.contains(peer));
        let mut inside = self.lock();
        let held = inside.per_client.get(&client).copied().unwrap_or(0);
        if capped && held >= self.per_client {
            // A client at its share makes way itself, busy or not: no one
            // person needs this many.
            shed_longest_idle(&inside, |g| g.client == client)
                .or_else(|| shed_longest_quiet(&inside, |g| g.client == client))?;
        } else if inside.guests.len() >= self.room {
            // Full: the longest idle goes; if every connection is answering
            // (bodies trickling in, say), one of the client holding the most
            // does, so a few clients at their share cannot shut out everyone.
            shed_longest_idle(&inside, |_| true).or_else(|| {
                let hog = inside
                    .per_client
                    .iter()
                    .filter(|(_, held)| **held > FAIR_SHARE)
                    .max_by_key(|(_, held)| **held)
                    .map(|(hog, _)| *hog)?;
                shed_longest_quiet(&inside, |g| g.client == hog)
            })?;
        }
        inside.next += 1;
        let id = inside.next;
        let guest = Arc::new(Guest {
            client,
            last: AtomicU64::new(self.opened.elapsed().as_millis() as u64),
            busy: AtomicUsize::new(0),
            shed: AtomicBool::new(false),
            leave: Notify::new(),
            opened: self.opened,
        });
        inside.guests.insert(id, guest.clone());
        *inside.per_client.entry(client).or_default() += 1;
        Some(Ticket {
            door: self.clone(),
            id,
            guest,
        })
    }

    /// Connections open now (pending handshakes included).
    pub fn open(&self) -> usize {
        self.lock().guests.len()
    }
}

/// More connections than one person's browser opens: past it, a client
/// answering on every one may still be asked to give one up.
const FAIR_SHARE: usize = 8;

/// Asks the connection idle the longest among those `which` picks (and not
/// already asked, and not answering a request) to make way.
fn shed_longest_idle(inside: &Inside, which: impl Fn(&Guest) -> bool) -> Option<()> {
    shed_longest_quiet(inside, |g| which(g) && g.busy.load(Ordering::Relaxed) == 0)
}

/// Asks the connection among those `which` picks (and not already asked)
/// whose bytes last moved longest ago to make way, answering or not.
fn shed_longest_quiet(inside: &Inside, which: impl Fn(&Guest) -> bool) -> Option<()> {
    let guest = inside
        .guests
        .values()
        .filter(|g| which(g) && !g.shed.load(Ordering::Relaxed))
        .min_by_key(|g| g.last.load(Ordering::Relaxed))?;
    guest.shed.store(true, Ordering::Relaxed);
    // A permit is kept if the connection is not waiting yet.
    guest.leave.notify_one();
    Some(())
}

/// A warning said at most once in a while, with how many were held back:
/// a flood must not fill the log.
pub struct Hushed {
    every: Duration,
    said: Mutex<(Option<Instant>, u64)>,
}

impl Hushed {
    pub const fn new(every: Duration) -> Hushed {
        Hushed {
            every,
            said: Mutex::new((None, 0)),
        }
    }

    /// Logs `what` unless it was logged less than `every` ago.
    pub fn warn(&self, what: impl std::fmt::Display) {
        let mut said = self.said.lock().unwrap_or_else(|e| e.into_inner());
        match said.0 {
            Some(at) if at.elapsed() < self.every => said.1 += 1,
            _ => {
                if said.1 > 0 {
                    tracing::warn!("{what} (and {} more like it)", said.1);
                } else {
                    tracing::warn!("{what}");
                }
                *said = (Some(Instant::now()), 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_at_its_share_makes_way_from_its_own_longest_idle() {
        let door = Door::new(10, 2, vec![]);
        let first = door.admit(ip("192.0.2.1")).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let second = door.admit(ip("192.0.2.1")).unwrap();
        second.guest.moved();
        let other = door.admit(ip("192.0.2.2")).unwrap();
        let third = door.admit(ip("192.0.2.1")).unwrap();
        assert!(first.guest.shed.load(Ordering::Relaxed));
        assert!(!second.guest.shed.load(Ordering::Relaxed));
        assert!(!other.guest.shed.load(Ordering::Relaxed));
        assert!(!third.guest.shed.load(Ordering::Relaxed));
        drop(first);
        assert_eq!(door.open(), 3);
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_trusted_proxy_has_no_share() {
        let door = Door::new(10, 1, vec!["127.0.0.1".parse().unwrap()]);
        let a = door.admit(ip("2001:db8::1")).unwrap();
        let _b = door.admit(ip("2001:db8::2")).unwrap();
        assert!(a.guest.shed.load(Ordering::Relaxed), "the same /64");
        let proxied: Vec<_> = (0..5)
            .map(|_| door.admit(ip("127.0.0.1")).unwrap())
            .collect();
        assert!(proxied
            .iter()
            .all(|t| !t.guest.shed.load(Ordering::Relaxed)));
    }

    #[test]
    fn a_full_server_sheds_the_longest_idle_and_never_a_busy_one() {
        let door = Door::new(2, 5, vec![]);
        let busy = door.admit(ip("192.0.2.1")).unwrap();
        let _answering = busy.guest.busy();
        let idle = door.admit(ip("192.0.2.2")).unwrap();
        let _new = door.admit(ip("192.0.2.3")).unwrap();
        assert!(idle.guest.shed.load(Ordering::Relaxed));
        assert!(!busy.guest.shed.load(Ordering::Relaxed));
        // Every one left is busy or already leaving, and no client holds
        // more than its fair share: the newcomer is refused.
        let busy_too = _new.guest.busy();
        assert!(door.admit(ip("192.0.2.4")).is_none());
        drop(busy_too);
    }

    #[test]
    fn a_client_keeping_many_connections_busy_gives_one_up_to_a_newcomer() {
        let door = Door::new(12, 64, vec![]);
        let hogs: Vec<_> = (0..12)
            .map(|_| {
                let ticket = door.admit(ip("192.0.2.66")).unwrap();
                let busy = ticket.guest.busy();
                (ticket, busy)
            })
            .collect();
        let newcomer = door.admit(ip("198.51.100.1"));
        assert!(newcomer.is_some(), "let in");
        assert_eq!(
            hogs.iter()
                .filter(|(t, _)| t.guest.shed.load(Ordering::Relaxed))
                .count(),
            1
        );
    }
}
