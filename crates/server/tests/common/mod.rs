//! Test support: a real server on loopback with a real store (a SQLite
//! file; or, with `BEATBOOK_TEST_STORE=postgres`, a new database on the
//! throwaway PostgreSQL cluster, so that the API's tests run on both), and
//! a small HTTP/1.1 client that shows exactly what the server answered.
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
use beatbook_server::store::postgres::cluster;
use beatbook_server::store::{Postgres, Store};
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
    pub db: Arc<dyn Store>,
    pub dist: PathBuf,
    backend: Backend,
}

/// The store behind a test server, for what only one kind has.
enum Backend {
    Sqlite(Arc<Sqlite>),
    /// The store, its database's address, and its name (the database is
    /// dropped with the server).
    Postgres(Arc<Postgres>, String, String),
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Backend::Postgres(_, _, name) = &self.backend {
            cluster::drop_database(name);
        }
        // The server goes on in the background until the test ends; what it
        // has open stays readable to it.
        let _ = std::fs::remove_dir_all(&self.dist);
    }
}

/// Whether the API's tests run on PostgreSQL this time.
fn on_postgres() -> bool {
    std::env::var("BEATBOOK_TEST_STORE").is_ok_and(|s| s == "postgres")
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

pub fn serve_with(make_state: impl FnOnce(Arc<dyn Store>) -> ApiState) -> TestServer {
    serve_limited(make_state, Limits::default())
}

/// The same, served as the binary serves (`serve::serve_with`), with these
/// limits on each connection.
pub fn serve_limited(
    make_state: impl FnOnce(Arc<dyn Store>) -> ApiState,
    limits: Limits,
) -> TestServer {
    serve_on(on_postgres(), make_state, limits)
}

/// A server on SQLite whichever store the run is for: for the tests that
/// look at its files on disk.
pub fn serve_sqlite() -> TestServer {
    serve_on(false, ApiState::new, Limits::default())
}

fn serve_on(
    postgres: bool,
    make_state: impl FnOnce(Arc<dyn Store>) -> ApiState,
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
    let (db, backend): (Arc<dyn Store>, Backend) = if postgres {
        let (url, name) = cluster::new_database();
        let store = Arc::new(Postgres::open(&url).unwrap());
        (store.clone(), Backend::Postgres(store, url, name))
    } else {
        let store = Arc::new(Sqlite::open(&dist.join("beatbook.sqlite3")).unwrap());
        (store.clone(), Backend::Sqlite(store))
    };
    let state = make_state(db.clone());
    let app = beatbook_server::app_with_api(&dist, state);
    let transport = Transport::Plain {
        addr: "127.0.0.1:0".parse().unwrap(),
    };
    let addr = background::serve_in_background(transport, app, limits);
    TestServer {
        addr,
        db,
        dist,
        backend,
    }
}

pub fn serve() -> TestServer {
    serve_with(ApiState::new)
}

impl TestServer {
    /// Where the SQLite store keeps its photo files (a server made with
    /// [`serve_sqlite`]).
    pub fn photo_folder(&self) -> PathBuf {
        match &self.backend {
            Backend::Sqlite(store) => store.photo_folder(),
            Backend::Postgres(..) => panic!("photo files are SQLite's: serve_sqlite()"),
        }
    }

    /// The contents photos' bytes are kept under (their SHA-256), sorted:
    /// SQLite's files, PostgreSQL's rows.
    pub fn kept_photo_contents(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.backend {
            Backend::Sqlite(store) => std::fs::read_dir(store.photo_folder())
                .map(|d| {
                    d.map(|e| e.unwrap().file_name().into_string().unwrap())
                        .collect()
                })
                .unwrap_or_default(),
            Backend::Postgres(_, url, _) => self
                .postgres(url)
                .query("SELECT sha256 FROM photo_contents", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect(),
        };
        names.sort();
        names
    }

    /// The bytes kept under `sha256`.
    pub fn kept_photo_bytes(&self, sha256: &str) -> Vec<u8> {
        match &self.backend {
            Backend::Sqlite(store) => std::fs::read(store.photo_folder().join(sha256)).unwrap(),
            Backend::Postgres(_, url, _) => self
                .postgres(url)
                .query_one(
                    "SELECT bytes FROM photo_contents WHERE sha256 = $1",
                    &[&sha256],
                )
                .unwrap()
                .get(0),
        }
    }

    /// Sets when the server received the report with this code, as if it
    /// had come then.
    pub fn set_received(&self, code: &str, at: chrono::DateTime<chrono::Utc>) {
        let changed = match &self.backend {
            Backend::Sqlite(_) => {
                let db = rusqlite::Connection::open(self.dist.join("beatbook.sqlite3")).unwrap();
                db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
                let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                db.execute(
                    "UPDATE reports SET received_at = ?1 WHERE code = ?2",
                    (at, code),
                )
                .unwrap()
            }
            Backend::Postgres(_, url, _) => self
                .postgres(url)
                .execute(
                    "UPDATE reports SET received_at = $1 WHERE code = $2",
                    &[&at, &code],
                )
                .unwrap() as usize,
        };
        assert_eq!(changed, 1);
    }

    fn postgres(&self, url: &str) -> postgres::Client {
        postgres::Client::connect(url, postgres::NoTls).unwrap()
    }

    /// Lets each device store at most `bytes` of records from now on.
    pub fn set_device_quota(&self, bytes: u64) {
        match &self.backend {
            Backend::Sqlite(store) => store.set_device_quota(bytes),
            Backend::Postgres(store, ..) => store.set_device_quota(bytes),
        }
    }

    pub fn get(&self, path: &str, headers: &[&str]) -> Response {
        request(self.addr, "GET", path, headers, b"")
    }

    pub fn post(&self, path: &str, headers: &[&str], body: &[u8]) -> Response {
        request(self.addr, "POST", path, headers, body)
    }

    /// Pairs a new device and returns its `Authorization` header.
    pub fn pair(&self, name: &str) -> String {
        self.pair_with_code(&self.db.create_pairing_code(name).unwrap())
    }

    /// Trades a pairing code for a token, as a phone does: its
    /// `Authorization` header.
    pub fn pair_with_code(&self, code: &str) -> String {
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
