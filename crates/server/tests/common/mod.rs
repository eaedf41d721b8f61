//! Test support: a real server on loopback with a real SQLite file, and a
//! small HTTP/1.1 client that shows exactly what the server answered.
#![allow(dead_code)]

pub mod background;
pub mod binary;
pub mod http;
pub mod records;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use beatbook_core::{Note, Report};
use beatbook_server::api::ApiState;
use beatbook_server::serve::conn::Limits;
use beatbook_server::serve::Transport;
use beatbook_server::store::Devices;
use beatbook_server::Sqlite;
use records::{CONTACT_NAME, CONTACT_REACH};
use serde_json::{json, Value};

pub use http::{request, Response};

/// The SHA-256 of `bytes` in hex, by coreutils' `sha256sum`: an
/// implementation apart from the server's, so the tests check its hashes
/// rather than repeat them.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
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
/// The built app's page, as small as it can be: its title, an inline
/// script, and where the server puts its plain pages.
pub const INDEX_HTML: &str = "<!doctype html><html lang=\"en\"><title>Beatbook</title>\
    <script type=\"module\">start()</script><body><div id=\"first\"><!-- page --></div></body></html>";

/// The policy a build writes beside its page (`xtask/src/csp.rs` works it
/// out from the page's inline scripts); the server sends it as it is.
pub const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' \
    'sha256-2vC3U7ZtqlZ0lvSSs8dq2Q7a0D3N0xR4+8u3jU8GyJM='; style-src 'self'; \
    connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

pub fn serve_with(make_state: impl FnOnce(Arc<Sqlite>) -> ApiState) -> TestServer {
    serve_limited(make_state, Limits::default())
}

/// The same, served as the binary serves (`serve::serve_with`), with these
/// limits on each connection.
pub fn serve_limited(
    make_state: impl FnOnce(Arc<Sqlite>) -> ApiState,
    limits: Limits,
) -> TestServer {
    let dist = temp_dir("dist");
    std::fs::write(dist.join("index.html"), INDEX_HTML).unwrap();
    std::fs::write(dist.join(beatbook_server::POLICY_FILE), POLICY).unwrap();
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
    let app = beatbook_server::app_with_api(&dist, state);
    let transport = Transport::Plain {
        addr: "127.0.0.1:0".parse().unwrap(),
    };
    let addr = background::serve_in_background(transport, app, limits);
    TestServer { addr, db, dist }
}

pub fn serve() -> TestServer {
    serve_with(ApiState::new)
}

impl TestServer {
    pub fn get(&self, path: &str, headers: &[&str]) -> Response {
        request(self.addr, "GET", path, headers, b"")
    }

    pub fn post(&self, path: &str, headers: &[&str], body: &[u8]) -> Response {
        request(self.addr, "POST", path, headers, body)
    }

    /// Pairs a new device and returns its `Authorization` header.
    pub fn pair(&self, name: &str) -> String {
        let code = self.db.create_pairing_code(name).unwrap();
        let r = self.post(
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
        self.post("/api/v1/sync", &[auth], body.as_bytes())
    }

    /// Syncs these notes and nothing else.
    pub fn sync_notes(&self, auth: &str, notes: &[&Note]) -> Response {
        self.sync(auth, &records::sync_body(&[], notes))
    }

    /// Sends a resident's report form, as the public page does.
    pub fn submit_report(&self, body: &Value) -> Response {
        self.post("/api/v1/reports", &[], body.to_string().as_bytes())
    }

    /// Files a report as a resident would and returns its reference code.
    pub fn file_report(&self, report: &Report) -> String {
        code_of(&self.submit_report(&json!({ "report": report })))
    }

    /// Sends `bytes` as photo `id` of `record` (`note=<id>` or
    /// `report=<id>`), as `media_type`, with the token in `auth` if given.
    pub fn send_photo(
        &self,
        auth: Option<&str>,
        id: uuid::Uuid,
        record: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Response {
        let content_type = format!("Content-Type: {media_type}");
        let mut headers = vec![content_type.as_str()];
        headers.extend(auth);
        self.post(
            &format!("/api/v1/photos/{id}?{record}&sha256={}", sha256_hex(bytes)),
            &headers,
            bytes,
        )
    }

    /// The public status page of a report.
    pub fn look_up_report(&self, code: &str) -> Response {
        self.get(&format!("/api/v1/reports/{code}"), &[])
    }
}

/// The outcome of each record in a sync answer, which must be a 200.
pub fn outcomes(r: &Response) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["outcome"].as_str().unwrap().to_owned())
        .collect()
}

/// Why the `i`th record of a sync answer was refused; empty if it was not.
pub fn reason_of(r: &Response, i: usize) -> String {
    r.json()["results"][i]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts that the `i`th record of a sync answer was rejected for a reason
/// that mentions `expected`.
pub fn assert_rejected(r: &Response, i: usize, expected: &str) {
    let result = &r.json()["results"][i];
    assert_eq!(result["outcome"], "rejected", "record {i}: {}", r.text());
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(expected),
        "record {i}: {reason:?} does not mention {expected:?}"
    );
}

/// The `error` of an answer refused as a whole.
pub fn error_of(r: &Response) -> String {
    r.json()["error"].as_str().unwrap().to_owned()
}

/// Public answers never carry the reporter's contact details or exact place.
pub fn assert_private_kept(r: &Response) {
    let text = r.text();
    for secret in [
        CONTACT_NAME,
        CONTACT_REACH,
        "51.507351",
        "-0.127758",
        "contact",
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked in {text}");
    }
}

/// The reference code a stored report was answered with.
pub fn code_of(r: &Response) -> String {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_private_kept(r);
    r.json()["code"].as_str().unwrap().to_owned()
}
