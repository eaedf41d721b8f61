//! Test support: a real server on loopback with a real SQLite file, and a
//! small HTTP/1.1 client that shows exactly what the server answered.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use beatbook_server::api::ApiState;
use beatbook_server::store::Devices;
use beatbook_server::Sqlite;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request with `Connection: close`, read to the end. Headers are
/// `Name: value` lines.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body; that is fine.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&raw)));
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
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
}

pub fn temp_dir(label: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("beatbook-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub db: Arc<Sqlite>,
    pub dist: PathBuf,
}

/// A server on a free loopback port, with its own data folder and dist.
pub fn serve_with(make_state: impl FnOnce(Arc<Sqlite>) -> ApiState) -> TestServer {
    let dist = temp_dir("dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Beatbook</title><script type=\"module\">start()</script>",
    )
    .unwrap();
    std::fs::write(
        dist.join("beatbook-0123456789abcdef.js"),
        "console.log('app')",
    )
    .unwrap();
    std::fs::write(dist.join("beatbook-0123456789abcdef.js.br"), b"BROTLI").unwrap();
    std::fs::write(dist.join("beatbook-0123456789abcdef.js.gz"), b"GZIP").unwrap();
    std::fs::write(
        dist.join("sw.js"),
        "self.addEventListener('fetch', () => {})",
    )
    .unwrap();
    std::fs::write(dist.join("manifest.webmanifest"), "{}").unwrap();
    let db = Arc::new(Sqlite::open(&dist.join("beatbook.sqlite3")).unwrap());
    let state = make_state(db.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let app_dist = dist.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = beatbook_server::app_with_api(&app_dist, state)
                .into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.unwrap();
        });
    });
    TestServer { addr, db, dist }
}

pub fn serve() -> TestServer {
    serve_with(ApiState::new)
}

impl TestServer {
    /// Pairs a new device and returns its `Authorization` header.
    pub fn pair(&self, name: &str) -> String {
        let code = self.db.create_pairing_code(name).unwrap();
        let r = request(
            self.addr,
            "POST",
            "/api/v1/pair",
            &[],
            format!(r#"{{"code":"{code}"}}"#).as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        format!(
            "Authorization: Bearer {}",
            r.json()["token"].as_str().unwrap()
        )
    }

    pub fn sync(&self, auth: &str, body: &str) -> Response {
        request(self.addr, "POST", "/api/v1/sync", &[auth], body.as_bytes())
    }
}
