//! The photo store and the shrinking, in headless Chromium: Blobs kept in
//! IndexedDB and read back byte for byte, and a camera's JPEG (with its GPS
//! position in EXIF) shrunk by the browser's canvas into one without.

use beatbook::photos::{self, Shelf, Stored};
use beatbook_core::photo::{clean, inspect, KeptPhoto, PhotoForm, PhotoOwner, PhotoState};
use chrono::{TimeZone, Utc};
use js_sys::{Array, Uint8Array};
use uuid::Uuid;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Blob, BlobPropertyBag};

wasm_bindgen_test_configure!(run_in_browser);

const JPEG_WITH_GPS: &[u8] = include_bytes!("../crates/core/tests/fixtures/photos/street-gps.jpg");

fn blob(bytes: &[u8], media_type: &str) -> Blob {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(media_type);
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).unwrap()
}

async fn bytes_of(blob: &Blob) -> Vec<u8> {
    let buffer = JsFuture::from(blob.array_buffer()).await.unwrap();
    Uint8Array::new(&buffer).to_vec()
}

fn kept(id: u128, of: Option<PhotoOwner>, bytes: usize) -> KeptPhoto {
    KeptPhoto {
        id: Uuid::from_u128(id),
        of,
        media_type: "image/jpeg".into(),
        sha256: "00".repeat(32),
        bytes: bytes as u64,
        width: 320,
        height: 240,
        taken_at: Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).unwrap(),
        form: PhotoForm::Note,
        state: PhotoState::OnPhone,
    }
}

#[wasm_bindgen_test]
async fn a_photo_s_blob_and_facts_come_back_byte_for_byte_and_go_when_removed() {
    let id = 0xB10B;
    let photo = Stored {
        kept: kept(
            id,
            Some(PhotoOwner::Note(Uuid::from_u128(7))),
            JPEG_WITH_GPS.len(),
        ),
        blob: blob(JPEG_WITH_GPS, "image/jpeg"),
    };
    photos::put(std::slice::from_ref(&photo)).await.unwrap();
    let (all, unreadable) = photos::all().await.unwrap();
    assert_eq!(unreadable, 0);
    let back = all
        .iter()
        .find(|s| s.kept.id == photo.kept.id)
        .expect("kept");
    assert_eq!(back.kept, photo.kept);
    assert_eq!(bytes_of(&back.blob).await, JPEG_WITH_GPS);
    let one = photos::blob(photo.kept.id)
        .await
        .unwrap()
        .expect("found by id");
    assert_eq!(bytes_of(&one).await, JPEG_WITH_GPS);

    photos::remove(&[photo.kept.id]).await.unwrap();
    assert!(photos::blob(photo.kept.id).await.unwrap().is_none());
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function writeRaw(key, value) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('beatbook-photos');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('photos', 'readwrite');
      tx.objectStore('photos').put(value, key);
      tx.oncomplete = () => { open.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  });
}
export function keptAs(key) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('beatbook-photos');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('photos').objectStore('photos').get(key);
      get.onsuccess = () => {
        open.result.close();
        const v = get.result;
        resolve(v.bytes instanceof ArrayBuffer ? 'bytes' : v.blob instanceof Blob ? 'blob' : 'other');
      };
      get.onerror = () => reject(get.error);
    };
  });
}
"#)]
extern "C" {
    /// Writes `value` under `key` in the photo store, as an earlier
    /// release's code did.
    #[wasm_bindgen(js_name = writeRaw)]
    fn write_raw(key: &str, value: &wasm_bindgen::JsValue) -> js_sys::Promise;
    /// How the photo under `key` is kept: "bytes", "blob" or "other".
    #[wasm_bindgen(js_name = keptAs)]
    fn kept_as(key: &str) -> js_sys::Promise;
}

async fn shape(id: Uuid) -> String {
    JsFuture::from(kept_as(&id.to_string()))
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_photo_kept_as_a_blob_or_as_bytes_reads_back_the_same() {
    // Kept by this browser: a Blob (where WebKit refuses one, bytes).
    let photo = Stored {
        kept: kept(0xB7E5, None, JPEG_WITH_GPS.len()),
        blob: blob(JPEG_WITH_GPS, "image/jpeg"),
    };
    photos::put(std::slice::from_ref(&photo)).await.unwrap();
    assert_eq!(shape(photo.kept.id).await, "blob");
    // Kept as bytes, as in a browser that refused the Blob.
    let as_bytes = kept(0xB17E5, Some(PhotoOwner::Note(Uuid::from_u128(9))), 4);
    let value = js_sys::Object::new();
    let facts = serde_json::to_string(&as_bytes).unwrap();
    js_sys::Reflect::set(&value, &"facts".into(), &facts.into()).unwrap();
    let bytes = Uint8Array::from(&b"\xff\xd8\xff\xd9"[..]).buffer();
    js_sys::Reflect::set(&value, &"bytes".into(), &bytes).unwrap();
    JsFuture::from(write_raw(&as_bytes.id.to_string(), &value))
        .await
        .unwrap();
    assert_eq!(shape(as_bytes.id).await, "bytes");

    let (all, unreadable) = photos::all().await.unwrap();
    assert_eq!(unreadable, 0);
    let new = all.iter().find(|s| s.kept.id == photo.kept.id).unwrap();
    assert_eq!(bytes_of(&new.blob).await, JPEG_WITH_GPS);
    let kept_bytes = all.iter().find(|s| s.kept.id == as_bytes.id).unwrap();
    assert_eq!(kept_bytes.kept, as_bytes);
    assert_eq!(kept_bytes.blob.type_(), "image/jpeg");
    assert_eq!(bytes_of(&kept_bytes.blob).await, b"\xff\xd8\xff\xd9");
    photos::remove(&[photo.kept.id, as_bytes.id]).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_camera_photo_is_shrunk_by_the_browser_and_loses_its_gps() {
    let camera = blob(JPEG_WITH_GPS, "image/jpeg");
    assert!(
        JPEG_WITH_GPS.windows(6).any(|w| w == b"Exif\0\0"),
        "the fixture carries EXIF"
    );
    let shrunk = photos::shrink(&camera).await.unwrap();
    assert_eq!(
        (shrunk.width, shrunk.height),
        (320, 240),
        "small photos keep their size"
    );
    let bytes = bytes_of(&shrunk.blob).await;
    let kept = clean(&bytes, "image/jpeg").expect("the server accepts it");
    assert_eq!((kept.inspected.width, kept.inspected.height), (320, 240));
    assert_eq!(kept.bytes, bytes, "nothing for the server to take out");
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    assert_eq!(shrunk.sha256.len(), 64);
    assert!(shrunk.sha256.bytes().all(|b| b.is_ascii_hexdigit()));

    // Something that is not a picture is refused in words.
    let text = blob(b"not a picture", "image/jpeg");
    let problem = photos::shrink(&text).await.err().expect("refused");
    assert!(problem.contains("not a picture"), "{problem}");
}

#[wasm_bindgen_test]
async fn the_shelf_keeps_a_taken_photo_and_gives_it_to_a_note() {
    // Mounting starts Leptos's task executor, which the shelf's loading uses.
    leptos::mount::mount_to_body(|| ());
    let shelf = Shelf::start();
    let taken = shelf
        .take(&blob(JPEG_WITH_GPS, "image/jpeg"), PhotoForm::Note)
        .await
        .unwrap();
    assert_eq!(taken.kept.of, None, "on the form until the note is saved");
    let note = PhotoOwner::Note(Uuid::from_u128(99));
    shelf
        .change(&[taken.kept.id], |k| k.of = Some(note))
        .await
        .unwrap();
    assert_eq!(shelf.of(Some(note)).len(), 1);
    let (all, _) = photos::all().await.unwrap();
    let stored = all.iter().find(|s| s.kept.id == taken.kept.id).unwrap();
    assert_eq!(
        stored.kept.of,
        Some(note),
        "the change is in storage, not only on screen"
    );
    shelf.discard(&[taken.kept.id]).await.unwrap();
    assert!(shelf.of(Some(note)).is_empty());
}

/// Runs a script that settles with the page's IndexedDB work done.
async fn in_page(script: &str) {
    let promise: js_sys::Promise = js_sys::Function::new_no_args(script)
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap()
        .into();
    JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
fn a_full_storage_is_told_apart_and_said_plainly() {
    let full = web_sys::DomException::new_with_message_and_name(
        "The quota has been exceeded.",
        "QuotaExceededError",
    )
    .unwrap();
    let error = beatbook::store::idb::error_from(full.into());
    assert_eq!(error, beatbook::store::JournalError::Full);
    let words = photos::not_kept_words(&error);
    assert!(words.contains("storage is full"), "{words}");
    assert!(
        words.contains("Try again") && words.contains("download"),
        "{words}"
    );
}

#[wasm_bindgen_test]
async fn a_photo_storage_refuses_stays_on_screen_and_is_kept_when_tried_again() {
    leptos::mount::mount_to_body(|| ());
    let shelf = Shelf::start();
    // Another version of the photo database takes its place (as a newer app
    // in another tab would): this page's connection steps aside, and its
    // writes fail, as they do when the phone's storage is full.
    in_page(
        "return new Promise((resolve, reject) => {
            const open = indexedDB.open('beatbook-photos', 99);
            open.onsuccess = () => { open.result.close(); resolve(); };
            open.onerror = () => reject(open.error);
        });",
    )
    .await;
    let refused = shelf
        .take(&blob(JPEG_WITH_GPS, "image/jpeg"), PhotoForm::Note)
        .await
        .unwrap_err();
    assert!(refused.contains("stays on screen"), "{refused}");
    let held: Vec<_> = shelf
        .of(None)
        .into_iter()
        .filter(|p| !p.is_kept())
        .collect();
    let [photo] = held.as_slice() else {
        panic!("the photo is held on screen: {held:?}")
    };
    let id = photo.kept.id;
    let on_screen = bytes_of(photo.not_kept.as_ref().unwrap()).await;
    assert!(
        inspect(&on_screen, "image/jpeg").is_ok(),
        "a photo the server takes"
    );

    // Storage is back; the note is saved with it, then it is kept.
    in_page(
        "return new Promise((resolve, reject) => {
            const gone = indexedDB.deleteDatabase('beatbook-photos');
            gone.onsuccess = () => resolve();
            gone.onerror = () => reject(gone.error);
        });",
    )
    .await;
    let note = PhotoOwner::Note(Uuid::from_u128(0x5EED));
    shelf.change(&[id], |k| k.of = Some(note)).await.unwrap();
    assert_eq!(shelf.of(Some(note)).len(), 1, "given to the note on screen");
    assert!(
        photos::blob(id).await.unwrap().is_none(),
        "not in storage yet"
    );
    shelf.keep(id).await.unwrap();
    assert!(shelf.of(Some(note))[0].is_kept());
    let (all, _) = photos::all().await.unwrap();
    let stored = all.iter().find(|s| s.kept.id == id).unwrap();
    assert_eq!(stored.kept.of, Some(note));
    assert_eq!(bytes_of(&stored.blob).await, on_screen, "the same bytes");
    shelf.discard(&[id]).await.unwrap();
}

/// Lets the page run for `ms` milliseconds.
async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// A photo being taken on the note form, in the background: its outcome
/// lands in the cell once it is shrunk and written.
type Taking = std::rc::Rc<std::cell::RefCell<Option<Result<photos::Shown, String>>>>;

fn start_taking(shelf: Shelf) -> Taking {
    let done = Taking::default();
    let landed = done.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let taken = shelf
            .take(&blob(JPEG_WITH_GPS, "image/jpeg"), PhotoForm::Note)
            .await;
        *landed.borrow_mut() = Some(taken);
    });
    done
}

/// The photo taken, once it is.
async fn taken(done: &Taking) -> photos::Shown {
    while done.borrow().is_none() {
        pause(20).await;
    }
    done.borrow_mut().take().unwrap().unwrap()
}

/// Saves a note whose form shows no photos, and returns what the save says
/// of its photos.
async fn save_empty_form(shelf: Shelf, note: PhotoOwner) -> String {
    use leptos::prelude::Memo;
    let on_form = Memo::new(|_| Vec::new());
    let (saved, words) = shelf
        .save_with(on_form, note, async { Ok::<_, ()>(()) })
        .await;
    assert!(saved.is_ok());
    words.unwrap_or_default()
}

/// The photo taken went with `note`, on screen and in storage.
async fn went_with(taken: &photos::Shown, note: PhotoOwner) {
    assert_eq!(taken.kept.of, Some(note), "with the note, not the next one");
    let stored = photos::some(&[taken.kept.id]).await.unwrap();
    assert_eq!(stored[0].kept.of, Some(note), "and so in storage");
}

#[wasm_bindgen_test]
async fn a_photo_still_being_prepared_when_the_note_is_saved_goes_with_that_note() {
    leptos::mount::mount_to_body(|| ());
    let shelf = Shelf::start();
    let done = start_taking(shelf);
    pause(0).await;
    assert_eq!(shelf.preparing_on(PhotoForm::Note), 1, "being shrunk");
    // The note is saved while the photo is still being shrunk.
    let note = PhotoOwner::Note(Uuid::from_u128(0x1A7E));
    let words = save_empty_form(shelf, note).await;
    assert!(
        words.contains("still being prepared goes with it"),
        "{words}"
    );
    assert_eq!(
        shelf.preparing_on(PhotoForm::Note),
        0,
        "none left for the form"
    );
    let taken = taken(&done).await;
    went_with(&taken, note).await;
    shelf.discard(&[taken.kept.id]).await.unwrap();
}

/// A photo carried over from the plain form is taken while the app is being
/// drawn, and its future first runs a task later: a Send in between must
/// take it all the same.
#[wasm_bindgen_test]
async fn a_photo_taken_and_not_yet_started_when_the_note_is_saved_goes_with_that_note() {
    leptos::mount::mount_to_body(|| ());
    let shelf = Shelf::start();
    let taking = shelf.take(&blob(JPEG_WITH_GPS, "image/jpeg"), PhotoForm::Note);
    assert_eq!(
        shelf.preparing_on(PhotoForm::Note),
        1,
        "being prepared from the call, before its future runs"
    );
    let note = PhotoOwner::Note(Uuid::from_u128(0x7A4E));
    let words = save_empty_form(shelf, note).await;
    assert!(
        words.contains("still being prepared goes with it"),
        "{words}"
    );
    let taken = taking.await.unwrap();
    went_with(&taken, note).await;
    shelf.discard(&[taken.kept.id]).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_photo_being_written_when_the_note_is_saved_goes_with_that_note() {
    leptos::mount::mount_to_body(|| ());
    let shelf = Shelf::start();
    photos::all().await.unwrap();
    // Another transaction holds the photo store, so the photo's write waits
    // (as a slow disk makes it) after the photo has been shrunk.
    in_page(
        "return new Promise((resolve, reject) => {
            const open = indexedDB.open('beatbook-photos');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const tx = open.result.transaction('photos', 'readwrite');
                const store = tx.objectStore('photos');
                window.holdPhotos = true;
                // Noted when the photo's own write is asked for: it is shrunk
                // then, and its write waits behind this transaction.
                window.photoWriteAsked = false;
                const put = IDBObjectStore.prototype.put;
                window.unspiedPut = put;
                IDBObjectStore.prototype.put = function (...args) {
                    if (this.name === 'photos') window.photoWriteAsked = true;
                    return put.apply(this, args);
                };
                const spin = () => { if (window.holdPhotos) store.get('none').onsuccess = spin; };
                spin();
                tx.oncomplete = () => open.result.close();
                resolve();
            };
        });",
    )
    .await;
    let done = start_taking(shelf);
    // Shrunk, and its write asked for and held (never the "being shrunk"
    // path, which the test before this one covers).
    let asked = || {
        js_sys::Reflect::get(&web_sys::window().unwrap(), &"photoWriteAsked".into())
            .ok()
            .and_then(|v| v.as_bool())
            == Some(true)
    };
    for _ in 0..500 {
        if asked() {
            break;
        }
        pause(20).await;
    }
    assert!(asked(), "the photo was shrunk and its write asked for");
    assert!(done.borrow().is_none(), "the write is held");
    let note = PhotoOwner::Note(Uuid::from_u128(0x5A7E));
    let words = save_empty_form(shelf, note).await;
    assert!(
        words.contains("still being prepared"),
        "the photo being written is the note's"
    );
    in_page(
        "window.holdPhotos = false; IDBObjectStore.prototype.put = window.unspiedPut; return Promise.resolve();",
    )
    .await;
    let taken = taken(&done).await;
    went_with(&taken, note).await;
    assert!(shelf
        .on_form(PhotoForm::Note, &Default::default(), false)
        .is_empty());
    shelf.discard(&[taken.kept.id]).await.unwrap();
}

/// Deleting a record takes its photos with it, but only once the record is
/// known deletable: a note or report that reached the server in the
/// meantime is refused deletion and keeps every photo.
#[wasm_bindgen_test]
async fn a_record_s_photos_go_with_it_and_only_with_it() {
    use beatbook::state::{ActionError, AppState, Durability};
    use beatbook::store::local;
    use beatbook_core::report::MyReport;
    use beatbook_core::schema::Record;
    use beatbook_core::{Category, Note, NoteInput, Report, ReportInput, ReportKind, WhenUnsafe};
    use leptos::prelude::GetUntracked;

    leptos::mount::mount_to_body(|| ());
    let at = Utc.with_ymd_and_hms(2026, 12, 5, 1, 0, 0).unwrap();
    let input = NoteInput {
        text: "Bin fire behind the shops".into(),
        category: Category::AntiSocialBehaviour,
        place: String::new(),
        location: None,
    };
    let waiting = Note::create(Uuid::from_u128(0xDE1), &input, None, at).unwrap();
    let mut sent = Note::create(Uuid::from_u128(0xDE2), &input, None, at).unwrap();
    sent.sync.mark_synced(1, at);
    let report_input = ReportInput {
        kind: ReportKind::PoorLighting,
        location: None,
        round_location: false,
        place: "Underpass".into(),
        when: WhenUnsafe::AfterDark,
        when_detail: String::new(),
        description: "No lights".into(),
        contact_name: String::new(),
        ward: String::new(),
        contact_reach: String::new(),
    };
    let report = MyReport::new(Report::create(Uuid::from_u128(0xDE3), &report_input, at).unwrap());
    for record in [
        Record::Note(waiting.clone()),
        Record::Note(sent.clone()),
        Record::Report(Box::new(report.clone())),
    ] {
        local::save(&record).unwrap();
    }
    let owners = [
        PhotoOwner::Note(waiting.id),
        PhotoOwner::Note(sent.id),
        PhotoOwner::Report(report.report.id),
    ];
    let stored: Vec<Stored> = owners
        .iter()
        .enumerate()
        .map(|(i, owner)| Stored {
            kept: kept(0xDE10 + i as u128, Some(*owner), 4),
            blob: blob(b"JPEG", "image/jpeg"),
        })
        .collect();
    photos::put(&stored).await.unwrap();
    Shelf::start();
    let state = AppState::load();
    while state.durability.get_untracked() == Durability::Checking {
        pause(20).await;
    }
    let held = || async {
        let (all, _) = photos::all().await.unwrap();
        owners.map(|owner| all.iter().any(|s| s.kept.of == Some(owner)))
    };

    assert!(matches!(
        state.delete_note(sent.id).await,
        Err(ActionError::OnServer(_))
    ));
    assert_eq!(
        held().await,
        [true, true, true],
        "refused: every photo kept"
    );

    state.delete_note(waiting.id).await.unwrap();
    state.delete_report(report.report.id).await.unwrap();
    assert_eq!(
        held().await,
        [false, true, false],
        "each went with its record"
    );
    let book = state.book.get_untracked();
    assert!(book.note(&waiting.id).is_none() && book.report(&report.report.id).is_none());
    assert!(book.note(&sent.id).is_some());
}
