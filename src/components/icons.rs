//! The app's icons: small inline drawings in the text's colour, hidden from
//! screen readers (each sits beside its label, or has words of its own for
//! them). Drawn here, they show on every phone, with or without an emoji
//! font.

use leptos::prelude::*;

fn icon(d: &'static str) -> AnyView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
            <path d=d/>
        </svg>
    }
    .into_any()
}

pub fn home() -> AnyView {
    icon("M3 11 12 3l9 8M5 9.5V21h5v-6h4v6h5V9.5")
}

pub fn report() -> AnyView {
    icon("M12 21s-7-6.2-7-11a7 7 0 0 1 14 0c0 4.8-7 11-7 11zM12 7v4M12 13.5v.5")
}

pub fn reports() -> AnyView {
    icon("M9 6h11M9 12h11M9 18h11M4 6h1M4 12h1M4 18h1")
}

pub fn meetings() -> AnyView {
    icon("M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 20a6 6 0 0 1 12 0M14 14.4A6 6 0 0 1 22 20")
}

pub fn pen() -> AnyView {
    icon("M4 20h4L19 9l-4-4L4 16zM14 6l4 4")
}

pub fn notes() -> AnyView {
    icon("M6 3h9l4 4v14H6zM9 9h3M9 13h7M9 17h7")
}

pub fn clock() -> AnyView {
    icon("M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2")
}

pub fn inbox() -> AnyView {
    icon("M3 13 6 5h12l3 8v6H3zM3 13h5l1 3h6l1-3h5")
}

pub fn more() -> AnyView {
    icon("M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1M15 4v4M9 10v4M17 16v4")
}

/// A location marker in a line of text, with its words for a screen reader.
pub fn located() -> AnyView {
    view! {
        <span class="inline-icon">
            <svg class="icon small" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
                <path d="M12 21s-7-6.2-7-11a7 7 0 0 1 14 0c0 4.8-7 11-7 11zM12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z"/>
            </svg>
            <span class="visually-hidden">"with location"</span>
        </span>
    }
    .into_any()
}
