//! The shelf: every photo kept on this phone, as the screens show it, with
//! photos being shrunk and those storage could not keep (held on screen).
//! Storage changes first ([`super::db`]), then the shelf.

use std::cell::RefCell;
use std::future::Future;

use beatbook_core::photo::{KeptPhoto, PhotoForm, PhotoOwner, PhotoState};
use beatbook_core::Notebook;
use leptos::prelude::*;
use uuid::Uuid;
use web_sys::Blob;

use super::db::{all, put, remove, some, Stored};
use super::shrink::shrink;
use crate::state::{AppState, Durability};
use crate::store::JournalError;
use crate::time::now;

/// A photo on screen: its facts and an address for its thumbnail.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub kept: KeptPhoto,
    pub url: String,
    /// The bytes, while storage could not keep them (full, most often): the
    /// photo is held on screen only, to try again, download or send.
    pub not_kept: Option<Blob>,
}

impl Shown {
    /// Whether storage holds the photo (a browser closed now keeps it).
    pub fn is_kept(&self) -> bool {
        self.not_kept.is_none()
    }
}

/// Why a photo is held on screen only, and what to do, in words.
pub fn not_kept_words(e: &JournalError) -> String {
    match e {
        JournalError::Full => "The phone's storage is full, so this photo is not kept on the phone yet; it stays on screen. Free some space, then tap Try again, or download it.".into(),
        e => format!("The photo could not be kept on this phone ({e}); it stays on screen: tap Try again, or download it."),
    }
}

fn object_url(blob: &Blob) -> String {
    web_sys::Url::create_object_url_with_blob(blob).unwrap_or_default()
}

/// Every photo kept on this phone, for the screens: loaded at start, and
/// changed only after storage has been.
#[derive(Clone, Copy)]
pub struct Shelf {
    pub photos: RwSignal<Vec<Shown>>,
    /// Why photos cannot be kept here, if they cannot.
    pub problem: RwSignal<Option<String>>,
    /// The photos have been read from storage.
    pub loaded: RwSignal<bool>,
    loading: StoredValue<bool>,
    /// Photos picked and still being shrunk: on their form, or already
    /// given to the record saved meanwhile.
    preparing: RwSignal<Vec<Preparing>>,
    tickets: StoredValue<u64>,
}

/// A photo being shrunk: which form it was picked on, and the record saved
/// from that form meanwhile, which it goes with.
#[derive(Clone, Copy, Debug)]
struct Preparing {
    ticket: u64,
    form: PhotoForm,
    owner: Option<PhotoOwner>,
}

/// How long after start the photos are read if no screen has asked.
const LOAD_AFTER: std::time::Duration = std::time::Duration::from_millis(1500);

thread_local! {
    /// The notebook's shelf, for the sync engine (the residents' entry has none).
    static SHELF: RefCell<Option<Shelf>> = const { RefCell::new(None) };
}

impl Shelf {
    /// The shelf this page started, if it keeps photos.
    pub fn current() -> Option<Shelf> {
        SHELF.with(|cell| *cell.borrow())
    }

    /// The shelf, registered for the sync engine. Its photos are read from
    /// storage when a screen first needs them ([`Shelf::load`]), or a moment
    /// after start (photos may wait to be sent): never in the first screen's
    /// work.
    pub fn start() -> Shelf {
        let shelf = Shelf {
            photos: RwSignal::new(Vec::new()),
            problem: RwSignal::new(None),
            loaded: RwSignal::new(false),
            loading: StoredValue::new(false),
            preparing: RwSignal::new(Vec::new()),
            tickets: StoredValue::new(0),
        };
        SHELF.with(|cell| *cell.borrow_mut() = Some(shelf));
        set_timeout(move || shelf.load(), LOAD_AFTER);
        shelf
    }

    /// Reads the photos from storage, once.
    pub fn load(&self) {
        if self.loading.get_value() {
            return;
        }
        self.loading.set_value(true);
        let shelf = *self;
        leptos::task::spawn_local(async move {
            match all().await {
                Ok((kept, unreadable)) => {
                    // A photo taken while this was loading is there already.
                    shelf.photos.update(|shown| {
                        for stored in &kept {
                            if !shown.iter().any(|p| p.kept.id == stored.kept.id) {
                                shown.push(show(stored));
                            }
                        }
                        // Kept oldest first from here on (a new photo goes
                        // last), so no screen sorts them again.
                        shown.sort_unstable_by_key(|p| (p.kept.taken_at, p.kept.id));
                    });
                    if unreadable > 0 {
                        shelf.problem.set(Some(format!(
                            "{unreadable} photos on this phone could not be read; they are left as they are."
                        )));
                    }
                }
                Err(e) => shelf
                    .problem
                    .set(Some(format!("Photos cannot be kept here: {e}"))),
            }
            shelf.loaded.set(true);
        });
    }

    /// Whether any photo saved with a record waits to be sent.
    pub fn has_waiting(&self) -> bool {
        self.photos.with_untracked(|all| {
            all.iter()
                .any(|p| p.kept.of.is_some() && p.kept.state == PhotoState::OnPhone)
        })
    }

    /// A record's photos, oldest first.
    pub fn of(&self, owner: Option<PhotoOwner>) -> Vec<Shown> {
        self.photos
            .with(|all| all.iter().filter(|p| p.kept.of == owner).cloned().collect())
    }

    /// The photos on `form`, oldest first (the shelf keeps that order): picked and not saved with a
    /// record yet, and any given to a record a crash kept from being saved
    /// (once start-up has read every record, `checked`, so none is taken for
    /// lost).
    pub fn on_form(&self, form: PhotoForm, book: &Notebook, checked: bool) -> Vec<Shown> {
        self.photos.with(|all| {
            all.iter()
                .filter(|p| {
                    p.kept
                        .on_form(form, |key| !checked || book.get(key).is_some())
                })
                .cloned()
                .collect()
        })
    }

    /// [`Shelf::on_form`] as a memo for a form's screen: it follows the
    /// shelf, the notebook, and start-up's check of the records.
    pub fn form_photos(self, form: PhotoForm, state: AppState) -> Memo<Vec<Shown>> {
        Memo::new(move |_| {
            let checked = state.durability.get() != Durability::Checking;
            self.photos.track();
            state.book.with(|book| self.on_form(form, book, checked))
        })
    }

    /// Saves a new record (`save`) with the photos on its form, given to
    /// `owner` first: a crash in between leaves them on the form, never
    /// lost; a save that fails takes them back to the form. Returns what the
    /// save did, and, if the photos could not be kept with the record, a
    /// sentence saying so (they stay on the form).
    pub async fn save_with<T, E>(
        self,
        photos: Memo<Vec<Shown>>,
        owner: PhotoOwner,
        save: impl std::future::Future<Output = Result<T, E>>,
    ) -> (Result<T, E>, Option<String>) {
        let ids: Vec<Uuid> = photos.with_untracked(|p| p.iter().map(|p| p.kept.id).collect());
        let held = photos.with_untracked(|p| p.iter().filter(|p| !p.is_kept()).count());
        // A photo still being shrunk goes with this record when it is ready.
        let late = self.give_preparing(owner.form(), None, Some(owner));
        let attached = if ids.is_empty() {
            Ok(())
        } else {
            self.change(&ids, |kept| kept.of = Some(owner)).await
        };
        let saved = save.await;
        if saved.is_err() {
            self.give_preparing(owner.form(), Some(owner), None);
            if attached.is_ok() && !ids.is_empty() {
                let _ = self.change(&ids, |kept| kept.of = None).await;
            }
        }
        let record = owner.form().noun();
        let mut words = String::new();
        match attached {
            Err(e) => words.push_str(&format!(
                " Its photos could not be kept with it ({e}); they stay on the form."
            )),
            Ok(()) if held == 1 && saved.is_ok() => words.push_str(&format!(
                " One photo could not be kept on this phone: it waits on the {record}'s page, to try again or download."
            )),
            Ok(()) if held > 1 && saved.is_ok() => words.push_str(&format!(
                " Some photos could not be kept on this phone: they wait on the {record}'s page, to try again or download."
            )),
            Ok(()) => {}
        }
        if late > 0 && saved.is_ok() {
            words.push_str(if late == 1 {
                " A photo still being prepared goes with it."
            } else {
                " Photos still being prepared go with it."
            });
        }
        (saved, (!words.is_empty()).then_some(words))
    }

    /// How many photos picked on `form` are still being shrunk (not those
    /// already given to a record saved meanwhile).
    pub fn preparing_on(&self, form: PhotoForm) -> usize {
        self.preparing.with(|all| {
            all.iter()
                .filter(|p| p.form == form && p.owner.is_none())
                .count()
        })
    }

    /// The record a photo being prepared (`ticket`) now goes with, if any.
    fn preparing_owner(&self, ticket: u64) -> Option<PhotoOwner> {
        self.preparing.with_untracked(|all| {
            all.iter()
                .find(|p| p.ticket == ticket)
                .and_then(|p| p.owner)
        })
    }

    /// Gives the photos still being shrunk on `form` and with `from` to
    /// `to`; how many.
    fn give_preparing(
        &self,
        form: PhotoForm,
        from: Option<PhotoOwner>,
        to: Option<PhotoOwner>,
    ) -> usize {
        let mine = |p: &Preparing| p.form == form && p.owner == from;
        let given = self
            .preparing
            .with_untracked(|all| all.iter().filter(|p| mine(p)).count());
        // Nothing to give changes nothing: a notified shelf redraws the
        // form's photo buttons, and that redraw, in the middle of a save,
        // delays the journal's commit.
        if given > 0 {
            self.preparing.update(|all| {
                for p in all.iter_mut().filter(|p| mine(p)) {
                    p.owner = to;
                }
            });
        }
        given
    }

    /// Shrinks a picked file and keeps it, on `form`, or with the record
    /// saved from `form` while it was being shrunk. The photo is being
    /// prepared from this call on, before the future first runs (which may
    /// be a task later: `startup`), so a save in between takes it.
    pub fn take(
        &self,
        file: &Blob,
        form: PhotoForm,
    ) -> impl Future<Output = Result<Shown, String>> + 'static {
        let shelf = *self;
        let file = file.clone();
        let ticket = self.tickets.get_value();
        self.tickets.set_value(ticket + 1);
        self.preparing.update(|all| {
            all.push(Preparing {
                ticket,
                form,
                owner: None,
            })
        });
        async move { shelf.keep_taken(&file, form, ticket).await }
    }

    async fn keep_taken(&self, file: &Blob, form: PhotoForm, ticket: u64) -> Result<Shown, String> {
        let shrunk = shrink(file).await;
        let owner = self.preparing_owner(ticket);
        let shrunk = match shrunk {
            Ok(shrunk) => shrunk,
            Err(e) => {
                self.preparing
                    .update(|all| all.retain(|p| p.ticket != ticket));
                return Err(e);
            }
        };
        let mut stored = Stored {
            kept: KeptPhoto {
                id: Uuid::new_v4(),
                of: owner,
                form,
                media_type: "image/jpeg".into(),
                sha256: shrunk.sha256,
                bytes: shrunk.blob.size() as u64,
                width: shrunk.width,
                height: shrunk.height,
                taken_at: now(),
                state: PhotoState::OnPhone,
            },
            blob: shrunk.blob,
        };
        // Still "being prepared" while storage writes it: a record saved
        // meanwhile takes it, and it is written again with that record.
        let kept = loop {
            let kept = put(std::slice::from_ref(&stored)).await;
            let owner = self.preparing_owner(ticket);
            let settled = owner == stored.kept.of;
            stored.kept.of = owner;
            if settled || kept.is_err() {
                break kept;
            }
        };
        let mut shown = show(&stored);
        if kept.is_err() {
            // Never dropped: held on screen until storage takes it.
            shown.not_kept = Some(stored.blob);
        }
        // Leaves "being prepared" and reaches the shelf at one moment, so
        // a save sees it in one place or the other.
        self.preparing
            .update(|all| all.retain(|p| p.ticket != ticket));
        self.photos.update(|all| all.push(shown.clone()));
        kept.map(|()| shown).map_err(|e| not_kept_words(&e))
    }

    /// Tries again to keep a photo held on screen only; once storage has
    /// it, a browser closed keeps it.
    pub async fn keep(&self, id: Uuid) -> Result<(), String> {
        let Some(held) = self.photos.with_untracked(|all| {
            all.iter()
                .find(|p| p.kept.id == id)
                .and_then(|p| Some((p.kept.clone(), p.not_kept.clone()?)))
        }) else {
            return Ok(());
        };
        let (mut kept, blob) = held;
        loop {
            put(&[Stored {
                kept: kept.clone(),
                blob: blob.clone(),
            }])
            .await
            .map_err(|e| not_kept_words(&e))?;
            // The facts may have changed on screen meanwhile (given to a
            // record, sent, removed): storage follows them.
            let now = self
                .photos
                .with_untracked(|all| all.iter().find(|p| p.kept.id == id).map(|p| p.kept.clone()));
            match now {
                None => {
                    let _ = remove(&[id]).await;
                    return Ok(());
                }
                Some(now) if now == kept => break,
                Some(now) => kept = now,
            }
        }
        self.photos.update(|all| {
            for shown in all.iter_mut().filter(|p| p.kept.id == id) {
                shown.not_kept = None;
            }
        });
        Ok(())
    }

    /// Gives photos new facts (a record, a state), keeping their bytes.
    pub async fn change(
        &self,
        ids: &[Uuid],
        change: impl Fn(&mut KeptPhoto),
    ) -> Result<(), JournalError> {
        // A photo held on screen only changes there; storage is asked only
        // about the others.
        let (held, stored): (Vec<Uuid>, Vec<Uuid>) = self.photos.with_untracked(|all| {
            ids.iter()
                .partition(|id| all.iter().any(|p| p.kept.id == **id && !p.is_kept()))
        });
        let mut changed = if stored.is_empty() {
            Vec::new()
        } else {
            some(&stored).await?
        };
        for stored in &mut changed {
            change(&mut stored.kept);
        }
        if !changed.is_empty() {
            put(&changed).await?;
        }
        self.photos.update(|all| {
            for shown in all.iter_mut() {
                if let Some(new) = changed.iter().find(|s| s.kept.id == shown.kept.id) {
                    shown.kept = new.kept.clone();
                } else if held.contains(&shown.kept.id) {
                    // Held on screen only: its facts change there.
                    change(&mut shown.kept);
                }
            }
        });
        Ok(())
    }

    /// Removes every photo of a record from the phone, as storage holds
    /// them (whether or not the shelf has read them yet): called once the
    /// record itself is deleted (see `AppState::delete_note`).
    pub async fn discard_of(&self, owner: PhotoOwner) -> Result<(), JournalError> {
        let (stored, _) = all().await?;
        let mut ids: Vec<Uuid> = stored
            .iter()
            .filter(|s| s.kept.of == Some(owner))
            .map(|s| s.kept.id)
            .collect();
        ids.extend(self.photos.with_untracked(|all| {
            all.iter()
                .filter(|p| !p.is_kept() && p.kept.of == Some(owner))
                .map(|p| p.kept.id)
                .collect::<Vec<_>>()
        }));
        if ids.is_empty() {
            return Ok(());
        }
        self.discard(&ids).await
    }

    /// Removes photos from the phone.
    pub async fn discard(&self, ids: &[Uuid]) -> Result<(), JournalError> {
        remove(ids).await?;
        self.photos.update(|all| {
            all.retain(|p| {
                let gone = ids.contains(&p.kept.id);
                if gone {
                    let _ = web_sys::Url::revoke_object_url(&p.url);
                }
                !gone
            })
        });
        Ok(())
    }
}

fn show(stored: &Stored) -> Shown {
    Shown {
        kept: stored.kept.clone(),
        url: object_url(&stored.blob),
        not_kept: None,
    }
}
