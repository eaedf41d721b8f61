//! Photo uploads on loopback: 32 clients, each on its own keep-alive
//! connection and device token, send photos of a synced note's size class
//! (a 250 KB JPEG, each made distinct so every one is a new file) one
//! request each, as fast as the server answers. Prints photos per second,
//! megabytes per second and the p50/p99 latency of one upload.
//!
//! Run with `cargo bench -p beatbook-server --bench photos` (or as part of
//! `cargo xtask bench`). It measures; it fails only if an upload is not
//! answered 201.

#[path = "../tests/common/background.rs"]
mod background;
#[path = "../tests/common/http.rs"]
mod http;
#[path = "../tests/common/records.rs"]
mod records;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use beatbook_server::api::{sha256_hex, ApiState};
use beatbook_server::serve::conn::Limits;
use beatbook_server::serve::Transport;
use beatbook_server::store::Devices;
use beatbook_server::Sqlite;
use http::Connection;
use records::{note, sync_body};
use uuid::Uuid;

const CLIENTS: usize = 32;
const PHOTOS_PER_CLIENT: usize = 40;
/// About what the phone makes of a 12-megapixel photo.
const PHOTO_BYTES: usize = 250_000;
const JPEG: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.jpg");

/// A distinct JPEG of `PHOTO_BYTES`: the fixture with `n` and padding after
/// its end-of-image marker (which decoders, and the server's check, ignore).
fn photo(n: usize) -> Vec<u8> {
    let mut bytes = JPEG.to_vec();
    bytes.extend_from_slice(&(n as u64).to_le_bytes());
    bytes.resize(PHOTO_BYTES, 0x5A);
    bytes
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let data = background::site_folder("photos-bench");
    let db = Arc::new(Sqlite::open(&data.join("beatbook.sqlite3")).expect("open the database"));
    let app = beatbook_server::app_with_api(&data, ApiState::unlimited(db.clone()));
    let transport = Transport::Plain {
        addr: "127.0.0.1:0".parse().expect("an address"),
    };
    let addr = background::serve_in_background(transport, app, Limits::default());

    // Each client: a device, and notes synced for its photos (words first).
    let clients: Vec<(String, Vec<Uuid>)> = (0..CLIENTS)
        .map(|c| {
            let code = db
                .create_pairing_code(&format!("phone {c}"))
                .expect("a code");
            let token = db
                .redeem_pairing_code(&code)
                .expect("redeem")
                .expect("paired")
                .token;
            let auth = format!("Authorization: Bearer {token}");
            let notes: Vec<_> = (0..PHOTOS_PER_CLIENT / 4)
                .map(|i| note(&format!("phone {c} note {i}")).build())
                .collect();
            let body = sync_body(&[], &notes.iter().collect::<Vec<_>>());
            let answer =
                Connection::open(addr).request("POST", "/api/v1/sync", &[&auth], body.as_bytes());
            assert_eq!(answer.status, 200, "{}", answer.text());
            (auth, notes.iter().map(|n| n.id).collect())
        })
        .collect();
    let bodies: Vec<Vec<Vec<u8>>> = (0..CLIENTS)
        .map(|c| {
            (0..PHOTOS_PER_CLIENT)
                .map(|i| photo(c * PHOTOS_PER_CLIENT + i))
                .collect()
        })
        .collect();

    let start = Arc::new(Barrier::new(CLIENTS + 1));
    let threads: Vec<_> = clients
        .into_iter()
        .zip(bodies)
        .map(|((auth, notes), bodies)| {
            let start = start.clone();
            std::thread::spawn(move || {
                let mut connection = Connection::open(addr);
                let mut latencies = Vec::with_capacity(bodies.len());
                start.wait();
                for (i, body) in bodies.iter().enumerate() {
                    let path = format!(
                        "/api/v1/photos/{}?note={}&sha256={}",
                        Uuid::new_v4(),
                        notes[i / 4],
                        sha256_hex(body)
                    );
                    let sent = Instant::now();
                    let answer = connection.request(
                        "POST",
                        &path,
                        &[&auth, "Content-Type: image/jpeg"],
                        body,
                    );
                    latencies.push(sent.elapsed());
                    assert_eq!(answer.status, 201, "{}", answer.text());
                }
                latencies
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a client"))
        .collect();
    let elapsed = began.elapsed().as_secs_f64();
    latencies.sort();
    let photos = latencies.len() as f64;
    println!(
        "photo uploads, {CLIENTS} clients, {} photos of {} KB: {:.0} photos/s, {:.1} MB/s, p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        PHOTO_BYTES / 1000,
        photos / elapsed,
        photos * PHOTO_BYTES as f64 / elapsed / 1e6,
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0,
    );
    let _ = std::fs::remove_dir_all(&data);
}
