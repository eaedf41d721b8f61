//! "Tell me when this changes": a report's page subscribes this browser to
//! push notifications for it (Web Push, through the service worker), and
//! lets go again. The server holds the subscription against the code alone;
//! the phone keeps which codes it asked about ([`Told`]), and a request to
//! stop made with no signal waits and goes with the next sync round.

use beatbook_core::report::Told;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{NotificationPermission, PushSubscription, PushSubscriptionOptionsInit};

use crate::store::cache;
use crate::sync::{self, ClientError};

/// Whether a report's page offers notifications here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// This browser has push: offer it.
    Ready,
    /// An iPhone or iPad with Beatbook in a browser tab: push needs the
    /// app on the home screen first, so say how.
    HomeScreenFirst,
    /// No push at all (or notifications refused for good): say nothing.
    Hidden,
}

fn has(on: &JsValue, name: &str) -> bool {
    Reflect::has(on, &name.into()).unwrap_or(false)
}

pub fn offer() -> Offer {
    let Some(window) = web_sys::window() else {
        return Offer::Hidden;
    };
    let navigator = window.navigator();
    if has(&window, "PushManager")
        && has(&window, "Notification")
        && has(&navigator, "serviceWorker")
    {
        return Offer::Ready;
    }
    // Safari on iOS has push only for a web app added to the home screen.
    let agent = navigator.user_agent().unwrap_or_default();
    let apple_touch = agent.contains("iPhone")
        || agent.contains("iPad")
        || (agent.contains("Macintosh") && navigator.max_touch_points() > 1);
    let standalone = Reflect::get(&navigator, &"standalone".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if apple_touch && !standalone {
        Offer::HomeScreenFirst
    } else {
        Offer::Hidden
    }
}

thread_local! {
    /// What this phone keeps of what it asked, as read or last written:
    /// the sync engine asks whether stops wait at every save, and reading
    /// and decoding the stored copy each time costs the save's main thread.
    /// Another tab's change is seen through [`forget_told`].
    static TOLD_READ: std::cell::RefCell<Option<Told>> = const { std::cell::RefCell::new(None) };
}

fn with_told<R>(read: impl FnOnce(&Told) -> R) -> R {
    TOLD_READ.with(|held| {
        read(
            held.borrow_mut()
                .get_or_insert_with(|| cache::TOLD.read().unwrap_or_default()),
        )
    })
}

pub fn told() -> Told {
    with_told(Told::clone)
}

/// Reads what this phone keeps of what it asked again at its next use:
/// called when another tab has changed it.
pub fn forget_told(key: Option<&str>) {
    if key.is_none_or(|key| key == cache::TOLD.name()) {
        TOLD_READ.with(|held| *held.borrow_mut() = None);
    }
}

/// Changes what the phone keeps of what it asked, and keeps it: what it
/// keeps now, or why it could not.
fn change(what: impl FnOnce(&mut Told)) -> Result<Told, String> {
    let mut told = told();
    what(&mut told);
    cache::TOLD
        .write(&told)
        .map_err(|e| format!("This phone could not keep it: {e}"))?;
    TOLD_READ.with(|held| *held.borrow_mut() = Some(told.clone()));
    Ok(told)
}

/// The server's key as `applicationServerKey` takes it.
fn key_bytes(key: &str) -> Option<Uint8Array> {
    let bytes = beatbook_core::protocol::PushKey::bytes(key)?;
    Some(Uint8Array::from(bytes.as_slice()))
}

fn browser(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the browser refused".to_owned())
}

/// Asks the browser's permission and subscribes with the server's key: the
/// browser's one subscription, and its `toJSON()` as JSON text. The error
/// is a sentence for the page.
async fn browser_subscription(server: &str) -> Result<(PushSubscription, String), String> {
    let asked = web_sys::Notification::request_permission().map_err(browser)?;
    let answer = JsFuture::from(asked).await.map_err(browser)?;
    if answer.as_string().as_deref() != Some("granted")
        && web_sys::Notification::permission() != NotificationPermission::Granted
    {
        return Err("Notifications are turned off for this site. Allow them in the browser's site settings, then tap again.".into());
    }
    let key = sync::fetch_push_key(server).await.map_err(|e| reach(&e))?;
    let key = key_bytes(&key).ok_or("The server's key could not be read.")?;
    let registration = crate::pwa::ready_worker().await.ok_or(
        "This browser has no service worker for Beatbook yet: reload the page, then tap again.",
    )?;
    let manager = registration.push_manager().map_err(browser)?;
    let options = PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    options.set_application_server_key(&key);
    let subscribing = manager.subscribe_with_options(&options).map_err(browser)?;
    let subscription: PushSubscription = JsFuture::from(subscribing)
        .await
        .map_err(|e| format!("This browser could not subscribe: {}.", browser(e)))?
        .unchecked_into();
    let json = js_sys::JSON::stringify(&subscription)
        .map_err(browser)?
        .as_string()
        .unwrap_or_default();
    Ok((subscription, json))
}

/// Subscribes this browser and has the server hold the subscription
/// against `code`.
pub async fn tell_me(server: &str, code: &str) -> Result<(), String> {
    let (subscription, json) = browser_subscription(server).await?;
    sync::subscribe_to_report(server, code, json)
        .await
        .map_err(|e| reach(&e))?;
    change(|t| t.ask(code, &subscription.endpoint())).map(drop)
}

/// A councillor's phone: told of each new report from now on.
pub async fn tell_me_of_new_reports(pairing: &sync::Pairing) -> Result<(), String> {
    let (subscription, json) = browser_subscription(&sync::server_of(Some(pairing))).await?;
    sync::subscribe_device(pairing, json)
        .await
        .map_err(|e| reach(&e))?;
    change(|t| t.new_reports = Some(subscription.endpoint())).map(drop)
}

/// A councillor's phone: no longer told of new reports. Needs the server.
pub async fn stop_new_reports(pairing: &sync::Pairing) -> Result<(), String> {
    sync::unsubscribe_device(pairing)
        .await
        .map_err(|e| reach(&e))?;
    let mut endpoint = None;
    let told = change(|t| endpoint = t.new_reports.take())?;
    if endpoint.is_some_and(|e| !told.uses(&e)) {
        end_browser_subscription().await;
    }
    Ok(())
}

fn reach(e: &ClientError) -> String {
    format!("It needs a connection to the server, and could not be done ({e}). Try again when you have signal.")
}

/// Stops notifications about `code`: said at once, sent now or with the
/// next sync round.
pub fn stop(code: &str) -> Result<(), String> {
    change(|t| {
        t.stop(code);
    })
    .map(drop)
}

/// Whether a request to stop waits for signal (the sync engine has work).
pub fn stops_waiting() -> bool {
    with_told(|told| !told.stopping.is_empty())
}

/// Sends the requests to stop that wait; those the server answers are done.
/// A browser subscription no report uses any more is ended too.
pub async fn send_stops(server: &str) -> Result<(), ClientError> {
    let waiting = told().stopping;
    for (code, endpoint) in waiting {
        sync::unsubscribe_from_report(server, &code, &endpoint).await?;
        let told = change(|t| t.stopped(&code)).unwrap_or_else(|_| told());
        if !told.uses(&endpoint) {
            end_browser_subscription().await;
        }
    }
    Ok(())
}

/// Ends this browser's push subscription, once no report uses it.
async fn end_browser_subscription() {
    let Some(registration) = crate::pwa::ready_worker().await else {
        return;
    };
    let Ok(manager) = registration.push_manager() else {
        return;
    };
    let Ok(getting) = manager.get_subscription() else {
        return;
    };
    if let Ok(current) = JsFuture::from(getting).await {
        if let Some(subscription) = current.dyn_ref::<PushSubscription>() {
            if let Ok(ending) = subscription.unsubscribe() {
                let _ = JsFuture::from(ending).await;
            }
        }
    }
}
