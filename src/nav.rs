//! The address bar and the back gesture: the current screen comes from the
//! page's path (`beatbook_core::route`), moving to another screen pushes a
//! history entry, and the back gesture (`popstate`) brings the previous one
//! back. Each change sets the document's title, scrolls to the top and moves
//! focus to the new screen, so a screen reader announces it.

use beatbook_core::route::{Face, Route};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// The screen being shown, and the way to another.
#[derive(Clone, Copy)]
pub struct Nav {
    /// The screen the address names (before the face is applied).
    pub route: ReadSignal<Route>,
    set_route: WriteSignal<Route>,
    /// Whether a move has happened yet: the first screen keeps the browser's
    /// own focus and scroll.
    moved: StoredValue<bool>,
}

fn location() -> Option<(String, String)> {
    let location = web_sys::window()?.location();
    let path = location.pathname().ok()?;
    let query = location.search().ok()?;
    Some((path, query.trim_start_matches('?').to_owned()))
}

fn history() -> Option<web_sys::History> {
    web_sys::window()?.history().ok()
}

impl Nav {
    /// Reads the address the app was opened at. An address from before
    /// screens had paths (`/?screen=notes`) is rewritten to the new path
    /// without a new history entry.
    pub fn start() -> Nav {
        let (path, query) = location().unwrap_or_else(|| ("/".into(), String::new()));
        let route = Route::parse(&path, &query);
        if !query.is_empty() && route.path() != path {
            if let Some(history) = history() {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&route.path()));
            }
        }
        let (route, set_route) = signal(route);
        let nav = Nav {
            route,
            set_route,
            moved: StoredValue::new(false),
        };
        let _ = window_event_listener(leptos::ev::popstate, move |_| {
            if let Some((path, query)) = location() {
                nav.moved.set_value(true);
                nav.set_route.set(Route::parse(&path, &query));
            }
        });
        nav
    }

    /// Opens another screen, with a history entry the back gesture returns
    /// from. Opening the screen already shown only scrolls it to the top.
    pub fn go(&self, route: Route) {
        self.moved.set_value(true);
        let path = route.path();
        let here = location().map(|(path, _)| path);
        if here.as_deref() != Some(path.as_str()) {
            if let Some(history) = history() {
                let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&path));
            }
        }
        self.set_route.set(route);
    }

    /// Shows another screen in place of this one: the back gesture skips it
    /// (after saving a report, its form is not a screen to go back to).
    pub fn replace(&self, route: Route) {
        self.moved.set_value(true);
        if let Some(history) = history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&route.path()));
        }
        self.set_route.set(route);
    }

    /// Goes back a screen, as the back gesture does, when the app moved here
    /// itself; otherwise (opened from a link) to `fallback`.
    pub fn back_or(&self, fallback: Route) {
        match history() {
            Some(history) if self.moved.get_value() => {
                let _ = history.back();
            }
            _ => self.replace(fallback),
        }
    }

    /// After the screen for `route` is drawn: its title, the scroll position,
    /// and focus on the element marked `data-autofocus`, or else the heading.
    pub fn settle(&self, route: &Route, face: Face) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        document.set_title(&route.title(face));
        if !self.moved.get_value() {
            return;
        }
        if let Some(window) = web_sys::window() {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        let target = document
            .query_selector("#main [data-autofocus]")
            .ok()
            .flatten()
            .or_else(|| document.query_selector("#main h2").ok().flatten());
        if let Some(target) = target {
            if !target.has_attribute("tabindex") {
                let _ = target.set_attribute("tabindex", "-1");
            }
            if let Ok(target) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(target) {
                let _ = target.focus();
            }
        }
    }
}

/// A link to another screen: a real link (it can be opened in a new tab or
/// copied) that, tapped, moves within the app.
#[component]
pub fn Link(
    to: Route,
    #[prop(optional, into)] class: Option<&'static str>,
    #[prop(optional, into)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let nav = expect_context::<Nav>();
    let href = to.path();
    let target = StoredValue::new(to);
    view! {
        <a href=href class=class data-testid=testid on:click=move |ev: leptos::ev::MouseEvent| {
            if ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.button() != 0 {
                return;
            }
            ev.prevent_default();
            nav.go(target.get_value());
        }>{children()}</a>
    }
}
