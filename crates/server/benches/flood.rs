//! A flood of junk reports on loopback, from rotating addresses behind a
//! trusted proxy, as a botnet would send them: how many are accepted and
//! refused, how fast residents' look-ups and the councillor's sync are
//! answered meanwhile, and what memory and disk the server holds before and
//! after. Bounded: it runs for `FLOOD_SECONDS` (default 20). Then a flood of
//! connections that say nothing, from 20 addresses, more than the server
//! has room for: how soon a visitor is answered.
//!
//! Run with `cargo bench -p beatbook-server --bench flood`.

#[path = "../tests/common/background.rs"]
mod background;
#[path = "../tests/common/http.rs"]
mod http;
#[path = "../tests/common/records.rs"]
mod records;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatbook_core::report::ReportKind;
use beatbook_server::api::ApiState;
use beatbook_server::serve::conn::Limits;
use beatbook_server::serve::Transport;
use beatbook_server::store::Devices;
use beatbook_server::Sqlite;
use http::Connection;
use records::{note, report, sync_body};
use serde_json::json;

const FLOODERS: usize = 16;

/// This process's resident memory, in MiB.
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn mib(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1_048_576.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let seconds: u64 = std::env::var("FLOOD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let data = background::site_folder("flood-bench");
    let db_path = data.join("beatbook.sqlite3");
    let db = Arc::new(Sqlite::open(&db_path).expect("open the database"));
    let loopback = "127.0.0.1/32".parse().expect("a range");
    let app =
        beatbook_server::app_with_api(&data, ApiState::new(db.clone()).trusting(vec![loopback]));
    let transport = Transport::Plain {
        addr: "127.0.0.1:0".parse().expect("an address"),
    };
    let addr = background::serve_in_background(transport, app, Limits::default());

    // A resident's real report to look up, and the councillor's token.
    let mut resident = Connection::open(addr);
    let body =
        json!({ "report": report("Mill Lane underpass", ReportKind::PoorLighting) }).to_string();
    let filed = resident.request(
        "POST",
        "/api/v1/reports",
        &["X-Forwarded-For: 198.51.100.1"],
        body.as_bytes(),
    );
    let code = filed.json()["code"].as_str().expect("a code").to_owned();
    let code_for_pairing = db.create_pairing_code("councillor").expect("a code");
    let token = db
        .redeem_pairing_code(&code_for_pairing)
        .expect("redeem")
        .expect("a fresh code")
        .token;
    let before = (
        resident_mib(),
        mib(&db_path),
        mib(&data.join("beatbook.sqlite3-wal")),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let (accepted, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let flooders: Vec<_> = (0..FLOODERS)
        .map(|f| {
            let (stop, accepted, refused) = (stop.clone(), accepted.clone(), refused.clone());
            std::thread::spawn(move || {
                let mut connection = Connection::open(addr);
                let mut n: u32 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // A new address every few reports, never the same twice.
                    let from = format!(
                        "X-Forwarded-For: 10.{}.{}.{}",
                        f,
                        (n / 3 / 250) % 250,
                        (n / 3) % 250
                    );
                    let junk = json!({ "report": report("Anywhere at all", ReportKind::Other) })
                        .to_string();
                    let r =
                        connection.request("POST", "/api/v1/reports", &[&from], junk.as_bytes());
                    match r.status {
                        200 => accepted.fetch_add(1, Ordering::Relaxed),
                        429 => refused.fetch_add(1, Ordering::Relaxed),
                        other => panic!("unexpected {other}: {}", r.text()),
                    };
                }
            })
        })
        .collect();

    // Meanwhile: residents look up, the councillor syncs.
    let started = Instant::now();
    let mut look_ups = Vec::new();
    let mut syncs = Vec::new();
    let auth = format!("Authorization: Bearer {token}");
    let mut councillor = Connection::open(addr);
    let mut i: u32 = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        i += 1;
        let from = format!("X-Forwarded-For: 198.51.{}.{}", (i / 250) % 250, i % 250);
        let t = Instant::now();
        let r = resident.request("GET", &format!("/api/v1/reports/{code}"), &[&from], b"");
        look_ups.push(t.elapsed());
        assert_eq!(r.status, 200, "a look-up during the flood: {}", r.text());
        if i.is_multiple_of(10) {
            let n = note(&format!("Still on the beat, note {i}")).build();
            let t = Instant::now();
            let r = councillor.request(
                "POST",
                "/api/v1/sync",
                &[&auth],
                sync_body(&[], &[&n]).as_bytes(),
            );
            syncs.push(t.elapsed());
            assert_eq!(r.status, 200, "sync during the flood: {}", r.text());
        }
        // Ten residents' look-ups a second, under the ceiling for everyone
        // (20 a second): past it, each would cost its sender a puzzle.
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        f.join().expect("flooder");
    }
    // Give the checkpointer an idle moment, as a quiet night would.
    std::thread::sleep(Duration::from_secs(3));
    let after = (
        resident_mib(),
        mib(&db_path),
        mib(&data.join("beatbook.sqlite3-wal")),
    );
    look_ups.sort();
    syncs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (a, r) = (
        accepted.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    println!("\nFlood on loopback: {FLOODERS} senders of junk reports from rotating addresses, {elapsed:.1} s");
    println!(
        "    reports sent per second     {:>9.0}",
        (a + r) as f64 / elapsed
    );
    println!("    accepted                    {a:>9}   ({:.1}/s; the ceiling is 120 a minute plus its burst)", a as f64 / elapsed);
    println!("    refused (429)               {r:>9}");
    let p99 = percentile(&look_ups, 99.0);
    println!(
        "    look-up p50 / p99           {:>6.1} / {:.1} ms   target p99 < 50 ms: {}",
        ms(percentile(&look_ups, 50.0)),
        ms(p99),
        if p99 < Duration::from_millis(50) {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "    councillor sync p50 / p99   {:>6.1} / {:.1} ms",
        ms(percentile(&syncs, 50.0)),
        ms(percentile(&syncs, 99.0))
    );
    println!(
        "    memory (RSS)                {:>6.1} → {:.1} MiB",
        before.0, after.0
    );
    println!(
        "    database file               {:>6.1} → {:.1} MiB",
        before.1, after.1
    );
    println!(
        "    write-ahead log             {:>6.1} → {:.1} MiB",
        before.2, after.2
    );
    silent_connections(addr);
    let _ = std::fs::remove_dir_all(&data);
}

/// 1,100 connections that say nothing, from 20 addresses (more than the
/// server's 1,024), then a visitor's requests: how long each waits.
fn silent_connections(addr: std::net::SocketAddr) {
    const SILENT: usize = 1100;
    let files = beatbook_server::serve::raise_descriptor_limit().unwrap_or(0);
    if files < 2 * SILENT as u64 {
        println!(
            "\nSilent connections: skipped, {files} open files allowed (needs {})",
            2 * SILENT
        );
        return;
    }
    let before = resident_mib();
    let started = Instant::now();
    let hogs: Vec<_> = (0..SILENT)
        .map(|n| http::connect_from(&format!("127.0.0.{}", 10 + n % 20), addr))
        .collect();
    let opened = started.elapsed();
    let mut waits = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let r = Connection::open_from("127.0.0.99", addr).request("GET", "/api/health", &[], b"");
        waits.push(t.elapsed());
        assert_eq!(r.status, 200, "a visitor during the flood: {}", r.text());
    }
    let after = resident_mib();
    drop(hogs);
    waits.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let worst = *waits.last().expect("waits");
    println!(
        "\nSilent connections: {SILENT} from 20 addresses, opened in {:.0} ms",
        ms(opened)
    );
    println!(
        "    visitor p50 / max           {:>6.1} / {:.1} ms   target max < 1000 ms: {}",
        ms(percentile(&waits, 50.0)),
        ms(worst),
        if worst < Duration::from_secs(1) {
            "met"
        } else {
            "MISSED"
        }
    );
    println!("    memory (RSS)                {before:>6.1} → {after:.1} MiB");
}
