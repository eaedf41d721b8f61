//! One confirmation for every action that cannot be undone: a question, the
//! action, and a way out. It is announced as an alert dialog, takes focus on
//! the safe choice, and Escape keeps things as they are.

use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Confirm(
    /// A short name for the dialog, read out first ("Delete this note?").
    title: &'static str,
    /// What will happen, in full.
    #[prop(into)]
    question: Signal<String>,
    /// The action's words ("Delete for good").
    act: &'static str,
    /// The safe choice's words ("Keep it").
    keep: &'static str,
    /// The action button's `data-testid`.
    testid: &'static str,
    #[prop(into)] on_act: Callback<()>,
    #[prop(into)] on_keep: Callback<()>,
) -> impl IntoView {
    let safe = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = safe.get() {
            let _ = button.focus();
        }
    });
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            on_keep.run(());
        }
    };
    view! {
        <div class="confirm" role="alertdialog" aria-label=title on:keydown=on_key>
            <p>{question}</p>
            <div class="row">
                <button class="danger" data-testid=testid on:click=move |_| on_act.run(())>{act}</button>
                <button class="secondary" node_ref=safe on:click=move |_| on_keep.run(())>{keep}</button>
            </div>
        </div>
    }
}
