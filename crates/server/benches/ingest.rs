//! Server ingest on loopback: 32 clients, each on its own keep-alive
//! connection and device token, send 50-note batches, over plain HTTP and
//! over HTTPS, on SQLite and on PostgreSQL (a throwaway cluster on this
//! machine, reached by its socket).
//!
//! Each store's maximum comes first, with every client sending its next
//! batch as soon as the last is answered; then the latency at a steady
//! offered load of half that maximum, each batch sent at its scheduled
//! time and timed from then (so a server that falls behind is charged for
//! the wait). Both are printed beside raw SQLite in the same run: the same
//! schema and the same statements, with group commit and
//! `synchronous=FULL`, and no HTTP, JSON, tokens or quotas.
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use beatbook_core::Note;
use beatbook_server::api::ApiState;
use beatbook_server::serve::conn::Limits;
use beatbook_server::serve::Transport;
use beatbook_server::store::postgres::cluster;
use beatbook_server::store::{Devices, Postgres, Store};
use beatbook_server::Sqlite;
use chrono::Utc;
use http::Connection;
use records::{note, sync_body};
use rusqlite::OptionalExtension;
use uuid::Uuid;

const CLIENTS: usize = 32;
const BATCH: usize = 50;
const BATCHES_PER_CLIENT: usize = 150;
const WARM_UP_BATCHES: usize = 2;
/// How long a round at half the maximum offers its load.
const STEADY_SECONDS: f64 = 10.0;
/// The least of raw SQLite's maximum the server on SQLite must reach.
const TARGET_OF_RAW: f64 = 0.8;
/// The p99 of a batch at half the maximum, on either store.
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

/// How the clients send.
#[derive(Clone, Copy)]
enum Load {
    /// Each client's next batch as soon as its last is answered: the most
    /// the server takes.
    Closed,
    /// Batches at this many records a second in all, each client's in
    /// turn, each timed from when it was due.
    Steady(f64),
}

impl Load {
    /// How many timed batches each client sends.
    fn batches(self) -> usize {
        match self {
            Load::Closed => BATCHES_PER_CLIENT,
            Load::Steady(rate) => {
                let all = rate * STEADY_SECONDS / BATCH as f64;
                ((all / CLIENTS as f64).ceil() as usize).clamp(5, BATCHES_PER_CLIENT)
            }
        }
    }

    /// When client `c`'s `n`th timed batch is due, after `start`.
    fn due(self, start: Instant, c: usize, n: usize) -> Option<Instant> {
        match self {
            Load::Closed => None,
            Load::Steady(rate) => {
                let between = BATCH as f64 / rate;
                Some(start + Duration::from_secs_f64(between * (n * CLIENTS + c) as f64))
            }
        }
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

/// Two barriers around the clock's start: every client warmed up, then
/// the start set for all of them.
struct StartLine {
    ready: Barrier,
    go: Barrier,
    at: std::sync::OnceLock<Instant>,
}

impl StartLine {
    fn new() -> Arc<StartLine> {
        Arc::new(StartLine {
            ready: Barrier::new(CLIENTS + 1),
            go: Barrier::new(CLIENTS + 1),
            at: std::sync::OnceLock::new(),
        })
    }

    /// A client's wait: returns when the clock starts.
    fn wait(&self) -> Instant {
        self.ready.wait();
        self.go.wait();
        *self
            .at
            .get()
            .expect("the start is set before the clients go")
    }

    /// The bench's own wait: sets the start a moment ahead, lets them go.
    fn start(&self) -> Instant {
        self.ready.wait();
        let at = Instant::now() + Duration::from_millis(20);
        self.at.set(at).expect("started once");
        self.go.wait();
        at
    }
}

/// Sleeps until `due`, if it is still ahead.
fn sleep_until(due: Instant) {
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}

fn summary(mut latencies: Vec<Duration>, elapsed: Duration, bytes: usize) -> Round {
    latencies.sort();
    Round {
        records_per_second: (latencies.len() * BATCH) as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies[latencies.len() - 1],
        batches: latencies.len(),
        seconds: elapsed.as_secs_f64(),
        megabytes: bytes as f64 / 1e6,
        wal_peak: 0.0,
        database: 0.0,
    }
}

/// Watches the write-ahead log's size every 50 ms until told to stop, and
/// answers the largest it saw.
fn watch_log(wal: std::path::PathBuf) -> (Arc<AtomicBool>, std::thread::JoinHandle<f64>) {
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(mib(&wal));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        })
    };
    (done, watcher)
}

/// Starts the clock for `clients`, waits for every one, and answers their
/// batches' latencies, how long they took in all, and the largest the
/// write-ahead log in `data` grew meanwhile (MiB).
fn run_clients(
    start_line: &StartLine,
    clients: Vec<std::thread::JoinHandle<Vec<Duration>>>,
    data: &std::path::Path,
) -> (Vec<Duration>, Duration, f64) {
    let (done, watcher) = watch_log(data.join("beatbook.sqlite3-wal"));
    let started = start_line.start();
    let latencies: Vec<Duration> = clients
        .into_iter()
        .flat_map(|c| c.join().expect("client thread"))
        .collect();
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    (latencies, elapsed, watcher.join().expect("the log watcher"))
}

/// A fresh server and database, then every client sending its batches.
fn round(new_id: fn() -> Uuid, over: Over, backend: Backend, load: Load) -> Round {
    let data = background::site_folder("ingest-bench");
    let (db, database_name) = open_store(&data, backend);
    let target = start_server(&data, over, db.clone());
    let tokens = pair_clients(db.as_ref());

    // Bodies are made before the clock starts: the bench times the server.
    let timed = load.batches();
    let bodies: Vec<Vec<Vec<u8>>> = (0..CLIENTS)
        .map(|c| {
            (0..WARM_UP_BATCHES + timed)
                .map(|n| batch(c, n, new_id))
                .collect()
        })
        .collect();
    let body_bytes: usize = bodies.iter().flatten().map(Vec::len).sum();

    let start_line = StartLine::new();
    let clients: Vec<_> = bodies
        .into_iter()
        .zip(tokens)
        .enumerate()
        .map(|(c, (bodies, token))| {
            let (start_line, target) = (start_line.clone(), target.clone());
            std::thread::spawn(move || {
                let mut connection = target.connect();
                let auth = format!("Authorization: Bearer {token}");
                let headers = ["Content-Type: application/json", auth.as_str()];
                let mut send = |body: &[u8]| {
                    let answer = connection.request("POST", "/api/v1/sync", &headers, body);
                    assert_eq!(answer.status, 200, "{}", answer.text());
                    let stored = answer
                        .body
                        .windows(8)
                        .filter(|w| w == b"\"stored\"")
                        .count();
                    assert_eq!(stored, BATCH, "every record stored once");
                };
                for body in &bodies[..WARM_UP_BATCHES] {
                    send(body);
                }
                let start = start_line.wait();
                bodies[WARM_UP_BATCHES..]
                    .iter()
                    .enumerate()
                    .map(|(n, body)| {
                        let from = match load.due(start, c, n) {
                            Some(due) => {
                                sleep_until(due);
                                due
                            }
                            None => Instant::now(),
                        };
                        send(body);
                        from.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let (latencies, elapsed, wal_peak) = run_clients(&start_line, clients, &data);
    let database = mib(&data.join("beatbook.sqlite3"));

    let stored = db
        .count(beatbook_core::protocol::RecordKind::Note)
        .expect("count");
    assert_eq!(
        stored as usize,
        CLIENTS * (WARM_UP_BATCHES + timed) * BATCH,
        "the database holds every note once"
    );
    let _ = std::fs::remove_dir_all(&data);
    drop(db);
    if let Some(name) = database_name {
        cluster::drop_database(&name);
    }
    Round {
        wal_peak,
        database,
        ..summary(latencies, elapsed, body_bytes)
    }
}

/// A device token for each client. Pairing goes through the store
/// directly: its HTTP route is rate-limited per address, and it is not
/// what this bench measures.
fn pair_clients(db: &dyn Store) -> Vec<String> {
    (0..CLIENTS)
        .map(|i| {
            let code = db
                .create_pairing_code(&format!("bench phone {i}"))
                .expect("pairing code");
            db.redeem_pairing_code(&code)
                .expect("redeem")
                .expect("a fresh code is accepted")
                .token
        })
        .collect()
}

/// One note as the store writes it: its id, body, content hash and the
/// time it sorts by.
struct Row {
    id: String,
    body: String,
    content_hash: Vec<u8>,
    created_at: String,
}

/// A batch for the raw writer, with the device it came from and the way to
/// say it is committed.
type Written = std::sync::mpsc::Sender<()>;

/// Raw SQLite: the server's own schema (made by the store, with its
/// devices), then the store's three statements per record (find what is
/// held, write the record, keep its revision) on one connection with
/// `synchronous=FULL`, every batch waiting written in one transaction
/// (group commit), and nothing else: no HTTP, no JSON to parse, no token
/// or quota. The 32 clients hand it ready rows and wait for the commit.
fn raw_sqlite_round(new_id: fn() -> Uuid) -> Round {
    let data = background::site_folder("ingest-bench-raw");
    let path = data.join("beatbook.sqlite3");
    let store = Sqlite::open(&path).expect("open the database");
    let devices: Vec<i64> = pair_clients(&store)
        .iter()
        .map(|token| {
            store
                .device_for_token(token)
                .expect("a device")
                .expect("paired")
                .id
        })
        .collect();
    store.close().expect("closed");

    let rows = |c: usize, n: usize| -> Vec<Row> {
        let body = batch(c, n, new_id);
        let sync: serde_json::Value = serde_json::from_slice(&body).expect("a sync body");
        sync["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .map(|r| {
                let body = r.to_string();
                Row {
                    id: r["id"].as_str().expect("an id").to_owned(),
                    content_hash: beatbook_core::protocol::ingest::kept_content_hash(
                        beatbook_core::protocol::RecordKind::Note,
                        &body,
                    )
                    .to_vec(),
                    created_at: r["created_at"].as_str().expect("a time").to_owned(),
                    body,
                }
            })
            .collect()
    };
    let batches: Vec<Vec<Vec<Row>>> = (0..CLIENTS)
        .map(|c| {
            (0..WARM_UP_BATCHES + BATCHES_PER_CLIENT)
                .map(|n| rows(c, n))
                .collect()
        })
        .collect();
    let body_bytes: usize = batches
        .iter()
        .flatten()
        .flatten()
        .map(|r| r.body.len())
        .sum();

    let (send, queue) = std::sync::mpsc::channel::<(i64, Arc<Vec<Row>>, Written)>();
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut conn = rusqlite::Connection::open(&path).expect("open");
            conn.pragma_update(None, "journal_mode", "WAL")
                .expect("WAL");
            conn.pragma_update(None, "synchronous", "FULL")
                .expect("FULL");
            conn.pragma_update(None, "foreign_keys", "ON")
                .expect("keys");
            while let Ok(first) = queue.recv() {
                let mut group = vec![first];
                group.extend(queue.try_iter());
                let received = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .expect("a transaction");
                {
                    let mut find = tx
                        .prepare_cached(
                            "SELECT r.revision, v.content_hash FROM records r
                               LEFT JOIN record_revisions v
                                 ON v.kind = r.kind AND v.id = r.id AND v.revision = r.revision
                             WHERE r.kind = ?1 AND r.id = ?2",
                        )
                        .expect("find");
                    let mut insert = tx
                        .prepare_cached(
                            "INSERT INTO records (kind, id, device_id, revision, shift_id, category, created_at, received_at, body)
                             VALUES ('note', ?1, ?2, 1, NULL, NULL, ?3, ?4, ?5)
                             ON CONFLICT (kind, id) DO UPDATE SET revision = excluded.revision, shift_id = excluded.shift_id,
                                 category = excluded.category, created_at = excluded.created_at,
                                 received_at = excluded.received_at, body = excluded.body",
                        )
                        .expect("insert");
                    let mut keep = tx
                        .prepare_cached(
                            "INSERT INTO record_revisions (kind, id, revision, device_id, received_at, content_hash, body)
                             VALUES ('note', ?1, 1, ?2, ?3, ?4, ?5)",
                        )
                        .expect("keep");
                    for (device, rows, _) in &group {
                        for row in rows.iter() {
                            let held: Option<i64> = find
                                .query_row(rusqlite::params!["note", row.id], |r| r.get(0))
                                .optional()
                                .expect("found");
                            assert!(held.is_none(), "every note is new");
                            insert
                                .execute(rusqlite::params![
                                    row.id,
                                    device,
                                    row.created_at,
                                    received,
                                    row.body
                                ])
                                .expect("written");
                            keep.execute(rusqlite::params![
                                row.id,
                                device,
                                received,
                                row.content_hash,
                                row.body
                            ])
                            .expect("kept");
                        }
                    }
                }
                tx.commit().expect("committed");
                for (_, _, written) in group {
                    let _ = written.send(());
                }
            }
        })
    };

    let start_line = StartLine::new();
    let clients: Vec<_> = batches
        .into_iter()
        .zip(devices)
        .map(|(batches, device)| {
            let (start_line, send) = (start_line.clone(), send.clone());
            std::thread::spawn(move || {
                let write = |rows: Vec<Row>| {
                    let (written, committed) = std::sync::mpsc::channel();
                    send.send((device, Arc::new(rows), written))
                        .expect("the writer takes it");
                    committed.recv().expect("committed");
                };
                let mut batches = batches.into_iter();
                for rows in batches.by_ref().take(WARM_UP_BATCHES) {
                    write(rows);
                }
                start_line.wait();
                batches
                    .map(|rows| {
                        let from = Instant::now();
                        write(rows);
                        from.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    drop(send);
    let (latencies, elapsed, wal_peak) = run_clients(&start_line, clients, &data);
    writer.join().expect("the writer");
    let database = mib(&path);
    let _ = std::fs::remove_dir_all(&data);
    Round {
        wal_peak,
        database,
        ..summary(latencies, elapsed, body_bytes)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// Prints a round's figures; `raw`, when given, is raw SQLite's maximum,
/// printed beside this round's with their ratio and, when `target` is
/// given, whether the ratio meets it.
fn print_round(label: &str, r: &Round, raw: Option<(f64, Option<f64>)>, p99_target: bool) {
    println!(
        "  {label}: {} batches, {:.1} MB of JSON in {:.2} s",
        r.batches, r.megabytes, r.seconds
    );
    let beside = match raw {
        Some((raw, target)) => {
            let ratio = r.records_per_second / raw;
            let judged = target.map_or(String::new(), |t| {
                format!("   target ≥ {t}x: {}", verdict(ratio >= t))
            });
            format!("   {ratio:.2}x raw SQLite ({raw:.0}){judged}")
        }
        None => String::new(),
    };
    println!(
        "    records per second          {:>9.0}{beside}",
        r.records_per_second
    );
    println!("    batch latency p50           {:>9.1} ms", ms(r.p50));
    let p99_note = if p99_target {
        format!(
            "   target < {} ms: {}",
            TARGET_P99.as_millis(),
            verdict(r.p99 < TARGET_P99)
        )
    } else {
        String::new()
    };
    println!(
        "    batch latency p99           {:>9.1} ms{p99_note}",
        ms(r.p99)
    );
    println!("    batch latency max           {:>9.1} ms", ms(r.max));
    if r.database > 0.0 {
        println!(
            "    write-ahead log at most     {:>9.1} MiB (database {:.1} MiB)",
            r.wal_peak, r.database
        );
    }
}

fn main() {
    tracing_subscriber::fmt().with_target(false).init();
    println!(
        "\nServer ingest on loopback: {CLIENTS} clients, {BATCH}-note batches, fresh database per round; \
         the maximum with {BATCHES_PER_CLIENT} batches each sent back to back, then the latency at half \
         that maximum offered steadily for about {STEADY_SECONDS:.0} s"
    );
    let raw = raw_sqlite_round(Uuid::now_v7);
    print_round(
        "raw SQLite (the same schema and statements, group commit, synchronous=FULL; no HTTP), time-ordered ids",
        &raw,
        None,
        false,
    );
    let rounds = [
        (
            "SQLite, plain HTTP, time-ordered ids (UUIDv7, as the app makes them)",
            Uuid::now_v7 as fn() -> Uuid,
            Over::Http,
            Backend::Sqlite,
            true,
        ),
        (
            "SQLite, HTTPS (TLS 1.3, certificate from files), time-ordered ids",
            Uuid::now_v7,
            Over::Https,
            Backend::Sqlite,
            false,
        ),
        (
            "SQLite, plain HTTP, random ids (UUIDv4, worst case for the index)",
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
        let most = round(new_id, over, backend, Load::Closed);
        let target = (judged && backend == Backend::Sqlite).then_some(TARGET_OF_RAW);
        print_round(
            &format!("{label}, maximum"),
            &most,
            Some((raw.records_per_second, target)),
            false,
        );
        if judged {
            let half = most.records_per_second / 2.0;
            let steady = round(new_id, over, backend, Load::Steady(half));
            print_round(
                &format!("{label}, {half:.0} records/s offered (half the maximum)"),
                &steady,
                None,
                true,
            );
        }
    }
}
