//! The SQLite store's own tests: its settings, migrating a database left
//! by the previous release, and group commit under a failing write.

use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{Outcome, RecordKind, RecordResult};
use beatbook_core::{Note, SyncState};
use chrono::Utc;
use rusqlite::{params, Connection};
use serde_json::value::RawValue;

use super::ingest::Waiting;
use super::{devices, time_key, Sqlite, MIGRATIONS};
use crate::store::{
    Devices, ListFilter, NewPhoto, PhotoAnswer, PhotoOwner, Photos, RawBatch, Reach, Records,
    Reports, StoreResult,
};

/// A resident's report of a dark place, as the phone makes it.
fn poor_lighting_report(place: &str) -> beatbook_core::Report {
    beatbook_core::Report::create(
        uuid::Uuid::new_v4(),
        &beatbook_core::ReportInput {
            kind: beatbook_core::ReportKind::PoorLighting,
            location: None,
            round_location: false,
            place: place.into(),
            when: beatbook_core::WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "Dark all week".into(),
            contact_name: String::new(),
            ward: String::new(),
            contact_reach: String::new(),
        },
        Utc::now(),
    )
    .unwrap()
}

/// A store in a folder of its own, removed when done.
struct TempSqlite {
    dir: std::path::PathBuf,
    db: Option<Sqlite>,
}

impl std::ops::Deref for TempSqlite {
    type Target = Sqlite;
    fn deref(&self) -> &Sqlite {
        self.db.as_ref().expect("open until dropped")
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        drop(self.db.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_store() -> TempSqlite {
    let (dir, db) = temp_db();
    TempSqlite { dir, db: Some(db) }
}

crate::store::contract::contract_tests!(temp_store());

fn temp_db() -> (std::path::PathBuf, Sqlite) {
    let dir = std::env::temp_dir().join(format!("beatbook-db-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Sqlite::open(&dir.join("beatbook.sqlite3")).unwrap();
    (dir, db)
}

#[test]
fn erased_text_is_overwritten_and_an_idle_log_is_emptied() {
    let (dir, db) = temp_db();
    let path = dir.join("beatbook.sqlite3");
    for conn in [&*db.conn(), &*db.checkpoint_conn.lock().unwrap()] {
        let on: i64 = conn
            .pragma_query_value(None, "secure_delete", |r| r.get(0))
            .unwrap();
        assert_eq!(on, 1);
    }
    let secret = "Sam Secretname, 07700 900123";
    db.conn()
        .execute(
            "INSERT INTO devices (name, created_at) VALUES (?1, '2026-01-01')",
            params![secret],
        )
        .unwrap();
    let checkpointer = &db.checkpoint_conn;
    let settle = || {
        let conn = checkpointer.lock().unwrap();
        let first = super::checkpoint(&conn, super::Checkpoint::default()).unwrap();
        super::checkpoint(&conn, first).unwrap()
    };
    settle();
    let contains = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
    assert!(
        contains(&std::fs::read(&path).unwrap()),
        "written, to begin with"
    );
    db.conn()
        .execute("DELETE FROM devices WHERE name = ?1", params![secret])
        .unwrap();
    // Idle since the last look: the log is copied and emptied.
    let after = settle();
    assert_eq!(after.log, 0, "{after:?}");
    let wal = dir.join("beatbook.sqlite3-wal");
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
    assert!(
        !contains(&std::fs::read(&path).unwrap()),
        "erased text left in the database file"
    );
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_connection_syncs_each_commit_to_disk() {
    let (dir, db) = temp_db();
    let synchronous = |conn: &Connection| -> i64 {
        conn.pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap()
    };
    // 2 is FULL: a commit is on disk before "stored" is answered.
    assert_eq!(synchronous(&db.conn()), 2);
    assert_eq!(
        synchronous(&db.checkpoint_conn.lock().unwrap()),
        2,
        "the checkpoint connection"
    );
    let mode: String = db
        .conn()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_store_from_the_previous_release_keeps_its_records_as_their_first_revision() {
    let dir = std::env::temp_dir().join(format!("beatbook-db-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("beatbook.sqlite3");
    let received = "2026-01-05T09:30:00.000Z";
    let mut held: Note = serde_json::from_str(note("Lamp out by the footbridge").get()).unwrap();
    assert!(held.sync.mark_synced(1, received.parse().unwrap()));
    {
        // The schema and rows as the previous release (three migrations)
        // left them.
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        for (i, sql) in MIGRATIONS[..3].iter().enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", i + 1).unwrap();
            tx.commit().unwrap();
        }
        conn.execute(
            "INSERT INTO devices (name, token_hash, created_at) VALUES ('old phone', ?1, ?2)",
            params![devices::hash("old token"), "2026-01-05T09:00:00.000Z"],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO records (kind, id, device_id, revision, shift_id, category, created_at, received_at, body)
             VALUES ('note', ?1, 1, 1, NULL, 'poor_lighting', ?2, ?3, ?4)",
            params![
                held.id.to_string(),
                time_key(held.created_at),
                received,
                serde_json::to_string(&held).unwrap()
            ],
        )
        .unwrap();
    }

    let db = Sqlite::open(&path).unwrap();
    let version: usize = db
        .conn()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len());
    let listed = db
        .list(
            RecordKind::Note,
            &ListFilter {
                limit: 10,
                ..ListFilter::default()
            },
        )
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(serde_json::from_str::<Note>(listed[0].get()).unwrap(), held);
    let revisions = db.revisions(RecordKind::Note, held.id).unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0].revision, 1);
    assert_eq!(revisions[0].device_id, 1);
    assert_eq!(revisions[0].received_at, received);
    assert_eq!(
        serde_json::from_str::<Note>(revisions[0].body.get()).unwrap(),
        held
    );

    // The old phone's resend is recognised; other words at the same
    // revision are not taken for it.
    let device = db.device_for_token("old token").unwrap().unwrap().id;
    let send = |note: &Note| {
        let batch = RawBatch {
            notes: vec![serde_json::value::to_raw_value(note).unwrap()],
            ..RawBatch::default()
        };
        db.ingest(device, batch).unwrap()[0].outcome
    };
    let mut resent = held.clone();
    resent.sync.state = SyncState::Pending;
    assert_eq!(send(&resent), Outcome::AlreadyHad);
    resent.text = "Lamp out by the bridge".into();
    assert_eq!(send(&resent), Outcome::Rejected);
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

/// A note's rows as releases before the device quota wrote them (their
/// code would write no count today's needs): the current row and its first
/// revision, from `device`.
fn old_note_rows(conn: &Connection, device: i64, raw: &RawValue) {
    let id = serde_json::from_str::<Note>(raw.get())
        .unwrap()
        .id
        .to_string();
    conn.execute(
        "INSERT INTO records (kind, id, device_id, revision, created_at, received_at, body)
         VALUES ('note', ?1, ?2, 1, '2026-11-30T10:00:00.000Z', '2026-11-30T10:00:00.000Z', ?3)",
        params![id, device, raw.get()],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO record_revisions (kind, id, revision, device_id, received_at, content_hash, body)
         VALUES ('note', ?1, 1, ?2, '2026-11-30T10:00:00.000Z', beatbook_content_hash('note', ?3), ?3)",
        params![id, device, raw.get()],
    )
    .unwrap();
}

/// A resident's report kept by a release from before wards, as it wrote
/// the rows: its code.
fn old_report(conn: &Connection, report: &beatbook_core::Report) -> String {
    let code = crate::random::new_code();
    conn.execute(
        "INSERT INTO reports (id, code, kind, status, created_at, received_at, updated_at, place, body)
         VALUES (?1, ?2, ?3, 'new', ?4, ?4, ?4, ?5, ?6)",
        params![
            report.id.to_string(),
            code,
            report.kind.slug(),
            time_key(report.created_at),
            report.place,
            serde_json::to_string(report).unwrap()
        ],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO report_events (report_seq, at, status) VALUES (last_insert_rowid(), ?1, 'new')",
        params![time_key(report.created_at)],
    )
    .unwrap();
    code
}

/// A device paired by a release from before wards, as it wrote the row:
/// its id.
fn old_device(conn: &Connection, name: &str) -> i64 {
    conn.execute(
        "INSERT INTO devices (name, token_hash, created_at)
         VALUES (?1, randomblob(32), '2026-11-30T10:00:00.000Z')",
        [name],
    )
    .unwrap();
    conn.last_insert_rowid()
}

#[test]
fn a_store_from_the_release_before_photos_keeps_its_notes_and_reports_and_takes_photos() {
    let dir = std::env::temp_dir().join(format!("beatbook-db-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("beatbook.sqlite3");
    let report = poor_lighting_report("The footbridge");
    let (note_id, report_code, device) = {
        // The previous release: four migrations, its device and report
        // written through its code, its note as it wrote the rows.
        let db = Sqlite::open_with(&path, &MIGRATIONS[..4]).unwrap();
        let device = old_device(&db.conn(), "old phone");
        let raw = note("Lamp out by the footbridge");
        let id: Note = serde_json::from_str(raw.get()).unwrap();
        old_note_rows(&db.conn(), device, &raw);
        let code = old_report(&db.conn(), &report);
        (id.id, code, device)
    };

    let db = Sqlite::open(&path).unwrap();
    let version: usize = db
        .conn()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len());
    assert_eq!(db.count(RecordKind::Note).unwrap(), 1);
    assert!(db.public_report(&report_code).unwrap().is_some());
    let jpeg = include_bytes!("../../../../core/tests/fixtures/photos/street.jpg");
    let photo = |id: u128, of: PhotoOwner| NewPhoto {
        id: uuid::Uuid::from_u128(id),
        of,
        sha256: "ab".repeat(32),
        inspected: beatbook_core::photo::inspect(jpeg, "image/jpeg").unwrap(),
        bytes: jpeg.to_vec(),
        // The old phone's own note takes its photo; a resident's report takes theirs.
        device_id: matches!(of, PhotoOwner::Note(_)).then_some(device),
        room: None,
    };
    assert_eq!(
        db.store_photo(photo(1, PhotoOwner::Note(note_id))).unwrap(),
        PhotoAnswer::Stored
    );
    assert_eq!(
        db.store_photo(photo(2, PhotoOwner::Report(report.id)))
            .unwrap(),
        PhotoAnswer::Stored
    );
    assert_eq!(
        db.photos_of(PhotoOwner::Report(report.id)).unwrap().len(),
        1
    );
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_photos_of_many_records_come_by_record_in_the_order_asked_oldest_first() {
    let (dir, db) = temp_db();
    let code = db.create_pairing_code("phone").unwrap();
    let token = db.redeem_pairing_code(&code).unwrap().unwrap().token;
    let device = db.device_for_token(&token).unwrap().unwrap().id;
    let (first, second) = (note("first"), note("second"));
    let id = |raw: &RawValue| serde_json::from_str::<Note>(raw.get()).unwrap().id;
    let (a, b) = (id(&first), id(&second));
    let batch = RawBatch {
        notes: vec![first, second],
        ..RawBatch::default()
    };
    db.ingest(device, batch).unwrap();
    let report = poor_lighting_report("The footbridge");
    db.submit_report(&report).unwrap();
    let jpeg = include_bytes!("../../../../core/tests/fixtures/photos/street.jpg");
    let sha256 = crate::api::sha256_hex(jpeg);
    for (n, of) in [
        (1, PhotoOwner::Note(a)),
        (2, PhotoOwner::Note(a)),
        (3, PhotoOwner::Note(b)),
        (4, PhotoOwner::Report(report.id)),
    ] {
        let photo = NewPhoto {
            id: uuid::Uuid::from_u128(n),
            of,
            sha256: sha256.clone(),
            inspected: beatbook_core::photo::inspect(jpeg, "image/jpeg").unwrap(),
            bytes: jpeg.to_vec(),
            device_id: matches!(of, PhotoOwner::Note(_)).then_some(device),
            room: None,
        };
        assert_eq!(db.store_photo(photo).unwrap(), PhotoAnswer::Stored);
    }
    let ids = |records: &[PhotoOwner]| -> Vec<u128> {
        db.photos_of_each(records)
            .unwrap()
            .iter()
            .map(|p| p.id.as_u128())
            .collect()
    };
    let nobody = uuid::Uuid::new_v4();
    assert_eq!(
        ids(&[
            PhotoOwner::Note(b),
            PhotoOwner::Report(report.id),
            PhotoOwner::Note(nobody),
            PhotoOwner::Note(a),
            PhotoOwner::Note(b),
        ]),
        [3, 4, 1, 2],
        "by record as asked, each once, oldest first"
    );
    // A note's id asked for as a report's is not the note's.
    assert_eq!(ids(&[PhotoOwner::Report(a)]), Vec::<u128>::new());
    assert_eq!(ids(&[]), Vec::<u128>::new());
    // Each record is found through the index, not by reading every photo.
    let plan: Vec<String> = {
        let conn = db.conn();
        let mut statement = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                super::photos::photos_of_each_query()
            ))
            .unwrap();
        let rows = statement
            .query_map(["[]"], |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert!(
        plan.iter().any(|step| step.contains("photos_by_record")),
        "{plan:?}"
    );

    let photo = db.photo(uuid::Uuid::from_u128(1)).unwrap().unwrap();
    assert!(db.photo_on_disk(&photo).unwrap());
    let file = db.photo_folder().join(&sha256);
    std::fs::write(&file, &jpeg[..10]).unwrap();
    assert!(!db.photo_on_disk(&photo).unwrap(), "cut short");
    std::fs::remove_file(&file).unwrap();
    assert!(!db.photo_on_disk(&photo).unwrap(), "gone");
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

fn note(text: &str) -> Box<RawValue> {
    let input = beatbook_core::NoteInput {
        text: text.into(),
        category: beatbook_core::Category::PoorLighting,
        place: String::new(),
        location: None,
    };
    let note = Note::create(uuid::Uuid::new_v4(), &input, None, Utc::now()).unwrap();
    serde_json::value::to_raw_value(&note).unwrap()
}

#[test]
fn a_batch_that_fails_in_a_group_commit_is_rolled_back_alone() {
    let dir = std::env::temp_dir().join(format!("beatbook-db-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Sqlite::open(&dir.join("beatbook.sqlite")).unwrap();
    let code = db.create_pairing_code("test phone").unwrap();
    let token = db.redeem_pairing_code(&code).unwrap().unwrap().token;
    let device = db.device_for_token(&token).unwrap().unwrap().id;
    // The storage fails partway through the second batch, after its
    // first note is written.
    db.conn()
        .execute_batch(
            "CREATE TRIGGER fail BEFORE INSERT ON records WHEN NEW.body LIKE '%storage fails%'
             BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
        )
        .unwrap();
    let batches = [
        vec![note("first batch, one"), note("first batch, two")],
        vec![
            note("second batch, written first"),
            note("storage fails here"),
        ],
        vec![note("third batch")],
    ];
    let group: Vec<Waiting> = batches
        .iter()
        .map(|notes| {
            let batch = RawBatch {
                notes: notes.clone(),
                ..RawBatch::default()
            };
            Waiting::new(device, crate::store::DEVICE_QUOTA_BYTES, &batch).0
        })
        .collect();

    let results = Sqlite::ingest_group(&mut db.conn(), &group);

    let stored = |r: &StoreResult<Vec<RecordResult>>| {
        r.as_ref()
            .unwrap()
            .iter()
            .map(|r| r.outcome)
            .collect::<Vec<_>>()
    };
    assert_eq!(stored(&results[0]), [Outcome::Stored, Outcome::Stored]);
    let failed = results[1].as_ref().unwrap_err();
    assert!(failed.chain().contains("disk trouble"), "{failed:?}");
    assert_eq!(stored(&results[2]), [Outcome::Stored]);
    let held: Vec<String> = db
        .list(
            RecordKind::Note,
            &ListFilter {
                limit: 100,
                ..ListFilter::default()
            },
        )
        .unwrap()
        .iter()
        .map(|raw| serde_json::from_str::<Note>(raw.get()).unwrap().text)
        .collect();
    assert_eq!(held.len(), 3, "{held:?}");
    assert!(
        !held.iter().any(|t| t.starts_with("second batch")),
        "the failed batch's first note was rolled back: {held:?}"
    );
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_backup_forgets_a_photo_erased_after_its_snapshot_and_fails_on_one_lost() {
    let (dir, db) = temp_db();
    let path = dir.join("beatbook.sqlite3");
    let photo = |report: &beatbook_core::Report, bytes: &[u8], media_type: &str| NewPhoto {
        id: uuid::Uuid::new_v4(),
        of: PhotoOwner::Report(report.id),
        sha256: crate::api::sha256_hex(bytes),
        inspected: beatbook_core::photo::inspect(bytes, media_type).unwrap(),
        bytes: bytes.to_vec(),
        device_id: None,
        room: None,
    };
    let jpeg = include_bytes!("../../../../core/tests/fixtures/photos/street.jpg");
    let png = include_bytes!("../../../../core/tests/fixtures/photos/street.png");
    let (erased, kept) = (
        poor_lighting_report("The footbridge"),
        poor_lighting_report("The underpass"),
    );
    let mut codes = Vec::new();
    for (report, bytes, media_type) in [
        (&erased, &jpeg[..], "image/jpeg"),
        (&kept, &png[..], "image/png"),
    ] {
        codes.push(db.submit_report(report).unwrap().0);
        assert_eq!(
            db.store_photo(photo(report, bytes, media_type)).unwrap(),
            PhotoAnswer::Stored
        );
    }
    // The backup's snapshot, taken before the photos are copied.
    let to = dir.join("nightly.sqlite3");
    assert_eq!(super::backup::backup(&path, &to).unwrap().photos, 2);
    let snapshot = Connection::open(&to).unwrap();
    let live = Connection::open(&path).unwrap();
    let folder = dir.join("photos");
    let copy_to = dir.join("copied");
    let copy = |snapshot: &Connection| {
        super::backup::copy_photos(
            snapshot,
            &folder,
            &copy_to,
            super::backup::Missing::Forget { live: &live },
        )
    };
    let jpeg_file = folder.join(crate::api::sha256_hex(jpeg));

    // A file lost while the database still names it fails the copy.
    std::fs::rename(&jpeg_file, dir.join("aside")).unwrap();
    let refused = copy(&snapshot).unwrap_err().to_string();
    assert!(refused.contains(&crate::api::sha256_hex(jpeg)), "{refused}");
    std::fs::rename(dir.join("aside"), &jpeg_file).unwrap();

    // The report is erased after the snapshot: its file and row are gone
    // from the live database, and the copy forgets the photo too.
    assert!(db.erase_report(&codes[0]).unwrap());
    assert!(!jpeg_file.exists());
    copy(&snapshot).expect("the copy is made");
    let named: i64 = snapshot
        .query_row("SELECT COUNT(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(named, 1, "the erased photo is forgotten");
    let copied: Vec<String> = std::fs::read_dir(&copy_to)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(copied, [crate::api::sha256_hex(png)]);
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_request_for_erasure_kept_by_the_release_before_becomes_the_inbox_s_own() {
    let dir = std::env::temp_dir().join(format!("beatbook-db-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("beatbook.sqlite3");
    let asked = poor_lighting_report("The footbridge");
    let other = poor_lighting_report("The car park");
    let (asked_code, other_code) = {
        // The previous release: five migrations, and a request kept as it
        // kept one then (a history line with this private note, twice when
        // asked twice), beside a councillor's own note.
        let db = Sqlite::open_with(&path, &MIGRATIONS[..5]).unwrap();
        let asked_code = old_report(&db.conn(), &asked);
        let other_code = old_report(&db.conn(), &other);
        let old_note = "The resident asked for their contact details, description and exact location to be erased (beatbook-server erase-report CODE).";
        let conn = db.conn();
        for at in ["2026-11-21T10:00:00.000Z", "2026-11-22T10:00:00.000Z"] {
            conn.execute(
                "INSERT INTO report_events (report_seq, at, status, private_note)
                 SELECT seq, ?2, status, ?3 FROM reports WHERE code = ?1",
                rusqlite::params![asked_code, at, old_note],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO report_events (change_id, report_seq, at, status, private_note)
             SELECT 'c1', seq, '2026-11-21T11:00:00.000Z', 'acknowledged', 'Rang the resident' FROM reports WHERE code = ?1",
            [&other_code],
        )
        .unwrap();
        (asked_code, other_code)
    };

    let db = Sqlite::open(&path).unwrap();
    let (inbox, _) = db
        .inbox(&InboxFilter::default(), Reach::Everything)
        .unwrap();
    let of = |code: &str| inbox.iter().find(|r| r.code == code).unwrap().clone();
    let asked = of(&asked_code);
    assert_eq!(
        asked.erasure_requested_at,
        Some("2026-11-21T10:00:00Z".parse().unwrap()),
        "the first request counts"
    );
    assert_eq!(asked.history.len(), 1, "only the report's arrival is left");
    let other = of(&other_code);
    assert_eq!(other.erasure_requested_at, None);
    assert!(other
        .history
        .iter()
        .any(|h| h.private_note.as_deref() == Some("Rang the resident")));
    let awaiting = InboxFilter {
        awaiting_erasure: true,
        ..InboxFilter::default()
    };
    let (found, _) = db.inbox(&awaiting, Reach::Everything).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, asked_code);
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn each_device_stores_at_most_its_quota_counted_from_what_an_earlier_release_kept() {
    let dir = std::env::temp_dir().join(format!("beatbook-quota-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("beatbook.sqlite3");
    let jpeg = include_bytes!("../../../../core/tests/fixtures/photos/street.jpg");
    let held = vec![note("kept before the quota"), note("and another")];
    let held_bytes: u64 = held.iter().map(|n| n.get().len() as u64).sum();
    let (device, other, first_note) = {
        // The previous release: six migrations, a device's notes and a photo.
        let db = Sqlite::open_with(&path, &MIGRATIONS[..6]).unwrap();
        let pair = |name: &str| old_device(&db.conn(), name);
        let (device, other) = (pair("phone"), pair("tablet"));
        // Its notes and a photo as it wrote the rows.
        let conn = db.conn();
        for raw in &held {
            old_note_rows(&conn, device, raw);
        }
        let first_note = serde_json::from_str::<Note>(held[0].get()).unwrap().id;
        conn.execute(
            "INSERT INTO photos (id, record_kind, record_id, sha256, media_type, bytes, width, height, device_id, received_at)
             VALUES ('p1', 'note', ?1, ?2, 'image/jpeg', ?3, 320, 240, ?4, '2026-11-30T10:00:00.000Z')",
            params![first_note.to_string(), crate::api::sha256_hex(jpeg), jpeg.len(), device],
        )
        .unwrap();
        (device, other, first_note)
    };

    let db = Sqlite::open(&path).unwrap();
    let stored = |id: i64| -> u64 {
        db.conn()
            .query_row(
                "SELECT stored_bytes FROM devices WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(stored(device), held_bytes);
    assert_eq!(stored(other), 0);
    let photos_held: u64 = db
        .conn()
        .query_row(
            "SELECT photo_bytes FROM devices WHERE id = ?1",
            [device],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(photos_held, jpeg.len() as u64, "photos are counted apart");

    // A quota just above what it holds: one more small note fits, the
    // next batch does not, and nothing of it is kept.
    db.set_device_quota(stored(device) + 600);
    let one = |text: &str| RawBatch {
        notes: vec![note(text)],
        ..RawBatch::default()
    };
    db.ingest(device, one("fits")).unwrap();
    let before = stored(device);
    let refused = db
        .ingest(device, one(&"past the quota ".repeat(50)))
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("the most one phone may keep there"),
        "{refused}"
    );
    assert_eq!(stored(device), before, "nothing counted");
    assert_eq!(
        db.list(RecordKind::Note, &ListFilter::default())
            .unwrap()
            .len(),
        3
    );
    // What it already sent is still answered; a photo is refused in words.
    let again = RawBatch {
        notes: held.clone(),
        ..RawBatch::default()
    };
    assert!(db
        .ingest(device, again)
        .unwrap()
        .iter()
        .all(|r| r.outcome == Outcome::AlreadyHad));
    let photo = NewPhoto {
        id: uuid::Uuid::from_u128(2),
        of: PhotoOwner::Note(first_note),
        sha256: crate::api::sha256_hex(jpeg),
        inspected: beatbook_core::photo::inspect(jpeg, "image/jpeg").unwrap(),
        bytes: jpeg.to_vec(),
        device_id: Some(device),
        room: None,
    };
    assert_eq!(db.store_photo(photo.clone()).unwrap(), PhotoAnswer::Stored);
    db.set_device_photo_quota(photos_held + jpeg.len() as u64 + 10);
    let another = NewPhoto {
        id: uuid::Uuid::from_u128(3),
        ..photo
    };
    assert!(matches!(
        db.store_photo(another).unwrap(),
        PhotoAnswer::OverQuota { .. }
    ));
    // Another device has a quota of its own.
    db.ingest(other, one("from the tablet")).unwrap();
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn photos_an_earlier_release_kept_with_metadata_are_rebuilt_once_without_it() {
    let dir = std::env::temp_dir().join(format!("beatbook-clean-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("beatbook.sqlite3");
    let jpeg: &[u8] = include_bytes!("../../../../core/tests/fixtures/photos/street.jpg");
    let png: &[u8] = include_bytes!("../../../../core/tests/fixtures/photos/street.png");
    // What earlier releases let through: a comment naming someone, and text
    // after the image's end.
    let comment = b"\xFF\xFE\x00\x1aTaken by Jane Resident..";
    let dirty = [&jpeg[..2], comment.as_slice(), &jpeg[2..], b"12 Mill Lane"].concat();
    let report = poor_lighting_report("The footbridge");
    let folder = dir.join("photos");
    let (dirty_sha, clean_sha) = (crate::api::sha256_hex(&dirty), crate::api::sha256_hex(jpeg));
    {
        // The previous release: eight migrations, its files and rows.
        let db = Sqlite::open_with(&path, &MIGRATIONS[..8]).unwrap();
        old_report(&db.conn(), &report);
        std::fs::create_dir_all(&folder).unwrap();
        // And a picture cut short, made public: nothing can prove it clean.
        let cut = &jpeg[..jpeg.len() - 40];
        let kept = [
            (1, &dirty[..], "image/jpeg"),
            (2, png, "image/png"),
            (3, cut, "image/jpeg"),
        ];
        for (n, bytes, media) in kept {
            let sha = crate::api::sha256_hex(bytes);
            std::fs::write(folder.join(&sha), bytes).unwrap();
            db.conn()
                .execute(
                    "INSERT INTO photos (id, record_kind, record_id, sha256, media_type, bytes, width, height, public, received_at)
                     VALUES (?1, 'report', ?2, ?3, ?4, ?5, 320, 240, 1, '2026-11-30T10:00:00.000Z')",
                    params![uuid::Uuid::from_u128(n).to_string(), report.id.to_string(), sha, media, bytes.len()],
                )
                .unwrap();
        }
    }

    let db = Sqlite::open(&path).unwrap();
    assert_eq!(db.clean_kept_photos().unwrap(), 1);
    let photos = db.photos_of(PhotoOwner::Report(report.id)).unwrap();
    assert_eq!(photos[0].sha256, clean_sha);
    assert_eq!(photos[0].bytes, jpeg.len() as u64);
    assert_eq!(db.photo_bytes(&photos[0]).unwrap(), jpeg);
    assert!(!folder.join(&dirty_sha).exists(), "the old file is gone");
    assert_eq!(
        db.photo_bytes(&photos[1]).unwrap(),
        png,
        "a clean one is left as it was"
    );
    assert!(photos[1].public);
    assert!(
        !photos[2].public,
        "one that cannot be cleaned is public no more"
    );
    // Once: the next start has nothing to do.
    assert_eq!(db.clean_kept_photos().unwrap(), 0);
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}
