//! Golden data folders: `e2e/fixtures/sqlite/level-N` was written by the
//! server of the commit current at schema level N, through its own API,
//! with a manifest of what it answered (README.md and make.mjs there).
//! Today's server opens a copy of each as its binary opens a data folder,
//! migrates it, and must still answer what the old one did: every record
//! once, with its body and revisions; every report by its code, with its
//! status and history; every photo's bytes; requests for erasure and
//! removed reports as today's API shows them. Release v0.1.0's folder
//! (`e2e/fixtures/v0.1.0`) is checked against what its phone holds.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use beatbook_server::api::ApiState;
use beatbook_server::serve::conn::Limits;
use beatbook_server::serve::Transport;
use beatbook_server::{data, Sqlite};
use common::{request, sha256_hex, Response};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures")
}

/// The level every database reaches today: one per migration file.
fn today_s_level() -> i64 {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sqlite/migrations");
    let files = std::fs::read_dir(folder).expect("the migrations folder");
    let count = files
        .filter(|f| {
            f.as_ref()
                .is_ok_and(|f| f.path().extension().is_some_and(|e| e == "sql"))
        })
        .count();
    i64::try_from(count).expect("a few migrations")
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a copy's folder");
    for entry in std::fs::read_dir(from).expect("a fixture folder") {
        let entry = entry.expect("a fixture file");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("a copied file");
        }
    }
}

/// `PRAGMA user_version`: the schema level the database is at.
fn user_version(database: &Path) -> i64 {
    let conn = rusqlite::Connection::open(database).expect("the database opens");
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version")
}

/// A copy of a fixture's data folder, served by today's server.
struct Opened {
    addr: SocketAddr,
    folder: PathBuf,
    store: Arc<Sqlite>,
    /// The copy's folder and the app's, removed when the test is done.
    made: [PathBuf; 2],
    /// The data folder's lock, held as the binary holds it while it serves.
    _lock: std::fs::File,
}

impl Drop for Opened {
    /// The server runs on until the test process ends, on files no longer
    /// named, so nothing is left in the temporary folder.
    fn drop(&mut self) {
        for folder in &self.made {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

/// Copies `fixture` and opens the copy as `beatbook-server serve` does
/// (main.rs): the folder prepared and locked, the store opened (which
/// migrates it), the photos of earlier releases cleaned, and the API served
/// with its default state.
fn open(fixture: &Path, label: &str) -> Opened {
    let copy = common::temp_dir(label);
    let folder = copy.join("data");
    copy_folder(fixture, &folder);
    let database = data::prepare(&folder).expect("the data folder");
    let lock = data::lock(&folder).expect("the data folder's lock");
    let store = Arc::new(Sqlite::open(&database).expect("today's server opens the database"));
    store
        .clean_kept_photos()
        .expect("the kept photos are cleaned");
    let dist = common::temp_dir(&format!("{label}-dist"));
    std::fs::write(dist.join("index.html"), common::INDEX_HTML).expect("index.html");
    let app = beatbook_server::app_with_api(&dist, ApiState::new(store.clone()));
    let transport = Transport::Plain {
        addr: "127.0.0.1:0".parse().expect("an address"),
    };
    let addr = common::background::serve_in_background(transport, app, Limits::default());
    Opened {
        addr,
        folder,
        store,
        made: [copy, dist],
        _lock: lock,
    }
}

impl Opened {
    fn get(&self, path: &str, headers: &[&str]) -> Response {
        request(self.addr, "GET", path, headers, b"")
    }

    /// A JSON answer that must be a 200.
    fn json(&self, path: &str, headers: &[&str]) -> Value {
        let r = self.get(path, headers);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }
}

/// The same JSON with every number as a float: the manifests are written by
/// Node, which writes the server's `12.0` as `12`.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A record without its sync status, which the server writes on receipt.
fn content(record: &Value) -> Value {
    let mut record = canonical(record);
    record.as_object_mut().map(|r| r.remove("sync"));
    record
}

fn array<'a>(value: &'a Value, what: &str) -> &'a Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{what} is not a list: {value}"))
}

fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not text: {value}"))
}

const LISTS: [(&str, &str); 3] = [
    ("note", "notes"),
    ("shift", "shifts"),
    ("concern", "concerns"),
];

/// Every record listed once, as the old server listed it (the last revision
/// sent), with the revisions it kept.
fn check_records(server: &Opened, auth: &str, manifest: &Value, level: &str) {
    let records = array(&manifest["records"], "records");
    for (kind, key) in LISTS {
        let listed = server.json(&format!("/api/v1/{key}"), &[auth]);
        let listed = array(&listed[key], key);
        let expected: Vec<&Value> = records.iter().filter(|r| r["kind"] == kind).collect();
        let ids: Vec<&Value> = listed.iter().map(|r| &r["id"]).collect();
        assert_eq!(
            listed.len(),
            expected.len(),
            "{level}: every {kind} and no other: {ids:?}"
        );
        for record in expected {
            let id = text(&record["id"], "a record's id");
            let found: Vec<&Value> = listed.iter().filter(|r| r["id"] == id).collect();
            assert_eq!(found.len(), 1, "{level}: {kind} {id} is listed once");
            let today = found[0];
            assert_eq!(
                canonical(today),
                canonical(&record["listed"]),
                "{level}: {kind} {id} as the old server listed it"
            );
            let sent = array(&record["sent"], "revisions sent");
            let last = &sent.last().expect("a revision sent")["body"];
            assert_eq!(
                content(today),
                content(last),
                "{level}: {kind} {id} is its last revision as sent"
            );
            assert_eq!(
                today["sync"]["revision"], record["revision"],
                "{level}: {id}"
            );

            let revisions = server.json(&format!("/api/v1/{key}/{id}/revisions"), &[auth]);
            let revisions = &revisions["revisions"];
            match record.get("revisions") {
                Some(kept) => assert_eq!(
                    canonical(revisions),
                    canonical(kept),
                    "{level}: {kind} {id}'s revisions as the old server kept them"
                ),
                // Before level 4 a record was kept at its last revision
                // only; migration 0004 makes that its first known revision.
                None => {
                    let revisions = array(revisions, "revisions");
                    assert_eq!(revisions.len(), 1, "{level}: {kind} {id}: {revisions:?}");
                    assert_eq!(revisions[0]["revision"], record["revision"]);
                    assert_eq!(
                        canonical(&revisions[0]["record"]),
                        canonical(&record["listed"]),
                        "{level}: {kind} {id}'s one revision"
                    );
                }
            }
        }
    }
}

/// Every report by its code: its public page, its place in the inbox with
/// its history, a request for erasure as today's column, its photos; a
/// report removed as spam nowhere, but still known to a resend.
fn check_reports(server: &Opened, auth: &str, manifest: &Value, level: &str) {
    let reports = array(&manifest["reports"], "reports");
    let photos = array(&manifest["photos"], "photos");
    let inbox = server.json("/api/v1/inbox", &[auth, "beatbook-protocol: 3"]);
    let inbox = array(&inbox["reports"], "the inbox");
    let in_inbox = reports.iter().filter(|r| !r["inbox"].is_null()).count();
    let codes: Vec<&Value> = inbox.iter().map(|r| &r["code"]).collect();
    assert_eq!(inbox.len(), in_inbox, "{level}: the inbox holds {codes:?}");
    let awaiting = server.json("/api/v1/inbox?erasure=requested", &[auth]);
    let awaiting: Vec<&Value> = array(&awaiting["reports"], "the inbox")
        .iter()
        .map(|r| &r["code"])
        .collect();

    for report in reports {
        let code = text(&report["code"], "a report's code");
        let public = server.get(&format!("/api/v1/reports/{code}"), &[]);
        assert_eq!(
            Some(u64::from(public.status)),
            report["public"]["status"].as_u64(),
            "{level}: {code}'s public page: {}",
            public.text()
        );
        if public.status == 200 {
            assert_eq!(
                canonical(&public.json()),
                canonical(&report["public"]["body"]),
                "{level}: {code}'s public page"
            );
        }
        let today: Vec<&Value> = inbox.iter().filter(|r| r["code"] == code).collect();
        let old = &report["inbox"];
        if old.is_null() {
            assert!(today.is_empty(), "{level}: {code} was removed: {today:?}");
            let resent = request(
                server.addr,
                "POST",
                "/api/v1/reports",
                &[],
                json!({ "report": report["sent"] }).to_string().as_bytes(),
            );
            assert_eq!(resent.status, 200, "{level}: {}", resent.text());
            assert_eq!(
                resent.json(),
                report["resent"],
                "{level}: a resend of {code} is answered as before"
            );
        } else {
            assert_eq!(today.len(), 1, "{level}: {code} is in the inbox once");
            check_inbox_entry(today[0], report, photos, level);
        }
        let requested = !old.is_null()
            && (old.get("erasure_requested_at").is_some()
                || !report["erasure_history_line"].is_null())
            && old.get("erased_at").is_none();
        assert_eq!(
            awaiting.contains(&&report["code"]),
            requested,
            "{level}: {code} among those awaiting erasure: {awaiting:?}"
        );

        for (key, headers) in [("photos", &[auth][..]), ("public_photos", &[][..])] {
            let Some(old) = report.get(key) else { continue };
            let listed = server.get(&format!("/api/v1/reports/{code}/photos"), headers);
            assert_eq!(Some(u64::from(listed.status)), old["status"].as_u64());
            assert_eq!(
                canonical(&listed.json()),
                canonical(&old["body"]),
                "{level}: {code}'s {key}"
            );
        }
    }
}

/// One report in today's inbox against the old server's entry. Levels 4 and
/// 5 kept a resident's request for erasure as a line in the history, which
/// migration 0006 turns into `erasure_requested_at`.
fn check_inbox_entry(today: &Value, report: &Value, photos: &[Value], level: &str) {
    let old = &report["inbox"];
    let code = text(&report["code"], "a report's code");
    for field in [
        "code",
        "status",
        "response",
        "received_at",
        "updated_at",
        "report",
    ] {
        assert_eq!(
            canonical(&today[field]),
            canonical(&old[field]),
            "{level}: {code}'s {field}"
        );
    }
    if old.get("erased_at").is_none() {
        assert_eq!(
            canonical(&today["report"]),
            canonical(&report["sent"]),
            "{level}: {code} as the resident sent it"
        );
    }
    let line = &report["erasure_history_line"];
    let history: Vec<Value> = array(&old["history"], "a history")
        .iter()
        .filter(|entry| *entry != line)
        .map(canonical)
        .collect();
    // Each step a phone made now names its person: the councillor the
    // move to wards made of whoever ran the server before.
    let mut steps = array(&today["history"], "today's history").clone();
    for step in &mut steps {
        let by = step.as_object_mut().and_then(|s| s.remove("by"));
        if let Some(by) = by {
            assert_eq!(by, "Councillor", "{level}: {code}'s step {step}");
        }
    }
    assert_eq!(
        canonical(&Value::Array(steps)),
        Value::Array(history),
        "{level}: {code}'s history"
    );
    let requested = old
        .get("erasure_requested_at")
        .or_else(|| line.get("at"))
        .cloned();
    assert_eq!(
        today.get("erasure_requested_at").cloned(),
        requested,
        "{level}: when erasure of {code} was asked for"
    );
    assert_eq!(
        requested.is_some(),
        report["erasure_requested"] == true,
        "{level}: {code}'s request for erasure"
    );
    assert_eq!(
        today.get("erased_at"),
        old.get("erased_at"),
        "{level}: when {code} was erased"
    );
    let held = photos
        .iter()
        .filter(|p| p["of"]["report"] == report["id"])
        .count();
    assert_eq!(
        today.get("photos").and_then(Value::as_u64).unwrap_or(0),
        held as u64,
        "{level}: {code}'s photos"
    );
}

/// Every photo's bytes, by their SHA-256 from coreutils; a resident's photo
/// also to anyone when the councillor made it public, and to no one else.
fn check_photos(server: &Opened, auth: &str, manifest: &Value, level: &str) {
    for photo in array(&manifest["photos"], "photos") {
        let id = text(&photo["id"], "a photo's id");
        let path = format!("/api/v1/photos/{id}");
        let r = server.get(&path, &[auth]);
        assert_eq!(r.status, 200, "{level}: photo {id}: {}", r.text());
        assert_eq!(
            sha256_hex(&r.body),
            text(&photo["sha256"], "a photo's SHA-256"),
            "{level}: photo {id}'s bytes"
        );
        assert_eq!(Some(r.body.len() as u64), photo["bytes"].as_u64());
        assert_eq!(r.header("content-type"), photo["media_type"].as_str());
        let public = server.get(&path, &[]);
        if photo["public"] == true {
            assert_eq!(public.status, 200, "{level}: public photo {id}");
            assert_eq!(public.body, r.body);
        } else {
            assert_eq!(public.status, 404, "{level}: private photo {id}");
        }
    }
}

/// The one councillor of a server from before wards is the first ward's,
/// and owns every device paired then.
fn check_team(server: &Opened, label: &str) {
    use beatbook_server::store::{Devices, Role, Team};
    let wards = server.store.wards().expect("the wards");
    assert_eq!(wards.len(), 1, "{label}: one ward");
    assert_eq!(wards[0].name, beatbook_server::store::FIRST_WARD, "{label}");
    let people = server.store.people().expect("the people");
    assert_eq!(people.len(), 1, "{label}: one person");
    assert_eq!(people[0].role, Role::Councillor, "{label}");
    let devices = server.store.devices().expect("the devices");
    assert!(!devices.is_empty(), "{label}: the fixture paired a phone");
    for device in devices {
        assert_eq!(
            device.person_id,
            Some(people[0].id),
            "{label}: {}",
            device.name
        );
        assert_eq!(
            device.ward_id,
            Some(wards[0].id),
            "{label}: {}",
            device.name
        );
    }
}

fn check_level(level: u64, fixture: &Path) {
    let label = format!("level {level}");
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(fixture.join("manifest.json")).expect("the fixture's manifest"),
    )
    .expect("the manifest is JSON");
    assert_eq!(manifest["level"], level, "{label}: its manifest");
    let kept = fixture.join("server-data");
    // The level the fixture is at, read from a scratch copy: the copy
    // today's server opens is the folder exactly as the old server left it,
    // any log not yet copied into the database file included.
    let scratch = common::temp_dir(&format!("level-{level}-scratch"));
    copy_folder(&kept, &scratch);
    assert_eq!(
        user_version(&scratch.join(data::DATABASE)),
        i64::try_from(level).expect("a level"),
        "{label}: the fixture's own level"
    );
    let _ = std::fs::remove_dir_all(scratch);

    let server = open(&kept, &format!("level-{level}"));
    let auth = format!(
        "Authorization: Bearer {}",
        text(&manifest["device"]["token"], "the device token")
    );
    check_records(&server, &auth, &manifest, &label);
    check_reports(&server, &auth, &manifest, &label);
    check_photos(&server, &auth, &manifest, &label);
    check_team(&server, &label);
    assert_eq!(
        user_version(&server.folder.join(data::DATABASE)),
        today_s_level(),
        "{label}: migrated to today's level"
    );
}

#[test]
fn every_schema_level_s_data_folder_opens_today_with_everything_it_held() {
    let root = fixtures().join("sqlite");
    let mut levels: Vec<(u64, PathBuf)> = std::fs::read_dir(&root)
        .expect("e2e/fixtures/sqlite")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let level = entry
                .file_name()
                .to_str()?
                .strip_prefix("level-")?
                .parse()
                .ok()?;
            Some((level, entry.path()))
        })
        .collect();
    levels.sort();
    assert!(!levels.is_empty(), "no fixtures in {}", root.display());
    for (i, (level, fixture)) in levels.iter().enumerate() {
        assert_eq!(
            *level,
            i as u64 + 1,
            "the levels run from 1 with none missing"
        );
        check_level(*level, fixture);
    }
}

/// Release v0.1.0 kept no manifest: its phone's storage says what the
/// server holds (records marked synced, reports given a code) and what it
/// does not (what was waiting when the server stopped).
#[test]
fn the_first_release_s_data_folder_opens_today_with_what_its_phone_sent() {
    let fixture = fixtures().join("v0.1.0");
    let phone: Value = serde_json::from_slice(
        &std::fs::read(fixture.join("phone.json")).expect("v0.1.0's phone.json"),
    )
    .expect("phone.json is JSON");
    let local = phone["localStorage"]
        .as_object()
        .expect("the phone's localStorage");
    let stored = |key: &str| -> Value {
        serde_json::from_str(text(&local[key], key)).expect("a stored entry is JSON")
    };
    let entries = |prefix: &str| -> Vec<Value> {
        local
            .keys()
            .filter(|k| k.starts_with(prefix))
            .map(|k| stored(k)["record"].clone())
            .collect()
    };

    let server = open(&fixture.join("server-data"), "v0.1.0");
    let auth = format!(
        "Authorization: Bearer {}",
        text(&stored("beatbook/device")["token"], "the device token")
    );
    for (kind, key) in [("note", "notes"), ("shift", "shifts")] {
        let listed = server.json(&format!("/api/v1/{key}"), &[&auth]);
        let listed = array(&listed[key], key);
        let on_phone = entries(&format!("beatbook/{kind}/"));
        assert!(!on_phone.is_empty(), "the phone holds {key}");
        for record in on_phone {
            let found: Vec<&Value> = listed.iter().filter(|r| r["id"] == record["id"]).collect();
            if record["sync"]["state"] == "synced" {
                assert_eq!(found.len(), 1, "{kind} {} is listed once", record["id"]);
                assert_eq!(content(found[0]), content(&record));
                assert_eq!(found[0]["sync"]["revision"], record["sync"]["revision"]);
            } else {
                assert!(
                    found.is_empty(),
                    "{kind} {} never reached the server",
                    record["id"]
                );
            }
        }
    }

    let inbox = server.json("/api/v1/inbox", &[&auth, "beatbook-protocol: 3"]);
    let inbox = array(&inbox["reports"], "the inbox");
    let reports = entries("beatbook/report/");
    assert!(!reports.is_empty(), "the phone holds reports");
    for mine in reports {
        let found: Vec<&Value> = inbox
            .iter()
            .filter(|r| r["report"]["id"] == mine["report"]["id"])
            .collect();
        match mine["delivery"]["delivered"]["code"].as_str() {
            Some(code) => {
                assert_eq!(found.len(), 1, "report {code} is in the inbox once");
                assert_eq!(found[0]["code"], code);
                assert_eq!(canonical(&found[0]["report"]), canonical(&mine["report"]));
                assert_eq!(
                    server.get(&format!("/api/v1/reports/{code}"), &[]).status,
                    200
                );
            }
            None => assert!(
                found.is_empty(),
                "{} never reached the server",
                mine["report"]["id"]
            ),
        }
    }
    assert_eq!(
        user_version(&server.folder.join(data::DATABASE)),
        today_s_level()
    );
}
