//! Server ingest on loopback: 32 clients, each on its own keep-alive
//! connection and device token, send 50-note batches as fast as the server
//! answers, over plain HTTP and over HTTPS. Prints records per second and
//! the p50/p99 latency of one batch; on SQLite, and on PostgreSQL (a
//! throwaway cluster on this machine, reached by its socket).
//!
//! Run with `cargo bench -p beatbook-server --bench ingest` (or as part of
//! `cargo xtask bench`). It measures; it fails only if the server answers
//! something other than 200 with every record stored.

#[path = "../tests/common/background.rs"]
mod background;
#[path = "../tests/common/http.rs"]
mod http;
#[path = "../tests/common/records.rs"]
mod records;

use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use beatbook_core::Note;
use beatbook_server::api::ApiState;
use beatbook_server::serve::conn::Limits;
use beatbook_server::serve::Transport;
use beatbook_server::store::postgres::cluster;
use beatbook_server::store::{Postgres, Store};
use beatbook_server::Sqlite;
use chrono::Utc;
use http::Connection;
use records::{note, sync_body};
use uuid::Uuid;

const CLIENTS: usize = 32;
const BATCH: usize = 50;
const BATCHES_PER_CLIENT: usize = 150;
const WARM_UP_BATCHES: usize = 2;
const TARGET_RECORDS_PER_SECOND: f64 = 20_000.0;
const TARGET_P99: Duration = Duration::from_millis(50);

fn batch(client: usize, n: usize, new_id: fn() -> Uuid) -> Vec<u8> {
    let now = Utc::now();
    let notes: Vec<Note> = (0..BATCH)
        .map(|i| {
            note(&format!(
                "Client {client}, batch {n}, note {i}: street light out by the footbridge, two people waiting by the bus stop"
            ))
            .id(new_id())
            .place("Footbridge, Mill Lane")
            .located(51.5072, -0.1276, 12.0)
            .taken_at(now)
            .build()
        })
        .collect();
    sync_body(&[], &notes.iter().collect::<Vec<_>>()).into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How the clients reach the server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Over {
    Http,
    /// TLS with a certificate from files, as `--tls-cert` serves it.
    Https,
}

/// Where the clients connect, and how.
#[derive(Clone)]
enum Target {
    Plain(SocketAddr),
    Tls { addr: SocketAddr, root: Vec<u8> },
}

impl Target {
    fn connect(&self) -> Connection {
        match self {
            Target::Plain(addr) => Connection::open(*addr),
            Target::Tls { addr, root } => Connection::open_tls(*addr, "beat.test", root),
        }
    }
}

/// Which store the server keeps the notes in.
#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A store for one round: SQLite in the round's folder, or a new database
/// on the throwaway PostgreSQL cluster (its name, to drop at the end).
fn open_store(data: &std::path::Path, backend: Backend) -> (Arc<dyn Store>, Option<String>) {
    match backend {
        Backend::Sqlite => {
            let db = Sqlite::open(&data.join("beatbook.sqlite3")).expect("open the database");
            (Arc::new(db), None)
        }
        Backend::Postgres => {
            let (url, name) = cluster::new_database();
            let db = Postgres::open(&url).expect("open the database");
            (Arc::new(db), Some(name))
        }
    }
}

fn start_server(data: &std::path::Path, over: Over, db: Arc<dyn Store>) -> Target {
    // The bench measures the store, not the per-device rate limit.
    let state = ApiState::unlimited(db.clone());
    let app = beatbook_server::app_with_api(data, state);
    let (transport, root) = match over {
        Over::Http => (
            Transport::Plain {
                addr: "127.0.0.1:0".parse().expect("an address"),
            },
            None,
        ),
        Over::Https => {
            let made = rcgen::generate_simple_self_signed(vec!["beat.test".to_owned()])
                .expect("a certificate");
            let (cert, key) = (data.join("cert.pem"), data.join("key.pem"));
            std::fs::write(&cert, made.cert.pem()).expect("cert.pem");
            std::fs::write(&key, made.key_pair.serialize_pem()).expect("key.pem");
            let https = "127.0.0.1:0".parse().expect("an address");
            let transport = Transport::Files {
                https,
                http: None,
                cert,
                key,
            };
            (transport, Some(made.cert.der().to_vec()))
        }
    };
    let addr = background::serve_in_background(transport, app, Limits::default());
    match root {
        None => Target::Plain(addr),
        Some(root) => Target::Tls { addr, root },
    }
}

/// What one round measured.
struct Round {
    records_per_second: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    batches: usize,
    seconds: f64,
    megabytes: f64,
    /// The largest the write-ahead log grew during the run, and the
    /// database file at its end, in MiB.
    wal_peak: f64,
    database: f64,
}

fn mib(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1_048_576.0)
}

/// A fresh server and database, then every client sending its batches.
fn round(new_id: fn() -> Uuid, over: Over, backend: Backend) -> Round {
    let data = background::site_folder("ingest-bench");
    let (db, database_name) = open_store(&data, backend);
    let target = start_server(&data, over, db.clone());

    // Pairing goes through the store directly: its HTTP route is rate-limited
    // per address, and it is not what this bench measures.
    let tokens: Vec<String> = (0..CLIENTS)
        .map(|i| {
            let code = db
                .create_pairing_code(&format!("bench phone {i}"))
                .expect("pairing code");
            db.redeem_pairing_code(&code)
                .expect("redeem")
                .expect("a fresh code is accepted")
                .token
        })
        .collect();

    // Bodies are made before the clock starts: the bench times the server.
    let bodies: Vec<Vec<Vec<u8>>> = (0..CLIENTS)
        .map(|c| {
            (0..WARM_UP_BATCHES + BATCHES_PER_CLIENT)
                .map(|n| batch(c, n, new_id))
                .collect()
        })
        .collect();
    let body_bytes: usize = bodies.iter().flatten().map(Vec::len).sum();

    let start_line = Arc::new(Barrier::new(CLIENTS + 1));
    let clients: Vec<_> = bodies
        .into_iter()
        .zip(tokens)
        .map(|(bodies, token)| {
            let (start_line, target) = (start_line.clone(), target.clone());
            std::thread::spawn(move || {
                let mut connection = target.connect();
                let auth = format!("Authorization: Bearer {token}");
                let headers = ["Content-Type: application/json", auth.as_str()];
                let mut send = |body: &[u8]| {
                    let started = Instant::now();
                    let answer = connection.request("POST", "/api/v1/sync", &headers, body);
                    let took = started.elapsed();
                    assert_eq!(answer.status, 200, "{}", answer.text());
                    let stored = answer
                        .body
                        .windows(8)
                        .filter(|w| w == b"\"stored\"")
                        .count();
                    assert_eq!(stored, BATCH, "every record stored once");
                    took
                };
                for body in &bodies[..WARM_UP_BATCHES] {
                    send(body);
                }
                start_line.wait();
                bodies[WARM_UP_BATCHES..]
                    .iter()
                    .map(|body| send(body))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    // The log's size, looked at every 50 ms while the clients send.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (done, wal) = (done.clone(), data.join("beatbook.sqlite3-wal"));
        std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(mib(&wal));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        })
    };
    start_line.wait();
    let started = Instant::now();
    let mut latencies: Vec<Duration> = clients
        .into_iter()
        .flat_map(|c| c.join().expect("client thread"))
        .collect();
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let wal_peak = watcher.join().expect("the log watcher");
    let database = mib(&data.join("beatbook.sqlite3"));
    latencies.sort();

    let stored = db
        .count(beatbook_core::protocol::RecordKind::Note)
        .expect("count");
    assert_eq!(
        stored as usize,
        CLIENTS * (WARM_UP_BATCHES + BATCHES_PER_CLIENT) * BATCH,
        "the database holds every note once"
    );
    let _ = std::fs::remove_dir_all(&data);
    drop(db);
    if let Some(name) = database_name {
        cluster::drop_database(&name);
    }
    Round {
        records_per_second: (latencies.len() * BATCH) as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies[latencies.len() - 1],
        batches: latencies.len(),
        seconds: elapsed.as_secs_f64(),
        megabytes: body_bytes as f64 / 1e6,
        wal_peak,
        database,
    }
}

fn main() {
    tracing_subscriber::fmt().with_target(false).init();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "\nServer ingest on loopback: {CLIENTS} clients on keep-alive connections, {BATCH}-note batches, \
         {BATCHES_PER_CLIENT} timed batches each, fresh database per round"
    );
    let rounds = [
        (
            "plain HTTP, time-ordered ids (UUIDv7, as the app makes them)",
            Uuid::now_v7 as fn() -> Uuid,
            Over::Http,
            Backend::Sqlite,
            true,
        ),
        (
            "HTTPS (TLS 1.3, certificate from files), time-ordered ids",
            Uuid::now_v7,
            Over::Https,
            Backend::Sqlite,
            true,
        ),
        (
            "plain HTTP, random ids (UUIDv4, worst case for the index)",
            Uuid::new_v4,
            Over::Http,
            Backend::Sqlite,
            false,
        ),
        (
            "PostgreSQL (a cluster on this machine, by its socket), plain HTTP, time-ordered ids",
            Uuid::now_v7,
            Over::Http,
            Backend::Postgres,
            true,
        ),
    ];
    for (label, new_id, over, backend, judged) in rounds {
        let r = round(new_id, over, backend);
        println!(
            "  {label}: {} batches, {:.1} MB of JSON in {:.2} s",
            r.batches, r.megabytes, r.seconds
        );
        let rate_target = r.records_per_second >= TARGET_RECORDS_PER_SECOND;
        let p99_target = r.p99 < TARGET_P99;
        let (rate_note, p99_note) = if judged {
            (
                format!(
                    "   target ≥ {TARGET_RECORDS_PER_SECOND:.0}: {}",
                    verdict(rate_target)
                ),
                format!(
                    "   target < {} ms: {}",
                    TARGET_P99.as_millis(),
                    verdict(p99_target)
                ),
            )
        } else {
            (String::new(), String::new())
        };
        println!(
            "    records per second          {:>9.0}{rate_note}",
            r.records_per_second
        );
        println!("    batch latency p50           {:>9.1} ms", ms(r.p50));
        println!(
            "    batch latency p99           {:>9.1} ms{p99_note}",
            ms(r.p99)
        );
        println!("    batch latency max           {:>9.1} ms", ms(r.max));
        if backend == Backend::Sqlite {
            println!(
                "    write-ahead log at most     {:>9.1} MiB (database {:.1} MiB)",
                r.wal_peak, r.database
            );
        }
    }
}
