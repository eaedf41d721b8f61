//! TLS for a server that faces the internet itself: a listener whose
//! handshakes run beside the accept loop, and certificates from files that
//! are picked up again when the files change, with no restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::conn::{self, Entrance, Idle};
use super::door::{Door, Ticket};

/// Handshakes finished but not yet taken by the server.
const READY_QUEUE: usize = 256;

/// A rustls configuration that offers HTTP/2 and HTTP/1.1 and takes its
/// certificate from `resolver`.
pub fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS library refused its own default versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TCP connections through the door and hands over those whose TLS
/// handshake completed within `handshake`. Handshakes run in their own
/// tasks, so a slow or silent client never holds up the others, and each
/// holds its ticket from the moment it is accepted: a flood of handshakes
/// counts against the same room as the connections served.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<Idle<TcpStream>>, SocketAddr, Ticket)>,
}

impl TlsListener {
    pub fn new(
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        door: Arc<Door>,
        handshake: Duration,
        idle: Duration,
    ) -> TlsListener {
        let acceptor = TlsAcceptor::from(config);
        let (sender, ready) = mpsc::channel(READY_QUEUE);
        tokio::spawn(async move {
            loop {
                let (stream, peer, ticket) = tokio::select! {
                    entered = conn::accept(&tcp, &door) => entered,
                    () = sender.closed() => return,
                };
                let acceptor = acceptor.clone();
                let sender = sender.clone();
                tokio::spawn(async move {
                    // The handshake's bytes count as the connection's activity.
                    let stream = Idle::new(stream, ticket.guest.clone(), handshake, idle);
                    let shaken = tokio::select! {
                        shaken = tokio::time::timeout(handshake, acceptor.accept(stream)) => shaken,
                        () = ticket.guest.asked_to_leave() => return,
                    };
                    match shaken {
                        Ok(Ok(tls)) => {
                            ticket.guest.moved();
                            let _ = sender.send((tls, peer, ticket)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        });
        TlsListener { ready }
    }
}

impl Entrance for TlsListener {
    type Io = TlsStream<Idle<TcpStream>>;

    async fn enter(&mut self) -> (Self::Io, SocketAddr, Ticket) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept loop only ends when this listener is gone.
            None => std::future::pending().await,
        }
    }
}

/// How often the certificate files are looked at, at most.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// A certificate and key from PEM files (as written by certbot or another
/// tool), loaded again when either file changes. A half-written renewal
/// that does not load leaves the working certificate in place.
#[derive(Debug)]
pub struct FileCertificate {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// When the files were last looked at, and what they were then.
    seen: Mutex<(Instant, Stamp)>,
}

type Stamp = [Option<(SystemTime, u64)>; 2];

fn stamp(cert: &Path, key: &Path) -> Stamp {
    [cert, key].map(|path| {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    })
}

fn load(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert.display());
    let private = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read a private key from {}", key.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(chain, private, &provider)
        .with_context(|| format!("{} does not match {}", key.display(), cert.display()))?;
    Ok(Arc::new(certified))
}

impl FileCertificate {
    /// Loads the files now: a server never starts with a certificate it
    /// cannot serve.
    pub fn open(cert: &Path, key: &Path) -> Result<Arc<FileCertificate>> {
        let loaded = load(cert, key)?;
        Ok(Arc::new(FileCertificate {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(loaded),
            seen: Mutex::new((Instant::now(), stamp(cert, key))),
        }))
    }

    /// Loads the files again if they changed since they were last looked at.
    fn refresh(&self) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.0.elapsed() < LOOK_EVERY {
            return;
        }
        let now = stamp(&self.cert, &self.key);
        seen.0 = Instant::now();
        if now == seen.1 {
            return;
        }
        match load(&self.cert, &self.key) {
            Ok(loaded) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = loaded;
                seen.1 = now;
                tracing::info!("loaded the renewed certificate {}", self.cert.display());
            }
            // Perhaps only one of the two files is written yet: look again.
            Err(e) => tracing::warn!("kept the current certificate: {e:#}"),
        }
    }
}

impl ResolvesServerCert for FileCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.refresh();
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}
