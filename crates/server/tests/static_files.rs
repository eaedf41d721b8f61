//! The server over real HTTP on loopback: caching, compression and security
//! headers for the built app.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with `Connection: close`, read to the end.
fn get(addr: SocketAddr, path: &str, extra: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn dist() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("beatbook-dist-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Beatbook</title>",
    )
    .unwrap();
    std::fs::write(
        dir.join("beatbook-0123456789abcdef.js"),
        "console.log('app')",
    )
    .unwrap();
    std::fs::write(dir.join("beatbook-0123456789abcdef.js.br"), b"BROTLI").unwrap();
    std::fs::write(dir.join("beatbook-0123456789abcdef.js.gz"), b"GZIP").unwrap();
    std::fs::write(
        dir.join("sw.js"),
        "self.addEventListener('fetch', () => {})",
    )
    .unwrap();
    std::fs::write(dir.join("manifest.webmanifest"), "{}").unwrap();
    dir
}

fn serve() -> SocketAddr {
    let dir = dist();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, beatbook_server::app(&dir))
                .await
                .unwrap();
        });
    });
    addr
}

#[test]
fn the_page_and_the_worker_are_revalidated_and_hashed_assets_are_immutable() {
    let addr = serve();
    for path in ["/", "/index.html", "/sw.js", "/manifest.webmanifest"] {
        let r = get(addr, path, "");
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
    }
    let r = get(addr, "/beatbook-0123456789abcdef.js", "");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(r.body, b"console.log('app')");
    assert_eq!(
        get(addr, "/manifest.webmanifest", "").header("content-type"),
        Some("application/manifest+json")
    );
}

#[test]
fn precompressed_files_are_sent_to_browsers_that_accept_them() {
    let addr = serve();
    let br = get(
        addr,
        "/beatbook-0123456789abcdef.js",
        "Accept-Encoding: gzip, br\r\n",
    );
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.body, b"BROTLI");
    let gz = get(
        addr,
        "/beatbook-0123456789abcdef.js",
        "Accept-Encoding: gzip\r\n",
    );
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.body, b"GZIP");
}

#[test]
fn security_headers_are_on_every_answer_and_deep_links_get_the_app() {
    let addr = serve();
    for path in ["/", "/notes", "/api/health", "/api/nothing-here"] {
        let r = get(addr, path, "");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    let deep = get(addr, "/notes", "");
    assert_eq!(deep.status, 200);
    assert!(String::from_utf8_lossy(&deep.body).contains("<title>Beatbook</title>"));
    let api = get(addr, "/api/nothing-here", "");
    assert_eq!(api.status, 404);
    assert!(String::from_utf8_lossy(&api.body).contains("no such API endpoint"));
    assert_eq!(get(addr, "/api/health", "").status, 200);
}
