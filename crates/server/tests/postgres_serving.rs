//! Two server binaries on one PostgreSQL database, as a deployment past one
//! machine runs them: a phone paired once works with either, the same
//! batch sent to both at once is stored once, a report sent to one is
//! looked up on the other, one stops cleanly while the other serves, and a
//! lost database is answered 503 (the phone keeps its records), never a
//! panic. The database is a throwaway cluster the tests start.

mod common;

use std::net::SocketAddr;

use beatbook_core::report::ReportKind;
use beatbook_core::Note;
use beatbook_server::store::postgres::cluster::{drop_database, new_database};
use common::binary::{command, pair_with, Running};
use common::records::{note, report};
use common::{outcomes, request, temp_dir};
use serde_json::{json, Value};
use uuid::Uuid;

fn sync(addr: SocketAddr, auth: &str, notes: &[Note]) -> common::Response {
    let body = json!({ "notes": notes }).to_string();
    request(addr, "POST", "/api/v1/sync", &[auth], body.as_bytes())
}

#[test]
fn two_servers_on_one_database_answer_as_one() {
    let (url, name) = new_database();
    let (first_data, second_data) = (temp_dir("pg-first"), temp_dir("pg-second"));
    let args = ["--addr", "127.0.0.1:0", "--database", url.as_str()];
    let first = Running::start(&first_data, &args);
    let second = Running::start(&second_data, &args);
    let (a, b) = (first.addr(), second.addr());

    // Paired through the command line and the first server: the token
    // works on the second.
    let (ok, out) = command(&first_data, &["devices", "--database", &url]);
    assert!(ok && out.contains("No paired devices"), "{out}");
    let auth = pair_with(&first_data, a, &["--database", &url]);
    let mine = |addr| request(addr, "GET", "/api/v1/notes", &[auth.as_str()], b"");
    assert_eq!(mine(b).status, 200, "{}", mine(b).text());

    // The same batch to both at once: each note stored by one server.
    let batch: Vec<Note> = (0..30)
        .map(|i| note(&format!("night note {i}")).id(Uuid::now_v7()).build())
        .collect();
    let answers: Vec<Vec<String>> = std::thread::scope(|scope| {
        let sends: Vec<_> = [a, b]
            .into_iter()
            .map(|addr| {
                let (auth, batch) = (&auth, &batch);
                scope.spawn(move || {
                    let r = sync(addr, auth, batch);
                    assert_eq!(r.status, 200, "{}", r.text());
                    outcomes(&r)
                })
            })
            .collect();
        sends.into_iter().map(|s| s.join().unwrap()).collect()
    });
    for (i, (one, other)) in answers[0].iter().zip(&answers[1]).enumerate() {
        let mut pair = [one.as_str(), other.as_str()];
        pair.sort_unstable();
        assert_eq!(pair, ["already_had", "stored"], "note {i}");
    }
    let held = mine(b).json()["notes"].as_array().unwrap().len();
    assert_eq!(held, batch.len());

    // A resident's report sent to one is looked up on the other.
    let sent = report("The underpass by the station", ReportKind::PoorLighting);
    let r = request(
        a,
        "POST",
        "/api/v1/reports",
        &[],
        json!({ "report": sent }).to_string().as_bytes(),
    );
    let code = common::code_of(&r);
    let looked_up = request(b, "GET", &format!("/api/v1/reports/{code}"), &[], b"");
    assert_eq!(looked_up.status, 200, "{}", looked_up.text());
    assert_eq!(looked_up.json()["status"], Value::from("new"));

    // One stops cleanly; the other goes on serving.
    let (status, out) = first.terminate();
    assert!(status.success(), "{status:?}\n{out}");
    assert!(out.contains("Stopped."), "{out}");
    assert_eq!(mine(b).status, 200);

    // The database lost: answered 503, so the phone keeps what it holds
    // and tries again; the server itself stays up.
    drop_database(&name);
    let more = [note("after the database went").id(Uuid::now_v7()).build()];
    let r = sync(b, &auth, &more);
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    assert_eq!(
        request(b, "GET", "/healthz", &[], b"").status,
        503,
        "the health check says so"
    );
}
