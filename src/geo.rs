//! The phone's position from the Geolocation API, which works with no
//! network. Every outcome is a calm state; none of them blocks saving.

use beatbook_core::Location;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// How long to wait for a fix before saying there is none.
const FIX_TIMEOUT_MS: i32 = 20_000;
/// A fix this recent is good enough for a note.
const MAX_FIX_AGE_MS: u32 = 30_000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GeoState {
    /// Not asked for (switched off, or not yet).
    Off,
    Locating,
    Fix(Location),
    Denied,
    Unavailable,
    TimedOut,
    Unsupported,
}

impl GeoState {
    pub fn location(self) -> Option<Location> {
        match self {
            GeoState::Fix(l) => Some(l),
            _ => None,
        }
    }

    pub fn describe(self) -> String {
        match self {
            GeoState::Off => "Location not attached.".into(),
            GeoState::Locating => "Finding your location… you can save now; it is added if found in time.".into(),
            GeoState::Fix(l) => format!("Location attached: {}.", l.describe()),
            GeoState::Denied => {
                "Location is not allowed for Beatbook. You can save without it: describe the place instead, or allow location in the browser's settings.".into()
            }
            GeoState::Unavailable => "No GPS fix here. You can save without it: describe the place instead.".into(),
            GeoState::TimedOut => "No GPS fix yet. You can save without it: try again or describe the place.".into(),
            GeoState::Unsupported => "This browser cannot give a location. Describe the place instead.".into(),
        }
    }
}

/// Asks for one fix and hands the outcome to `done` (exactly once).
pub fn request_fix(done: impl FnOnce(GeoState) + 'static) {
    let Some(geolocation) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
        done(GeoState::Unsupported);
        return;
    };
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(done)));
    let finish = {
        let done = done.clone();
        move |state: GeoState| {
            if let Some(f) = done.borrow_mut().take() {
                f(state);
            }
        }
    };
    let on_fix = {
        let finish = finish.clone();
        Closure::once_into_js(move |position: web_sys::Position| {
            let coords = position.coords();
            let state = Location::new(coords.latitude(), coords.longitude(), coords.accuracy())
                .map(GeoState::Fix)
                .unwrap_or(GeoState::Unavailable);
            finish(state);
        })
    };
    let on_error = {
        let finish = finish.clone();
        Closure::once_into_js(move |error: web_sys::PositionError| {
            finish(match error.code() {
                web_sys::PositionError::PERMISSION_DENIED => GeoState::Denied,
                web_sys::PositionError::TIMEOUT => GeoState::TimedOut,
                _ => GeoState::Unavailable,
            });
        })
    };
    let options = web_sys::PositionOptions::new();
    options.set_enable_high_accuracy(true);
    options.set_timeout(FIX_TIMEOUT_MS as u32);
    options.set_maximum_age(MAX_FIX_AGE_MS);
    if geolocation
        .get_current_position_with_error_callback_and_options(
            on_fix.unchecked_ref(),
            Some(on_error.unchecked_ref()),
            &options,
        )
        .is_err()
    {
        finish(GeoState::Unsupported);
    }
}

/// The phone's position for one form, as a read-only signal. `locate` asks
/// for a fix; `switch_off` drops the location. A fix that arrives after the
/// person switched location off, or after they asked again, is ignored, so an
/// old answer never replaces what is on screen.
#[derive(Clone, Copy)]
pub struct UseLocation {
    pub state: ReadSignal<GeoState>,
    set_state: WriteSignal<GeoState>,
    /// Which request an arriving fix must answer to be shown.
    asked: StoredValue<u32>,
}

/// Starts with `initial` (a note's saved location, or nothing) and asks for
/// nothing until `locate` is called.
pub fn use_location(initial: Option<Location>) -> UseLocation {
    let (state, set_state) = signal(initial.map_or(GeoState::Off, GeoState::Fix));
    UseLocation {
        state,
        set_state,
        asked: StoredValue::new(0),
    }
}

impl UseLocation {
    pub fn locate(self) {
        let Some(asked) = self.asked.try_get_value() else {
            return;
        };
        let request = asked.wrapping_add(1);
        self.asked.set_value(request);
        self.set_state.set(GeoState::Locating);
        request_fix(move |found| {
            // The form that asked may be gone by the time a fix arrives.
            let current = self.asked.try_get_value() == Some(request);
            if current && self.state.try_get_untracked() == Some(GeoState::Locating) {
                self.set_state.set(found);
            }
        });
    }

    /// Shows a fix found before (a draft's), unless a location is being
    /// looked for or shown already.
    pub fn restore(self, location: Location) {
        if self.state.try_get_untracked() == Some(GeoState::Off) {
            self.set_state.set(GeoState::Fix(location));
        }
    }

    pub fn switch_off(self) {
        self.asked.update_value(|n| *n = n.wrapping_add(1));
        self.set_state.set(GeoState::Off);
    }

    /// The location to save with, if there is a fix.
    pub fn location(self) -> Option<Location> {
        self.state.get_untracked().location()
    }
}
