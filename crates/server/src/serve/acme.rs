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
    https_client(true, extra_root)
}

/// An HTTPS client trusting the public roots (if `public`) and the roots
/// in the PEM file `extra_root` (if given).
pub(crate) fn https_client(public: bool, extra_root: Option<&Path>) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    if public {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
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
/// HTTPS for everyone else (`https_port` when it is not 443), to one of
/// `domains` (the first when the Host asked for is none of them; when no
/// domain is known, to the Host asked for if it is a plain host name).
pub fn plain_http(
    resolver: Option<Arc<ResolvesServerCertAcme>>,
    https_port: u16,
    domains: Vec<String>,
) -> Router {
    let domains: Arc<[String]> = domains.into();
    Router::new()
        .route(
            "/.well-known/acme-challenge/{token}",
            get(challenge).with_state(resolver),
        )
        .fallback(move |headers: HeaderMap, uri: Uri| {
            redirect(headers, uri, https_port, domains.clone())
        })
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

/// Whether `name` is a host name or an address, and nothing else that a
/// Host header could carry into a redirect.
fn plain_host(name: &str) -> bool {
    let bracketed = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
    bracketed
        || (!name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
}

async fn redirect(
    headers: HeaderMap,
    uri: Uri,
    https_port: u16,
    domains: Arc<[String]>,
) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    // The host without its port (an IPv6 address keeps its brackets).
    let name = host.map(|host| match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    });
    let name = match (name, domains.first()) {
        (Some(name), Some(_)) => domains
            .iter()
            .find(|d| d.eq_ignore_ascii_case(name))
            .unwrap_or(&domains[0])
            .as_str(),
        (None, Some(first)) => first.as_str(),
        (Some(name), None) if plain_host(name) => name,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "which site? (no Host header, or not a host name)",
            )
                .into_response()
        }
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("https://{name}{port}{path}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn location(host: Option<&str>, domains: &[&str]) -> (StatusCode, Option<String>) {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(header::HOST, host.parse().unwrap());
        }
        let domains: Arc<[String]> = domains.iter().map(|d| d.to_string()).collect();
        let answer = redirect(headers, "/report?x=1".parse().unwrap(), 443, domains).await;
        let location = answer
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        (answer.status(), location)
    }

    #[tokio::test]
    async fn the_redirect_goes_to_the_server_s_own_domain_never_one_the_client_names() {
        let ours = ["beat.example.org"];
        assert_eq!(
            location(Some("BEAT.example.org:80"), &ours)
                .await
                .1
                .as_deref(),
            Some("https://beat.example.org/report?x=1")
        );
        assert_eq!(
            location(Some("evil.example"), &ours).await.1.as_deref(),
            Some("https://beat.example.org/report?x=1")
        );
        assert_eq!(
            location(None, &ours).await.1.as_deref(),
            Some("https://beat.example.org/report?x=1")
        );
        // No domain known: a plain host name is kept, anything else refused.
        assert_eq!(
            location(Some("[::1]:80"), &[]).await.1.as_deref(),
            Some("https://[::1]/report?x=1")
        );
        for bad in ["evil.example/phish?", "a@b", "x y"] {
            assert_eq!(
                location(Some(bad), &[]).await.0,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
    }
}
