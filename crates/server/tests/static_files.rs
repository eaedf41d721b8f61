//! The server over real HTTP on loopback: caching, compression and security
//! headers for the built app.

mod common;

use common::serve;

#[test]
fn the_page_and_the_worker_are_revalidated_and_hashed_assets_are_immutable() {
    let server = serve();
    for path in ["/", "/index.html", "/sw.js", "/manifest.webmanifest"] {
        let r = server.get(path, &[]);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
    }
    let r = server.get("/beatbook-0123456789abcdef.js", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(r.body, b"console.log('app')");
    assert_eq!(
        server
            .get("/manifest.webmanifest", &[])
            .header("content-type"),
        Some("application/manifest+json")
    );
}

#[test]
fn precompressed_files_are_sent_to_browsers_that_accept_them() {
    let server = serve();
    let br = server.get(
        "/beatbook-0123456789abcdef.js",
        &["Accept-Encoding: gzip, br"],
    );
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.body, b"BROTLI");
    let gz = server.get("/beatbook-0123456789abcdef.js", &["Accept-Encoding: gzip"]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.body, b"GZIP");
}

#[test]
fn security_headers_are_on_every_answer_and_deep_links_get_the_app() {
    let server = serve();
    for path in ["/", "/notes", "/api/health", "/api/nothing-here"] {
        let r = server.get(path, &[]);
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    let deep = server.get("/notes", &[]);
    assert_eq!(deep.status, 200);
    assert!(String::from_utf8_lossy(&deep.body).contains("<title>Beatbook</title>"));
    assert!(server
        .get("/", &[])
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
    let api = server.get("/api/nothing-here", &[]);
    assert_eq!(api.status, 404);
    assert!(String::from_utf8_lossy(&api.body).contains("no such API endpoint"));
    assert_eq!(server.get("/api/health", &[]).status, 200);
}

#[test]
fn one_kept_alive_connection_serves_request_after_request() {
    let server = serve();
    let mut connection = common::http::Connection::open(server.addr);
    for path in [
        "/",
        "/beatbook-0123456789abcdef.js",
        "/api/health",
        "/notes",
    ] {
        let r = connection.request("GET", path, &[], b"");
        assert_eq!(r.status, 200, "{path}");
        assert_ne!(r.header("connection"), Some("close"), "{path}");
    }
    let r = connection.request("GET", "/beatbook-0123456789abcdef.js", &[], b"");
    assert_eq!(r.body, b"console.log('app')");
}
