//! A short confirmation near the top of the screen, where the eye is after a
//! tap: "Saved on this phone", which turns into "Sent" when the server has
//! the record. One at a time; it goes by itself after a while.

use std::time::Duration;

use beatbook_core::RecordKey;
use leptos::prelude::*;

use crate::state::AppState;

/// How long a confirmation stays.
const SHOWN_FOR: Duration = Duration::from_secs(8);

#[derive(Clone, Debug, PartialEq)]
struct Toast {
    text: String,
    /// The record it speaks of, and what to say once the server has it.
    watch: Option<(RecordKey, &'static str)>,
    testid: &'static str,
}

/// The one place confirmations are shown.
#[derive(Clone, Copy)]
pub struct Toasts {
    current: RwSignal<Option<Toast>>,
    /// When the toast shown goes (milliseconds since the epoch), and
    /// whether a timer is set to see to it. One timer serves a run of
    /// toasts: on firing it sets itself again for the time left, so a
    /// toast shown while one is up (a note saved after another) sets no
    /// timer on the way to "saved".
    until: StoredValue<f64>,
    timer_set: StoredValue<bool>,
}

impl Toasts {
    pub fn new() -> Toasts {
        Toasts {
            current: RwSignal::new(None),
            until: StoredValue::new(0.0),
            timer_set: StoredValue::new(false),
        }
    }

    /// Shows `text`; if `watch` names a record, the toast says its second
    /// part instead once that record has been sent.
    pub fn show(
        &self,
        text: impl Into<String>,
        testid: &'static str,
        watch: Option<(RecordKey, &'static str)>,
    ) {
        self.current.set(Some(Toast {
            text: text.into(),
            watch,
            testid,
        }));
        self.until
            .set_value(js_sys::Date::now() + SHOWN_FOR.as_millis() as f64);
        if !self.timer_set.get_value() {
            self.take_down_in(SHOWN_FOR);
        }
    }

    /// Takes the toast down once its time is up, `after` from now or later.
    fn take_down_in(self, after: Duration) {
        self.timer_set.set_value(true);
        set_timeout(
            move || {
                self.timer_set.set_value(false);
                if self.current.with_untracked(Option::is_none) {
                    return;
                }
                let left = self.until.get_value() - js_sys::Date::now();
                if left > 0.0 {
                    self.take_down_in(Duration::from_millis(left.ceil() as u64));
                } else {
                    self.current.set(None);
                }
            },
            after,
        );
    }

    pub fn dismiss(&self) {
        self.current.set(None);
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Toasts::new()
    }
}

/// How far a finger moves across the toast to swipe it away.
const SWIPE_PX: i32 = 60;

#[component]
pub fn ToastView() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let state = expect_context::<AppState>();
    // A memo: the notebook changes often (each save, each answer from the
    // server), and only a change in what the toast says redraws it.
    let shown = Memo::new(move |_| {
        toasts.current.with(|t| {
            t.as_ref().map(|t| match t.watch {
                Some((key, sent))
                    if state.book.with(|b| b.get(key).is_some_and(|r| r.is_sent())) =>
                {
                    (sent.to_owned(), true, t.testid)
                }
                _ => (t.text.clone(), false, t.testid),
            })
        })
    });
    let part = move |f: fn(&(String, bool, &'static str)) -> String| {
        shown.with(|t| t.as_ref().map(f).unwrap_or_default())
    };
    // Escape dismisses it from anywhere, as a swipe across it does.
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && toasts.current.with_untracked(Option::is_some) {
            toasts.dismiss();
        }
    });
    let swipe_from = StoredValue::new(None::<i32>);
    let on_down = move |ev: leptos::ev::PointerEvent| swipe_from.set_value(Some(ev.client_x()));
    let on_up = move |ev: leptos::ev::PointerEvent| {
        if let Some(from) = swipe_from.try_update_value(Option::take).flatten() {
            if (ev.client_x() - from).abs() > SWIPE_PX {
                toasts.dismiss();
            }
        }
    };
    // Always in the page, so that a screen reader hears each new message.
    // It sits in the page's flow below the header and its banners, so it
    // never covers a control; the capture screen scrolls to it on saving.
    view! {
        <div class="toast-slot" role="status" aria-live="polite">
            // One toast following another keeps its element, and only its
            // words change: drawing it anew in the moment after a save
            // delayed the "saved" on a cheap phone.
            <Show when=move || shown.with(Option::is_some)>
                <div class="toast" class:sent=move || shown.with(|t| t.as_ref().is_some_and(|t| t.1))
                    on:pointerdown=on_down on:pointerup=on_up>
                    <p data-testid=move || part(|t| t.2.to_owned())>{move || part(|t| t.0.clone())}</p>
                    <button class="toast-close" aria-label="Dismiss" on:click=move |_| toasts.dismiss()>"×"</button>
                </div>
            </Show>
        </div>
    }
}
