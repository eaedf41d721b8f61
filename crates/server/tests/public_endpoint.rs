//! The API as the open internet reaches it: only the app's own JSON posts
//! are taken, and what is too large or unauthorised is refused from the
//! headers, before a byte of the body is read.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{proof, ErrorBody};
use beatbook_core::report::ReportKind;
use beatbook_server::api::{ApiState, Body, Cidr, BODIES, REPORTS_PER_MINUTE};
use beatbook_server::serve::conn::Limits;
use common::http::connect_from;
use common::records::{note, report};
use common::{code_of, error_of, serve, serve_with};
use serde_json::json;

fn report_body() -> Vec<u8> {
    json!({ "report": report("By the bus stop", ReportKind::Other) })
        .to_string()
        .into_bytes()
}

#[test]
fn a_form_or_script_on_another_site_cannot_post() {
    let server = serve();
    let body = report_body();
    for (headers, status) in [
        (vec!["Sec-Fetch-Site: cross-site"], 403),
        (vec!["Origin: https://evil.example"], 403),
        (vec!["Origin: null"], 403),
        (vec!["Content-Type: text/plain"], 415),
        (vec!["Content-Type: application/x-www-form-urlencoded"], 415),
        (vec!["Content-Type: multipart/form-data; boundary=x"], 415),
    ] {
        let r = server.post("/api/v1/reports", &headers, &body);
        assert_eq!(r.status, status, "{headers:?}: {}", r.text());
        assert!(!error_of(&r).is_empty(), "a reason is given");
    }
    // The app itself: same origin, or a browser that says so.
    let origin = format!("Origin: http://{}", server.addr);
    for headers in [
        vec![],
        vec!["Sec-Fetch-Site: same-origin"],
        vec![origin.as_str()],
    ] {
        let r = server.post("/api/v1/reports", &headers, &report_body());
        assert_eq!(r.status, 200, "{headers:?}: {}", r.text());
    }
    // Nothing refused above was stored.
    let (held, _) = server
        .db
        .inbox(
            &InboxFilter::default(),
            beatbook_server::store::Reach::Everything,
        )
        .unwrap();
    assert_eq!(held.len(), 3);
}

/// Sends only the head of a request that declares `length` bytes of body,
/// and reads the answer that comes without the body.
fn head_only(addr: std::net::SocketAddr, path: &str, extra: &str, length: usize) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{extra}Content-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = stream
        .read(&mut answer)
        .expect("an answer before the body is sent");
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[test]
fn an_oversize_or_unauthorised_body_is_refused_before_it_is_sent() {
    let server = serve();
    let answer = head_only(server.addr, "/api/v1/reports", "", 2 * 1024 * 1024);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("a report is limited to"), "{answer}");
    let auth = server.pair("phone");
    let answer = head_only(
        server.addr,
        "/api/v1/sync",
        &format!("{auth}\r\n"),
        50 * 1024 * 1024,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A bad token is answered from the headers, whatever the body.
    let answer = head_only(
        server.addr,
        "/api/v1/sync",
        "Authorization: Bearer not-a-token\r\n",
        500_000,
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // Pairing takes a code: a kilobyte is refused unread, unauthenticated.
    for path in ["/api/v1/pair", "/api/v1/reports/K7QF2-M3XDA/erasure"] {
        let answer = head_only(server.addr, path, "", 1024);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("limited to 512 bytes"), "{answer}");
    }
}

/// An address of `route` (from the API's table of bodies), its `{name}`
/// segments filled in.
fn address_of(route: &str) -> String {
    let filled: Vec<&str> = route
        .split('/')
        .map(|segment| match segment {
            "{code}" => "K7QF2-M3XDA",
            "{photo}" | "{recording}" => "01970000-0000-7000-8000-000000000001",
            other => other,
        })
        .collect();
    let attached = [
        beatbook_core::protocol::paths::PHOTO,
        beatbook_core::protocol::paths::RECORDING,
    ]
    .contains(&route);
    let query = if attached {
        format!(
            "?note=01970000-0000-7000-8000-000000000002&sha256={}",
            "a".repeat(64)
        )
    } else {
        String::new()
    };
    format!("/api{}{query}", filled.join("/"))
}

/// The headers of a post to `path` of `body`'s kind, declaring `length`.
fn post_head(path: &str, body: Body, auth: &str, length: usize) -> String {
    let media = match body {
        Body::Photo => "image/jpeg",
        Body::Recording => "audio/webm",
        _ => "application/json",
    };
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {media}\r\n{auth}\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[test]
fn every_route_that_takes_a_body_refuses_one_over_its_limit_unread_and_cuts_one_that_stalls() {
    let server = impatient();
    let auth = server.pair("phone");
    for (route, body) in BODIES {
        let path = address_of(route);
        // Over the limit, declared: answered before a byte is sent.
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        stream
            .write_all(post_head(&path, body, &auth, body.limit() + 1).as_bytes())
            .unwrap();
        let mut answer = vec![0u8; 4096];
        let n = stream
            .read(&mut answer)
            .unwrap_or_else(|e| panic!("{path}: no answer before the body ({e})"));
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(
            answer.contains("limited to") || answer.contains("over"),
            "{path}: {answer}"
        );

        // Within the limit, then stalled half-way: cut off in a second (the
        // request deadline), or answered without it (a 404 for a code no
        // report has), while others are answered.
        let mut stalled = TcpStream::connect(server.addr).unwrap();
        let declared = body.limit().min(400);
        stalled
            .write_all(post_head(&path, body, &auth, declared).as_bytes())
            .unwrap();
        stalled.write_all(&vec![b' '; declared / 2]).unwrap();
        assert_eq!(server.get("/api/health", &[]).status, 200);
        let (said, took) = outcome(&mut stalled);
        assert!(
            said.is_empty() || said.starts_with("HTTP/1.1 408") || said.starts_with("HTTP/1.1 404"),
            "{path}: {said}"
        );
        assert!(
            took < Duration::from_secs(4),
            "{path}: a stalled body held on for {took:?}"
        );
    }
}

/// Short limits, so the tests see them act in seconds.
fn impatient() -> common::TestServer {
    common::serve_limited(
        ApiState::new,
        Limits {
            connections: 8,
            first_byte: Duration::from_secs(1),
            headers: Duration::from_secs(1),
            idle: Duration::from_secs(2),
            request: Duration::from_secs(1),
            ..Limits::default()
        },
    )
}

/// Reads until the server answers or closes: what it said, and how long it
/// took.
fn outcome(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut said = Vec::new();
    let _ = stream.read_to_end(&mut said);
    (
        String::from_utf8_lossy(&said).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_stalled_body_or_half_sent_headers_are_dropped_while_others_are_answered() {
    let server = impatient();
    // Half a body, then nothing.
    let mut stalled_body = TcpStream::connect(server.addr).unwrap();
    write!(
        stalled_body,
        "POST /api/v1/reports HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"report\":",
        server.addr
    )
    .unwrap();
    // Half the headers, then nothing.
    let mut stalled_head = TcpStream::connect(server.addr).unwrap();
    write!(stalled_head, "GET /api/v1/concerns HTTP/1.1\r\nHost: x\r\n").unwrap();
    // Connected, and silent.
    let mut silent = TcpStream::connect(server.addr).unwrap();

    // Meanwhile everyone else is answered.
    assert_eq!(server.get("/api/health", &[]).status, 200);
    let r = server.post("/api/v1/reports", &[], &report_body());
    assert_eq!(r.status, 200, "{}", r.text());

    let (said, took) = outcome(&mut stalled_body);
    assert!(
        said.is_empty() || said.starts_with("HTTP/1.1 408"),
        "{said}"
    );
    assert!(
        took < Duration::from_secs(4),
        "the stalled body held on for {took:?}"
    );
    let (said, took) = outcome(&mut stalled_head);
    assert!(!said.contains("200 OK"), "{said}");
    assert!(
        took < Duration::from_secs(4),
        "half-sent headers held on for {took:?}"
    );
    let (_, took) = outcome(&mut silent);
    assert!(
        took < Duration::from_secs(4),
        "a silent connection held on for {took:?}"
    );
}

/// `GET /api/health` from `source` on a new connection: the status line,
/// and how long the answer took.
fn health_from(source: &str, to: SocketAddr) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = connect_from(source, to);
    write!(
        stream,
        "GET /api/health HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let (said, _) = outcome(&mut stream);
    let status = said.lines().next().unwrap_or_default().to_owned();
    (status, started.elapsed())
}

/// Whether the server has closed `stream` (or is closing it, having said
/// its last word).
fn closed(mut stream: &TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    match stream.read(&mut [0; 64]) {
        Ok(0) => true,
        // Its last word (a 408, say) before it closes.
        Ok(_) => true,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn a_full_server_makes_way_for_a_newcomer_by_closing_the_longest_idle() {
    let server = impatient();
    // Eight silent connections, from eight addresses, take every slot.
    let hogs: Vec<TcpStream> = (2..10)
        .map(|n| {
            let hog = connect_from(&format!("127.0.0.{n}"), server.addr);
            std::thread::sleep(Duration::from_millis(20));
            hog
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // A ninth visitor is answered at once: the first hog made way.
    let (status, took) = health_from("127.0.0.20", server.addr);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    assert!(closed(&hogs[0]), "the longest idle made way");
    assert!(!closed(&hogs[7]), "the newest hog is still open");
}

#[test]
fn one_address_s_silent_connections_keep_no_one_else_out() {
    let server = common::serve_limited(
        ApiState::new,
        Limits {
            connections: 64,
            per_client: 4,
            ..Limits::default()
        },
    );
    // Two hundred silent connections from one address: it keeps four.
    let hogs: Vec<TcpStream> = (0..200)
        .map(|_| connect_from("127.0.0.2", server.addr))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, took) = health_from("127.0.0.3", server.addr);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    // The address's own newest request is answered too, in place of its
    // longest idle connection.
    let (status, took) = health_from("127.0.0.2", server.addr);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    let open = hogs.iter().filter(|hog| !closed(hog)).count();
    assert!(
        open <= 4,
        "{open} of the address's connections are still open"
    );
}

#[test]
fn a_connection_that_never_speaks_is_closed_at_its_first_byte_deadline() {
    let server = common::serve_limited(
        ApiState::new,
        Limits {
            first_byte: Duration::from_secs(1),
            idle: Duration::from_secs(20),
            ..Limits::default()
        },
    );
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let (_, took) = outcome(&mut silent);
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "a silent connection held on for {took:?}"
    );
    // A connection that has spoken waits for its next request as long as
    // `idle`, well past the first-byte deadline.
    let mut kept = common::http::Connection::open(server.addr);
    assert_eq!(kept.request("GET", "/api/health", &[], b"").status, 200);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(kept.request("GET", "/api/health", &[], b"").status, 200);
}

#[test]
fn a_flood_from_many_addresses_hits_the_ceiling_while_look_ups_and_sync_go_on() {
    let loopback: Cidr = "127.0.0.1/32".parse().unwrap();
    let server = serve_with(|store| ApiState::new(store).trusting(vec![loopback]));
    let auth = server.pair("councillor");
    let first = server.post(
        "/api/v1/reports",
        &["X-Forwarded-For: 198.51.100.200"],
        &report_body(),
    );
    assert_eq!(first.status, 200);
    let code = code_of(&first);
    // Rotating addresses, each within its own allowance.
    let mut accepted = 1;
    let mut ceiling = None;
    for i in 0..200u32 {
        let from = format!("X-Forwarded-For: 10.{}.{}.1", i / 250, i % 250);
        let r = server.post("/api/v1/reports", &[&from], &report_body());
        match r.status {
            200 => accepted += 1,
            429 => {
                ceiling = Some(r);
                break;
            }
            other => panic!("{other}: {}", r.text()),
        }
    }
    let ceiling = ceiling.expect("the flood hits the ceiling");
    // The ceiling's burst, and what refilled while the flood was sent.
    let ceiling_burst = REPORTS_PER_MINUTE as usize;
    assert!(
        (ceiling_burst..ceiling_burst + 10).contains(&accepted),
        "{accepted} accepted"
    );
    assert!(
        error_of(&ceiling).contains("too many reports right now"),
        "{}",
        ceiling.text()
    );
    assert!(ceiling.header("retry-after").is_some());
    // Residents can still look up their reports, and the councillor syncs.
    assert_eq!(server.look_up_report(&code).status, 200);
    let r = server.sync_notes(&auth, &[&note("Still syncing").build()]);
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The puzzle in a 429, solved: the proof header that lets the request in.
fn solved(refused: &common::Response) -> String {
    let body: ErrorBody = serde_json::from_slice(&refused.body).unwrap();
    let challenge = body.challenge.expect("a puzzle with the refusal");
    let nonce = challenge.try_nonces(0, u64::MAX).unwrap();
    format!("{}: {}", proof::HEADER, challenge.proof(nonce))
}

#[test]
fn a_lock_out_from_rotating_addresses_keeps_out_no_one_who_solves_the_puzzle() {
    let loopback: Cidr = "127.0.0.1/32".parse().unwrap();
    let server = serve_with(|store| {
        ApiState::new(store)
            .trusting(vec![loopback])
            .with_puzzle_bits(12)
    });
    let code = code_of(&server.post(
        "/api/v1/reports",
        &["X-Forwarded-For: 198.51.100.200"],
        &report_body(),
    ));
    // Reports, then look-ups, from rotating addresses until each shared
    // ceiling refuses.
    let mut n = 0u32;
    let mut from = || {
        n += 1;
        format!("X-Forwarded-For: 10.{}.{}.1", n / 250, n % 250)
    };
    let flood = |path: &str, post: bool, from: &mut dyn FnMut() -> String| loop {
        let who = from();
        let r = if post {
            server.post(path, &[&who], &report_body())
        } else {
            server.get(path, &[&who])
        };
        if r.status == 429 {
            return r;
        }
    };
    let refused = flood("/api/v1/reports", true, &mut from);
    assert!(error_of(&refused).contains("too many reports right now"));
    // A new resident is refused too, with a puzzle; solved, the report is in.
    let resident = "X-Forwarded-For: 198.51.100.9";
    let mine = report_body();
    let first = server.post("/api/v1/reports", &[resident], &mine);
    assert_eq!(first.status, 429, "{}", first.text());
    let proof = solved(&first);
    let r = server.post("/api/v1/reports", &[resident, &proof], &mine);
    assert_eq!(r.status, 200, "{}", r.text());
    let mine = code_of(&r);
    let path = format!("/api/v1/reports/{code}");
    let refused = flood(&path, false, &mut from);
    assert!(
        error_of(&refused).contains("too many look-ups"),
        "{}",
        refused.text()
    );
    let first = server.get(&format!("/api/v1/reports/{mine}"), &[resident]);
    assert_eq!(first.status, 429);
    let r = server.get(
        &format!("/api/v1/reports/{mine}"),
        &[resident, &solved(&first)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // (A forged, stale or reused answer lets nothing in: `api::puzzles`.)
}

#[test]
fn a_guesser_cannot_lock_the_councillor_out_of_pairing() {
    let loopback: Cidr = "127.0.0.1/32".parse().unwrap();
    let server = serve_with(|store| {
        ApiState::new(store)
            .trusting(vec![loopback])
            .with_puzzle_bits(12)
    });
    let code = server.db.create_pairing_code("Councillor's phone").unwrap();
    let guess = json!({ "code": "AAAAA-AAAAA" }).to_string();
    let mut refused = 0;
    for _ in 0..60 {
        let r = server.post(
            "/api/v1/pair",
            &["X-Forwarded-For: 203.0.113.66"],
            guess.as_bytes(),
        );
        assert!(r.status == 401 || r.status == 429, "{}", r.text());
        refused += usize::from(r.status == 429);
    }
    assert!(refused >= 50, "the guesser is held back: {refused}");
    let body = json!({ "code": code }).to_string();
    let r = server.post(
        "/api/v1/pair",
        &["X-Forwarded-For: 198.51.100.7"],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Guessers from rotating addresses use up the attempts everyone
    // shares: the councillor, refused with a puzzle, solves it and pairs.
    let code = server.db.create_pairing_code("Second phone").unwrap();
    for i in 0..60u32 {
        let from = format!("X-Forwarded-For: 10.9.{}.{}", i / 250, i % 250);
        server.post("/api/v1/pair", &[&from], guess.as_bytes());
    }
    let body = json!({ "code": code }).to_string();
    let councillor = "X-Forwarded-For: 198.51.100.8";
    let first = server.post("/api/v1/pair", &[councillor], body.as_bytes());
    assert_eq!(first.status, 429, "{}", first.text());
    let r = server.post(
        "/api/v1/pair",
        &[councillor, &solved(&first)],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_report_sent_again_after_a_lost_answer_costs_the_resident_nothing() {
    let server = serve_with(ApiState::new);
    let same = report_body();
    for _ in 0..8 {
        let r = server.post("/api/v1/reports", &[], &same);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // One report stored of the five a resident may send at once: four more.
    for n in 0..4 {
        let body = json!({ "report": report(&format!("Underpass {n}"), ReportKind::Other) });
        let r = server.post("/api/v1/reports", &[], body.to_string().as_bytes());
        assert_eq!(r.status, 200, "report {n}: {}", r.text());
    }
    let body = json!({ "report": report("One too many", ReportKind::Other) });
    assert_eq!(
        server
            .post("/api/v1/reports", &[], body.to_string().as_bytes())
            .status,
        429
    );
    let (held, _) = server
        .db
        .inbox(
            &InboxFilter::default(),
            beatbook_server::store::Reach::Everything,
        )
        .unwrap();
    assert_eq!(held.len(), 5);
}
