//! The one way screens show what the server says (`components::kept`): the
//! kept copy at once, then the server's answer, kept in its place; a failed
//! fetch leaves the kept copy on screen; an older answer never replaces a
//! newer one.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use beatbook::components::kept::{use_fetched, use_kept};
use beatbook::store::{cache, local};
use beatbook::sync::ClientError;
use beatbook_core::protocol::Privacy;
use js_sys::{Function, Promise};
use leptos::prelude::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Answers the test gives by hand, one per fetch, in the order asked.
#[derive(Clone, Default)]
struct Server {
    waiting: Rc<RefCell<VecDeque<Function>>>,
}

impl Server {
    /// A fetch of the privacy page whose answer waits for [`Server::answer`].
    fn fetch(&self) -> impl std::future::Future<Output = Result<Privacy, ClientError>> {
        let waiting = self.waiting.clone();
        let promise = Promise::new(&mut |resolve, _| waiting.borrow_mut().push_back(resolve));
        async move {
            let days = JsFuture::from(promise).await.ok().and_then(|v| v.as_f64());
            match days {
                Some(days) => Ok(Privacy {
                    keep_contact_days: days as u32,
                }),
                None => Err(ClientError::Unreachable),
            }
        }
    }

    /// Answers the `n`th fetch still waiting (0 is the oldest): days, or
    /// no answer.
    async fn answer(&self, n: usize, days: Option<u32>) {
        let resolve = self.waiting.borrow_mut().remove(n).expect("a fetch waits");
        let value = days.map_or(JsValue::NULL, JsValue::from);
        resolve.call1(&JsValue::NULL, &value).unwrap();
        settle().await;
    }

    fn asked(&self) -> usize {
        self.waiting.borrow().len()
    }
}

/// Lets the answered fetch's task run: a timer fires after every task
/// already woken.
async fn settle() {
    let timer = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback(&resolve)
            .unwrap();
    });
    JsFuture::from(timer).await.unwrap();
}

fn fresh(kept: Option<u32>) {
    // Starts Leptos's task executor, which the hook spawns its fetches on.
    leptos::mount::mount_to_body(|| ());
    local::local_storage().unwrap().clear().unwrap();
    if let Some(days) = kept {
        cache::PRIVACY
            .write(&Privacy {
                keep_contact_days: days,
            })
            .unwrap();
    }
}

fn days(value: Option<Privacy>) -> Option<u32> {
    value.map(|p| p.keep_contact_days)
}

#[wasm_bindgen_test]
async fn the_kept_copy_shows_at_once_and_the_answer_takes_its_place() {
    fresh(Some(30));
    let server = Server::default();
    let kept = use_kept(cache::PRIVACY, {
        let server = server.clone();
        move |_| Some(server.fetch())
    });
    assert_eq!(
        days(kept.value.get_untracked()),
        Some(30),
        "before any answer"
    );
    assert!(kept.refreshing.get_untracked());
    assert_eq!(server.asked(), 1, "fetched at once");

    server.answer(0, Some(90)).await;
    assert_eq!(days(kept.value.get_untracked()), Some(90));
    assert!(!kept.refreshing.get_untracked());
    assert_eq!(kept.error.get_untracked(), None);
    assert_eq!(days(cache::PRIVACY.read()), Some(90), "and kept");
}

#[wasm_bindgen_test]
async fn a_failed_fetch_leaves_the_kept_copy_on_screen() {
    fresh(Some(30));
    let server = Server::default();
    let kept = use_kept(cache::PRIVACY, {
        let server = server.clone();
        move |_| Some(server.fetch())
    });
    server.answer(0, None).await;
    assert_eq!(days(kept.value.get_untracked()), Some(30));
    assert_eq!(
        kept.error.get_untracked(),
        Some(ClientError::Unreachable.to_string())
    );
    assert!(!kept.refreshing.get_untracked());

    kept.refresh();
    assert!(kept.refreshing.get_untracked());
    server.answer(0, Some(60)).await;
    assert_eq!(days(kept.value.get_untracked()), Some(60));
    assert_eq!(
        kept.error.get_untracked(),
        None,
        "a success clears the error"
    );
}

#[wasm_bindgen_test]
async fn an_older_answer_never_replaces_a_newer_one() {
    fresh(None);
    let server = Server::default();
    let kept = use_kept(cache::PRIVACY, {
        let server = server.clone();
        move |_| Some(server.fetch())
    });
    assert_eq!(days(kept.value.get_untracked()), None, "nothing kept yet");
    kept.refresh();
    assert_eq!(server.asked(), 2);

    server.answer(1, Some(60)).await;
    assert_eq!(days(kept.value.get_untracked()), Some(60));
    assert!(!kept.refreshing.get_untracked(), "the newest has answered");
    server.answer(0, Some(30)).await;
    assert_eq!(
        days(kept.value.get_untracked()),
        Some(60),
        "the older is dropped"
    );
    assert_eq!(days(cache::PRIVACY.read()), Some(60));
}

#[wasm_bindgen_test]
async fn nothing_to_fetch_changes_nothing_and_an_unkept_value_is_not_kept() {
    fresh(Some(30));
    let kept = use_kept(cache::PRIVACY, |_| {
        None::<std::future::Ready<Result<Privacy, ClientError>>>
    });
    assert_eq!(days(kept.value.get_untracked()), Some(30));
    assert!(!kept.refreshing.get_untracked());

    fresh(None);
    let server = Server::default();
    let fetched = use_fetched({
        let server = server.clone();
        move |_| Some(server.fetch())
    });
    server.answer(0, Some(45)).await;
    assert_eq!(days(fetched.value.get_untracked()), Some(45));
    assert_eq!(cache::PRIVACY.read(), None, "kept nowhere");
}
