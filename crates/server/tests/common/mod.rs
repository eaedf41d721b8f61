//! Test support: a real server on loopback with a real SQLite file, and a
//! small HTTP/1.1 client that shows exactly what the server answered.
#![allow(dead_code)]

pub mod http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use beatbook_server::api::ApiState;
use beatbook_server::store::Devices;
use beatbook_server::Sqlite;

pub use http::{request, Response};

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
