//! One way to show what the server says: the copy kept on the phone at
//! once, then the server's answer, kept in its place. In the spirit of
//! Leptos's `LocalResource` inside a `Transition`, except that the kept copy
//! stays on screen while a fetch is under way, and is all there is offline.
//!
//! The server is reached through this phone's [`Pairing`] (its origin and
//! token), read from the [`SyncEngine`] at each fetch: a screen's fetch is
//! given it, or `None` on a phone that is not paired (or where no engine
//! runs, as in a test).

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::store::cache::Keep;
use crate::sync::{ClientError, Pairing, SyncEngine};

/// What a screen shows of something fetched: the value, whether a fetch is
/// under way, why the last one failed, and a way to fetch again.
///
/// The signals are the hook's to write; a screen only reads them. (They
/// are not made read-only: read-only signals made each entry's wasm about
/// 1.8 KB larger, compressed.)
pub struct Kept<T: 'static> {
    /// The kept copy, then the server's; `None` while there is neither.
    pub value: RwSignal<Option<T>>,
    /// A fetch is under way (the value shown stays meanwhile).
    pub refreshing: RwSignal<bool>,
    /// Why the newest fetch failed, in words; `None` once one succeeds.
    pub error: RwSignal<Option<String>>,
    refresh: StoredValue<Rc<dyn Fn()>, LocalStorage>,
}

impl<T> Clone for Kept<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Kept<T> {}

impl<T> Kept<T> {
    /// Fetches again; the value shown stays until the answer. Answers that
    /// arrive out of order never replace a newer one.
    pub fn refresh(&self) {
        if let Some(refresh) = self.refresh.try_get_value() {
            refresh();
        }
    }
}

/// Shows the copy kept in `keep` at once, fetches now (and on each
/// [`Kept::refresh`]), and keeps each answer in its place. `fetch` is given
/// the pairing and returns `None` when there is nothing to fetch (such as
/// the inbox on a phone that is not paired). A fetch that fails leaves the
/// value shown, except after a refused token, which has removed the private
/// copies: then what is left is shown.
pub fn use_kept<T, Fut>(
    keep: impl Keep<T>,
    fetch: impl Fn(Option<Pairing>) -> Option<Fut> + 'static,
) -> Kept<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ClientError>> + 'static,
{
    start(Some(Rc::new(keep)), fetch)
}

/// [`use_kept`] for something kept nowhere (photos are large): nothing is
/// shown until the first answer.
pub fn use_fetched<T, Fut>(fetch: impl Fn(Option<Pairing>) -> Option<Fut> + 'static) -> Kept<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ClientError>> + 'static,
{
    start(None, fetch)
}

fn start<T, Fut>(
    keep: Option<Rc<dyn Keep<T>>>,
    fetch: impl Fn(Option<Pairing>) -> Option<Fut> + 'static,
) -> Kept<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ClientError>> + 'static,
{
    let engine = use_context::<SyncEngine>();
    let value = RwSignal::new(keep.as_ref().and_then(|k| k.read()));
    let order = Order::new();
    let (refreshing, error) = (order.refreshing, order.error);
    let refresh = move || {
        let pairing = engine.and_then(|e| e.pairing.try_get_untracked().flatten());
        let Some(fetching) = fetch(pairing) else {
            return;
        };
        let this = order.ask();
        let (keep, order) = (keep.clone(), order.clone());
        spawn_local(async move {
            let answer = fetching.await;
            if !order.may_show(this) {
                return;
            }
            let error = match answer {
                Ok(fresh) => {
                    if let Some(keep) = &keep {
                        let _ = keep.write(&fresh);
                    }
                    value.set(Some(fresh));
                    None
                }
                Err(e) => {
                    // A refused token removes the private copies: show
                    // what is left.
                    if let (ClientError::TokenRefused(_), Some(keep)) = (&e, &keep) {
                        value.set(keep.read());
                    }
                    Some(e.to_string())
                }
            };
            order.answered(this, error);
        });
    };
    refresh();
    Kept {
        value,
        refreshing,
        error,
        refresh: StoredValue::new_local(Rc::new(refresh)),
    }
}

/// The part of a fetch that knows nothing of its value (one copy in the
/// wasm for every use): the fetches in order, and how the newest ended.
#[derive(Clone)]
struct Order {
    refreshing: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// The fetches asked for, and the newest whose answer is shown.
    counts: Rc<Cell<(u64, u64)>>,
}

impl Order {
    fn new() -> Order {
        Order {
            refreshing: RwSignal::new(false),
            error: RwSignal::new(None),
            counts: Rc::default(),
        }
    }

    /// A fetch begins: its number.
    fn ask(&self) -> u64 {
        let (asked, shown) = self.counts.get();
        self.counts.set((asked + 1, shown));
        self.refreshing.set(true);
        asked + 1
    }

    /// Whether fetch `this` may show its answer: no newer answer is shown
    /// already (answers may arrive out of order).
    fn may_show(&self, this: u64) -> bool {
        self.counts.get().1 <= this
    }

    /// Fetch `this` has shown its answer, or failed (`error`).
    fn answered(&self, this: u64, error: Option<String>) {
        let (asked, _) = self.counts.get();
        self.counts.set((asked, this));
        self.error.set(error);
        if asked == this {
            self.refreshing.set(false);
        }
    }
}
