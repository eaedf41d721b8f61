//! Serving: plain HTTP on loopback (or behind a proxy, on purpose), or HTTPS
//! by itself, with certificates from an ACME authority or from files; port 80
//! for redirects and challenges; a clean stop on SIGTERM or Ctrl-C.

pub mod acme;
mod tls;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use axum::serve::ListenerExt;
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
    let (stop, stopping) = watch::channel(false);
    let stopped = move || {
        let mut stopping = stopping.clone();
        async move {
            let _ = stopping.wait_for(|s| *s).await;
        }
    };
    let mut servers = tokio::task::JoinSet::new();
    let url;
    match transport {
        Transport::Plain { addr } => {
            let listener = bind(addr, "HTTP").await?;
            url = format!("http://{}/", listener.local_addr()?);
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            servers.spawn(
                axum::serve(listener, app)
                    .with_graceful_shutdown(stopped())
                    .into_future(),
            );
        }
        Transport::Acme { https, http, acme } => {
            let resolver = acme::start(&acme)?;
            let listener = bind(https, "HTTPS").await?;
            url = format!(
                "https://{}:{}/",
                acme.domains[0],
                listener.local_addr()?.port()
            );
            let redirects = acme::plain_http(Some(resolver.clone()), listener.local_addr()?.port());
            let port80 = bind(http, "the ACME challenge and redirects").await?;
            servers.spawn(
                axum::serve(port80, redirects)
                    .with_graceful_shutdown(stopped())
                    .into_future(),
            );
            let config = tls::server_config(resolver)?;
            let tls = tls::TlsListener::new(listener, config)?.tap_io(|_| {});
            let app = crate::with_hsts(app).into_make_service_with_connect_info::<SocketAddr>();
            servers.spawn(
                axum::serve(tls, app)
                    .with_graceful_shutdown(stopped())
                    .into_future(),
            );
        }
        Transport::Files {
            https,
            http,
            cert,
            key,
        } => {
            let certificate = tls::FileCertificate::open(&cert, &key)?;
            let listener = bind(https, "HTTPS").await?;
            url = format!("https://{}/", listener.local_addr()?);
            if let Some(http) = http {
                let redirects = acme::plain_http(None, listener.local_addr()?.port());
                let port80 = bind(http, "redirects to HTTPS").await?;
                servers.spawn(
                    axum::serve(port80, redirects)
                        .with_graceful_shutdown(stopped())
                        .into_future(),
                );
            }
            let config = tls::server_config(certificate)?;
            let tls = tls::TlsListener::new(listener, config)?.tap_io(|_| {});
            let app = crate::with_hsts(app).into_make_service_with_connect_info::<SocketAddr>();
            servers.spawn(
                axum::serve(tls, app)
                    .with_graceful_shutdown(stopped())
                    .into_future(),
            );
        }
    }
    started(Listening { url });
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
