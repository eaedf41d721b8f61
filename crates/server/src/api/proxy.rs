//! Who a request comes from when a reverse proxy (Caddy, nginx) stands in
//! front: the proxy's own address is not the resident's. `X-Forwarded-For`
//! is believed only from a trusted proxy, and only as far as the first
//! address no trusted proxy added: anyone can write the header, so a forged
//! value from elsewhere is never read.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// An address range such as `10.0.0.0/8`, `127.0.0.1` or `fd00::/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an address range such as 10.0.0.0/8 or fd00::/8")]
pub struct NotACidr(String);

impl FromStr for Cidr {
    type Err = NotACidr;

    fn from_str(text: &str) -> Result<Cidr, NotACidr> {
        let bad = || NotACidr(text.to_owned());
        let (addr, prefix) = text.split_once('/').unwrap_or((text, ""));
        let network: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let network = network.to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            bits
        } else {
            prefix.trim().parse().map_err(|_| bad())?
        };
        if prefix > bits {
            return Err(bad());
        }
        Ok(Cidr { network, prefix })
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if ip.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let shift = width - u32::from(self.prefix);
        shift >= 128 || (bits(ip) >> shift) == (bits(self.network) >> shift)
    }
}

/// The client's address: the connection's peer, or, when the peer is a
/// trusted proxy, the right-most `X-Forwarded-For` address that is not one.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in forwarded.into_iter().rev() {
        // Garbage in the header: stop at the last address known good.
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// What a client's rate limits are kept under: its IPv4 address, or the /64
/// its IPv6 address is in (one household or phone gets a whole /64, so
/// counting single IPv6 addresses would let it rotate freely).
pub fn limited_as(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn ranges_hold_what_they_say() {
        let local: Cidr = "127.0.0.0/8".parse().unwrap();
        assert!(local.contains(ip("127.1.2.3")));
        assert!(local.contains(ip("::ffff:127.0.0.1")), "IPv4 as IPv6");
        assert!(!local.contains(ip("128.0.0.1")));
        assert!(!local.contains(ip("::1")));
        let one: Cidr = "10.1.2.3".parse().unwrap();
        assert!(one.contains(ip("10.1.2.3")) && !one.contains(ip("10.1.2.4")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let everyone: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(everyone.contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "fd00::/129", "ten", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_proxy() {
        let trusted: Vec<Cidr> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let from = forwarded(&["203.0.113.7"]);
        // Not through a trusted proxy: the header is anyone's forgery.
        assert_eq!(
            client_ip(ip("198.51.100.4"), &from, &trusted),
            ip("198.51.100.4")
        );
        // Through the proxy: the resident's address.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &from, &trusted),
            ip("203.0.113.7")
        );
        // A forged left part is skipped: the right-most untrusted address
        // is the one the proxy saw.
        let chained = forwarded(&["6.6.6.6, 203.0.113.7", "10.0.0.5"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chained, &trusted),
            ip("203.0.113.7")
        );
        // No header, or nothing usable: the proxy itself (or the last
        // address known good).
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
        let garbage = forwarded(&["203.0.113.7, not-an-address"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &garbage, &trusted),
            ip("127.0.0.1")
        );
        // With no trusted proxy at all, the header never counts.
        assert_eq!(client_ip(ip("127.0.0.1"), &from, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        assert_eq!(limited_as(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            limited_as(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            limited_as(ip("2001:db8:1:2::7"))
        );
        assert_ne!(
            limited_as(ip("2001:db8:1:3::1")),
            limited_as(ip("2001:db8:1:2::1"))
        );
        assert_eq!(limited_as(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(limited_as(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
    }
}
