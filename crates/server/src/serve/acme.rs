//! Certificates from an ACME authority (Let's Encrypt by default), obtained
//! and renewed by the running server with the HTTP-01 challenge, kept in the
//! data folder so a restart does not ask again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use rustls::{ClientConfig, RootCertStore};
use rustls_acme::caches::DirCache;
use rustls_acme::{AcmeConfig, ResolvesServerCertAcme, UseChallenge};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// What to ask the authority for.
#[derive(Clone, Debug)]
pub struct Acme {
    pub domains: Vec<String>,
    pub directory: String,
    /// Where the authority may write about expiring certificates.
    pub email: Option<String>,
    /// A further root to trust when talking to the authority (a private or
    /// test authority whose own address is not under a public root).
    pub extra_root: Option<PathBuf>,
    /// The certificates and account key (in the data folder).
    pub cache: PathBuf,
}

/// The HTTPS client the ACME protocol runs over: the public roots, and the
/// extra root if one is given.
fn client_config(extra_root: Option<&Path>) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_root {
        for cert in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read {}", path.display()))?
        {
            let cert =
                cert.with_context(|| format!("{} is not a PEM certificate", path.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("{} is not a usable root", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS library refused its own default versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Starts obtaining (or loading) the certificate, and renewing it a third
/// of its life before it expires, in a task of its own. The resolver serves
/// it to TLS handshakes and answers the authority's HTTP-01 challenges.
pub fn start(acme: &Acme) -> Result<Arc<ResolvesServerCertAcme>> {
    let mut config = AcmeConfig::new_with_client_config(
        acme.domains.iter(),
        client_config(acme.extra_root.as_deref())?,
    )
    .directory(&acme.directory)
    .challenge_type(UseChallenge::Http01)
    .cache(DirCache::new(acme.cache.clone()));
    if let Some(email) = &acme.email {
        config = config.contact_push(format!("mailto:{email}"));
    }
    let mut state = config.state();
    let resolver = state.resolver();
    tokio::spawn(async move {
        while let Some(event) = state.next().await {
            match event {
                Ok(done) => tracing::info!("certificate: {done:?}"),
                // The state retries by itself, waiting longer each time.
                Err(e) => tracing::warn!("certificate: {e}"),
            }
        }
    });
    Ok(resolver)
}

/// Port 80: the authority's HTTP-01 challenges, and a permanent redirect to
/// HTTPS for everyone else (`https_port` when it is not 443).
pub fn plain_http(resolver: Option<Arc<ResolvesServerCertAcme>>, https_port: u16) -> Router {
    Router::new()
        .route(
            "/.well-known/acme-challenge/{token}",
            get(challenge).with_state(resolver),
        )
        .fallback(move |headers: HeaderMap, uri: Uri| redirect(headers, uri, https_port))
}

async fn challenge(
    State(resolver): State<Option<Arc<ResolvesServerCertAcme>>>,
    UrlPath(token): UrlPath<String>,
) -> Response {
    match resolver.and_then(|r| r.get_http_01_key_auth(&token)) {
        Some(key_authorization) => key_authorization.into_response(),
        None => (StatusCode::NOT_FOUND, "no such challenge").into_response(),
    }
}

async fn redirect(headers: HeaderMap, uri: Uri, https_port: u16) -> Response {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return (StatusCode::BAD_REQUEST, "which site? (no Host header)").into_response();
    };
    // The host without its port (an IPv6 address keeps its brackets).
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("https://{name}{port}{path}")).into_response()
}
