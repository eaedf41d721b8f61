//! The installable app: the service worker's registration and updates, and
//! whether the browser believes it is online.

use std::cell::{Cell, RefCell};

use beatbook_core::schema::{ENTRY_KEY, NOTEBOOK_ENTRY};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorkerRegistration, ServiceWorkerState};

const WORKER_URL: &str = "/sw.js";
/// The message the worker waits for before it replaces the running version.
const SKIP_WAITING: &str = "skip-waiting";

thread_local! {
    static REGISTRATION: RefCell<Option<ServiceWorkerRegistration>> = const { RefCell::new(None) };
    /// The residents' entry is handing over to the notebook's.
    static HANDING_OVER: Cell<bool> = const { Cell::new(false) };
}

/// What the page knows about the network and about new versions.
#[derive(Clone, Copy)]
pub struct PwaState {
    /// `navigator.onLine`: a hint, not the truth, so it is only shown.
    pub online: RwSignal<bool>,
    /// A new version is installed and waiting for the person's tap.
    pub update_ready: RwSignal<bool>,
}

impl PwaState {
    pub fn start() -> PwaState {
        let window = web_sys::window();
        let online = window.as_ref().is_none_or(|w| w.navigator().on_line());
        let state = PwaState {
            online: RwSignal::new(online),
            update_ready: RwSignal::new(false),
        };
        let _ = window_event_listener(leptos::ev::online, move |_| state.online.set(true));
        let _ = window_event_listener(leptos::ev::offline, move |_| state.online.set(false));
        // A phone brought back out of a pocket asks whether a new version exists.
        let _ = window_event_listener(leptos::ev::visibilitychange, move |_| check_for_update());
        leptos::task::spawn_local(async move { register(state).await });
        state
    }
}

fn has_controller() -> bool {
    web_sys::window()
        .map(|w| w.navigator().service_worker())
        .and_then(|c| c.controller())
        .is_some()
}

/// The page's service workers, unless the browser offers none here (an
/// insecure origin, or no support): the app still runs without.
fn workers(window: &web_sys::Window) -> Option<web_sys::ServiceWorkerContainer> {
    js_sys::Reflect::has(&window.navigator(), &"serviceWorker".into())
        .unwrap_or(false)
        .then(|| window.navigator().service_worker())
}

async fn register(state: PwaState) {
    let Some(container) = web_sys::window().as_ref().and_then(workers) else {
        return;
    };
    let Ok(registration) = JsFuture::from(container.register(WORKER_URL)).await else {
        return;
    };
    let registration: ServiceWorkerRegistration = registration.unchecked_into();
    REGISTRATION.with(|r| *r.borrow_mut() = Some(registration.clone()));

    // A worker waiting beside an active one is an update; the very first
    // install is not. (A page without a controller, such as one opened
    // with a hard reload, must still be told of updates.)
    if registration.waiting().is_some() && registration.active().is_some() {
        state.update_ready.set(true);
    }
    let on_update_found = Closure::<dyn FnMut()>::new({
        let registration = registration.clone();
        move || {
            let Some(installing) = registration.installing() else {
                return;
            };
            let worker = installing.clone();
            let registration = registration.clone();
            let on_state = Closure::<dyn FnMut()>::new(move || {
                if worker.state() == ServiceWorkerState::Installed
                    && registration.active().is_some()
                {
                    state.update_ready.set(true);
                }
            });
            installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
            on_state.forget();
        }
    });
    registration.set_onupdatefound(Some(on_update_found.as_ref().unchecked_ref()));
    on_update_found.forget();
}

/// Asks the browser to look for a new service worker now.
pub fn check_for_update() {
    if let Some(registration) = REGISTRATION.with(|r| r.borrow().clone()) {
        if let Ok(promise) = registration.update() {
            leptos::task::spawn_local(async move {
                let _ = JsFuture::from(promise).await;
            });
        }
    }
}

/// Switches to the waiting version and reloads this page when it has taken
/// over. Drafts are journalled first, so a note being typed comes back.
pub async fn apply_update() {
    crate::store::persist::flush_drafts().await;
    let Some(waiting) = REGISTRATION
        .with(|r| r.borrow().clone())
        .and_then(|r| r.waiting())
    else {
        // Nothing waiting after all: a plain reload gets the newest version.
        reload();
        return;
    };
    if has_controller() {
        if let Some(container) = web_sys::window().map(|w| w.navigator().service_worker()) {
            let on_change = Closure::<dyn FnMut()>::new(reload);
            container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
            on_change.forget();
        }
    } else {
        // A page no worker controls hears no change of controller: it
        // reloads once the new version is active instead.
        let worker = waiting.clone();
        let on_state = Closure::<dyn FnMut()>::new(move || {
            if worker.state() == ServiceWorkerState::Activated {
                reload();
            }
        });
        waiting.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
        on_state.forget();
    }
    let _ = waiting.post_message(&JsValue::from_str(SKIP_WAITING));
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// How long a handover to the notebook waits for a first install to finish.
const INSTALL_WAIT_MS: i32 = 10_000;

/// Starts the page again on the notebook's entry: the residents' entry has
/// no code for a paired phone or a notebook's records. `false` when the
/// browser keeps nothing for this tab, so a reload would only come back here.
pub async fn start_notebook() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let marked = window
        .session_storage()
        .ok()
        .flatten()
        .is_some_and(|session| session.set_item(ENTRY_KEY, NOTEBOOK_ENTRY).is_ok());
    if !marked {
        return false;
    }
    // One handover, however often the screen asking for it is drawn.
    if HANDING_OVER.with(|h| h.replace(true)) {
        return true;
    }
    // A first install downloads the notebook's files, which the page is about
    // to fetch anyway: let it finish first, for a while, so the page it opens
    // comes from the worker. The page's registration is awaited first (the
    // same call as at start, answered when the browser has taken it): in
    // WebKit, a page reloaded while its registration is being taken leaves
    // the worker installing for ever, and the phone never starts offline.
    // Not when there is no worker to wait for.
    if let Some(container) = workers(&window) {
        let registered = JsFuture::from(container.register(WORKER_URL)).await.is_ok();
        if let (true, Ok(ready)) = (registered, container.ready()) {
            let timeout = js_sys::Promise::new(&mut |resolve, _| {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &resolve,
                    INSTALL_WAIT_MS,
                );
            });
            let _ =
                JsFuture::from(js_sys::Promise::race(&js_sys::Array::of2(&ready, &timeout))).await;
        }
    }
    window.location().reload().is_ok()
}

/// Asks the browser to keep this site's storage through storage pressure
/// (it may say no; nothing depends on the answer).
pub fn ask_to_keep_storage() {
    if let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) {
        let _ = storage.persist();
    }
}

/// Safari on an iPhone, in a tab rather than from the home screen: it alone
/// has `navigator.standalone`, false in a tab. It deletes what a site keeps
/// after seven days of not being used; an app on the home screen is exempt.
pub fn in_iphone_safari_tab() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"standalone".into()).ok())
        .is_some_and(|standalone| standalone == wasm_bindgen::JsValue::FALSE)
}

/// The active service worker's registration, once there is one (`ready`
/// never settles while none is active); `None` where the browser has none.
pub async fn ready_worker() -> Option<web_sys::ServiceWorkerRegistration> {
    let ready = web_sys::window()?
        .navigator()
        .service_worker()
        .ready()
        .ok()?;
    let registration = wasm_bindgen_futures::JsFuture::from(ready).await.ok()?;
    Some(wasm_bindgen::JsCast::unchecked_into(registration))
}
