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
    /// Where the screen the back gesture returned to was left.
    left_at: StoredValue<Option<LeftAt>>,
}

/// Kept in a history entry's state when the app moves on from it, so the
/// back gesture returns to the same place in a long list.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LeftAt {
    scroll_y: f64,
}

impl LeftAt {
    fn now() -> Option<LeftAt> {
        Some(LeftAt {
            scroll_y: web_sys::window()?.scroll_y().ok()?,
        })
    }

    fn to_state(self) -> JsValue {
        let state = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&state, &"scrollY".into(), &self.scroll_y.into());
        state.into()
    }

    fn from_state(state: &JsValue) -> Option<LeftAt> {
        let scroll_y = js_sys::Reflect::get(state, &"scrollY".into())
            .ok()?
            .as_f64()?;
        Some(LeftAt { scroll_y })
    }
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
            left_at: StoredValue::new(None),
        };
        let _ = window_event_listener(leptos::ev::popstate, move |ev| {
            if let Some((path, query)) = location() {
                nav.moved.set_value(true);
                nav.left_at.set_value(LeftAt::from_state(&ev.state()));
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
                // Where this screen was left, for the back gesture.
                if let Some(left) = LeftAt::now() {
                    let _ = history.replace_state(&left.to_state(), "");
                }
                let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&path));
            }
        }
        self.left_at.set_value(None);
        self.set_route.set(route);
    }

    /// Shows another screen in place of this one: the back gesture skips it
    /// (after saving a report, its form is not a screen to go back to).
    pub fn replace(&self, route: Route) {
        self.moved.set_value(true);
        if let Some(history) = history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&route.path()));
        }
        self.left_at.set_value(None);
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
        let heading = || {
            document
                .query_selector("#main [data-autofocus]")
                .ok()
                .flatten()
                .or_else(|| document.query_selector("#main h2").ok().flatten())
        };
        let Some(left) = self.left_at.get_value() else {
            to_top();
            if let Some(target) = heading() {
                focus(target, false);
            }
            return;
        };
        // Back to a screen left for another: the same place in it, and its
        // heading announced without scrolling to it.
        if let Some(target) = heading() {
            focus(target, true);
        }
        if let Some(window) = web_sys::window() {
            window.scroll_to_with_x_and_y(0.0, left.scroll_y);
        }
    }
}

/// Focus on an element, made focusable for a script if it is not (a
/// heading, a line of text); `in_place` leaves the scroll position alone.
fn focus(target: web_sys::Element, in_place: bool) {
    if !target.has_attribute("tabindex") {
        let _ = target.set_attribute("tabindex", "-1");
    }
    if let Ok(target) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(target) {
        let options = web_sys::FocusOptions::new();
        options.set_prevent_scroll(in_place);
        let _ = target.focus_with_options(&options);
    }
}

/// After an action, moves focus to what it did (the element `selector`
/// finds once the screen has been redrawn), or else to the screen's
/// heading: focus never falls to the page itself, where a screen reader
/// says nothing.
pub fn focus_result(selector: impl Into<String>) {
    let selector = selector.into();
    request_animation_frame(move || {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let target = document
            .query_selector(&selector)
            .ok()
            .flatten()
            .or_else(|| document.query_selector("#main h2").ok().flatten());
        if let Some(target) = target {
            focus(target, false);
        }
    });
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

thread_local! {
    /// Whether the page is scrolled away from its top, as its last scroll
    /// left it: `None` until asked first, when a listener starts keeping it.
    static SCROLLED: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Whether the page may be scrolled away from its top, known without
/// reading the scroll position when asked (which makes the browser lay the
/// page out first, on the way to "saved"): every scroll says where it left
/// the page, in its event at the next frame (before any tap that follows
/// it). Unknown at first, so true.
pub fn may_be_scrolled() -> bool {
    SCROLLED.with(|scrolled| {
        scrolled.get().unwrap_or_else(|| {
            if let Some(window) = web_sys::window() {
                let on_scroll = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| {
                    let y = web_sys::window().and_then(|w| w.scroll_y().ok());
                    SCROLLED.with(|scrolled| scrolled.set(Some(y.is_none_or(|y| y > 0.0))));
                });
                // A scroll cannot be cancelled, so this never holds one up.
                let _ = window.add_event_listener_with_callback(
                    "scroll",
                    wasm_bindgen::JsCast::unchecked_ref(on_scroll.as_ref()),
                );
                // Kept for the page's life, as the listener is.
                on_scroll.forget();
            }
            scrolled.set(Some(true));
            true
        })
    })
}

/// Scrolls the page to its top, and notes that it is there.
pub fn to_top() {
    if let Some(window) = web_sys::window() {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
    SCROLLED.with(|scrolled| {
        if scrolled.get().is_some() {
            scrolled.set(Some(false));
        }
    });
}
