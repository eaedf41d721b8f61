//! The IndexedDB plumbing shared by every database the app keeps (the
//! journal, the photos, the courier's letters): opening a database once and
//! keeping it, transactions (writes with strict durability), and each
//! request and commit as a future whose failure is a value, never a panic.
//!
//! This uses web-sys's own bindings (no wrapper crate). Every write
//! transaction is opened with strict durability: Chromium's default
//! ("relaxed") fires `complete` once the data reaches the operating system,
//! which a power cut can still take back; "strict" waits for the disk.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::thread::LocalKey;

use js_sys::{Array, Object, Promise, Reflect};
use thiserror::Error;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

/// Why an IndexedDB request or transaction failed (named for the journal,
/// the first database; the photos and the courier answer with it too).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum JournalError {
    #[error("this browser offers no IndexedDB here (private browsing, or storage switched off)")]
    Unavailable,
    #[error("the phone's storage is full")]
    Full,
    #[error("the browser refused the write ({0})")]
    Failed(String),
}

/// What a failed IndexedDB request or transaction says, as a value: the
/// phone's storage being full is told apart, so the screens can say so.
pub fn error_from(value: JsValue) -> JournalError {
    match value.dyn_into::<web_sys::DomException>() {
        Ok(e) if e.name() == "QuotaExceededError" => JournalError::Full,
        Ok(e) if e.name() == "InvalidStateError" || e.name() == "SecurityError" => {
            JournalError::Unavailable
        }
        Ok(e) => JournalError::Failed(format!("{}: {}", e.name(), e.message())),
        Err(other) => JournalError::Failed(
            other
                .as_string()
                .unwrap_or_else(|| "no reason given".to_owned()),
        ),
    }
}

/// Waits for a request to succeed, with its result.
pub(crate) async fn request(req: &IdbRequest) -> Result<JsValue, JournalError> {
    let promise = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    match outcome {
        Ok(_) => req.result().map_err(error_from),
        Err(_) => Err(req
            .error()
            .ok()
            .flatten()
            .map(|e| error_from(e.into()))
            .unwrap_or(JournalError::Failed("request failed".into()))),
    }
}

/// Waits for a transaction to commit: only then is the write on disk.
pub(crate) async fn committed(tx: &IdbTransaction) -> Result<(), JournalError> {
    Completion::watch(tx).wait().await
}

/// A transaction's end, watched from when [`Completion::watch`] is called:
/// a transaction that completes before anyone waits for it is still seen
/// to have. Its event wakes the waiting task directly, with no promise in
/// between: "saved" is said a step sooner.
pub(crate) struct Completion {
    tx: IdbTransaction,
    end: Rc<RefCell<End>>,
}

/// How a watched transaction ended (`Some(true)`: committed), and who waits.
#[derive(Default)]
struct End {
    committed: Option<bool>,
    waiting: Option<Waker>,
}

impl Completion {
    pub(crate) fn watch(tx: &IdbTransaction) -> Self {
        let end = Rc::new(RefCell::new(End::default()));
        // A transaction either completes or aborts (a failed request it does
        // not handle aborts it), so this is called once, and then freed.
        let on_end = Closure::once_into_js({
            let end = end.clone();
            move |event: web_sys::Event| {
                let mut end = end.borrow_mut();
                end.committed = Some(event.type_() == "complete");
                if let Some(waker) = end.waiting.take() {
                    waker.wake();
                }
            }
        });
        tx.set_oncomplete(Some(on_end.unchecked_ref()));
        tx.set_onabort(Some(on_end.unchecked_ref()));
        Self {
            tx: tx.clone(),
            end,
        }
    }

    /// Asks the database to commit now, without waiting for the page to
    /// handle its requests' answers first: a step sooner on the way to
    /// "saved", for a transaction that will make no more requests. An
    /// engine without `commit()` commits as it always does, once its
    /// requests are answered.
    pub(crate) fn commit_now(&self) {
        #[allow(deprecated)] // Not in every engine; auto-commit is the fallback.
        let _ = self.tx.commit();
    }

    /// Aborts the transaction (nothing of it is stored) and waits for it to
    /// end.
    pub(crate) async fn abandon(self) {
        let _ = self.tx.abort();
        let _ = self.wait().await;
    }

    /// Waits for the transaction to end: `Ok` once it has committed.
    pub(crate) async fn wait(self) -> Result<(), JournalError> {
        let committed = std::future::poll_fn(|cx| {
            let mut end = self.end.borrow_mut();
            match end.committed {
                Some(committed) => Poll::Ready(committed),
                None => {
                    end.waiting = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await;
        if committed {
            return Ok(());
        }
        Err(self
            .tx
            .error()
            .map(|e| error_from(e.into()))
            .unwrap_or(JournalError::Failed("the transaction was aborted".into())))
    }
}

/// Opens (creating or upgrading) a database with these object stores;
/// `forget` is called when another tab upgrades it and this connection
/// closes, so that the next use opens it again.
async fn open_database(
    name: &str,
    version: u32,
    stores: &'static [&'static str],
    forget: impl Fn() + 'static,
) -> Result<IdbDatabase, JournalError> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or(JournalError::Unavailable)?;
    let open = factory.open_with_u32(name, version).map_err(error_from)?;
    let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new({
        let open = open.clone();
        move |_| {
            let Ok(db) = open.result().and_then(|r| r.dyn_into::<IdbDatabase>()) else {
                return;
            };
            let names = db.object_store_names();
            for store in stores {
                if !names.contains(store) {
                    let _ = db.create_object_store(store);
                }
            }
        }
    });
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let result = request(&open).await;
    open.set_onupgradeneeded(None);
    drop(upgrade);
    let db: IdbDatabase = result?.dyn_into().map_err(|_| JournalError::Unavailable)?;
    // Another tab upgrading to a newer version asks this one to step aside.
    let on_version_change = Closure::<dyn FnMut(web_sys::Event)>::new({
        let db = db.clone();
        move |_| {
            db.close();
            forget();
        }
    });
    db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    on_version_change.forget();
    Ok(db)
}

/// One of the app's IndexedDB databases: its name, its version, the object
/// stores it is made with, and where its connection is kept once open.
pub(crate) struct Database {
    pub name: &'static str,
    pub version: u32,
    pub stores: &'static [&'static str],
    pub connection: &'static LocalKey<RefCell<Option<IdbDatabase>>>,
}

impl Database {
    /// The database, opened on first use and kept for the page's life.
    /// Two calls racing at start may both open it; the later connection is
    /// kept and the other is closed by the garbage collector, which is
    /// harmless.
    pub(crate) async fn open(&'static self) -> Result<IdbDatabase, JournalError> {
        let connection = self.connection;
        if let Some(db) = connection.with(|cell| cell.borrow().clone()) {
            return Ok(db);
        }
        let forget = move || {
            connection.with(|cell| cell.borrow_mut().take());
        };
        let db = open_database(self.name, self.version, self.stores, forget).await?;
        connection.with(|cell| *cell.borrow_mut() = Some(db.clone()));
        Ok(db)
    }
}

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase` seen through the one method bound here:
    /// `transaction(names, mode, options)`, which web-sys offers only behind
    /// its unstable-APIs flag.
    #[wasm_bindgen(js_name = IDBDatabase)]
    type DatabaseWithOptions;

    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        names: &JsValue,
        mode: &str,
        options: &Object,
    ) -> Result<IdbTransaction, JsValue>;
}

thread_local! {
    /// `{ durability }`, made once: every save asks for it.
    static WRITE_OPTIONS: Object = {
        let options = Object::new();
        let _ = Reflect::set(&options, &"durability".into(), &WRITE_DURABILITY.into());
        options
    };
}

/// What every write asks for: to be on disk when it completes.
pub const WRITE_DURABILITY: &str = "strict";

/// A transaction on the stores named: a write one with strict durability.
pub(crate) fn store(
    db: &IdbDatabase,
    names: &[&str],
    mode: IdbTransactionMode,
) -> Result<IdbTransaction, JournalError> {
    // One store is named by itself, with no list to build.
    let names: JsValue = match names {
        [name] => JsValue::from_str(name),
        _ => names
            .iter()
            .map(|n| JsValue::from_str(n))
            .collect::<Array>()
            .into(),
    };
    if mode == IdbTransactionMode::Readonly {
        return db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(error_from);
    }
    WRITE_OPTIONS
        .with(|options| {
            db.unchecked_ref::<DatabaseWithOptions>()
                .transaction_with_options(&names, "readwrite", options)
        })
        .map_err(error_from)
}

/// One of a transaction's object stores.
pub(crate) fn object_store(
    tx: &IdbTransaction,
    name: &str,
) -> Result<IdbObjectStore, JournalError> {
    tx.object_store(name).map_err(error_from)
}
