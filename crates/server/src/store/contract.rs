//! What every store promises, as one set of tests generic over the store:
//! each backend runs all of them ([`contract_tests!`]) against a real
//! database of its kind, so that no backend keeps a promise the others
//! break. What only one backend can see (its files on disk, its own
//! migrations) is tested beside that backend.

use std::sync::Barrier;

use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{Outcome, RecordKind};
use beatbook_core::report::{ReportStatus, Triage};
use beatbook_core::{Category, Note, NoteInput, Report, ReportInput, ReportKind, WhenUnsafe};
use chrono::{Duration, Utc};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{
    Devices, NewPhoto, PhotoAnswer, PhotoOwner, RawBatch, Reach, Records, Role, Store, Unredeemed,
};

/// Runs every contract test against the store `$make` makes: an
/// expression giving a fresh, empty store each time it is evaluated (or a
/// guard that derefs to one, and cleans up after it).
macro_rules! contract_tests {
    ($make:expr) => {
        $crate::store::contract::contract_tests!(@each $make;
            a_batch_sent_to_many_at_once_is_stored_once,
            revisions_are_kept_and_only_a_newer_one_replaces,
            every_report_gets_its_own_code_and_a_resend_the_same,
            triage_is_applied_once_in_order_and_only_status_moves_are_public,
            erasure_leaves_nothing_personal_in_what_the_store_answers,
            a_pairing_code_is_traded_once_for_a_token_until_revoked,
            photos_are_kept_once_by_id_and_content,
            a_refused_photo_is_refused_for_its_first_reason,
            a_ward_s_people_pair_their_phones_until_revoked,
            a_report_goes_to_the_ward_it_is_in_and_each_ward_sees_its_own,
            a_report_s_subscriptions_hear_of_each_public_step_until_it_ends,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let store = $make;
                $crate::store::contract::$name(&*store);
            }
        )*
    };
}
pub(crate) use contract_tests;

fn device<S: Devices>(store: &S) -> i64 {
    paired(store).0
}

/// A phone paired with `store`: its device id and its token.
pub(crate) fn paired<S: Devices + ?Sized>(store: &S) -> (i64, String) {
    let code = store.create_pairing_code("Councillor's phone").unwrap();
    let token = store.redeem_pairing_code(&code).unwrap().unwrap().token;
    (store.device_for_token(&token).unwrap().unwrap().id, token)
}

pub(crate) fn note(text: &str) -> Note {
    let input = NoteInput {
        text: text.into(),
        category: Category::PoorLighting,
        place: "Footbridge".into(),
        location: None,
    };
    Note::create(Uuid::now_v7(), &input, None, Utc::now()).unwrap()
}

fn raw(note: &Note) -> Box<RawValue> {
    serde_json::value::to_raw_value(note).unwrap()
}

pub(crate) fn notes(notes: &[Note]) -> RawBatch {
    RawBatch {
        notes: notes.iter().map(raw).collect(),
        ..RawBatch::default()
    }
}

pub(crate) fn report(description: &str, contact: &str) -> Report {
    Report::create(
        Uuid::now_v7(),
        &ReportInput {
            kind: ReportKind::PoorLighting,
            location: None,
            round_location: false,
            place: "The footbridge".into(),
            when: WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: description.into(),
            contact_name: contact.into(),
            ward: String::new(),
            contact_reach: if contact.is_empty() {
                String::new()
            } else {
                "07700 900123".into()
            },
        },
        Utc::now(),
    )
    .unwrap()
}

pub(crate) fn step(report: &Report, status: ReportStatus, response: &str, private: &str) -> Triage {
    Triage::create(
        Uuid::now_v7(),
        report.id,
        Utc::now(),
        status,
        response,
        private,
    )
    .unwrap()
}

/// A photo of the street (its metadata as the API leaves it) with these
/// bytes, sent by `device` (`None`: a resident).
pub(crate) fn photo(id: u128, of: PhotoOwner, bytes: &[u8], device: Option<i64>) -> NewPhoto {
    let jpeg = include_bytes!("../../../core/tests/fixtures/photos/street.jpg");
    NewPhoto {
        id: Uuid::from_u128(id),
        of,
        sha256: crate::api::sha256_hex(bytes),
        inspected: beatbook_core::photo::inspect(jpeg, "image/jpeg").unwrap(),
        bytes: bytes.to_vec(),
        device_id: device,
        room: None,
    }
}

pub(crate) fn a_batch_sent_to_many_at_once_is_stored_once<S: Devices + Records + Sync>(store: &S) {
    stored_once_across(&[store]);
}

/// The same batch sent at once by eight senders, spread over `stores` (one
/// store, or several servers on one database): each record is stored by
/// one and "already had" by the rest.
pub(crate) fn stored_once_across<S: Devices + Records + Sync>(stores: &[&S]) {
    let device = device(stores[0]);
    let sent: Vec<Note> = (0..20).map(|i| note(&format!("note {i}"))).collect();
    let senders = 8;
    let barrier = Barrier::new(senders);
    let answers: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..senders)
            .map(|i| {
                let (store, sent, barrier) = (stores[i % stores.len()], &sent, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    store.ingest(device, notes(sent)).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, n) in sent.iter().enumerate() {
        let outcomes: Vec<Outcome> = answers.iter().map(|a| a[i].outcome).collect();
        let stored = outcomes.iter().filter(|o| **o == Outcome::Stored).count();
        let had = outcomes
            .iter()
            .filter(|o| **o == Outcome::AlreadyHad)
            .count();
        assert_eq!((stored, had), (1, senders - 1), "note {i}: {outcomes:?}");
        for store in stores {
            assert_eq!(store.revisions(RecordKind::Note, n.id).unwrap().len(), 1);
        }
    }
    assert_eq!(stores[0].count(RecordKind::Note).unwrap(), 20);
}

pub(crate) fn revisions_are_kept_and_only_a_newer_one_replaces<S: Devices + Records>(store: &S) {
    let device = device(store);
    let first = note("light out");
    let mut second = first.clone();
    second
        .edit(
            &NoteInput {
                text: "light out; reported to the council".into(),
                ..first.to_input()
            },
            Utc::now(),
        )
        .unwrap();
    let outcome = |n: &Note| {
        store
            .ingest(device, notes(std::slice::from_ref(n)))
            .unwrap()[0]
            .clone()
    };
    assert_eq!(outcome(&first).outcome, Outcome::Stored);
    assert_eq!(outcome(&second).outcome, Outcome::Updated);
    assert_eq!(outcome(&second).outcome, Outcome::AlreadyHad);
    let stale = outcome(&first);
    assert_eq!(stale.outcome, Outcome::Rejected);
    assert!(stale.reason.unwrap().contains("newer revision (2)"));
    let mut other = second.clone();
    other.text = "something else under the same revision".into();
    assert_eq!(outcome(&other).outcome, Outcome::Rejected);

    let kept = store.revisions(RecordKind::Note, first.id).unwrap();
    assert_eq!(kept.iter().map(|r| r.revision).collect::<Vec<_>>(), [1, 2]);
    assert!(kept.iter().all(|r| r.device_id == device));
    let listed = store
        .list(RecordKind::Note, &super::ListFilter::default())
        .unwrap();
    let held: Note = serde_json::from_str(listed[0].get()).unwrap();
    assert_eq!(held.text, second.text);
    assert_eq!(held.sync.revision, 2);
}

pub(crate) fn every_report_gets_its_own_code_and_a_resend_the_same<S: Store>(store: &S) {
    let mut codes = std::collections::HashSet::new();
    for i in 0..50 {
        let sent = report(&format!("Dark all week ({i})"), "");
        let (code, outcome) = store.submit_report(&sent).unwrap();
        assert_eq!(outcome, Outcome::Stored);
        assert!(codes.insert(code.clone()), "{code} given twice");
        assert_eq!(
            store.submit_report(&sent).unwrap(),
            (code.clone(), Outcome::AlreadyHad)
        );
        assert_eq!(store.report_code(sent.id).unwrap(), Some(code.clone()));
        let public = store.public_report(&code).unwrap().unwrap();
        assert_eq!(public.status, ReportStatus::New);
    }
    assert_eq!(store.public_report("ABCDE-FGHJK").unwrap(), None);
}

pub(crate) fn triage_is_applied_once_in_order_and_only_status_moves_are_public<S: Store>(
    store: &S,
) {
    let device = device(store);
    let sent = report("Dark all week", "");
    let (code, _) = store.submit_report(&sent).unwrap();
    let seen = step(&sent, ReportStatus::Acknowledged, "We have seen it.", "");
    let noted = step(&sent, ReportStatus::Acknowledged, "", "Ask the council");
    let back = step(&sent, ReportStatus::New, "", "");
    let done = step(&sent, ReportStatus::Resolved, "The light is fixed.", "");
    let answers = store
        .triage(device, &[seen.clone(), noted, back, done, seen])
        .unwrap();
    let outcomes: Vec<Outcome> = answers.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Stored,
            Outcome::Stored,
            Outcome::Rejected,
            Outcome::Stored,
            Outcome::AlreadyHad
        ]
    );
    assert!(answers[2]
        .reason
        .as_deref()
        .unwrap()
        .contains("cannot become new"));

    let (inbox, _) = store
        .inbox(&InboxFilter::default(), Reach::Everything)
        .unwrap();
    let held = &inbox[0];
    assert_eq!(held.status, ReportStatus::Resolved);
    assert_eq!(held.response.as_deref(), Some("The light is fixed."));
    let steps: Vec<_> = held
        .history
        .iter()
        .map(|e| (e.status, e.private_note.as_deref()))
        .collect();
    assert_eq!(
        steps,
        [
            (ReportStatus::New, None),
            (ReportStatus::Acknowledged, None),
            (ReportStatus::Acknowledged, Some("Ask the council")),
            (ReportStatus::Resolved, None),
        ]
    );
    let public = store.public_report(&code).unwrap().unwrap();
    let moves: Vec<ReportStatus> = public.history.iter().map(|c| c.status).collect();
    assert_eq!(
        moves,
        [
            ReportStatus::New,
            ReportStatus::Acknowledged,
            ReportStatus::Resolved
        ]
    );
}

pub(crate) fn erasure_leaves_nothing_personal_in_what_the_store_answers<S: Store>(store: &S) {
    let device = device(store);
    let sent = report("My neighbour at number 4 shouts at me", "Sam Resident");
    let (code, _) = store.submit_report(&sent).unwrap();
    let noted = step(&sent, ReportStatus::Acknowledged, "", "Sam rang again");
    store.triage(device, &[noted]).unwrap();
    assert!(store.request_erasure(&code).unwrap());
    let (waiting, _) = store
        .inbox(
            &InboxFilter {
                awaiting_erasure: true,
                ..InboxFilter::default()
            },
            Reach::Everything,
        )
        .unwrap();
    assert_eq!(waiting.len(), 1);

    let erasure = Triage::erasure(Uuid::now_v7(), sent.id, Utc::now(), ReportStatus::New);
    let answers = store.triage(device, &[erasure]).unwrap();
    assert_eq!(answers[0].outcome, Outcome::Stored);
    let (inbox, _) = store
        .inbox(&InboxFilter::default(), Reach::Everything)
        .unwrap();
    let held = &inbox[0];
    assert!(held.erased_at.is_some());
    assert_eq!(
        held.status,
        ReportStatus::Acknowledged,
        "erasure moves no status"
    );
    assert!(held.report.contact.is_none());
    let words = serde_json::to_string(held).unwrap();
    for personal in ["Sam Resident", "07700 900123", "number 4", "Sam rang again"] {
        assert!(!words.contains(personal), "{personal} is still answered");
    }
    // A private note written before the erasure, sent late, is not kept.
    let mut late = step(&sent, ReportStatus::Acknowledged, "", "Sam's address");
    late.at = Utc::now() - Duration::hours(1);
    store.triage(device, &[late]).unwrap();
    let (inbox, _) = store
        .inbox(&InboxFilter::default(), Reach::Everything)
        .unwrap();
    assert!(!serde_json::to_string(&inbox[0])
        .unwrap()
        .contains("Sam's address"));
    let (waiting, _) = store
        .inbox(
            &InboxFilter {
                awaiting_erasure: true,
                ..InboxFilter::default()
            },
            Reach::Everything,
        )
        .unwrap();
    assert!(waiting.is_empty(), "the request is done");
}

pub(crate) fn a_pairing_code_is_traded_once_for_a_token_until_revoked<S: Devices>(store: &S) {
    let code = store.create_pairing_code("Night shift phone").unwrap();
    // However it is typed.
    let typed = code.to_lowercase().replace('-', " ");
    let paired = store.redeem_pairing_code(&typed).unwrap().unwrap();
    assert_eq!(paired.device_name, "Night shift phone");
    assert_eq!(
        store.redeem_pairing_code(&code).unwrap(),
        Err(Unredeemed::Used)
    );
    assert_eq!(
        store.redeem_pairing_code("ABCDE-FGHJK").unwrap(),
        Err(Unredeemed::Unknown)
    );
    let device = store.device_for_token(&paired.token).unwrap().unwrap();
    assert_eq!(store.device_for_token("not a token").unwrap(), None);
    assert!(store.revoke(device.id).unwrap());
    assert!(!store.revoke(device.id).unwrap(), "revoked already");
    assert_eq!(store.device_for_token(&paired.token).unwrap(), None);
    assert_eq!(store.devices().unwrap().len(), 1);
}

pub(crate) fn photos_are_kept_once_by_id_and_content<S: Store>(store: &S) {
    let device = device(store);
    let n = note("light out");
    store
        .ingest(device, notes(std::slice::from_ref(&n)))
        .unwrap();
    let jpeg = include_bytes!("../../../core/tests/fixtures/photos/street.jpg");
    let photo = |id: u128, of: PhotoOwner, bytes: &[u8]| photo(id, of, bytes, Some(device));
    let of = PhotoOwner::Note(n.id);
    let mut other = jpeg.to_vec();
    other.push(0);
    let nowhere = PhotoOwner::Note(Uuid::now_v7());
    let sent = [
        (photo(1, of, jpeg), PhotoAnswer::Stored),
        (photo(1, of, jpeg), PhotoAnswer::AlreadyHad),
        (photo(1, of, &other), PhotoAnswer::IdTaken),
        (photo(2, nowhere, jpeg), PhotoAnswer::NoSuchRecord),
        (photo(3, of, jpeg), PhotoAnswer::Stored),
    ];
    for (n, (photo, answer)) in sent.into_iter().enumerate() {
        assert_eq!(store.store_photo(photo).unwrap(), answer, "photo {n}");
    }
    let kept = store.photos_of(of).unwrap();
    assert_eq!(
        kept.iter().map(|p| p.id.as_u128()).collect::<Vec<_>>(),
        [1, 3]
    );
    assert_eq!(store.photo_bytes(&kept[0]).unwrap(), jpeg);
    assert!(store.photo_on_disk(&kept[0]).unwrap());
}

pub(crate) fn a_refused_photo_is_refused_for_its_first_reason<S: Store>(store: &S) {
    let device = device(store);
    let jpeg = include_bytes!("../../../core/tests/fixtures/photos/street.jpg");
    let mut other = jpeg.to_vec();
    other.push(0);
    let n = note("every photo the note may have");
    store
        .ingest(device, notes(std::slice::from_ref(&n)))
        .unwrap();
    let of = PhotoOwner::Note(n.id);
    for id in 1..=beatbook_core::photo::MAX_PHOTOS as u128 {
        let answer = store.store_photo(photo(id, of, jpeg, Some(device)));
        assert_eq!(answer.unwrap(), PhotoAnswer::Stored, "photo {id}");
    }
    let again = store.store_photo(photo(1, of, jpeg, Some(device)));
    assert_eq!(
        again.unwrap(),
        PhotoAnswer::AlreadyHad,
        "a resend is answered before the count"
    );
    let one_more = store.store_photo(photo(99, of, jpeg, Some(device)));
    assert_eq!(one_more.unwrap(), PhotoAnswer::Full);

    // Residents' photos share the room given them, each content once.
    let sent = report("The underpass lights are out", "Sam Resident");
    let (code, _) = store.submit_report(&sent).unwrap();
    let room = jpeg.len() as u64;
    let resident = |id: u128, bytes: &[u8]| NewPhoto {
        room: Some(room),
        ..photo(id, PhotoOwner::Report(sent.id), bytes, None)
    };
    let answers: Vec<PhotoAnswer> = [resident(10, jpeg), resident(11, &other), resident(12, jpeg)]
        .into_iter()
        .map(|p| store.store_photo(p).unwrap())
        .collect();
    assert_eq!(
        answers,
        [
            PhotoAnswer::Stored,
            PhotoAnswer::NoRoom,
            PhotoAnswer::Stored
        ],
        "new bytes past the room are refused; bytes kept already cost nothing"
    );

    // An erased report takes no more photos.
    assert!(store.request_erasure(&code).unwrap());
    let erasure = Triage::erasure(Uuid::now_v7(), sent.id, Utc::now(), ReportStatus::New);
    store.triage(device, &[erasure]).unwrap();
    let late = store.store_photo(resident(13, jpeg));
    assert_eq!(late.unwrap(), PhotoAnswer::Erased);
}

pub(crate) fn a_ward_s_people_pair_their_phones_until_revoked<S: Store>(store: &S) {
    // `pair` on a server with no ward makes the first ward and councillor.
    let (first_device, first_token) = paired(store);
    let wards = store.wards().unwrap();
    assert_eq!(wards.len(), 1);
    assert_eq!(wards[0].name, super::FIRST_WARD);
    let boundary = beatbook_core::team::Boundary::from_geojson(
        r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#,
    )
    .unwrap();
    let mill = store.add_ward("Mill Lane", Some(&boundary)).unwrap();
    assert_eq!(mill.boundary.as_ref(), Some(&boundary));
    assert!(
        store.add_ward("MILL LANE", None).is_err(),
        "names are unique in any case"
    );
    let renamed = store
        .change_ward(super::FIRST_WARD, Some("Riverside"), None)
        .unwrap();
    assert_eq!(renamed.name, "Riverside");
    assert!(store.add_person("Nowhere", Role::Viewer, "X").is_err());

    let officer = store
        .add_person("mill lane", Role::Officer, "PC Sam Jones")
        .unwrap();
    assert_eq!((officer.ward_id, officer.role), (mill.id, Role::Officer));
    let code = store.pairing_code_for(officer.id, "Sam's phone").unwrap();
    let token = store.redeem_pairing_code(&code).unwrap().unwrap().token;
    let device = store.device_for_token(&token).unwrap().unwrap();
    assert_eq!(
        (device.person_id, device.role, device.ward_id),
        (Some(officer.id), Role::Officer, Some(mill.id))
    );
    let first = store.device_for_token(&first_token).unwrap().unwrap();
    assert_eq!((first.id, first.role), (first_device, Role::Councillor));

    let people = store.people().unwrap();
    assert_eq!(
        people
            .iter()
            .map(|p| (p.name.as_str(), p.devices))
            .collect::<Vec<_>>(),
        [(super::FIRST_COUNCILLOR, 1), ("PC Sam Jones", 1)]
    );
    let unused = store.pairing_code_for(officer.id, "Sam's tablet").unwrap();
    assert!(store.revoke_person(officer.id).unwrap());
    assert!(!store.revoke_person(officer.id).unwrap(), "revoked already");
    assert_eq!(store.device_for_token(&token).unwrap(), None);
    assert_eq!(
        store.redeem_pairing_code(&unused).unwrap(),
        Err(Unredeemed::Revoked),
        "a code made before the person was revoked pairs nothing"
    );
    assert!(store.pairing_code_for(officer.id, "again").is_err());
    assert!(store.device_for_token(&first_token).unwrap().is_some());
}

pub(crate) fn a_report_goes_to_the_ward_it_is_in_and_each_ward_sees_its_own<S: Store>(store: &S) {
    let square = |west: f64| {
        beatbook_core::team::Boundary::from_geojson(&format!(
            r#"{{"type":"Polygon","coordinates":[[[{west},51],[{e},51],[{e},52],[{west},52],[{west},51]]]}}"#,
            e = west + 0.1
        ))
        .unwrap()
    };
    let west = store.add_ward("West", Some(&square(-0.2))).unwrap();
    let east = store.add_ward("East", Some(&square(-0.1))).unwrap();
    let at = |longitude: f64, description: &str| {
        let mut sent = report(description, "");
        sent.location = Some(beatbook_core::Location::new(51.5, longitude, 10.0).unwrap());
        store.submit_report(&sent).unwrap();
        sent
    };
    let in_west = at(-0.15, "In the west ward");
    at(-0.05, "In the east ward");
    at(0.5, "Outside both");
    let seen = |reach: Reach| -> Vec<String> {
        let (found, _) = store.inbox(&InboxFilter::default(), reach).unwrap();
        let mut words: Vec<String> = found.into_iter().map(|r| r.report.description).collect();
        words.sort();
        words
    };
    let ward = |id: i64, outside: bool| Reach::Ward {
        id: Some(id),
        outside,
    };
    assert_eq!(seen(ward(west.id, false)), ["In the west ward"]);
    assert_eq!(
        seen(ward(east.id, true)),
        ["In the east ward", "Outside both"]
    );
    assert_eq!(seen(Reach::Everything).len(), 3);

    // A councillor of the east ward cannot triage the west ward's report.
    let councillor = store
        .add_person("East", Role::Councillor, "Cllr East")
        .unwrap();
    let code = store.pairing_code_for(councillor.id, "phone").unwrap();
    let token = store.redeem_pairing_code(&code).unwrap().unwrap().token;
    let device = store.device_for_token(&token).unwrap().unwrap().id;
    let answers = store
        .triage(
            device,
            &[step(&in_west, ReportStatus::Acknowledged, "", "")],
        )
        .unwrap();
    assert_eq!(answers[0].outcome, Outcome::Rejected);
    assert_eq!(seen(ward(west.id, false)), ["In the west ward"]);
}

pub(crate) fn a_report_s_subscriptions_hear_of_each_public_step_until_it_ends<S: Store>(store: &S) {
    use super::{PushOutcome, Subscribed};
    use beatbook_core::protocol::{PushSubscription, PushSubscriptionKeys};
    use beatbook_core::report::{Notice, MAX_SUBSCRIPTIONS};

    let key = store.push_key(&[7; 32]).unwrap();
    assert_eq!(key, [7; 32]);
    assert_eq!(
        store.push_key(&[8; 32]).unwrap(),
        key,
        "the first key is kept"
    );

    let browser = |n: usize| PushSubscription {
        endpoint: format!("https://push.example.net/send/{n}"),
        expiration_time: None,
        keys: PushSubscriptionKeys {
            p256dh: format!("key-{n}"),
            auth: format!("auth-{n}"),
        },
    };
    let device = device(store);
    let sent = report("Dark all week", "");
    let (code, _) = store.submit_report(&sent).unwrap();
    assert_eq!(
        store.subscribe("ABCDE-FGHJK", &browser(0)).unwrap(),
        Subscribed::NoReport
    );
    assert_eq!(
        store.subscribe(&code, &browser(0)).unwrap(),
        Subscribed::Added
    );
    assert_eq!(
        store.subscribe(&code, &browser(0)).unwrap(),
        Subscribed::Already
    );
    for n in 1..MAX_SUBSCRIPTIONS {
        assert_eq!(
            store.subscribe(&code, &browser(n)).unwrap(),
            Subscribed::Added
        );
    }
    assert_eq!(
        store.subscribe(&code, &browser(MAX_SUBSCRIPTIONS)).unwrap(),
        Subscribed::Full
    );
    assert!(store.unsubscribe(&code, &browser(1).endpoint).unwrap());
    assert!(!store.unsubscribe(&code, &browser(1).endpoint).unwrap());
    assert_eq!(store.subscriptions(&code).unwrap(), MAX_SUBSCRIPTIONS - 1);

    let now = Utc::now() + Duration::seconds(1);
    let minute = Duration::minutes(1);
    // A private note tells nobody; a move does, once per subscription.
    store
        .triage(
            device,
            &[step(&sent, ReportStatus::New, "", "Rang the caretaker")],
        )
        .unwrap();
    assert!(store.due_pushes(now, minute, 100).unwrap().is_empty());
    store
        .triage(
            device,
            &[step(&sent, ReportStatus::RaisedWithPolice, "", "")],
        )
        .unwrap();
    let due = store.due_pushes(now, minute, 100).unwrap();
    assert_eq!(due.len(), MAX_SUBSCRIPTIONS - 1);
    let notice: Notice = serde_json::from_str(&due[0].payload).unwrap();
    assert_eq!(notice.code, code);
    assert_eq!(notice.status, ReportStatus::RaisedWithPolice);
    assert_eq!(due[0].endpoint, browser(0).endpoint);
    assert_eq!((due[0].p256dh.as_str(), due[0].attempts), ("key-0", 0));
    assert!(
        store.due_pushes(now, minute, 100).unwrap().is_empty(),
        "claimed: no other server sends them meanwhile"
    );
    // Sent; gone (its subscription goes); tried again later; given up.
    store.pushed(&due[0], PushOutcome::Sent).unwrap();
    store.pushed(&due[1], PushOutcome::Gone).unwrap();
    store
        .pushed(&due[2], PushOutcome::Retry(now + minute))
        .unwrap();
    store.pushed(&due[3], PushOutcome::GaveUp).unwrap();
    assert_eq!(store.subscriptions(&code).unwrap(), MAX_SUBSCRIPTIONS - 2);
    let later = store.due_pushes(now + minute * 2, minute, 100).unwrap();
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!((later[0].seq, later[0].attempts), (due[2].seq, 1));
    store.pushed(&later[0], PushOutcome::Sent).unwrap();

    // Closing tells them, and then holds no subscription.
    store
        .triage(
            device,
            &[step(&sent, ReportStatus::Closed, "Fixed, thank you.", "")],
        )
        .unwrap();
    let closing = store.due_pushes(now + minute * 3, minute, 100).unwrap();
    assert_eq!(closing.len(), MAX_SUBSCRIPTIONS - 2);
    for due in &closing {
        store.pushed(due, PushOutcome::Sent).unwrap();
    }
    assert_eq!(store.subscriptions(&code).unwrap(), 0);
    assert_eq!(
        store.subscribe(&code, &browser(0)).unwrap(),
        Subscribed::Closed
    );

    // Erasure takes the subscriptions and whatever waits for them.
    let other = report("Shouting at the bus stop", "Sam");
    let (other_code, _) = store.submit_report(&other).unwrap();
    store.subscribe(&other_code, &browser(9)).unwrap();
    store
        .triage(
            device,
            &[step(&other, ReportStatus::Acknowledged, "Seen.", "")],
        )
        .unwrap();
    assert!(store.erase_report(&other_code).unwrap());
    assert_eq!(store.subscriptions(&other_code).unwrap(), 0);
    let left = store.due_pushes(now + minute * 9, minute, 100).unwrap();
    assert!(left.iter().all(|d| d.code != other_code), "{left:?}");

    // A browser that asks again has its keys renewed, even when the
    // report holds as many as it may.
    let third = report("Alley behind the shops", "");
    let (third_code, _) = store.submit_report(&third).unwrap();
    for n in 0..MAX_SUBSCRIPTIONS {
        store.subscribe(&third_code, &browser(n)).unwrap();
    }
    let mut renewed = browser(0);
    renewed.keys.p256dh = "key-renewed".into();
    assert_eq!(
        store.subscribe(&third_code, &renewed).unwrap(),
        Subscribed::Already
    );
    store
        .triage(device, &[step(&third, ReportStatus::Acknowledged, "", "")])
        .unwrap();
    let queued = store.due_pushes(now + minute * 20, minute, 100).unwrap();
    assert_eq!(queued.len(), MAX_SUBSCRIPTIONS);
    let first = queued
        .iter()
        .find(|d| d.endpoint == browser(0).endpoint)
        .unwrap();
    assert_eq!(first.p256dh, "key-renewed");
    // Junk: its subscriptions, and what waits for them, go.
    for due in &queued {
        store
            .pushed(due, PushOutcome::Retry(now + minute * 30))
            .unwrap();
    }
    let junk = Triage::spam(Uuid::now_v7(), third.id, Utc::now());
    store.triage(device, &[junk]).unwrap();
    assert_eq!(store.subscriptions(&third_code).unwrap(), 0);
    assert!(store
        .due_pushes(now + minute * 40, minute, 100)
        .unwrap()
        .is_empty());

    // What waited longer than a push service keeps it goes with the hourly
    // clean-up.
    let fourth = report("Car park stairwell", "");
    let (fourth_code, _) = store.submit_report(&fourth).unwrap();
    store.subscribe(&fourth_code, &browser(1)).unwrap();
    store
        .triage(device, &[step(&fourth, ReportStatus::Acknowledged, "", "")])
        .unwrap();
    let waiting = store.due_pushes(now + minute * 50, minute, 100).unwrap();
    assert_eq!(waiting.len(), 1);
    let long_ago = Utc::now() - Duration::days(3);
    store
        .pushed(&waiting[0], PushOutcome::Retry(long_ago))
        .unwrap();
    store
        .expire_contacts(Utc::now() - Duration::days(90))
        .unwrap();
    assert!(store
        .due_pushes(now + minute * 60, minute, 100)
        .unwrap()
        .is_empty());
}
