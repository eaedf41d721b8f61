//! "Check a report by its code".

use beatbook_core::route::Route;
use beatbook_core::words::look_up;
use leptos::prelude::*;

use crate::nav::Nav;

/// "Check a report by its code": a code typed here opens that report's own
/// page (`/reports/<code>`).
#[component]
pub(super) fn LookUp() -> impl IntoView {
    let nav = expect_context::<Nav>();
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let look = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match beatbook_core::code::normalise(&typed.get_untracked()) {
            Some(code) => {
                problem.set(None);
                nav.go(Route::ReportStatus(code));
            }
            None => problem.set(Some(look_up::NOT_A_CODE.into())),
        }
    };
    view! {
        <form class="look-up" on:submit=look novalidate>
            <label for="look-up-code" class="label">{look_up::LABEL}</label>
            <div class="row">
                <input id="look-up-code" data-testid="look-up-code" type="text" autocapitalize="characters" autocomplete="off"
                    placeholder=look_up::EXAMPLE aria-invalid=move || problem.with(Option::is_some).then_some("true")
                    aria-describedby=move || problem.with(Option::is_some).then_some("look-up-error")
                    prop:value=move || typed.get() on:input=move |ev| { typed.set(event_target_value(&ev)); problem.set(None); }/>
                <button type="submit" class="secondary" data-testid="look-up">{look_up::BUTTON}</button>
            </div>
            {move || problem.get().map(|m| view! { <p id="look-up-error" class="error field-error" data-testid="look-up-message">{m}</p> })}
        </form>
    }
}
