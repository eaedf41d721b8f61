//! The sync API over real HTTP on loopback with a real SQLite file.

mod common;

use beatbook_core::protocol::RecordKind;
use beatbook_core::{Category, Note, NoteInput, Shift, ShiftKind};
use beatbook_server::store::{Devices, Records};
use chrono::Utc;
use common::records::{concern, note, report, shift, sync_body};
use common::{error_of, outcomes, reason_of, serve};
use serde_json::{json, Value};
use uuid::Uuid;

#[test]
fn a_repeat_is_answered_already_had_and_stored_once() {
    let server = serve();
    let auth = server.pair("phone");
    let notes = [
        note("one").build(),
        note("two").build(),
        note("three").build(),
    ];
    let refs: Vec<&Note> = notes.iter().collect();
    let shift = shift("Town").kind(ShiftKind::NightShift).build();
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[&shift], &refs))),
        ["stored", "stored", "stored", "stored"]
    );
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[&shift], &refs))),
        ["already_had", "already_had", "already_had", "already_had"]
    );
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 3);
    assert_eq!(server.db.count(RecordKind::Shift).unwrap(), 1);
}

#[test]
fn a_higher_revision_updates_and_a_lower_one_is_rejected() {
    let server = serve();
    let auth = server.pair("phone");
    let v1 = note("first words").build();
    server.sync(&auth, &sync_body(&[], &[&v1]));
    let n = edited(&v1, "second words");
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&n]))),
        ["updated"]
    );
    let r = server.sync(&auth, &sync_body(&[], &[&v1]));
    assert_eq!(outcomes(&r), ["rejected"]);
    assert!(r.json()["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("newer revision (2)"));
    let listed = server.get("/api/v1/notes", &[&auth]).json();
    assert_eq!(listed["notes"][0]["text"], "second words");
    assert_eq!(listed["notes"][0]["sync"]["revision"], 2);
    assert_eq!(listed["notes"][0]["sync"]["state"], "synced");
}

fn edited(note: &Note, text: &str) -> Note {
    let mut n = note.clone();
    n.edit(
        &NoteInput {
            text: text.into(),
            ..n.to_input()
        },
        Utc::now(),
    )
    .unwrap();
    n
}

fn held_texts(server: &common::TestServer, id: Uuid) -> Vec<(u32, String)> {
    server
        .db
        .revisions(RecordKind::Note, id)
        .unwrap()
        .iter()
        .map(|r| {
            let note: Note = serde_json::from_str(r.body.get()).unwrap();
            assert_eq!(note.sync.revision, r.revision);
            (r.revision, note.text)
        })
        .collect()
}

#[test]
fn every_revision_is_kept_with_its_sender_and_arrival_time() {
    let server = serve();
    let auth = server.pair("phone");
    let device = server.db.devices().unwrap()[0].id;
    let v1 = note("Lamp out by the footbridge").build();
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&v1]))),
        ["stored"]
    );
    let v2 = edited(&v1, "Lamp out by the footbridge and the bus stop");
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&v2]))),
        ["updated"]
    );

    assert_eq!(
        held_texts(&server, v1.id),
        [
            (1, "Lamp out by the footbridge".to_owned()),
            (2, "Lamp out by the footbridge and the bus stop".to_owned())
        ]
    );
    let revisions = server.db.revisions(RecordKind::Note, v1.id).unwrap();
    for r in &revisions {
        assert_eq!(r.device_id, device);
        chrono::DateTime::parse_from_rfc3339(&r.received_at).unwrap();
    }
    assert!(revisions[0].received_at <= revisions[1].received_at);
    // The listing shows the latest revision; the earlier one is still held.
    let listed = server.get("/api/v1/notes", &[&auth]).json();
    assert_eq!(listed["notes"].as_array().unwrap().len(), 1);
    assert_eq!(listed["notes"][0]["sync"]["revision"], 2);
    assert!(server
        .db
        .revisions(RecordKind::Note, Uuid::new_v4())
        .unwrap()
        .is_empty());
}

#[test]
fn a_repeat_with_different_content_is_rejected_and_changes_nothing() {
    let server = serve();
    let auth = server.pair("phone");
    let v1 = note("Two people waiting by the bus stop").build();
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&v1]))),
        ["stored"]
    );
    // The same revision as the phone holds it after the answer: marked synced,
    // otherwise the same. That is a repeat.
    let mut resent = v1.clone();
    resent.sync.state = beatbook_core::SyncState::Synced { at: Utc::now() };
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&resent]))),
        ["already_had"]
    );
    // The same id and revision with other words is not.
    let mut other = v1.clone();
    other.text = "Three people waiting by the bus stop".into();
    let r = server.sync(&auth, &sync_body(&[], &[&other]));
    assert_eq!(outcomes(&r), ["rejected"]);
    assert_eq!(
        reason_of(&r, 0),
        "this revision (1) is already on the server with different content; \
         edit the record again to send a new revision"
    );
    assert_eq!(r.json()["results"][0]["revision"], 1);

    let v2 = edited(&v1, "Two people waiting by the bus stop, gone by ten");
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&v2]))),
        ["updated"]
    );
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&v2]))),
        ["already_had"]
    );
    let mut other2 = v2.clone();
    other2.category = Category::Drugs;
    let r = server.sync(&auth, &sync_body(&[], &[&other2]));
    assert_eq!(outcomes(&r), ["rejected"]);
    assert!(
        reason_of(&r, 0)
            .contains("this revision (2) is already on the server with different content"),
        "{}",
        reason_of(&r, 0)
    );

    assert_eq!(
        held_texts(&server, v1.id),
        [
            (1, "Two people waiting by the bus stop".to_owned()),
            (
                2,
                "Two people waiting by the bus stop, gone by ten".to_owned()
            )
        ]
    );
    let listed = server.get("/api/v1/notes", &[&auth]).json();
    assert_eq!(listed["notes"][0]["category"], "poor_lighting");
}

#[test]
fn a_re_paired_phone_can_resend_and_revise_what_it_sent_before() {
    use beatbook_core::meeting::{Concern, ConcernStatus};
    let server = serve();
    let old = server.pair("phone");
    let n = note("Bins left on the pavement").build();
    let mut concern = concern("Bins on Mill Lane", "Raised at the surgery");
    let both = |n: &Note, c: &Concern| json!({"notes": [n], "concerns": [c]}).to_string();
    assert_eq!(
        outcomes(&server.sync(&old, &both(&n, &concern))),
        ["stored", "stored"]
    );

    // The same phone paired again, with a new token.
    let new = server.pair("phone");
    let devices = server.db.devices().unwrap();
    let (old_id, new_id) = (devices[0].id, devices[1].id);
    assert!(server.db.revoke(old_id).unwrap());
    assert_eq!(server.sync(&old, &sync_body(&[], &[])).status, 401);

    let r = server.sync(&new, &sync_body(&[], &[&n]));
    assert_eq!(outcomes(&r), ["already_had"], "{}", r.text());
    concern
        .update(
            ConcernStatus::InProgress,
            "Council collecting on Monday",
            Utc::now(),
        )
        .unwrap();
    let r = server.sync(&new, &json!({ "concerns": [concern] }).to_string());
    assert_eq!(outcomes(&r), ["updated"], "{}", r.text());

    let revisions = server
        .db
        .revisions(RecordKind::Concern, concern.id)
        .unwrap();
    let senders: Vec<(u32, i64)> = revisions
        .iter()
        .map(|r| (r.revision, r.device_id))
        .collect();
    assert_eq!(senders, [(1, old_id), (2, new_id)]);
    let public = server.get("/api/v1/concerns", &[]).json();
    assert_eq!(public["concerns"][0]["status"], "in_progress");
}

#[test]
fn bad_records_are_rejected_one_by_one_and_the_rest_stored() {
    let server = serve();
    let auth = server.pair("phone");
    let as_json = |text: &str| serde_json::to_value(note(text).build()).unwrap();
    let good = as_json("fine");
    let mut long = as_json("x");
    long["text"] = Value::from("y".repeat(4001));
    let mut unknown_category = as_json("x");
    unknown_category["category"] = Value::from("burglary");
    let mut extra_field = as_json("x");
    extra_field["colour"] = Value::from("red");
    let mut far_north = as_json("x");
    far_north["location"] = json!({"latitude": 91.0, "longitude": 0.0, "accuracy_m": 5.0});
    let no_id = json!({"text": "no id"});
    let request_body =
        json!({"notes": [good, long, unknown_category, extra_field, far_north, no_id, 42]});
    let r = server.sync(&auth, &request_body.to_string());
    assert_eq!(
        outcomes(&r),
        ["stored", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected"]
    );
    let results = r.json()["results"].as_array().unwrap().clone();
    let reason = |i: usize| results[i]["reason"].as_str().unwrap().to_owned();
    assert!(reason(1).contains("4001 characters"), "{}", reason(1));
    assert!(reason(2).contains("burglary"), "{}", reason(2));
    assert!(
        reason(3).contains("unknown field `colour`"),
        "{}",
        reason(3)
    );
    assert!(reason(4).contains("not a valid position"), "{}", reason(4));
    assert_eq!(results[1]["id"], long["id"]);
    assert_eq!(results[5]["id"], Value::Null);
    assert_eq!(results[6]["index"], 6);
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 1);
}

#[test]
fn whole_request_failures_get_precise_answers() {
    let server = serve();
    let auth = server.pair("phone");
    let r = server.sync(&auth, "{not json");
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("invalid request body"));
    let r = server.sync(&auth, r#"{"notes": [], "photos": []}"#);
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("unknown field `photos`"));
    let r = server.sync(&auth, r#"{"notes": {}}"#);
    assert_eq!(r.status, 400);

    let many: Vec<Note> = (0..501).map(|i| note(&format!("n{i}")).build()).collect();
    let refs: Vec<&Note> = many.iter().collect();
    let r = server.sync(&auth, &sync_body(&[], &refs));
    assert_eq!(r.status, 413);
    assert!(error_of(&r).contains("at most 500"));

    let huge = format!(r#"{{"notes": ["{}"]}}"#, "x".repeat(1024 * 1024 + 10));
    let r = server.sync(&auth, &huge);
    assert_eq!(r.status, 413);
    assert!(error_of(&r).contains("over 1048576 bytes"));
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 0);
}

#[test]
fn tokens_are_required_checked_and_revocable() {
    let server = serve();
    let empty = sync_body(&[], &[]);
    let r = server.post("/api/v1/sync", &[], empty.as_bytes());
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(error_of(&r).contains("pair this device"));
    let r = server.sync("Authorization: Bearer not-a-token", &empty);
    assert_eq!(r.status, 401);
    let r = server.sync("Authorization: Basic abc", &empty);
    assert_eq!(r.status, 401);

    let auth = server.pair("phone");
    assert_eq!(server.sync(&auth, &empty).status, 200);
    let device = server.db.devices().unwrap()[0].id;
    assert!(server.db.revoke(device).unwrap());
    let r = server.sync(&auth, &empty);
    assert_eq!(r.status, 401);
    assert!(error_of(&r).contains("revoked"));
    assert_eq!(server.get("/api/v1/notes", &[&auth]).status, 401);
}

#[test]
fn a_pairing_code_works_once() {
    let server = serve();
    let code = server.db.create_pairing_code("Councillor's phone").unwrap();
    let pair = |code: &str| {
        server.post(
            "/api/v1/pair",
            &[],
            json!({ "code": code }).to_string().as_bytes(),
        )
    };
    let r = pair(&code.to_lowercase());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["device_name"], "Councillor's phone");
    assert_eq!(r.json()["token"].as_str().unwrap().len(), 64);
    assert_eq!(pair(&code).status, 401);
    assert_eq!(pair("AAAAA-BBBBB").status, 401);
    let r = server.post("/api/v1/pair", &[], br#"{"code": 5}"#);
    assert_eq!(r.status, 400);
}

#[test]
fn listings_filter_by_shift_category_and_date_and_refuse_bad_filters() {
    let server = serve();
    let auth = server.pair("phone");
    let shift = shift("Park").build();
    let in_shift = note("in the shift").in_shift(&shift).build();
    let drugs = note("drugs").category(Category::Drugs).build();
    server.sync(&auth, &sync_body(&[&shift], &[&in_shift, &drugs]));
    let get = |q: &str| server.get(&format!("/api/v1/notes{q}"), &[&auth]);
    let texts = |q: &str| -> Vec<String> {
        get(q).json()["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(texts("").len(), 2);
    assert_eq!(texts(&format!("?shift={}", shift.id)), ["in the shift"]);
    assert_eq!(texts("?category=drugs"), ["drugs"]);
    assert_eq!(texts("?from=2999-01-01T00:00:00Z").len(), 0);
    assert_eq!(texts("?to=2999-01-01T00:00:00Z").len(), 2);
    for bad in [
        "?shift=nope",
        "?category=burglary",
        "?from=yesterday",
        "?limit=0",
        "?colour=red",
    ] {
        assert_eq!(get(bad).status, 400, "{bad}");
    }
    let shifts = server.get("/api/v1/shifts", &[&auth]).json();
    assert_eq!(shifts["shifts"][0]["title"], "Park");
}

#[test]
fn a_client_that_sends_too_fast_gets_429_with_retry_after() {
    let server = common::serve_with(|db| beatbook_server::api::ApiState::with_limits(db, 3.0, 0.5));
    let auth = server.pair("phone");
    let empty = sync_body(&[], &[]);
    let statuses: Vec<u16> = (0..5).map(|_| server.sync(&auth, &empty).status).collect();
    assert_eq!(&statuses[..3], [200, 200, 200]);
    let r = server.sync(&auth, &empty);
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
}

/// A small deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_json(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(rng.next() as i64),
        3 => json!(f64::from_bits(rng.next())
            .is_finite()
            .then(|| rng.next() as f64 / 7.0)),
        4 => Value::from(
            [
                "",
                "x",
                "📍",
                "\u{0}",
                "2026-11-24T23:00:00Z",
                "poor_lighting",
                "00000000-0000-0000-0000-000000000000",
            ][rng.below(7)],
        ),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "id",
                "text",
                "notes",
                "shifts",
                "sync",
                "revision",
                "category",
                "location",
                "created_at",
                "report",
                "changes",
                "status",
                "kind",
                "when",
            ];
            Value::Object(
                (0..rng.below(5))
                    .map(|_| {
                        (
                            keys[rng.below(keys.len())].to_owned(),
                            random_json(rng, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

#[test]
fn random_and_malformed_bodies_never_get_a_5xx() {
    let server = common::serve_with(beatbook_server::api::ApiState::unlimited);
    let auth = server.pair("phone");
    let report = report("Underpass", beatbook_core::ReportKind::PoorLighting);
    let triage = beatbook_core::report::Triage::create(
        Uuid::new_v4(),
        report.id,
        Utc::now(),
        beatbook_core::ReportStatus::Acknowledged,
        "Seen",
        "",
    )
    .unwrap();
    // Each endpoint that takes a body, a valid body for it, and where in
    // that body the fields are.
    let targets = [
        (
            "/api/v1/sync",
            json!({"notes": [note("seed").build()]}),
            "/notes/0",
        ),
        ("/api/v1/pair", json!({"code": "ABCDE-FGHJK"}), ""),
        ("/api/v1/reports", json!({"report": report}), "/report"),
        ("/api/v1/triage", json!({"changes": [triage]}), "/changes/0"),
    ];
    let mut rng = Rng(0x5eed_b0a7_2026);
    let started = std::time::Instant::now();
    let mut sent = 0;
    while sent < 1500 && started.elapsed() < std::time::Duration::from_secs(60) {
        let (path, valid, fields_at) = &targets[rng.below(targets.len())];
        let body: Vec<u8> = match rng.below(4) {
            // Random bytes.
            0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
            // Random JSON.
            1 => random_json(&mut rng, 0).to_string().into_bytes(),
            // A valid request with one field replaced by anything.
            2 => {
                let mut v = valid.clone();
                let fields = v
                    .pointer(fields_at)
                    .and_then(Value::as_object)
                    .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                if let Some(object) = v.pointer_mut(fields_at).and_then(Value::as_object_mut) {
                    let field = fields[rng.below(fields.len())].clone();
                    object.insert(field, random_json(&mut rng, 1));
                }
                v.to_string().into_bytes()
            }
            // A valid request cut short or with a byte changed.
            _ => {
                let mut b = valid.to_string().into_bytes();
                let at = rng.below(b.len());
                if rng.below(2) == 0 {
                    b.truncate(at);
                } else {
                    b[at] = rng.next() as u8;
                }
                b
            }
        };
        let r = server.post(path, &[&auth], &body);
        assert!(
            (200..500).contains(&r.status),
            "{path} answered {} to {:?}: {}",
            r.status,
            String::from_utf8_lossy(&body),
            r.text()
        );
        if r.status != 200 {
            assert!(r.json()["error"].is_string(), "error body for {}", r.status);
        }
        sent += 1;
    }
    assert!(sent >= 200, "only {sent} requests in the time allowed");
    // The server is still well after all that.
    assert_eq!(server.get("/api/health", &[]).status, 200);
}

/// Three shifts a day apart, oldest first, with two notes, one note and no
/// notes taken in them, one note taken outside any shift, all synced.
fn three_shifts(server: &common::TestServer, auth: &str) -> [Shift; 3] {
    let day = chrono::Duration::days(1);
    let now = Utc::now();
    let shifts = [("Town", 3), ("Park", 2), ("Market", 1)]
        .map(|(title, days_ago)| shift(title).started_at(now - day * days_ago).build());
    let notes = [
        note("town one")
            .in_shift(&shifts[0])
            .located(51.5, -0.1, 10.0),
        note("town two")
            .in_shift(&shifts[0])
            .located(51.5, -0.2, 10.0),
        note("park one")
            .in_shift(&shifts[1])
            .located(51.5, -0.3, 10.0),
        note("no shift").located(51.5, -0.4, 10.0),
    ]
    .map(|n| n.build());
    let r = server.sync(
        auth,
        &sync_body(
            &shifts.iter().collect::<Vec<_>>(),
            &notes.iter().collect::<Vec<_>>(),
        ),
    );
    assert_eq!(outcomes(&r), ["stored"; 7]);
    shifts
}

/// The shifts CSV as (id, title, notes) rows, after checking its header.
fn shift_rows(r: &common::Response) -> Vec<(String, String, usize)> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = r.text();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next(),
        Some("id,kind,title,started_at_utc,ended_at_utc,notes,sync_state")
    );
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 7, "{line}");
            assert_eq!(fields[6], "Sent", "{line}");
            (
                fields[0].to_owned(),
                fields[2].to_owned(),
                fields[5].parse().unwrap(),
            )
        })
        .collect()
}

fn rfc3339(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
fn the_shifts_csv_counts_each_shifts_notes_and_follows_the_filters() {
    let server = serve();
    let auth = server.pair("phone");
    let [town, park, market] = three_shifts(&server, &auth);
    let get = |q: &str| server.get(&format!("/api/v1/export/shifts.csv{q}"), &[&auth]);
    let titles =
        |q: &str| -> Vec<String> { shift_rows(&get(q)).into_iter().map(|(_, t, _)| t).collect() };

    // Every shift, most recent first, each with the notes taken in it.
    assert_eq!(
        shift_rows(&get("")),
        [
            (market.id.to_string(), "Market".to_owned(), 0),
            (park.id.to_string(), "Park".to_owned(), 1),
            (town.id.to_string(), "Town".to_owned(), 2),
        ]
    );
    assert_eq!(
        shift_rows(&get(&format!("?shift={}", town.id))),
        [(town.id.to_string(), "Town".to_owned(), 2)]
    );
    // A shift is in the window by its start; its notes count wherever they fall.
    let after_town = town.started_at + chrono::Duration::hours(1);
    let after_park = park.started_at + chrono::Duration::hours(1);
    assert_eq!(
        titles(&format!("?from={}", rfc3339(after_town))),
        ["Market", "Park"]
    );
    assert_eq!(
        shift_rows(&get(&format!("?to={}", rfc3339(after_park)))),
        [
            (park.id.to_string(), "Park".to_owned(), 1),
            (town.id.to_string(), "Town".to_owned(), 2),
        ]
    );
    assert_eq!(
        titles(&format!(
            "?from={}&to={}",
            rfc3339(after_town),
            rfc3339(after_park)
        )),
        ["Park"]
    );
    assert_eq!(titles("?from=2999-01-01T00:00:00Z"), Vec::<String>::new());
    assert_eq!(titles("?limit=2").len(), 2);
    assert_eq!(titles(&format!("?shift={}", Uuid::new_v4())).len(), 0);
    for bad in [
        "?shift=nope",
        "?from=yesterday",
        "?limit=0",
        "?category=drugs",
    ] {
        let r = get(bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].is_string());
    }
}

#[test]
fn the_shifts_geojson_follows_the_filters_and_maps_each_shifts_notes() {
    let server = serve();
    let auth = server.pair("phone");
    let [town, park, _market] = three_shifts(&server, &auth);
    let get = |q: &str| {
        let r = server.get(&format!("/api/v1/export/shifts.geojson{q}"), &[&auth]);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/geo+json"));
        r.json()
    };
    let features = |q: &str| -> Vec<(String, u64, usize)> {
        get(q)["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let points = f["geometry"]["coordinates"].as_array().map_or(0, Vec::len);
                (
                    f["properties"]["title"].as_str().unwrap().to_owned(),
                    f["properties"]["notes"].as_u64().unwrap(),
                    points,
                )
            })
            .collect()
    };
    let row = |title: &str, notes: u64, points: usize| (title.to_owned(), notes, points);

    assert_eq!(
        features(""),
        [row("Market", 0, 0), row("Park", 1, 1), row("Town", 2, 2)]
    );
    assert_eq!(
        features(&format!("?shift={}", town.id)),
        [row("Town", 2, 2)]
    );
    // The notes were all taken after this window closes; they still count.
    let after_park = park.started_at + chrono::Duration::hours(1);
    assert_eq!(
        features(&format!("?to={}", rfc3339(after_park))),
        [row("Park", 1, 1), row("Town", 2, 2)]
    );
    let after_town = town.started_at + chrono::Duration::hours(1);
    assert_eq!(
        features(&format!("?from={}&limit=1", rfc3339(after_town))),
        [row("Park", 1, 1)]
    );
}

#[test]
fn the_revisions_of_a_record_are_listed_oldest_first_for_a_paired_device_only() {
    let server = serve();
    let auth = server.pair("phone");
    let v1 = note("Bins on fire behind the shops").build();
    let v2 = edited(&v1, "Bins on fire behind the shops; fire service attended");
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&v1]))),
        ["stored"]
    );
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&v2]))),
        ["updated"]
    );
    let path = format!("/api/v1/notes/{}/revisions", v1.id);
    let r = server.get(&path, &[&auth]);
    assert_eq!(r.status, 200, "{}", r.text());
    let listed: Vec<(u64, String)> = r.json()["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            assert!(x["device_id"].is_i64());
            assert!(x["received_at"].is_string());
            (
                x["revision"].as_u64().unwrap(),
                x["record"]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (1, "Bins on fire behind the shops".to_owned()),
            (
                2,
                "Bins on fire behind the shops; fire service attended".to_owned()
            )
        ]
    );
    assert_eq!(server.get(&path, &[]).status, 401);
    let unknown = format!("/api/v1/notes/{}/revisions", Uuid::new_v4());
    assert_eq!(server.get(&unknown, &[&auth]).status, 404);
    let r = server.get("/api/v1/notes/not-an-id/revisions", &[&auth]);
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("not a record id"), "{}", r.text());
    let r = server.get(&format!("/api/v1/photos/{}/revisions", v1.id), &[&auth]);
    assert_eq!(r.status, 404);
}

#[test]
fn control_and_direction_characters_are_refused_in_every_synced_text() {
    let server = serve();
    let auth = server.pair("phone");
    let clean = note("Fine words").build();
    let mut bad_text = note("placeholder").build();
    bad_text.text = "Meet at \u{202E}reh\u{202C} the bins".into();
    let mut bad_place = note("Lamp out").build();
    bad_place.place = Some("Mill\u{0}Lane".into());
    let mut escape = note("placeholder").build();
    escape.text = "\u{1b}[2J cleared".into();
    let mut shift = shift("Park").build();
    shift.title = "Park\u{2066}".into();
    let r = server.sync(
        &auth,
        &sync_body(&[&shift], &[&clean, &bad_text, &bad_place, &escape]),
    );
    assert_eq!(
        outcomes(&r),
        ["rejected", "stored", "rejected", "rejected", "rejected"]
    );
    assert!(
        reason_of(&r, 0).contains("text-direction override (U+2066)"),
        "{}",
        reason_of(&r, 0)
    );
    assert!(
        reason_of(&r, 2).contains("text-direction override (U+202E)"),
        "{}",
        reason_of(&r, 2)
    );
    assert!(
        reason_of(&r, 3).contains("control character (U+0000)"),
        "{}",
        reason_of(&r, 3)
    );
    assert!(
        reason_of(&r, 4).contains("control character (U+001B)"),
        "{}",
        reason_of(&r, 4)
    );
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 1);
}
