//! The built app's files: cache headers that let hashed assets live for a
//! year, and a Content-Security-Policy that lets only the app's own code run.

use axum::http::{header, HeaderValue, Uri};
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Trunk names built assets `name-<hash>.ext`, the hash a 64-bit number in
/// hex without leading zeros (so sometimes fewer than 16 digits); those never
/// change and may be cached for a year. Everything else must be revalidated.
fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

pub async fn cache_control(uri: Uri, response: Response) -> Response {
    let mut response = response;
    let value = if response.status().is_success() && is_hashed_asset(uri.path()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// The SHA-256 of every inline `<script>` in the page, for the CSP: Trunk
/// starts the app with one small inline module script.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            let body = &after[body_start..body_start + close];
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &after[body_start + close..];
    }
    hashes
}

/// Only the app's own scripts (and the hashed inline start-up script) and its
/// WebAssembly may run; nothing may frame the app.
pub fn content_security_policy(index_html: &str) -> String {
    let inline = inline_script_hashes(index_html).join(" ");
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {inline}; style-src 'self'; \
         img-src 'self' data: blob:; connect-src 'self' https:; worker-src 'self'; \
         manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed_asset("/beatbook-88d00ec479617d22.js"));
        assert!(is_hashed_asset("/beatbook-88d00ec479617d22_bg.wasm"));
        assert!(is_hashed_asset("/main-997c6f070d1160bf.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/beatbook-xyz.js"));
        // A hash with a leading zero is written with one digit fewer.
        assert!(is_hashed_asset("/beatbook-dac01e86fc6b664_bg.wasm"));
        assert!(!is_hashed_asset("/icon-512.png"));
    }

    #[test]
    fn the_policy_names_only_inline_scripts_by_hash() {
        let html = r#"<script type="module">import init from '/a.js';</script><script src="/b.js"></script>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"import init from '/a.js';"));
        assert_eq!(hashes[0], format!("'sha256-{expected}'"));
        let csp = content_security_policy(html);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
