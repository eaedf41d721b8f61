//! The server binary as it is deployed: refusing plain HTTP off loopback,
//! TLS from certificate files that are renewed while it runs, a clean stop
//! on SIGTERM in the middle of batches, backups taken during ingest that
//! restore, and rate limits per resident behind a trusted proxy.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beatbook_core::report::ReportKind;
use beatbook_core::Note;
use beatbook_server::api::{ApiState, Cidr};
use common::binary::{command, dist, pair, Running, BINARY};
use common::http::connect_from;
use common::records::{note, report};
use common::{request, serve_with, temp_dir};
use serde_json::json;
use uuid::Uuid;

fn notes(count: usize, label: &str) -> Vec<Note> {
    (0..count)
        .map(|i| {
            note(&format!("{label} note {i}"))
                .id(Uuid::now_v7())
                .build()
        })
        .collect()
}

/// Sends notes as the phone does.
fn sync(addr: SocketAddr, auth: &str, notes: &[Note]) -> common::Response {
    let body = json!({ "notes": notes }).to_string();
    request(addr, "POST", "/api/v1/sync", &[auth], body.as_bytes())
}

fn held_notes(addr: SocketAddr, auth: &str) -> Vec<Uuid> {
    let r = request(addr, "GET", "/api/v1/notes", &[auth], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn the_server_names_its_release() {
    let out = Command::new(BINARY).arg("--version").output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        said.trim(),
        format!("beatbook-server {}", env!("CARGO_PKG_VERSION"))
    );
    let releases = include_str!("../../../docs/releases.md");
    assert!(
        releases.contains(&format!("## {}", env!("CARGO_PKG_VERSION"))),
        "docs/releases.md says what this release changed"
    );
}

#[test]
fn plain_http_off_loopback_is_refused_with_the_reason_and_the_way_out() {
    let data = temp_dir("serving-plain");
    let out = Command::new(BINARY)
        .args(["serve", "--addr", "0.0.0.0:0", "--dist"])
        .arg(dist())
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    for words in [
        "refusing to serve plain HTTP",
        "cannot install",
        "--domain",
        "--insecure-http",
    ] {
        assert!(said.contains(words), "{said}");
    }
    // On purpose, for a proxy: it serves.
    let running = Running::start(&data, &["--addr", "0.0.0.0:0", "--insecure-http"]);
    let port = running.url.rsplit(':').next().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert_eq!(request(addr, "GET", "/healthz", &[], b"").status, 200);
}

#[test]
fn a_flag_that_does_not_apply_is_refused_naming_the_one_that_does() {
    let data = temp_dir("serving-flags");
    let dist = dist();
    let dist = dist.to_str().unwrap();
    let serve = |more: &[&'static str]| {
        let mut args = vec!["serve", "--dist", dist];
        args.extend_from_slice(more);
        args
    };
    for (args, says) in [
        (
            serve(&[
                "--addr",
                "127.0.0.1:0",
                "--tls-cert",
                "c.pem",
                "--tls-key",
                "k.pem",
            ]),
            "--https-addr says where HTTPS listens",
        ),
        (
            serve(&["--https-addr", "127.0.0.1:0"]),
            "--tls-cert FILE --tls-key FILE",
        ),
        (
            serve(&["--insecure-http", "--domain", "beat.test"]),
            "gives HTTPS itself",
        ),
        (serve(&["--acme-email", "a@beat.test"]), "--domain <NAME>"),
        (serve(&["--tls-cert", "c.pem"]), "--tls-key <FILE>"),
        (
            serve(&[
                "--domain",
                "beat.test",
                "--tls-cert",
                "c.pem",
                "--tls-key",
                "k.pem",
            ]),
            "cannot be used with",
        ),
        (vec!["pair"], "--name <NAME>"),
        (vec!["revoke", "the-phone"], "[DEVICE]"),
        (vec!["revoke"], "--person"),
        (vec!["invite", "--ward", "Mill Lane"], "--role <ROLE>"),
        (vec!["backup"], "--to <FILE>"),
    ] {
        let out = Command::new(BINARY)
            .args(&args)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains(says), "{args:?}: {said}");
    }
    assert!(
        !data.join(beatbook_server::data::DATABASE).exists(),
        "nothing was opened"
    );
    let out = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for command in [
        "serve",
        "pair",
        "ward",
        "invite",
        "people",
        "devices",
        "revoke",
        "erase-report",
        "backup",
        "restore",
    ] {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "{command}: {help}"
        );
    }
}

/// A self-signed certificate for `beat.test`, as PEM files.
fn certificate(folder: &Path) -> Vec<u8> {
    let made = rcgen::generate_simple_self_signed(vec!["beat.test".to_owned()]).unwrap();
    std::fs::write(folder.join("key.pem"), made.key_pair.serialize_pem()).unwrap();
    std::fs::write(folder.join("cert.pem"), made.cert.pem()).unwrap();
    made.cert.der().to_vec()
}

/// The binary serving HTTPS on loopback with the certificate files
/// `certificate` wrote to `data`, and `more` arguments.
fn start_tls(data: &Path, more: &[&str]) -> Running {
    let (cert, key) = (data.join("cert.pem"), data.join("key.pem"));
    let mut args = vec![
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--https-addr",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(more);
    Running::start(data, &args)
}

/// A TLS client trusting `roots`, speaking HTTP/1.1.
fn client_config(roots: &[Vec<u8>]) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone().into()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    Arc::new(config)
}

/// Connects with TLS to `beat.test` at `addr`, trusting `roots`, and says
/// which certificate was served, which protocol was agreed, and what
/// `/healthz` answered.
fn tls_get(addr: SocketAddr, roots: &[Vec<u8>]) -> (Vec<u8>, Option<Vec<u8>>, String) {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone().into()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let name = "beat.test".try_into().unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
    tls.flush().unwrap();
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    let served = tls.conn.peer_certificates().unwrap()[0].to_vec();
    let alpn = tls.conn.alpn_protocol().map(<[u8]>::to_vec);
    drop(tls);
    // HTTP/1.1 for the body (the test has no HTTP/2 client).
    let conn = rustls::ClientConnection::new(client_config(roots), "beat.test".try_into().unwrap())
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: beat.test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    (served, alpn, String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn tls_from_files_offers_http2_and_picks_up_a_renewed_certificate_without_a_restart() {
    let data = temp_dir("serving-tls");
    let first = certificate(&data);
    let running = start_tls(&data, &["--http-addr", "127.0.0.1:0"]);
    assert!(running.url.starts_with("https://"), "{}", running.url);
    let (served, alpn, answer) = tls_get(running.addr(), std::slice::from_ref(&first));
    assert_eq!(served, first);
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]), "HTTP/2 is offered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("strict-transport-security: max-age=31536000"),
        "{answer}"
    );

    // Another tool renews the certificate: the next handshakes use it.
    let second = certificate(&data);
    let roots = [first.clone(), second.clone()];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (served, _, _) = tls_get(running.addr(), &roots);
        if served == second {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was never served"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_flood_of_silent_connections_from_many_addresses_keeps_no_visitor_out() {
    let files = beatbook_server::serve::raise_descriptor_limit().unwrap_or(0);
    assert!(
        files >= 2048,
        "this test opens 1,100 connections: it needs 2,048 open files, and may have {files}"
    );
    let data = temp_dir("serving-flood");
    let root = certificate(&data);
    let running = start_tls(&data, &[]);
    // 1,100 connections from 20 addresses that say nothing: 1,000 finish
    // their handshake first (as many as the server's room), 50 send the
    // start of a ClientHello and stop, 50 send nothing at all.
    let config = client_config(std::slice::from_ref(&root));
    let flood: Vec<Box<dyn Read>> = (0..1100)
        .map(|n| {
            let mut hog = connect_from(&format!("127.0.0.{}", 10 + n % 20), running.addr());
            if n < 1000 {
                let conn =
                    rustls::ClientConnection::new(config.clone(), "beat.test".try_into().unwrap())
                        .unwrap();
                let mut tls = rustls::StreamOwned::new(conn, hog);
                while tls.conn.is_handshaking() {
                    tls.conn.complete_io(&mut tls.sock).unwrap();
                }
                Box::new(tls) as Box<dyn Read>
            } else {
                if n % 2 == 0 {
                    hog.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
                        .unwrap();
                }
                Box::new(hog)
            }
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let (_, _, answer) = tls_get(running.addr(), std::slice::from_ref(&root));
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took < Duration::from_secs(1), "a visitor waited {took:?}");
    drop(flood);
    let (_, said) = running.terminate();
    assert!(
        said.contains("Connections: up to 1024 at once, 64 from one address; open files: up to"),
        "{said}"
    );
}

#[test]
fn the_host_sets_what_one_phone_may_store() {
    let data = temp_dir("serving-quota");
    let running = Running::start(&data, &["--addr", "127.0.0.1:0", "--device-quota-mb", "1"]);
    let auth = pair(&data, running.addr());
    // About 1.2 MB of notes in three batches: the third goes past 1 MB.
    let long = "a long note about the night's walk ".repeat(100);
    let mut statuses = Vec::new();
    for batch in 0..3 {
        let notes: Vec<Note> = (0..120)
            .map(|i| {
                note(&format!("{long} {batch}-{i}"))
                    .id(Uuid::now_v7())
                    .build()
            })
            .collect();
        statuses.push(sync(running.addr(), &auth, &notes).status);
    }
    assert_eq!(statuses, [200, 200, 413]);
}

#[test]
fn sigterm_during_batches_loses_nothing_and_closes_the_database() {
    let data = temp_dir("serving-sigterm");
    let running = Running::start(&data, &["--addr", "127.0.0.1:0"]);
    let addr = running.addr();
    let auth = pair(&data, addr);
    let batches: Vec<Vec<Note>> = (0..40).map(|b| notes(25, &format!("batch {b}"))).collect();
    let answered = Arc::new(Mutex::new(Vec::<usize>::new()));
    // When each batch's request was all written, and when its connection
    // ended (answered or closed).
    let timings = Arc::new(Mutex::new(Vec::<(Instant, Instant)>::new()));
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let (answered, next) = (answered.clone(), next.clone());
            let (timings, in_flight) = (timings.clone(), in_flight.clone());
            let (batches, auth) = (batches.clone(), auth.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(batch) = batches.get(i) else { return };
                let body = json!({ "notes": batch }).to_string();
                // A refused connection (the server has stopped) is a batch
                // the phone keeps and sends again later.
                let Ok(mut stream) = TcpStream::connect(addr) else { return };
                let head = format!(
                    "POST /api/v1/sync HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes())).is_err() {
                    return;
                }
                let written = Instant::now();
                in_flight.fetch_add(1, Ordering::SeqCst);
                let mut raw = String::new();
                let _ = stream.read_to_string(&mut raw);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                timings.lock().unwrap().push((written, Instant::now()));
                if raw.starts_with("HTTP/1.1 200") {
                    answered.lock().unwrap().push(i);
                }
            })
        })
        .collect();
    // Some batches answered, and two sent and waiting for their answers.
    let deadline = Instant::now() + Duration::from_secs(20);
    while (answered.lock().unwrap().len() < 2 || in_flight.load(Ordering::SeqCst) < 2)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_micros(200));
    }
    let signalled = Instant::now();
    let (status, out) = running.terminate();
    for sender in senders {
        sender.join().unwrap();
    }
    assert!(status.success(), "{status:?}\n{out}");
    assert!(out.contains("the database is closed"), "{out}");
    let answered = answered.lock().unwrap().clone();
    assert!(
        !answered.is_empty(),
        "some batches were answered before the stop"
    );
    // The stop came in the middle of ingest: a batch was all sent before
    // it, and its connection ended after it.
    let timings = timings.lock().unwrap().clone();
    assert!(
        timings
            .iter()
            .any(|&(written, ended)| written < signalled && ended > signalled),
        "a batch was in flight when SIGTERM came"
    );

    // Restarted, the server holds every record it answered for; the phone
    // resends the rest and each note is held once.
    let running = Running::start(&data, &["--addr", "127.0.0.1:0"]);
    let addr = running.addr();
    let held = held_notes(addr, &auth);
    for &i in &answered {
        for note in &batches[i] {
            assert!(held.contains(&note.id), "batch {i} was answered but lost");
        }
    }
    for (i, batch) in batches.iter().enumerate() {
        if !answered.contains(&i) {
            let r = sync(addr, &auth, batch);
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
    let held = held_notes(addr, &auth);
    let unique: std::collections::BTreeSet<_> = held.iter().collect();
    assert_eq!(held.len(), 40 * 25);
    assert_eq!(unique.len(), held.len());
}

#[test]
fn a_backup_taken_during_ingest_restores_with_every_acknowledged_record() {
    let data = temp_dir("serving-backup");
    let running = Running::start(&data, &["--addr", "127.0.0.1:0"]);
    let addr = running.addr();
    let auth = pair(&data, addr);
    let acknowledged = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let ingest = {
        let (acknowledged, stop, auth) = (acknowledged.clone(), stop.clone(), auth.clone());
        std::thread::spawn(move || {
            let mut round = 0;
            while !stop.load(Ordering::SeqCst) {
                let batch = notes(50, &format!("round {round}"));
                round += 1;
                let r = sync(addr, &auth, &batch);
                assert_eq!(r.status, 200, "{}", r.text());
                acknowledged
                    .lock()
                    .unwrap()
                    .extend(batch.iter().map(|n| n.id));
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 500 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let before_backup = acknowledged.lock().unwrap().clone();
    // A photo on one of the notes: the backup carries it beside the file.
    let jpeg: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.jpg");
    let sha256 = common::sha256_hex(jpeg);
    let photo = Uuid::from_u128(0xF070);
    let r = request(
        addr,
        "POST",
        &format!(
            "/api/v1/photos/{photo}?note={}&sha256={sha256}",
            before_backup[0]
        ),
        &[&auth, "Content-Type: image/jpeg"],
        jpeg,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let file = temp_dir("serving-backup-file").join("nightly.sqlite3");
    let (ok, said) = command(&data, &["backup", "--to", file.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(said.contains("Checked: it restores"), "{said}");
    assert!(said.contains(" 1 photos"), "{said}");
    let beside = file.with_file_name("nightly.sqlite3.photos");
    assert_eq!(std::fs::read(beside.join(&sha256)).unwrap(), jpeg);
    stop.store(true, Ordering::SeqCst);
    ingest.join().unwrap();

    // Restoring under a running server is refused.
    let (ok, said) = command(&data, &["restore", "--from", file.to_str().unwrap()]);
    assert!(!ok && said.contains("is running"), "{said}");
    let _ = running.terminate();

    // Into a fresh data folder, then served: every record acknowledged
    // before the backup began is there.
    let restored = temp_dir("serving-restored");
    let (ok, said) = command(&restored, &["restore", "--from", file.to_str().unwrap()]);
    assert!(ok, "{said}");
    let running = Running::start(&restored, &["--addr", "127.0.0.1:0"]);
    let r = request(running.addr(), "GET", "/api/v1/notes", &[&auth], b"");
    assert_eq!(
        r.status,
        200,
        "the paired token survives a restore: {}",
        r.text()
    );
    let held = held_notes(running.addr(), &auth);
    for id in &before_backup {
        assert!(
            held.contains(id),
            "an acknowledged note is missing from the backup"
        );
    }
    let r = request(
        running.addr(),
        "GET",
        &format!("/api/v1/photos/{photo}"),
        &[&auth],
        b"",
    );
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, jpeg),
        "the photo came back"
    );

    // A backup whose photo went missing is refused, saying which.
    std::fs::remove_file(beside.join(&sha256)).unwrap();
    let elsewhere = temp_dir("serving-no-photo");
    let (ok, said) = command(&elsewhere, &["restore", "--from", file.to_str().unwrap()]);
    assert!(!ok && said.contains("is missing"), "{said}");

    // A file that is not a backup is refused before anything is replaced.
    let junk = temp_dir("serving-junk").join("junk.sqlite3");
    std::fs::write(&junk, b"not a database").unwrap();
    let _ = running.terminate();
    let (ok, said) = command(&restored, &["restore", "--from", junk.to_str().unwrap()]);
    assert!(!ok, "{said}");
    let running = Running::start(&restored, &["--addr", "127.0.0.1:0"]);
    assert_eq!(held_notes(running.addr(), &auth).len(), held.len());
}

fn report_from(addr: SocketAddr, forwarded_for: Option<&str>) -> u16 {
    let report = report("By the bus stop", ReportKind::Other);
    let header = forwarded_for.map(|ip| format!("X-Forwarded-For: {ip}"));
    let headers: Vec<&str> = header.iter().map(String::as_str).collect();
    request(
        addr,
        "POST",
        "/api/v1/reports",
        &headers,
        json!({ "report": report }).to_string().as_bytes(),
    )
    .status
}

#[test]
fn behind_a_trusted_proxy_each_resident_has_their_own_limit_and_a_forged_header_counts_for_nothing()
{
    let loopback: Cidr = "127.0.0.1/32".parse().unwrap();
    let proxied = serve_with(|store| ApiState::new(store).trusting(vec![loopback]));
    // Five reports each in a burst: one resident's sixth waits, another's
    // first goes through.
    for _ in 0..5 {
        assert_eq!(report_from(proxied.addr, Some("203.0.113.7")), 200);
    }
    assert_eq!(report_from(proxied.addr, Some("203.0.113.7")), 429);
    assert_eq!(report_from(proxied.addr, Some("198.51.100.20")), 200);
    // One IPv6 household rotating through its /64 is one resident.
    for i in 0..5 {
        assert_eq!(
            report_from(proxied.addr, Some(&format!("2001:db8:7:7::{i}"))),
            200
        );
    }
    assert_eq!(report_from(proxied.addr, Some("2001:db8:7:7::99")), 429);

    // Not behind a trusted proxy, the header is anyone's: ignored.
    let direct = serve_with(ApiState::new);
    for i in 0..5 {
        assert_eq!(
            report_from(direct.addr, Some(&format!("203.0.113.{i}"))),
            200
        );
    }
    assert_eq!(report_from(direct.addr, Some("203.0.113.200")), 429);
}

/// Every file under `dir`, with its path.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn no_address_of_a_resident_is_kept_or_printed() {
    // A distinctive loopback address to send from, and another that a
    // request claims in X-Forwarded-For (not believed: no proxy is trusted).
    const RESIDENT: &str = "127.83.91.7";
    const CLAIMED: &str = "127.64.29.5";
    let data = temp_dir("no-address");
    let dist = temp_dir("no-address-dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><html lang=\"en\"><head><title>Beatbook</title></head><body><!-- page --></body></html>",
    )
    .unwrap();
    std::fs::write(dist.join(beatbook_server::POLICY_FILE), common::POLICY).unwrap();
    let running = Running::serving(&dist, &data, &["--addr", "127.0.0.1:0"]);
    let addr = running.addr();
    let origin = format!("Origin: http://{addr}");
    let claimed = format!("X-Forwarded-For: {CLAIMED}");
    let send = |method: &str, path: &str, headers: &[&str], body: &[u8]| {
        let mut all = vec![claimed.as_str(), origin.as_str()];
        all.extend(headers);
        common::http::Connection::open_from(RESIDENT, addr).request(method, path, &all, body)
    };

    // A report by the API, looked up, with a photo.
    let sent = report("Bus stop by the Co-op", ReportKind::UnsafeAfterDark);
    let r = send(
        "POST",
        "/api/v1/reports",
        &[],
        json!({ "report": sent }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let code = r.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(
        send("GET", &format!("/api/v1/reports/{code}"), &[], b"").status,
        200
    );
    let photo = include_bytes!("../../core/tests/fixtures/photos/street.png");
    let r = send(
        "POST",
        &format!(
            "/api/v1/photos/{}?report={}&sha256={}",
            Uuid::new_v4(),
            sent.id,
            common::sha256_hex(photo)
        ),
        &["Content-Type: image/png"],
        photo,
    );
    assert!(r.status < 300, "{} {}", r.status, r.text());
    // A report by the plain form, and its page.
    let form = "kind=poor_lighting&place=Footpath+behind+the+library&when=after_dark&description=No+lights+at+all";
    let r = send(
        "POST",
        "/report",
        &["Content-Type: application/x-www-form-urlencoded"],
        form.as_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let page = r.header("location").unwrap().to_owned();
    assert_eq!(send("GET", &page, &[], b"").status, 200);
    assert_eq!(send("GET", "/", &[], b"").status, 200);
    let (status, printed) = running.terminate();
    assert!(status.success(), "{printed}");

    let kept = files_under(&data);
    // What was sent is there to be found (so the search reads what is kept)...
    assert!(kept.iter().any(|(_, b)| holds(b, "Bus stop by the Co-op")));
    assert!(kept
        .iter()
        .any(|(_, b)| holds(b, "Footpath behind the library")));
    // ...and neither address, in any file or anything printed.
    for address in [RESIDENT, CLAIMED] {
        for (path, bytes) in &kept {
            assert!(
                !holds(bytes, address),
                "{address} kept in {}",
                path.display()
            );
        }
        assert!(!printed.contains(address), "{address} printed: {printed}");
    }
}

/// One request on its own connection, `None` if the server went away
/// before answering (as a killed server does).
fn try_request(addr: SocketAddr, head: &str, body: &[u8]) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    Some(String::from_utf8_lossy(&raw).into_owned())
}

#[test]
fn killed_in_the_middle_of_ingest_again_and_again_it_loses_nothing_it_acknowledged() {
    let data = temp_dir("serving-sigkill");
    let running = Running::start(&data, &["--addr", "127.0.0.1:0"]);
    let auth = pair(&data, running.addr());
    // Notes for the photos to belong to, stored before the first kill.
    let owners = notes(40, "photographed");
    assert_eq!(sync(running.addr(), &auth, &owners).status, 200);
    let photos: Vec<&[u8]> = vec![
        include_bytes!("../../core/tests/fixtures/photos/street.png"),
        include_bytes!("../../core/tests/fixtures/photos/street.jpg"),
        include_bytes!("../../core/tests/fixtures/photos/street.webp"),
    ];
    let mut running = Some(running);
    let mut stored_notes = Vec::<Uuid>::new();
    let mut stored_photos = Vec::<(Uuid, &[u8])>::new();
    let mut next_owner = 0;
    for round in 0..5 {
        let server = running
            .take()
            .unwrap_or_else(|| Running::start(&data, &["--addr", "127.0.0.1:0"]));
        let addr = server.addr();
        let batches: Vec<Vec<Note>> = (0..30)
            .map(|b| notes(20, &format!("round {round} batch {b}")))
            .collect();
        let answered = Arc::new(Mutex::new(Vec::<usize>::new()));
        let photos_kept = Arc::new(Mutex::new(Vec::<(Uuid, usize)>::new()));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut senders = Vec::new();
        for _ in 0..3 {
            let (answered, next, in_flight) = (answered.clone(), next.clone(), in_flight.clone());
            let (batches, auth) = (batches.clone(), auth.clone());
            senders.push(std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(batch) = batches.get(i) else { return };
                let body = json!({ "notes": batch }).to_string();
                let head = format!(
                    "POST /api/v1/sync HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                in_flight.fetch_add(1, Ordering::SeqCst);
                let answer = try_request(addr, &head, body.as_bytes());
                in_flight.fetch_sub(1, Ordering::SeqCst);
                match answer {
                    Some(raw) if raw.starts_with("HTTP/1.1 200") => answered.lock().unwrap().push(i),
                    _ => return,
                }
            }));
        }
        {
            let (photos_kept, auth) = (photos_kept.clone(), auth.clone());
            let owners: Vec<Uuid> = owners.iter().map(|n| n.id).collect();
            let photos = photos
                .clone()
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>();
            let first = next_owner;
            senders.push(std::thread::spawn(move || {
                for (k, owner) in owners.iter().enumerate().skip(first) {
                    let (id, which) = (Uuid::now_v7(), k % photos.len());
                    let bytes = &photos[which];
                    let media = ["image/png", "image/jpeg", "image/webp"][which];
                    let head = format!(
                        "POST /api/v1/photos/{id}?note={owner}&sha256={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\nContent-Type: {media}\r\nContent-Length: {}\r\n\r\n",
                        common::sha256_hex(bytes),
                        bytes.len()
                    );
                    match try_request(addr, &head, bytes) {
                        Some(raw) if raw.starts_with("HTTP/1.1 20") => {
                            photos_kept.lock().unwrap().push((id, which));
                        }
                        _ => return,
                    }
                }
            }));
        }
        // Killed with batches and photos answered, and others on their way.
        let deadline = Instant::now() + Duration::from_secs(20);
        while (answered.lock().unwrap().len() < 3
            || photos_kept.lock().unwrap().len() < 2
            || in_flight.load(Ordering::SeqCst) < 2)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_micros(200));
        }
        let in_flight_at_kill = in_flight.load(Ordering::SeqCst);
        server.kill();
        for sender in senders {
            sender.join().unwrap();
        }
        assert!(
            in_flight_at_kill > 0,
            "round {round}: killed in the middle of ingest"
        );
        let answered = answered.lock().unwrap().clone();
        assert!(
            answered.len() < batches.len(),
            "round {round}: not every batch was done"
        );
        for i in answered {
            stored_notes.extend(batches[i].iter().map(|n| n.id));
        }
        let kept = photos_kept.lock().unwrap().clone();
        next_owner += kept.len();
        stored_photos.extend(kept.into_iter().map(|(id, which)| (id, photos[which])));
    }
    // Restarted: every note and photo it said it stored is there, once and whole.
    let server = Running::start(&data, &["--addr", "127.0.0.1:0"]);
    let held = held_notes(server.addr(), &auth);
    let unique: std::collections::BTreeSet<_> = held.iter().collect();
    assert_eq!(unique.len(), held.len(), "each note held once");
    for id in &stored_notes {
        assert!(unique.contains(id), "note {id} was acknowledged but lost");
    }
    assert!(!stored_photos.is_empty(), "some photos were acknowledged");
    for (id, bytes) in &stored_photos {
        let r = request(
            server.addr(),
            "GET",
            &format!("/api/v1/photos/{id}"),
            &[&auth],
            b"",
        );
        assert_eq!(r.status, 200, "photo {id} was acknowledged but lost");
        assert_eq!(
            common::sha256_hex(&r.body),
            common::sha256_hex(bytes),
            "photo {id} whole"
        );
    }
    // No photo file under its final name is half written.
    for (path, bytes) in files_under(&data.join("photos")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            assert_eq!(
                common::sha256_hex(&bytes),
                name,
                "{} is whole",
                path.display()
            );
        }
    }
}
