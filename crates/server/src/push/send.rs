//! Sends the notifications triage queued: each sealed for its browser and
//! signed with the server's VAPID key, POSTed to the push service the
//! browser named, over HTTPS only. A service that says the subscription is
//! gone (404, 410) has it removed; other failures are tried again later, a
//! few times. Nothing here holds up a triage answer: the queue is the
//! database's, and this runs beside the server.
//!
//! A subscription is anyone's to send, so where it points is checked before
//! anything is sent: a public push service on port 443, trusted by the
//! public roots; or one on the server's own network only if the host named
//! its root (`--push-root`), and trusted by that root alone. No endpoint is
//! ever logged: it is the address of one resident's phone.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_rustls::TlsConnector;

use super::{seal, Keys, VapidKey};
use crate::store::{DuePush, PushOutcome, Store};

/// How long a notification waits at the push service for a phone that is
/// off: two days. One still unsent after that is dropped.
pub const TTL_SECONDS: u32 = 2 * 24 * 60 * 60;
/// Tries before a notification is given up on.
pub const MAX_ATTEMPTS: i32 = 5;
/// The first wait before trying again; it doubles each time.
const FIRST_RETRY: Duration = Duration::from_secs(30);
/// How long one try may take, connecting included.
const TRY_FOR: Duration = Duration::from_secs(15);
/// How long a server keeps the notifications it took before another may
/// take them (it died meanwhile).
const CLAIM_FOR: Duration = Duration::from_secs(120);
/// How often the queue is looked at with nothing to wake the sender (a
/// retry falling due, or another server's triage).
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// How many notifications go at once.
const AT_ONCE: usize = 16;
/// What VAPID's `sub` says when the host set no contact.
pub const NO_CONTACT: &str = "mailto:beatbook@localhost";

/// How the server sends.
#[derive(Clone)]
pub struct Sender {
    /// Whom the push services may contact (VAPID's `sub`): a `mailto:` or
    /// `https:` address the host sets.
    pub contact: String,
    /// For push services on public addresses: the public roots.
    public_tls: Arc<ClientConfig>,
    /// For a private push service: only the root the host named. `None`:
    /// no private address is ever contacted.
    private_tls: Option<Arc<ClientConfig>>,
}

impl Sender {
    /// `private_root`: a PEM file of a private push service's root (the
    /// tests' stand-in; a council's own push relay).
    pub fn new(contact: Option<String>, private_root: Option<&std::path::Path>) -> Result<Sender> {
        let contact = match contact {
            Some(c) if c.starts_with("mailto:") || c.starts_with("https://") => c,
            Some(c) => bail!("the push contact must be a mailto: or https: address, not {c:?}"),
            // The server says so when it starts.
            None => NO_CONTACT.to_owned(),
        };
        Ok(Sender {
            contact,
            public_tls: crate::serve::acme::https_client(true, None)?,
            private_tls: private_root
                .map(|root| crate::serve::acme::https_client(false, Some(root)))
                .transpose()?,
        })
    }

    /// Sends what is due, whenever it falls due, until the task is dropped.
    /// `wake` is notified after each triage, so that a notification goes
    /// within moments rather than at the next look.
    pub async fn run(self, store: Arc<dyn Store>, wake: Arc<Notify>) {
        let key = loop {
            let store = store.clone();
            match tokio::task::spawn_blocking(move || VapidKey::kept(store.as_ref())).await {
                Ok(Ok(Some(key))) => break key,
                Ok(Ok(None)) => {
                    tracing::error!(
                        "the kept push key is not a P-256 key: no notifications are sent"
                    );
                    return;
                }
                Ok(Err(e)) => tracing::warn!("cannot read the push key: {e}"),
                Err(e) => tracing::warn!("cannot read the push key: {e}"),
            }
            tokio::time::sleep(LOOK_EVERY).await;
        };
        loop {
            let claim = chrono::Duration::from_std(CLAIM_FOR).unwrap_or_default();
            let taken = {
                let store = store.clone();
                tokio::task::spawn_blocking(move || store.due_pushes(Utc::now(), claim, AT_ONCE))
                    .await
            };
            let due = match taken {
                Ok(Ok(due)) => due,
                Ok(Err(e)) => {
                    tracing::warn!("cannot read the notifications due: {e}");
                    Vec::new()
                }
                Err(_) => Vec::new(),
            };
            if due.is_empty() {
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(LOOK_EVERY) => {}
                }
                continue;
            }
            let tries = due.into_iter().map(|push| {
                let (sender, key, store) = (self.clone(), key.clone(), store.clone());
                async move {
                    let outcome = sender.deliver(&key, &push).await;
                    record(store, push, outcome).await;
                }
            });
            futures_util::future::join_all(tries).await;
        }
    }

    /// One try at one notification, and what came of it.
    pub async fn deliver(&self, key: &VapidKey, push: &DuePush) -> PushOutcome {
        let retry_or_give_up = |why: &str| {
            let attempt = push.attempts + 1;
            if attempt >= MAX_ATTEMPTS {
                tracing::warn!("a notification was given up after {attempt} tries: {why}");
                return PushOutcome::GaveUp;
            }
            let wait = FIRST_RETRY * 2u32.saturating_pow(u32::try_from(push.attempts).unwrap_or(0));
            tracing::info!(
                "a notification could not be sent ({why}); trying again in {} s",
                wait.as_secs()
            );
            PushOutcome::Retry(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default())
        };
        let Ok(keys) = Keys::parse(&push.p256dh, &push.auth) else {
            return PushOutcome::Gone;
        };
        let Ok(body) = seal(push.payload.as_bytes(), &keys) else {
            return PushOutcome::GaveUp;
        };
        let Some(target) = Target::of(&push.endpoint) else {
            return PushOutcome::Gone;
        };
        let expires = (Utc::now() + chrono::Duration::hours(12)).timestamp();
        let request = Outgoing {
            authorization: key.authorization(&target.origin, expires, &self.contact),
            topic: topic_of(&push.code),
            body,
        };
        match tokio::time::timeout(TRY_FOR, self.post(&target, request)).await {
            Ok(Ok(status)) => match status {
                200..=299 => PushOutcome::Sent,
                404 | 410 => PushOutcome::Gone,
                413 => PushOutcome::GaveUp,
                429 | 500..=599 => retry_or_give_up(&format!("the push service answered {status}")),
                _ => {
                    tracing::warn!("a push service refused a notification ({status})");
                    PushOutcome::GaveUp
                }
            },
            Ok(Err(Refusal::Private)) => PushOutcome::Gone,
            Ok(Err(Refusal::Failed(e))) => retry_or_give_up(&format!("{e:#}")),
            Err(_) => retry_or_give_up("no answer in time"),
        }
    }

    /// Where a target may be reached, and how: refused when it points into
    /// the server's own network with no private root named, or to a public
    /// address on another port than 443.
    fn tls_for(
        &self,
        target: &Target,
        addresses: &[std::net::SocketAddr],
    ) -> Result<Arc<ClientConfig>, Refusal> {
        if addresses.iter().any(|a| is_private(a.ip())) {
            return self.private_tls.clone().ok_or(Refusal::Private);
        }
        if target.port != 443 {
            return Err(Refusal::Private);
        }
        Ok(self.public_tls.clone())
    }

    async fn post(&self, target: &Target, outgoing: Outgoing) -> Result<u16, Refusal> {
        let addresses: Vec<_> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .context("the push service's name does not resolve")?
            .collect();
        let tls = self.tls_for(target, &addresses)?;
        // Each checked address in turn (the first may be one this machine
        // cannot reach, such as IPv6 on an IPv4-only host).
        let mut why = anyhow::anyhow!("the push service's name has no address");
        let mut tcp = None;
        for address in &addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(e) => why = anyhow::Error::new(e).context("cannot connect to the push service"),
            }
        }
        let tcp = tcp.ok_or(why)?;
        let name = ServerName::try_from(target.host.clone()).context("not a host name")?;
        let tls = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .context("the push service's certificate is not trusted")?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .context("the push service did not speak HTTP")?;
        // Ended with this try, however it ends.
        let _connection = AbortOnDrop(tokio::spawn(connection));
        let request = Request::post(&target.path)
            .header("host", target.authority())
            .header("ttl", TTL_SECONDS)
            .header("topic", outgoing.topic)
            .header("urgency", "normal")
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("content-length", outgoing.body.len())
            .header("authorization", outgoing.authorization)
            .body(Full::new(Bytes::from(outgoing.body)))
            .context("the request could not be made")?;
        let answer = sender
            .send_request(request)
            .await
            .context("the push service did not answer")?;
        Ok(answer.status().as_u16())
    }
}

/// One notification as it goes: the signed claim, its topic and its body.
struct Outgoing {
    authorization: String,
    topic: String,
    body: Vec<u8>,
}

/// RFC 8030's `Topic` for a report's notices (at most 32 base64url
/// letters): a newer one replaces one still waiting at the push service.
fn topic_of(code: &str) -> String {
    let topic: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect();
    if topic.is_empty() {
        "report".to_owned()
    } else {
        topic
    }
}

/// Why a try did not reach the push service.
enum Refusal {
    /// The endpoint points where the server does not send.
    Private,
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Refusal {
        Refusal::Failed(e)
    }
}

/// A task ended when its handle goes.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), hyper::Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps what came of a try, trying the store a few times: an outcome lost
/// would send a notification twice, or keep one that is gone.
async fn record(store: Arc<dyn Store>, push: DuePush, outcome: PushOutcome) {
    let push = Arc::new(push);
    for attempt in 1..=3 {
        let (store, push) = (store.clone(), push.clone());
        match tokio::task::spawn_blocking(move || store.pushed(&push, outcome)).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => tracing::warn!(
                "could not record a notification's outcome (try {attempt} of 3): {e}"
            ),
            Err(e) => tracing::warn!(
                "could not record a notification's outcome (try {attempt} of 3): {e}"
            ),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Where a subscription's endpoint points: an `https` URL only.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The path and query to POST to.
    pub path: String,
    /// `https://host[:port]`, the JWT's audience, as browsers write an
    /// origin (the host in lower case, no default port).
    pub origin: String,
}

/// The longest endpoint kept: push services' are a few hundred characters.
pub const MAX_ENDPOINT_CHARS: usize = 1024;

impl Target {
    pub fn of(endpoint: &str) -> Option<Target> {
        if endpoint.len() > MAX_ENDPOINT_CHARS {
            return None;
        }
        let uri: hyper::Uri = endpoint.parse().ok()?;
        if uri.scheme_str() != Some("https") {
            return None;
        }
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        // A port given must be one (`:99999`, `:abc` and `:` are not).
        let after_host = &authority.as_str()[authority.host().len()..];
        if !after_host.is_empty() && authority.port_u16().is_none() {
            return None;
        }
        let shown = authority.host().to_ascii_lowercase();
        let host = shown
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return None;
        }
        let port = authority.port_u16().unwrap_or(443);
        let origin = match port {
            443 => format!("https://{shown}"),
            p => format!("https://{shown}:{p}"),
        };
        Some(Target {
            host,
            port,
            path: uri
                .path_and_query()
                .map_or("/".to_owned(), |p| p.as_str().to_owned()),
            origin,
        })
    }

    fn authority(&self) -> String {
        self.origin.trim_start_matches("https://").to_owned()
    }
}

/// Anything but a public unicast address: the server's own network
/// (loopback, private, link-local, carrier-grade NAT), reserved ranges, and
/// IPv6 outside global unicast (2000::/3), with the IPv4 address inside a
/// mapped or 6to4 address checked as itself; NAT64 (which reaches IPv4
/// hosts from an IPv6-only network) is never sent to.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || a == 0
                || a >= 240
                // 100.64.0.0/10, carrier-grade NAT.
                || (a == 100 && (b & 0xc0) == 64)
                // 192.0.0.0/24, protocol assignments; 198.18.0.0/15, benchmarks.
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b & 0xfe) == 18)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // 64:ff9b::/96 and 64:ff9b:1::/48, NAT64: another host's IPv4.
            if s[0] == 0x64 && s[1] == 0xff9b {
                return true;
            }
            // 2002::/16, 6to4: the IPv4 address in its next 32 bits.
            if s[0] == 0x2002 {
                let [a, b] = s[1].to_be_bytes();
                let [c, d] = s[2].to_be_bytes();
                return is_private(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            (s[0] & 0xe000) != 0x2000
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_https_endpoint_is_a_target() {
        let target = Target::of("https://fcm.googleapis.com/fcm/send/abc:DEF?x=1").unwrap();
        assert_eq!(target.host, "fcm.googleapis.com");
        assert_eq!(target.port, 443);
        assert_eq!(target.path, "/fcm/send/abc:DEF?x=1");
        assert_eq!(target.origin, "https://fcm.googleapis.com");
        let local = Target::of("https://127.0.0.1:8443/push/1").unwrap();
        assert_eq!(local.origin, "https://127.0.0.1:8443");
        assert_eq!(local.authority(), "127.0.0.1:8443");
        let v6 = Target::of("https://[::1]:9/p").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.origin.as_str()),
            ("::1", "https://[::1]:9")
        );
        let upper = Target::of("https://PUSH.Example.net:443/x").unwrap();
        assert_eq!(upper.origin, "https://push.example.net");
        for bad in [
            "http://push.example.net/x",
            "ftp://push.example.net/x",
            "https://user:pw@push.example.net/x",
            "push.example.net/x",
            "https://push.example.net:99999/x",
            "https://push.example.net:abc/x",
            "https://push.example.net:/x",
            "",
        ] {
            assert_eq!(Target::of(bad), None, "{bad}");
        }
        let long = format!(
            "https://push.example.net/{}",
            "a".repeat(MAX_ENDPOINT_CHARS)
        );
        assert_eq!(Target::of(&long), None);
        assert_eq!(topic_of("K7QF2-M3XDA"), "K7QF2-M3XDA");
        assert_eq!(topic_of(""), "report");
    }

    #[test]
    fn the_server_s_own_network_is_private() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:a00:1::1",
            "ff02::1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in [
            "142.250.180.10",
            "2a00:1450:4009:81f::200a",
            "100.128.0.1",
            "2002:8efa:b40a::1",
        ] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_public_address_is_reached_on_443_only_and_a_private_one_only_with_its_root() {
        let public: Vec<std::net::SocketAddr> = vec!["142.250.180.10:443".parse().unwrap()];
        let private: Vec<std::net::SocketAddr> = vec!["127.0.0.1:8443".parse().unwrap()];
        let sender = Sender::new(Some("mailto:host@example.org".into()), None).unwrap();
        let at = |endpoint: &str| Target::of(endpoint).unwrap();
        assert!(sender
            .tls_for(&at("https://push.example.net/x"), &public)
            .is_ok());
        assert!(matches!(
            sender.tls_for(&at("https://push.example.net:8443/x"), &public),
            Err(Refusal::Private)
        ));
        assert!(matches!(
            sender.tls_for(&at("https://relay.council.example:8443/x"), &private),
            Err(Refusal::Private)
        ));
        assert!(Sender::new(Some("host@example.org".into()), None).is_err());
        assert_eq!(Sender::new(None, None).unwrap().contact, NO_CONTACT);
    }
}
