//! The app's shared state: the notebook in a signal, and the actions that
//! change it. Every action writes to device storage first and updates the
//! screen only when the write succeeded.

use beatbook_core::schema::Record;
use beatbook_core::{Note, NoteFilter, NoteInput, Notebook, Shift, ShiftKind};
use leptos::prelude::*;
use uuid::Uuid;

use crate::settings::Settings;
use crate::storage::{self, KeyChange, Unreadable};
use crate::time::now;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Capture,
    Notes,
    Shifts,
    Settings,
    Note(Uuid),
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub book: RwSignal<Notebook>,
    pub unreadable: RwSignal<Vec<Unreadable>>,
    /// Why storage cannot be used at all, if it cannot.
    pub storage_problem: RwSignal<Option<String>>,
    pub screen: RwSignal<Screen>,
    pub filter: RwSignal<NoteFilter>,
    pub settings: RwSignal<Settings>,
}

impl AppState {
    pub fn load() -> AppState {
        let state = AppState {
            book: RwSignal::new(Notebook::new()),
            unreadable: RwSignal::new(Vec::new()),
            storage_problem: RwSignal::new(None),
            screen: RwSignal::new(Screen::Capture),
            filter: RwSignal::new(NoteFilter::default()),
            settings: RwSignal::new(Settings::load()),
        };
        state.reload();
        state
    }

    /// Reads everything from storage again.
    pub fn reload(&self) {
        match storage::load() {
            Ok(loaded) => {
                self.book.set(loaded.notebook);
                self.unreadable.set(loaded.unreadable);
                self.storage_problem.set(None);
            }
            Err(err) => self.storage_problem.set(Some(err.to_string())),
        }
    }

    /// Applies a change another tab made to storage.
    pub fn apply_key_change(&self, key: Option<String>, new_value: Option<String>) {
        let Some(key) = key else {
            // The whole store was cleared elsewhere.
            self.reload();
            return;
        };
        if !key.starts_with(beatbook_core::schema::KEY_PREFIX) {
            return;
        }
        match storage::key_change(&key, new_value.as_deref()) {
            KeyChange::Upserted(Record::Note(n)) => self.book.update(|b| b.upsert_note(n)),
            KeyChange::Upserted(Record::Shift(s)) => self.book.update(|b| b.upsert_shift(s)),
            KeyChange::Removed(beatbook_core::schema::RecordKey::Note(id)) => {
                self.book.update(|b| {
                    b.remove_note(&id);
                })
            }
            KeyChange::Removed(beatbook_core::schema::RecordKey::Shift(id)) => {
                self.book.update(|b| {
                    b.remove_shift(&id);
                })
            }
            KeyChange::Other => self.reload(),
        }
    }

    fn persist(&self, record: &Record) -> Result<(), String> {
        storage::save(record).map_err(|e| e.to_string())
    }

    /// Saves a new note in the running shift. On error nothing changes and the
    /// message says what to do; the caller keeps the text on screen.
    pub fn add_note(&self, input: &NoteInput) -> Result<Note, String> {
        let shift_id = self
            .book
            .with_untracked(|b| b.running_shift().map(|s| s.id));
        let note =
            Note::create(Uuid::new_v4(), input, shift_id, now()).map_err(|e| e.to_string())?;
        self.persist(&Record::Note(note.clone()))?;
        self.book.update(|b| b.upsert_note(note.clone()));
        self.settings.update(|s| {
            if s.last_category != input.category {
                s.last_category = input.category;
                s.store();
            }
        });
        Ok(note)
    }

    pub fn edit_note(&self, id: Uuid, input: &NoteInput) -> Result<(), String> {
        let mut note = self
            .book
            .with_untracked(|b| b.note(&id).cloned())
            .ok_or("This note no longer exists on this phone.")?;
        note.edit(input, now()).map_err(|e| e.to_string())?;
        self.persist(&Record::Note(note.clone()))?;
        self.book.update(|b| b.upsert_note(note));
        Ok(())
    }

    pub fn delete_note(&self, id: Uuid) -> Result<(), String> {
        let editable = self
            .book
            .with_untracked(|b| b.note(&id).map(|n| n.sync.is_editable()));
        match editable {
            None => return Ok(()),
            Some(false) => {
                return Err("This note is already on the server and cannot be deleted here.".into())
            }
            Some(true) => {}
        }
        storage::delete(beatbook_core::schema::RecordKey::Note(id)).map_err(|e| e.to_string())?;
        self.book.update(|b| {
            b.remove_note(&id);
        });
        Ok(())
    }

    pub fn start_shift(&self, kind: ShiftKind, title: &str) -> Result<Shift, String> {
        let shift = Shift::start(Uuid::new_v4(), kind, title, now()).map_err(|e| e.to_string())?;
        self.persist(&Record::Shift(shift.clone()))?;
        self.book.update(|b| b.upsert_shift(shift.clone()));
        Ok(shift)
    }

    pub fn end_shift(&self, id: Uuid) -> Result<(), String> {
        let mut shift = self
            .book
            .with_untracked(|b| b.shift(&id).cloned())
            .ok_or("This shift no longer exists on this phone.")?;
        shift.end(now()).map_err(|e| e.to_string())?;
        self.persist(&Record::Shift(shift.clone()))?;
        self.book.update(|b| b.upsert_shift(shift));
        Ok(())
    }

    pub fn set_settings(&self, settings: Settings) {
        settings.store();
        settings.apply_theme();
        self.settings.set(settings);
    }
}
