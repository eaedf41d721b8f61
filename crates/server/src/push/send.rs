//! Sends the notifications triage queued: each sealed for its browser and
//! signed with the server's VAPID key, POSTed to the push service the
//! browser named, over HTTPS only. A service that says the subscription is
//! gone (404, 410) has it removed; other failures are tried again later, a
//! few times. Nothing here holds up a triage answer: the queue is the
//! database's, and this runs beside the server.
//!
//! No endpoint is ever logged: it is the address of one resident's phone.

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
/// off: two days.
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

/// How the server sends.
#[derive(Clone)]
pub struct Sender {
    /// Whom the push services may contact (VAPID's `sub`): a `mailto:` or
    /// `https:` address the host sets.
    pub contact: String,
    /// The public roots, and a private push service's root if given.
    pub tls: Arc<ClientConfig>,
    /// Whether a push service on a private or loopback address may be
    /// contacted: only when the host named a private root for one.
    pub private_ok: bool,
}

impl Sender {
    /// `extra_root`: a PEM file of a private push service's root (the
    /// tests' stand-in; a council's own push relay).
    pub fn new(contact: String, extra_root: Option<&std::path::Path>) -> Result<Sender> {
        if !(contact.starts_with("mailto:") || contact.starts_with("https://")) {
            bail!("the push contact must be a mailto: or https: address, not {contact:?}");
        }
        Ok(Sender {
            contact,
            tls: crate::serve::acme::client_config(extra_root)?,
            private_ok: extra_root.is_some(),
        })
    }

    /// Sends what is due, whenever it falls due, until the task is dropped.
    /// `wake` is notified after each triage, so that a notification goes
    /// within moments rather than at the next look.
    pub async fn run(self, store: Arc<dyn Store>, wake: Arc<Notify>) {
        let key = loop {
            let fresh = VapidKey::generate().to_bytes();
            let store = store.clone();
            match tokio::task::spawn_blocking(move || store.push_key(&fresh)).await {
                Ok(Ok(kept)) => match VapidKey::from_bytes(&kept) {
                    Some(key) => break key,
                    None => {
                        tracing::error!(
                            "the kept push key is not a P-256 key: no notifications are sent"
                        );
                        return;
                    }
                },
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
                    let _ = tokio::task::spawn_blocking(move || store.pushed(&push, outcome)).await;
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
        let authorization = key.authorization(&target.origin, expires, &self.contact);
        match tokio::time::timeout(TRY_FOR, self.post(&target, authorization, body)).await {
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

    async fn post(
        &self,
        target: &Target,
        authorization: String,
        body: Vec<u8>,
    ) -> Result<u16, Refusal> {
        let addresses: Vec<_> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .context("the push service's name does not resolve")?
            .collect();
        // A subscription is anyone's to send: its address must not reach
        // into the server's own network, unless the host runs a push
        // service there.
        if !self.private_ok && addresses.iter().any(|a| is_private(a.ip())) {
            return Err(Refusal::Private);
        }
        let address = addresses
            .first()
            .context("the push service's name has no address")?;
        let tcp = TcpStream::connect(address)
            .await
            .context("cannot connect to the push service")?;
        let name = ServerName::try_from(target.host.clone()).context("not a host name")?;
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .context("the push service's certificate is not trusted")?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .context("the push service did not speak HTTP")?;
        let connection = tokio::spawn(connection);
        let request = Request::post(&target.path)
            .header("host", target.authority())
            .header("ttl", TTL_SECONDS)
            .header("urgency", "normal")
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("content-length", body.len())
            .header("authorization", authorization)
            .body(Full::new(Bytes::from(body)))
            .context("the request could not be made")?;
        let answer = sender
            .send_request(request)
            .await
            .context("the push service did not answer")?;
        connection.abort();
        Ok(answer.status().as_u16())
    }
}

/// Why a try did not reach the push service.
enum Refusal {
    /// The endpoint is on a private address the host did not allow.
    Private,
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Refusal {
        Refusal::Failed(e)
    }
}

/// Where a subscription's endpoint points: an `https` URL only.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The path and query to POST to.
    pub path: String,
    /// `https://host[:port]`, the JWT's audience.
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
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        let port = authority.port_u16().unwrap_or(443);
        let origin = match authority.port_u16() {
            Some(p) if p != 443 => format!("https://{}:{p}", authority.host()),
            _ => format!("https://{}", authority.host()),
        };
        Some(Target {
            host: host.to_owned(),
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

/// Loopback, private, link-local, unspecified or multicast: the server's
/// own network, not a push service's.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7, unique local; fe80::/10, link-local.
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
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
        assert_eq!(Target::of("https://[::1]:9/p").unwrap().host, "::1");
        for bad in [
            "http://push.example.net/x",
            "ftp://push.example.net/x",
            "https://user:pw@push.example.net/x",
            "push.example.net/x",
            "",
        ] {
            assert_eq!(Target::of(bad), None, "{bad}");
        }
        let long = format!(
            "https://push.example.net/{}",
            "a".repeat(MAX_ENDPOINT_CHARS)
        );
        assert_eq!(Target::of(&long), None);
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
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["142.250.180.10", "2a00:1450:4009:81f::200a", "100.128.0.1"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }
}
