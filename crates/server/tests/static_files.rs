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
fn a_release_older_on_disk_than_the_last_is_still_sent_whole() {
    // A browser that saw a later-dated copy asks "changed since?": the page
    // and the worker are sent whole all the same, and say no date.
    let server = serve();
    let later = "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT";
    for path in ["/", "/sw.js", "/manifest.webmanifest"] {
        let r = server.get(path, &[later]);
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.body.is_empty(), "{path}");
        assert_eq!(r.header("last-modified"), None, "{path}");
    }
    // A hashed file cannot change under its name: "not modified" is right.
    let r = server.get("/beatbook-0123456789abcdef.js", &[later]);
    assert_eq!(r.status, 304);
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
        // No other site's window keeps a hold on this one, and no other
        // site may embed its answers.
        assert_eq!(
            r.header("cross-origin-opener-policy"),
            Some("same-origin"),
            "{path}"
        );
        assert_eq!(
            r.header("cross-origin-resource-policy"),
            Some("same-origin"),
            "{path}"
        );
    }
    let deep = server.get("/notes", &[]);
    assert_eq!(deep.status, 200);
    assert!(String::from_utf8_lossy(&deep.body).contains("<title>Beatbook</title>"));
    assert_eq!(
        server.get("/", &[]).header("content-security-policy"),
        Some(common::POLICY),
        "the policy the build wrote"
    );
    let api = server.get("/api/nothing-here", &[]);
    assert_eq!(api.status, 404);
    assert!(String::from_utf8_lossy(&api.body).contains("no such API endpoint"));
    assert_eq!(server.get("/api/health", &[]).status, 200);
}

#[test]
fn a_name_longer_than_any_file_s_is_not_found_never_a_server_error() {
    let server = serve();
    let long = "a".repeat(300);
    for path in [
        format!("/{long}"),
        format!("/{long}.js"),
        format!("/icons/{long}.png"),
        format!("/api/v1/reports/{long}"),
        format!("/api/v1/photos/{long}"),
    ] {
        let r = server.get(&path, &[]);
        assert!(
            r.status == 404 || r.status == 400,
            "{path}: {} {}",
            r.status,
            r.text()
        );
    }
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

#[test]
fn the_policy_follows_a_rebuild_while_the_server_runs_and_is_strictest_without_one() {
    let server = serve();
    let policy = server.dist.join(beatbook_server::POLICY_FILE);
    let rebuilt = common::POLICY.replace("style-src 'self'", "style-src 'self' 'sha256-new'");
    std::fs::write(&policy, format!("{rebuilt}\n")).unwrap();
    for path in ["/", "/notes", "/api/health"] {
        assert_eq!(
            server.get(path, &[]).header("content-security-policy"),
            Some(rebuilt.as_str()),
            "{path}"
        );
    }
    // A page whose build wrote no policy runs nothing inline.
    std::fs::remove_file(&policy).unwrap();
    let strictest = server.get("/", &[]);
    let csp = strictest.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{csp}"
    );
    assert!(!csp.contains("sha256"), "{csp}");
}

#[test]
fn a_missing_file_is_404_and_never_the_page_kept_for_a_year() {
    let server = serve();
    for path in [
        "/beatbook-fedcba9876543210.js",
        "/beatbook-fedcba9876543210_bg.wasm",
        "/icons/missing.png",
        "/nothing.css",
    ] {
        let r = server.get(path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        assert!(!r.text().contains("<title>"), "{path}");
    }
    // Screens of the app are the page, whatever their path; the residents'
    // have the server's own plain pages, an unknown report's a 404.
    for path in ["/notes", "/notes/0197a3c2-7f10-7000-8000-000000000000"] {
        let r = server.get(path, &[]);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.text().contains("<title>Beatbook</title>"), "{path}");
    }
    let r = server.get("/reports/K7QF2-M3XDA", &[]);
    assert_eq!(r.status, 404);
    assert!(r.text().contains("<title>Your reports · Beatbook</title>"));
    assert!(r.text().contains("No report has this code"));
}

#[test]
fn headers_for_a_real_origin() {
    let server = serve();
    let page = server.get("/", &["Accept-Encoding: br"]);
    let permissions = page.header("permissions-policy").unwrap();
    assert!(permissions.contains("geolocation=(self)"), "{permissions}");
    assert!(permissions.contains("camera=(self)"), "{permissions}");
    assert!(permissions.contains("microphone=(self)"), "{permissions}");
    assert!(permissions.contains("payment=()"), "{permissions}");
    let asset = server.get("/beatbook-0123456789abcdef.js", &["Accept-Encoding: br"]);
    assert!(
        asset
            .header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "{:?}",
        asset.headers
    );
    for path in ["/api/health", "/api/v1/inbox", "/api/v1/concerns"] {
        assert_eq!(
            server.get(path, &[]).header("cache-control"),
            Some("no-store"),
            "{path}"
        );
    }
    // Served over plain HTTP (a proxy in front gives the TLS): no HSTS here.
    assert_eq!(page.header("strict-transport-security"), None);
}
