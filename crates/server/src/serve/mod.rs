//! Serving: plain HTTP on loopback (or behind a proxy, on purpose), or HTTPS
//! by itself, with certificates from an ACME authority or from files; port 80
//! for redirects and challenges; a clean stop on SIGTERM or Ctrl-C.

pub mod acme;
pub mod conn;
mod door;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use acme::Acme;

/// How long requests in flight may take to finish after a stop is asked for.
const DRAIN: Duration = Duration::from_secs(20);

/// How the server faces its clients.
#[derive(Clone, Debug)]
pub enum Transport {
    /// Plain HTTP: for loopback, or for a reverse proxy that gives the TLS.
    Plain { addr: SocketAddr },
    /// HTTPS with a certificate from an ACME authority.
    Acme {
        https: SocketAddr,
        http: SocketAddr,
        acme: Acme,
    },
    /// HTTPS with a certificate from files kept up to date by another tool.
    Files {
        https: SocketAddr,
        http: Option<SocketAddr>,
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
    },
}

/// Plain HTTP is refused on any address but loopback unless asked for on
/// purpose: over plain HTTP a phone has no secure context, so no offline
/// start, no install, no location, and the token crosses the network in
/// clear.
pub fn check_plain(addr: SocketAddr, insecure_http: bool) -> Result<()> {
    if addr.ip().is_loopback() || insecure_http {
        return Ok(());
    }
    bail!(
        "refusing to serve plain HTTP on {addr}: phones cannot install Beatbook, start it \
         offline or use their location over plain HTTP, and the device token would cross the \
         network in clear.\n\
         Serve HTTPS instead: --domain beat.example.org (a certificate from Let's Encrypt), or \
         --tls-cert FILE --tls-key FILE.\n\
         Behind a reverse proxy on the same machine that gives the HTTPS, listen on loopback \
         (--addr 127.0.0.1:8080), or add --insecure-http if the proxy must reach another address."
    )
}

/// Resolves when SIGTERM or Ctrl-C arrives.
async fn stop_asked() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        if addr.port() < 1024 {
            format!(
                "cannot listen on {addr} for {what}: ports under 1024 need the \
                 CAP_NET_BIND_SERVICE capability (the systemd unit gives it)"
            )
        } else {
            format!("cannot listen on {addr} for {what}")
        }
    })
}

/// Where the server listens, once it does.
#[derive(Clone, Debug)]
pub struct Listening {
    /// The address the app is served on, and its scheme.
    pub url: String,
}

/// Serves `app` until a stop is asked for, then stops accepting, lets
/// requests in flight finish (for up to [`DRAIN`]), and returns.
/// `started` hears where the server listens once it does.
pub async fn serve(
    transport: Transport,
    app: Router,
    started: impl FnOnce(Listening),
) -> Result<()> {
    serve_with(transport, app, conn::Limits::default(), started).await
}

/// [`serve`] with other limits on each connection than the defaults.
pub async fn serve_with(
    transport: Transport,
    app: Router,
    limits: conn::Limits,
    started: impl FnOnce(Listening),
) -> Result<()> {
    let (stop, stopping) = watch::channel(false);
    let mut servers = Servers {
        tasks: tokio::task::JoinSet::new(),
        stopping,
        door: limits.door(),
        limits,
    };
    let url = match transport {
        Transport::Plain { addr } => {
            let listener = bind(addr, "HTTP").await?;
            let url = format!("http://{}/", listener.local_addr()?);
            servers.spawn(servers.plain(listener), app);
            url
        }
        Transport::Acme { https, http, acme } => {
            let resolver = acme::start(&acme)?;
            let port = servers
                .tls(
                    https,
                    Some(http),
                    resolver.clone(),
                    Some(resolver),
                    acme.domains.clone(),
                    app,
                )
                .await?;
            format!("https://{}:{port}/", acme.domains[0])
        }
        Transport::Files {
            https,
            http,
            cert,
            key,
        } => {
            let certificate = tls::FileCertificate::open(&cert, &key)?;
            let port = servers
                .tls(https, http, certificate, None, Vec::new(), app)
                .await?;
            format!("https://{}/", SocketAddr::new(https.ip(), port))
        }
    };
    started(Listening { url });
    let mut servers = servers.tasks;
    tokio::select! {
        () = stop_asked() => {}
        Some(ended) = servers.join_next() => {
            ended.context("a server task failed")?.context("a server stopped")?;
        }
    }
    tracing::info!("stopping: no new connections; finishing requests in flight");
    let _ = stop.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        while let Some(ended) = servers.join_next().await {
            if let Ok(Err(e)) = ended {
                tracing::warn!("while stopping: {e}");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "requests still open after {} s were cut off",
            DRAIN.as_secs()
        );
        servers.abort_all();
    }
    Ok(())
}

/// The servers running, the one door their connections share, and what
/// tells them to stop.
struct Servers {
    tasks: tokio::task::JoinSet<std::io::Result<()>>,
    stopping: watch::Receiver<bool>,
    door: Arc<door::Door>,
    limits: conn::Limits,
}

impl Servers {
    fn plain(&self, listener: TcpListener) -> conn::Plain {
        conn::Plain::new(listener, self.door.clone())
    }

    /// Serves `app` on `entrance` until a stop is asked for, then lets its
    /// requests in flight finish.
    fn spawn(&mut self, entrance: impl conn::Entrance, app: Router) {
        self.tasks.spawn(conn::run(
            entrance,
            app,
            self.limits.clone(),
            self.stopping.clone(),
        ));
    }

    /// HTTPS on `https` with certificates from `resolver`, and port 80 (if
    /// given) for redirects and the ACME challenges. Returns the HTTPS port.
    async fn tls(
        &mut self,
        https: SocketAddr,
        http: Option<SocketAddr>,
        resolver: Arc<dyn rustls::server::ResolvesServerCert>,
        challenges: Option<Arc<rustls_acme::ResolvesServerCertAcme>>,
        domains: Vec<String>,
        app: Router,
    ) -> Result<u16> {
        let listener = bind(https, "HTTPS").await?;
        let port = listener.local_addr()?.port();
        if let Some(http) = http {
            let port80 = bind(http, "redirects to HTTPS and certificate challenges").await?;
            self.spawn(
                self.plain(port80),
                acme::plain_http(challenges, port, domains),
            );
        }
        let tls = tls::TlsListener::new(
            listener,
            tls::server_config(resolver)?,
            self.door.clone(),
            self.limits.first_byte,
            self.limits.idle,
        );
        self.spawn(tls, crate::with_hsts(app));
        Ok(port)
    }
}

/// Raises this process's soft limit on open files to its hard limit (a
/// connection is one file; systemd's default soft limit is 1,024) and
/// answers the limit now in force, or `None` where it cannot be read.
pub fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write `limit`.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        #[allow(clippy::useless_conversion)]
        Some(u64::from(limit.rlim_cur))
    }
    #[cfg(not(unix))]
    None
}

/// The store and everything holding it must be gone before the database
/// is closed: this waits for the last holder.
pub async fn last_holder<T>(mut shared: Arc<T>) -> T {
    loop {
        match Arc::try_unwrap(shared) {
            Ok(owned) => return owned,
            Err(still) => {
                shared = still;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}
