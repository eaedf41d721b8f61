//! A ward team against a real server: the role × endpoint table in
//! `docs/roles.md` is read and every cell of it tried, so the document is
//! what the server does; then what each role's phone is shown.

mod common;

use beatbook_core::report::{ReportKind, ReportStatus, Triage};
use beatbook_server::store::Role;
use chrono::Utc;
use common::records::{concern, note, report, shift, sync_body, CONTACT_NAME, CONTACT_REACH};
use common::{serve, Response, TestServer};
use serde_json::json;
use uuid::Uuid;

/// A recording as Chromium makes it (`e2e/make-recording-fixtures.mjs`).
const WEBM: &[u8] = include_bytes!("../../core/tests/fixtures/recordings/chromium-opus.webm");

/// A person of the ward, paired through the API as their phone would be:
/// their `Authorization` header.
fn paired(server: &TestServer, role: Role, name: &str) -> String {
    let person = server.db.add_person("Mill Lane", role, name).unwrap();
    let code = server
        .db
        .pairing_code_for(person.id, &format!("{name}'s phone"))
        .unwrap();
    server.pair_with_code(&code)
}

/// What the councillor keeps, for the other cells to ask about.
struct Held {
    note: Uuid,
    shift: Uuid,
    concern: Uuid,
    report: Uuid,
    code: String,
}

/// One row's request, made with `auth`.
fn request(server: &TestServer, endpoint: &str, auth: &str, held: &Held) -> Response {
    let jpeg = include_bytes!("../../core/tests/fixtures/photos/street.jpg");
    let get = |path: &str| server.get(path, &[auth]);
    match endpoint {
        "POST /api/v1/sync (notes and shifts)" => {
            let s = shift("Night shift").build();
            let n = note("Lights out by the flats").in_shift(&s).build();
            server.sync(auth, &sync_body(&[&s], &[&n]))
        }
        "POST /api/v1/sync (meeting concerns)" => server.sync(
            auth,
            &json!({ "concerns": [concern("Lighting", "The underpass")] }).to_string(),
        ),
        "GET /api/v1/me" => get("/api/v1/me"),
        "GET /api/v1/notes" => get("/api/v1/notes"),
        "GET /api/v1/shifts" => get("/api/v1/shifts"),
        "GET /api/v1/team/shifts" => get("/api/v1/team/shifts"),
        "GET /api/v1/team/concerns" => get("/api/v1/team/concerns"),
        "POST /api/v1/push/subscription" => server.post(
            "/api/v1/push/subscription",
            &[auth],
            json!({
                "endpoint": "https://push.example.net/send/1",
                "keys": {
                    "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                    "auth": "BTBZMqHH6r4Tts7J_aSIgg",
                },
            })
            .to_string()
            .as_bytes(),
        ),
        "DELETE /api/v1/push/subscription" => {
            common::request(server.addr, "DELETE", "/api/v1/push/subscription", &[auth], b"")
        }
        "GET /api/v1/notes/{id}/revisions" => {
            get(&format!("/api/v1/notes/{}/revisions", held.note))
        }
        "GET /api/v1/shifts/{id}/revisions" => {
            get(&format!("/api/v1/shifts/{}/revisions", held.shift))
        }
        "GET /api/v1/concerns/{id}/revisions" => {
            get(&format!("/api/v1/concerns/{}/revisions", held.concern))
        }
        "GET /api/v1/inbox" => get("/api/v1/inbox"),
        "POST /api/v1/triage (a police response)" => {
            let change = Triage::police(
                Uuid::now_v7(),
                held.report,
                Utc::now(),
                ReportStatus::RaisedWithPolice,
                "Patrols added after dark",
            )
            .unwrap();
            server.post(
                "/api/v1/triage",
                &[auth],
                json!({ "changes": [change] }).to_string().as_bytes(),
            )
        }
        "POST /api/v1/triage (status, response, note, erasure)" => {
            let change = Triage::create(
                Uuid::now_v7(),
                held.report,
                Utc::now(),
                ReportStatus::Acknowledged,
                "",
                "",
            )
            .unwrap();
            server.post(
                "/api/v1/triage",
                &[auth],
                json!({ "changes": [change] }).to_string().as_bytes(),
            )
        }
        "POST /api/v1/photos/{id}?note={note}" => server.send_photo(
            Some(auth),
            Uuid::now_v7(),
            &format!("note={}", held.note),
            "image/jpeg",
            jpeg,
        ),
        "POST /api/v1/photos/{id}?report={report}" => server.send_photo(
            Some(auth),
            Uuid::now_v7(),
            &format!("report={}", held.report),
            "image/jpeg",
            jpeg,
        ),
        "GET /api/v1/photos/{id}" => get(&format!("/api/v1/photos/{}", Uuid::now_v7())),
        "GET /api/v1/reports/{code}/photos" => {
            get(&format!("/api/v1/reports/{}/photos", held.code))
        }
        "POST /api/v1/photos/{id}/public" => server.post(
            &format!("/api/v1/photos/{}/public", Uuid::now_v7()),
            &[auth],
            br#"{"public":true}"#,
        ),
        "POST /api/v1/recordings/{id}?note={note}" => server.post(
            &format!(
                "/api/v1/recordings/{}?note={}&sha256={}",
                Uuid::now_v7(),
                held.note,
                common::sha256_hex(WEBM)
            ),
            &[auth, "Content-Type: audio/webm"],
            WEBM,
        ),
        "GET /api/v1/recordings/{id}" => get(&format!("/api/v1/recordings/{}", Uuid::now_v7())),
        "GET /api/v1/notes/{id}/recordings" => {
            get(&format!("/api/v1/notes/{}/recordings", held.note))
        }
        export if export.starts_with("GET /api/v1/export/") => {
            get(export.trim_start_matches("GET "))
        }
        unknown => panic!("docs/roles.md names {unknown:?}, which this test cannot try"),
    }
}

/// The role × endpoint table: each row's endpoint (with its words in
/// brackets, as the table gives them) and its cells for councillor,
/// officer and viewer.
fn table() -> Vec<(String, [bool; 3])> {
    let doc = include_str!("../../../docs/roles.md");
    let section = doc
        .split("## Role × endpoint")
        .nth(1)
        .expect("docs/roles.md has its table")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 4, "{line}");
            let endpoint = cells[0].replace('`', "");
            let allowed = |cell: &str| match cell {
                "yes" => true,
                "no" => false,
                other => panic!("{endpoint}: a cell is yes or no, not {other:?}"),
            };
            (
                endpoint.clone(),
                [allowed(cells[1]), allowed(cells[2]), allowed(cells[3])],
            )
        })
        .collect()
}

#[test]
fn every_cell_of_the_role_table_is_what_the_server_does() {
    let server = serve();
    server.db.add_ward("Mill Lane", None).unwrap();
    let roles = [Role::Councillor, Role::Officer, Role::Viewer];
    let auths: Vec<String> = roles
        .iter()
        .map(|role| paired(&server, *role, role.label()))
        .collect();

    // What the councillor keeps, for the cells that ask about it.
    let s = shift("Walkabout").build();
    let n = note("Broken light").in_shift(&s).build();
    let c = concern("Lighting", "The footbridge");
    let body = json!({ "shifts": [&s], "notes": [&n], "concerns": [&c] }).to_string();
    assert_eq!(server.sync(&auths[0], &body).status, 200);
    let sent = report("Footbridge", ReportKind::PoorLighting);
    let code = server.file_report(&sent);
    let held = Held {
        note: n.id,
        shift: s.id,
        concern: c.id,
        report: sent.id,
        code,
    };

    let rows = table();
    assert!(rows.len() >= 25, "the table lists every endpoint");
    let mut wrong = Vec::new();
    for (endpoint, allowed) in &rows {
        for (i, role) in roles.iter().enumerate() {
            let r = request(&server, endpoint, &auths[i], &held);
            let refused = r.status == 403;
            let answered = !matches!(r.status, 401 | 403 | 500..=599);
            if allowed[i] == refused || (allowed[i] && !answered) {
                wrong.push(format!(
                    "{endpoint} as {}: {} {}",
                    role.slug(),
                    r.status,
                    r.text()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "cells the server does not keep:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn each_role_is_shown_what_it_may_see_of_a_report_and_only_its_own_notebook() {
    let server = serve();
    server.db.add_ward("Mill Lane", None).unwrap();
    let councillor = paired(&server, Role::Councillor, "Cllr Ada Shaw");
    let officer = paired(&server, Role::Officer, "PC Sam Jones");
    let viewer = paired(&server, Role::Viewer, "Panel member");
    let sent = report("Underpass by the station", ReportKind::PoorLighting);
    let code = server.file_report(&sent);
    let private = Triage::create(
        Uuid::now_v7(),
        sent.id,
        Utc::now(),
        ReportStatus::RaisedWithPolice,
        "Raised with the Met",
        "Rang the reporter back",
    )
    .unwrap();
    let r = server.post(
        "/api/v1/triage",
        &[&councillor],
        json!({ "changes": [private] }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let inbox = |auth: &str| server.get("/api/v1/inbox", &[auth]).text();
    let full = inbox(&councillor);
    for shown in [CONTACT_NAME, CONTACT_REACH, "Rang the reporter back", &code] {
        assert!(full.contains(shown), "the councillor sees {shown}");
    }
    for (who, seen) in [("officer", inbox(&officer)), ("viewer", inbox(&viewer))] {
        assert!(
            seen.contains("Raised with the Met"),
            "{who} sees the response"
        );
        for hidden in [CONTACT_NAME, CONTACT_REACH, "Rang the reporter back", &code] {
            assert!(!seen.contains(hidden), "{who} is shown {hidden}");
        }
    }
    assert!(!inbox(&viewer).contains(&sent.description));

    // The team's history names who made each step; the panel's does not,
    // nor does an app from before names were sent (it reads strictly).
    let level_3 = |auth: &str| {
        let r = server.get("/api/v1/inbox", &[auth, "beatbook-protocol: 3"]);
        let inbox: serde_json::Value = serde_json::from_str(&r.text()).unwrap();
        inbox["reports"][0]["history"].clone()
    };
    for (who, auth) in [("councillor", &councillor), ("officer", &officer)] {
        let history = level_3(auth);
        assert_eq!(history[0].get("by"), None, "{who}: the report's arrival");
        assert_eq!(history[1]["by"], "Cllr Ada Shaw", "{who}: {history}");
    }
    assert!(!level_3(&viewer).to_string().contains("Cllr Ada Shaw"));
    assert!(
        !full.contains("Cllr Ada Shaw"),
        "a level-1 app is not sent names"
    );

    // The officer adds the police response; the councillor signs hers as
    // the ward team; the public page shows both, to apps that read them.
    let post = |auth: &str, change: &Triage| {
        server.post(
            "/api/v1/triage",
            &[auth],
            json!({ "changes": [change] }).to_string().as_bytes(),
        )
    };
    let police = Triage::police(
        Uuid::now_v7(),
        sent.id,
        Utc::now(),
        ReportStatus::RaisedWithPolice,
        "Patrols added after dark",
    )
    .unwrap();
    let r = post(&councillor, &police);
    assert_eq!(r.status, 403, "only the police team speaks for it");
    let r = post(&officer, &police);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0]["outcome"], "stored", "{}", r.text());
    let answered = |signature| {
        Triage::create(
            Uuid::now_v7(),
            sent.id,
            Utc::now(),
            ReportStatus::RaisedWithPolice,
            "We are meeting the police team on Thursday",
            "",
        )
        .unwrap()
        .signed(signature)
    };
    let signed = answered(beatbook_core::report::Signature::WardTeam);
    assert_eq!(post(&officer, &signed).status, 403);
    assert_eq!(post(&councillor, &signed).status, 200);
    // Nor may an officer slip a councillor's change in beside a police
    // response: it is rejected on its own, with the reason, and the police
    // response beside it goes on (a phone paired again for another role
    // may still hold such a change).
    let r = server.post(
        "/api/v1/triage",
        &[&officer],
        json!({ "changes": [police, signed] })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let results = r.json()["results"].clone();
    let of = |id: Uuid| {
        results
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.to_string())
            .unwrap()
            .clone()
    };
    assert_eq!(of(police.id)["outcome"], "already_had");
    assert_eq!(of(signed.id)["outcome"], "rejected");
    assert!(of(signed.id)["reason"]
        .as_str()
        .unwrap()
        .contains("only a councillor"));
    // The same words sent again, signed otherwise, keep their signature.
    let resent = answered(beatbook_core::report::Signature::Name);
    assert_eq!(post(&councillor, &resent).status, 200);
    let page = |level: &str| {
        let r = server.get(&format!("/api/v1/reports/{code}"), &[level]);
        serde_json::from_str::<serde_json::Value>(&r.text()).unwrap()
    };
    let plain = server.get(&format!("/reports/{code}"), &[]).text();
    for shown in [
        "Ward: Mill Lane",
        "Patrols added after dark",
        "— The ward team",
    ] {
        assert!(plain.contains(shown), "the plain page shows {shown}");
    }
    let today = page("beatbook-protocol: 3");
    assert_eq!(today["ward"], "Mill Lane", "the page names its ward");
    assert_eq!(today["police_response"], "Patrols added after dark");
    assert_eq!(today["response_signed"], "The ward team");
    let before = page("beatbook-protocol: 2");
    for added in ["police_response", "response_signed", "ward"] {
        assert!(before.get(added).is_none(), "{added} for a level-2 app");
    }
    let history = level_3(&officer);
    assert_eq!(history[2]["by"], "PC Sam Jones", "{history}");
    assert_eq!(history[2]["police_response"], "Patrols added after dark");

    // Each phone is told whose it is, its role and its ward.
    for (auth, name, role) in [
        (&councillor, "Cllr Ada Shaw", "councillor"),
        (&officer, "PC Sam Jones", "officer"),
        (&viewer, "Panel member", "viewer"),
    ] {
        let me: serde_json::Value =
            serde_json::from_str(&server.get("/api/v1/me", &[auth]).text()).unwrap();
        assert_eq!(
            me,
            json!({ "name": name, "role": role, "ward": "Mill Lane" })
        );
    }

    // An officer's app from before roles may hold a meeting's concern: it
    // is rejected with the reason, and the notes beside it are kept.
    let beside = note("Lights still out on Thursday").build();
    let r = server.sync(
        &officer,
        &json!({ "notes": [&beside], "concerns": [concern("Lighting", "Underpass")] }).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let results = r.json()["results"].clone();
    let outcome = |kind: &str| {
        results
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind)
            .unwrap()
            .clone()
    };
    assert_eq!(outcome("note")["outcome"], "stored");
    assert_eq!(outcome("concern")["outcome"], "rejected");
    assert!(outcome("concern")["reason"]
        .as_str()
        .unwrap()
        .contains("only a councillor records"));

    // Each person's notebook is their own.
    let mine = note("The councillor's own note").build();
    assert_eq!(server.sync_notes(&councillor, &[&mine]).status, 200);
    let theirs = note("The officer's own note").build();
    assert_eq!(server.sync_notes(&officer, &[&theirs]).status, 200);
    let listed = |auth: &str| server.get("/api/v1/notes", &[auth]).text();
    assert!(listed(&councillor).contains("The councillor's own note"));
    assert!(!listed(&councillor).contains("The officer's own note"));
    assert!(listed(&officer).contains("The officer's own note"));
    assert!(!listed(&officer).contains("The councillor's own note"));
    // Nor read by its id, nor changed by sending another revision of it.
    let path = format!("/api/v1/notes/{}/revisions", mine.id);
    assert_eq!(server.get(&path, &[&councillor]).status, 200);
    assert_eq!(server.get(&path, &[&officer]).status, 404);
    let mut changed = mine.clone();
    changed.text = "Overwritten by someone else".into();
    changed.sync.revision += 1;
    let r = server.sync_notes(&officer, &[&changed]);
    assert_eq!(r.status, 200, "{}", r.text());
    common::assert_rejected(&r, 0, "another person's record");
    assert!(!listed(&councillor).contains("Overwritten"));
    let jpeg = include_bytes!("../../core/tests/fixtures/photos/street.jpg");
    let note_of = format!("note={}", mine.id);
    let sent = server.send_photo(Some(&officer), Uuid::now_v7(), &note_of, "image/jpeg", jpeg);
    assert_eq!(sent.status, 404, "{}", sent.text());
    let photo = Uuid::now_v7();
    let sent = server.send_photo(Some(&councillor), photo, &note_of, "image/jpeg", jpeg);
    assert_eq!(sent.status, 201, "{}", sent.text());
    let path = format!("/api/v1/photos/{photo}");
    assert_eq!(server.get(&path, &[&councillor]).status, 200);
    assert_eq!(
        server.get(&path, &[&officer]).status,
        404,
        "another's note photo"
    );
}

#[test]
fn a_shift_shared_with_the_team_is_seen_by_its_ward_with_its_notes_and_nothing_else_is() {
    let server = serve();
    server.db.add_ward("Mill Lane", None).unwrap();
    server.db.add_ward("Riverside", None).unwrap();
    let councillor = paired(&server, Role::Councillor, "Cllr Ada Shaw");
    let officer = paired(&server, Role::Officer, "PC Sam Jones");
    let viewer = paired(&server, Role::Viewer, "Pat Panel");
    let elsewhere = {
        let person = server
            .db
            .add_person("Riverside", Role::Councillor, "Cllr Rita Obi")
            .unwrap();
        let code = server
            .db
            .pairing_code_for(person.id, "Rita's phone")
            .unwrap();
        server.pair_with_code(&code)
    };

    let mut night = shift("Night patrol with the councillor").build();
    night.shared = true;
    let in_it = note("Two lights out on the footbridge")
        .in_shift(&night)
        .build();
    let private = shift("Paperwork").build();
    let not_shared = note("Rota for next week").in_shift(&private).build();
    let loose = note("Reminder to myself").build();
    let r = server.sync(
        &officer,
        &sync_body(&[&night, &private], &[&in_it, &not_shared, &loose]),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let team = |auth: &str| {
        let r = server.get("/api/v1/team/shifts", &[auth]);
        assert_eq!(r.status, 200, "{}", r.text());
        serde_json::from_str::<serde_json::Value>(&r.text()).unwrap()["shifts"].clone()
    };
    let seen = team(&councillor);
    assert_eq!(seen.as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(seen[0]["person"], "PC Sam Jones");
    assert_eq!(seen[0]["shift"]["id"], night.id.to_string());
    let notes = seen[0]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{seen}");
    assert_eq!(notes[0]["text"], "Two lights out on the footbridge");
    for private in ["Rota for next week", "Reminder to myself", "Paperwork"] {
        assert!(!seen.to_string().contains(private), "{private}");
    }
    assert_eq!(
        team(&officer),
        json!([]),
        "one's own shifts are in one's notebook"
    );
    assert_eq!(team(&elsewhere), json!([]), "another ward's team");
    assert_eq!(server.get("/api/v1/team/shifts", &[&viewer]).status, 403);

    // Sharing stops with a new revision of the shift.
    let mut unshared = night.clone();
    assert!(unshared.share(false));
    assert_eq!(
        server.sync(&officer, &sync_body(&[&unshared], &[])).status,
        200
    );
    assert_eq!(team(&councillor), json!([]));

    // A revoked person's shared shifts leave the team's list.
    let mut again = unshared.clone();
    assert!(again.share(true));
    assert_eq!(
        server.sync(&officer, &sync_body(&[&again], &[])).status,
        200
    );
    assert_eq!(team(&councillor).as_array().unwrap().len(), 1);
    let sam = server
        .db
        .people()
        .unwrap()
        .into_iter()
        .find(|p| p.name == "PC Sam Jones")
        .unwrap();
    assert!(server.db.revoke_person(sam.id).unwrap());
    assert_eq!(team(&councillor), json!([]));
}

#[test]
fn a_report_reaches_the_ward_it_was_made_in_and_each_ward_sees_its_own() {
    let server = serve();
    let square = |west: f64| {
        beatbook_server::store::Boundary::from_geojson(&format!(
            r#"{{"type":"Polygon","coordinates":[[[{west},51.4],[{e},51.4],[{e},51.6],[{west},51.6],[{west},51.4]]]}}"#,
            e = west + 0.1
        ))
        .unwrap()
    };
    server.db.add_ward("West", Some(&square(-0.2))).unwrap();
    server.db.add_ward("East", Some(&square(-0.1))).unwrap();
    let in_ward = |ward: &str, role: Role, name: &str| {
        let person = server.db.add_person(ward, role, name).unwrap();
        server.pair_with_code(&server.db.pairing_code_for(person.id, "phone").unwrap())
    };
    let west_councillor = in_ward("West", Role::Councillor, "Cllr West");
    let east_officer = in_ward("East", Role::Officer, "PC East");
    let located = |longitude: f64, place: &str| {
        let mut sent = report(place, ReportKind::PoorLighting);
        sent.location = Some(beatbook_core::Location::new(51.5, longitude, 10.0).unwrap());
        server.file_report(&sent);
        sent
    };
    let west = located(-0.15, "West Street");
    located(-0.05, "East Street");
    let far = located(1.0, "Far away");
    // With no location, the ward the resident chose by name (in any case);
    // a name no ward has is no choice.
    let chosen = |ward: &str, place: &str| {
        let mut sent = report(place, ReportKind::PoorLighting);
        sent.location = None;
        sent.location_rounded = false;
        sent.ward = Some(ward.into());
        server.file_report(&sent);
    };
    chosen("east", "Chosen East");
    chosen("Nowhere", "Chosen nowhere");
    let wards = server.get("/api/v1/wards", &[]);
    assert_eq!(wards.json(), json!({ "wards": ["West", "East"] }));
    let form = server.get("/report", &[]).text();
    assert!(
        form.contains(r#"<option value="East">East</option>"#),
        "{form}"
    );
    let places = |auth: &str| -> Vec<String> {
        let r = server.get("/api/v1/inbox", &[auth]);
        let mut places: Vec<String> = r.json()["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["report"]["place"].as_str().unwrap().to_owned())
            .collect();
        places.sort();
        places
    };
    assert_eq!(
        places(&west_councillor),
        ["Chosen nowhere", "Far away", "West Street"]
    );
    assert_eq!(places(&east_officer), ["Chosen East", "East Street"]);

    // The west ward's report is not the east's to triage.
    let east_councillor = in_ward("East", Role::Councillor, "Cllr East");
    let change = Triage::create(
        Uuid::now_v7(),
        west.id,
        Utc::now(),
        ReportStatus::Acknowledged,
        "",
        "",
    )
    .unwrap();
    let r = server.post(
        "/api/v1/triage",
        &[&east_councillor],
        json!({ "changes": [change] }).to_string().as_bytes(),
    );
    assert_eq!(
        r.json()["results"][0]["outcome"],
        "rejected",
        "{}",
        r.text()
    );

    // A report outside the wards reaches every councillor, but an officer
    // speaks for the police of their own ward only.
    let raised = Triage::create(
        Uuid::now_v7(),
        far.id,
        Utc::now(),
        ReportStatus::RaisedWithPolice,
        "",
        "",
    )
    .unwrap();
    let outcome = |auth: &str, change: &Triage| {
        let r = server.post(
            "/api/v1/triage",
            &[auth],
            json!({ "changes": [change] }).to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["results"][0]["outcome"].clone()
    };
    assert_eq!(outcome(&west_councillor, &raised), "stored");
    let police = |report: Uuid| {
        Triage::police(
            Uuid::now_v7(),
            report,
            Utc::now(),
            ReportStatus::RaisedWithPolice,
            "Patrols added",
        )
        .unwrap()
    };
    assert_eq!(outcome(&east_officer, &police(far.id)), "rejected");

    // A meeting's concern is its ward's: another ward's councillors do not
    // change it, its own do.
    let west_deputy = in_ward("West", Role::Councillor, "Cllr West Two");
    let raised_at_meeting = concern("Lighting", "The West Street underpass");
    let send = |auth: &str, c: &beatbook_core::meeting::Concern| {
        let r = server.sync(auth, &json!({ "concerns": [c] }).to_string());
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["results"][0].clone()
    };
    assert_eq!(
        send(&west_councillor, &raised_at_meeting)["outcome"],
        "stored"
    );
    let mut changed = raised_at_meeting.clone();
    changed.sync.revise();
    let refused = send(&east_councillor, &changed);
    assert_eq!(refused["outcome"], "rejected");
    assert!(refused["reason"]
        .as_str()
        .unwrap()
        .contains("another ward's"));
    assert_eq!(send(&west_deputy, &changed)["outcome"], "updated");
    // The meeting page names each concern's ward, to apps that read it and
    // on the plain page.
    let listed = |level: &str| {
        let r = server.get("/api/v1/concerns", &[level]);
        serde_json::from_str::<serde_json::Value>(&r.text()).unwrap()
    };
    let today = listed("beatbook-protocol: 3");
    assert_eq!(today["wards"][raised_at_meeting.id.to_string()], "West");
    assert!(listed("beatbook-protocol: 2").get("wards").is_none());
    let plain = server.get("/meetings", &[]).text();
    assert!(plain.contains("West · Raised at the meeting of"), "{plain}");

    // Who did what is the team's to see: each change named by whose phone
    // sent it, the ward's concerns only, never on the public page.
    let mut progressed = changed.clone();
    progressed
        .update(
            beatbook_core::meeting::ConcernStatus::Resolved,
            "Lights fixed",
            Utc::now(),
        )
        .unwrap();
    assert_eq!(send(&west_deputy, &progressed)["outcome"], "updated");
    let west_officer = in_ward("West", Role::Officer, "PC West");
    let steps = |auth: &str| {
        let r = server.get("/api/v1/team/concerns", &[auth]);
        assert_eq!(r.status, 200, "{}", r.text());
        serde_json::from_str::<beatbook_core::protocol::TeamConcerns>(&r.text()).unwrap()
    };
    let seen = steps(&west_officer);
    let said: Vec<_> = seen.concerns[&raised_at_meeting.id]
        .iter()
        .map(|s| format!("{}: {}", s.by, s.saying()))
        .collect();
    assert_eq!(
        said,
        [
            "Cllr West: Raised",
            "Cllr West Two: Progress: Lights fixed",
            "Cllr West Two: Status: Resolved",
        ]
    );
    assert_eq!(seen.concerns.len(), 1, "the ward's concerns only");
    assert_eq!(steps(&west_councillor), seen);
    assert!(
        steps(&east_councillor).concerns.is_empty(),
        "another ward's"
    );
    // (The ward panel's 403 is the role table's cell.)
    assert_eq!(server.get("/api/v1/team/concerns", &[]).status, 401);
    for public in [
        server.get("/meetings", &[]).text(),
        server
            .get("/api/v1/concerns", &["beatbook-protocol: 3"])
            .text(),
    ] {
        assert!(public.contains("Lights fixed"));
        assert!(!public.contains("Cllr West"), "{public}");
    }
}

#[test]
fn a_revoked_person_s_phones_are_refused_and_pair_keeps_pairing_the_first_councillor() {
    let server = serve();
    // `pair`, on a server with no ward yet, makes the first ward and its
    // councillor, as a server from before wards had one.
    let first = server.pair("Councillor's phone");
    let wards = server.db.wards().unwrap();
    assert_eq!(wards.len(), 1);
    let people = server.db.people().unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].role, Role::Councillor);
    assert_eq!(people[0].devices, 1);
    let second = server.pair("Councillor's tablet");
    assert_eq!(server.db.people().unwrap()[0].devices, 2, "the same person");

    let officer = server
        .db
        .add_person(&wards[0].name, Role::Officer, "PC Sam Jones")
        .unwrap();
    assert!(server.db.revoke_person(officer.id).unwrap());
    assert!(
        server.db.pairing_code_for(officer.id, "phone").is_err(),
        "a revoked person gets no code"
    );
    assert!(server.db.revoke_person(people[0].id).unwrap());
    for auth in [&first, &second] {
        assert_eq!(server.get("/api/v1/notes", &[auth]).status, 401);
    }
    // `pair` would otherwise hand the next councillor's notebook to a phone.
    server
        .db
        .add_person(&wards[0].name, Role::Councillor, "Cllr Two")
        .unwrap();
    let refused = server.db.create_pairing_code("phone").unwrap_err();
    assert!(refused.to_string().contains("was revoked"), "{refused}");
}

#[test]
fn the_host_manages_wards_and_people_from_the_command_line() {
    use common::binary::{command, Running};
    let data = common::temp_dir("team-cli");
    let boundary = data.join("mill-lane.geojson");
    std::fs::write(
        &boundary,
        r#"{"type":"Feature","geometry":{"type":"Polygon",
            "coordinates":[[[-0.13,51.50],[-0.12,51.50],[-0.12,51.51],[-0.13,51.51],[-0.13,51.50]]]}}"#,
    )
    .unwrap();
    let boundary = boundary.to_str().unwrap();
    let run = |args: &[&str]| command(&data, args);

    let (ok, said) = run(&["ward", "add", "Mill Lane", "--boundary", boundary]);
    assert!(ok && said.contains("with its boundary"), "{said}");
    let (ok, said) = run(&["ward", "add", "mill lane"]);
    assert!(
        !ok && said.contains("already a ward called mill lane"),
        "{said}"
    );
    let (ok, said) = run(&["ward", "add", "Riverside"]);
    assert!(ok, "{said}");
    let (ok, said) = run(&["ward", "change", "Riverside", "--rename", "Riverside East"]);
    assert!(ok, "{said}");
    let (_, listed) = run(&["ward", "list"]);
    assert!(listed.contains("Mill Lane\tbounded"), "{listed}");
    assert!(listed.contains("Riverside East\tno boundary"), "{listed}");

    let (ok, said) = run(&[
        "invite", "--ward", "Nowhere", "--role", "officer", "--name", "X",
    ]);
    assert!(!ok && said.contains("no ward called Nowhere"), "{said}");
    let (ok, said) = run(&[
        "invite",
        "--ward",
        "Mill Lane",
        "--role",
        "admin",
        "--name",
        "X",
    ]);
    assert!(
        !ok && said.contains("councillor, officer or viewer"),
        "{said}"
    );
    let (ok, said) = run(&[
        "invite",
        "--ward",
        "Mill Lane",
        "--role",
        "officer",
        "--name",
        "PC Sam Jones",
    ]);
    assert!(ok, "{said}");
    let code = said
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .filter(|c| c.len() == 11)
        .unwrap_or_else(|| panic!("no code in {said}"));
    let person = said
        .split("is person ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no person in {said}"))
        .to_owned();
    let (_, people) = run(&["people"]);
    assert!(
        people.contains("PC Sam Jones\tofficer\tMill Lane\t0 phones\tactive"),
        "{people}"
    );
    // With the site's address, the code comes as a link and its QR code.
    let (ok, said) = run(&[
        "invite",
        "--ward",
        "Riverside East",
        "--role",
        "viewer",
        "--name",
        "Panel member",
        "--site",
        "https://beatbook.example.org/",
    ]);
    assert!(ok, "{said}");
    let link = said
        .lines()
        .find(|l| l.starts_with("https://"))
        .unwrap_or_else(|| panic!("no link in {said}"));
    let linked = link
        .strip_prefix("https://beatbook.example.org/pair#code=")
        .unwrap_or_else(|| panic!("not a pairing link: {link}"));
    assert!(said.contains(&format!("phone: {linked}")), "{said}");
    let drawn: Vec<&str> = said
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| " █▀▄".contains(c)))
        .collect();
    assert!(drawn.len() > 10, "a QR code is drawn: {said}");
    let (ok, said) = run(&["pair", "--person", "1", "--name", "X", "--site", "beatbook"]);
    assert!(!ok && said.contains("--site is the address"), "{said}");

    let server = Running::start(&data, &[]);
    let addr = server.addr();
    let paired = common::request(
        addr,
        "POST",
        "/api/v1/pair",
        &[],
        format!(r#"{{"code":"{code}"}}"#).as_bytes(),
    );
    assert_eq!(paired.status, 200, "{}", paired.text());
    let again = common::request(
        addr,
        "POST",
        "/api/v1/pair",
        &[],
        format!(r#"{{"code":"{code}"}}"#).as_bytes(),
    );
    assert_eq!(again.status, 401);
    assert!(
        again.text().contains("was used already"),
        "{}",
        again.text()
    );
    let auth = format!(
        "Authorization: Bearer {}",
        paired.json()["token"].as_str().unwrap()
    );
    let get = |path: &str| common::request(addr, "GET", path, &[&auth], b"");
    assert_eq!(get("/api/v1/inbox").status, 200);
    let change = Triage::create(
        Uuid::now_v7(),
        Uuid::now_v7(),
        Utc::now(),
        ReportStatus::Acknowledged,
        "Seen",
        "",
    )
    .unwrap();
    let triage = common::request(
        addr,
        "POST",
        "/api/v1/triage",
        &[&auth],
        json!({ "changes": [change] }).to_string().as_bytes(),
    );
    assert_eq!(triage.status, 403, "{}", triage.text());
    assert!(
        triage.text().contains("only a councillor"),
        "{}",
        triage.text()
    );

    let (ok, said) = run(&["revoke", "--person", &person]);
    assert!(ok, "{said}");
    assert_eq!(get("/api/v1/inbox").status, 401);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
