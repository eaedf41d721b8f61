//! The contract suite on a real PostgreSQL, and what only several servers
//! on one database can show.

use super::cluster::{drop_database, new_database};
use super::Postgres;
use crate::store::{contract, PhotoOwner};

/// A store on a database of its own, dropped when done.
struct TempPostgres {
    url: String,
    name: String,
    store: Option<Postgres>,
}

impl std::ops::Deref for TempPostgres {
    type Target = Postgres;
    fn deref(&self) -> &Postgres {
        self.store.as_ref().expect("open until dropped")
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        drop(self.store.take());
        drop_database(&self.name);
    }
}

fn temp_store() -> TempPostgres {
    let (url, name) = new_database();
    let store = Postgres::open(&url).expect("the store opens on a new database");
    TempPostgres {
        url,
        name,
        store: Some(store),
    }
}

contract::contract_tests!(temp_store());

#[test]
fn a_batch_sent_to_two_servers_at_once_is_stored_once() {
    let first = temp_store();
    // A second server: its own pool, the same database.
    let second = Postgres::open(&first.url).unwrap();
    contract::stored_once_across(&[&*first, &second]);
}

#[test]
fn a_second_server_starting_finds_the_schema_made_and_a_newer_one_is_refused() {
    let first = temp_store();
    Postgres::open(&first.url).expect("the schema is there already");
    first
        .conn()
        .unwrap()
        .execute("INSERT INTO schema_steps (step) VALUES (1000)", &[])
        .unwrap();
    assert!(matches!(
        Postgres::open(&first.url),
        Err(crate::store::StoreError::NewerSchema { found: 1000, .. })
    ));
}

#[test]
fn a_dump_taken_while_serving_restores_into_a_new_database_with_everything_in_it() {
    use beatbook_core::protocol::RecordKind;

    use crate::store::{Devices, Photos, Records, Reports};

    let store = temp_store();
    // What a night leaves: a paired phone's notes, a resident's report with
    // a photo, and a step of triage.
    let (device, token) = contract::paired(&*store);
    let notes: Vec<_> = (0..5)
        .map(|i| contract::note(&format!("note {i}")))
        .collect();
    store.ingest(device, contract::notes(&notes)).unwrap();
    let report = contract::report("Dark all week", "");
    let (code, _) = store.submit_report(&report).unwrap();
    let step = contract::step(
        &report,
        beatbook_core::ReportStatus::Acknowledged,
        "We have seen it.",
        "",
    );
    store.triage(device, &[step]).unwrap();
    let jpeg = include_bytes!("../../../../core/tests/fixtures/photos/street.jpg");
    let photo = contract::photo(9, PhotoOwner::Report(report.id), jpeg, None);
    assert_eq!(
        store.store_photo(photo).unwrap(),
        crate::store::PhotoAnswer::Stored
    );

    let dump = std::env::temp_dir().join(format!("{}.dump", store.name));
    let ran = std::process::Command::new(super::cluster::program("pg_dump"))
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .args(["--dbname", &store.url])
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );

    // A new database the store has made its schema in: the dump's
    // --clean replaces it.
    let restored = temp_store();
    let ran = std::process::Command::new(super::cluster::program("pg_restore"))
        .args([
            "--no-owner",
            "--clean",
            "--if-exists",
            "--dbname",
            &restored.url,
        ])
        .arg(&dump)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&dump);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let again = Postgres::open(&restored.url).unwrap();
    assert_eq!(again.count(RecordKind::Note).unwrap(), 5);
    assert!(
        again.device_for_token(&token).unwrap().is_some(),
        "the phone stays paired"
    );
    let public = again.public_report(&code).unwrap().unwrap();
    assert_eq!(public.status, beatbook_core::ReportStatus::Acknowledged);
    let photos = again.report_photos(&code).unwrap().unwrap();
    assert_eq!(again.photo_bytes(&photos[0]).unwrap(), jpeg);
}

/// The files of a table and its out-of-line (TOAST) storage, as the
/// cluster keeps them on disk once a checkpoint has written them.
fn table_files(store: &Postgres, table: &str) -> Vec<u8> {
    let mut conn = store.conn().unwrap();
    conn.batch_execute("CHECKPOINT").unwrap();
    let paths = conn
        .query(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname = $1
             UNION ALL
             SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c
              WHERE c.relname = $1 AND c.reltoastrelid <> 0",
            &[&table],
        )
        .unwrap();
    let data = super::cluster::data_folder();
    let mut bytes = Vec::new();
    for path in paths {
        let path: String = path.get(0);
        // A relation over 1 GB continues in PATH.1, PATH.2, …
        for segment in 0.. {
            let file = if segment == 0 {
                data.join(&path)
            } else {
                data.join(format!("{path}.{segment}"))
            };
            match std::fs::read(&file) {
                Ok(read) => bytes.extend(read),
                Err(_) => break,
            }
        }
    }
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn an_erased_report_leaves_nothing_personal_in_the_tables_files() {
    use crate::store::Reports;

    let store = temp_store();
    let (device, _) = contract::paired(&*store);
    let description = "Followed home from the bus stop on Elm Road by a man in a red coat";
    let report = contract::report(description, "Alex Resident");
    let (code, _) = store.submit_report(&report).unwrap();
    let note = contract::step(
        &report,
        beatbook_core::ReportStatus::Acknowledged,
        "",
        "Alex rang the office again",
    );
    store.triage(device, &[note]).unwrap();
    // On disk before the erasure, so the check below can see it.
    assert!(holds(&table_files(&store, "reports"), "Elm Road"));
    assert!(holds(
        &table_files(&store, "report_events"),
        "rang the office"
    ));

    assert!(store.erase_report(&code).unwrap());
    // Another test's transaction on this cluster may still see the old
    // version at the first rewrite (the server's hourly run rewrites again);
    // erasing again rewrites again.
    let mut reports = table_files(&store, "reports");
    for _ in 0..50 {
        if !holds(&reports, "Elm Road") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(store.erase_report(&code).unwrap());
        reports = table_files(&store, "reports");
    }
    let events = table_files(&store, "report_events");
    for personal in ["Elm Road", "red coat", "Alex Resident", "07700 900123"] {
        assert!(
            !holds(&reports, personal),
            "{personal} is still in the reports' files"
        );
    }
    assert!(
        !holds(&events, "rang the office"),
        "the private note is still on disk"
    );
    // The code and the history stay.
    assert!(holds(&reports, &code));
}
