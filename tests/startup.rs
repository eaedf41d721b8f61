//! The tasks that start the residents' pages are kept short
//! (`beatbook::startup`): the frame in one, the screen in the next, and
//! what drawing them spawns (tasks and effects) in the tasks after, in the
//! order spawned; what is spawned after runs as it always does. A file of
//! its own: Leptos's executor is set once per page, and another test's
//! mount would set wasm-bindgen's first.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

type Log = Rc<RefCell<Vec<&'static str>>>;

fn logged(log: &Log, what: &'static str) -> impl std::future::Future<Output = ()> + 'static {
    let log = log.clone();
    async move { log.borrow_mut().push(what) }
}

/// Resolves once the microtasks queued so far have run: still this task.
async fn microtasks() {
    for _ in 0..3 {
        let _ = JsFuture::from(Promise::resolve(&JsValue::NULL)).await;
    }
}

/// Resolves in a task after this one (timers run in the order set).
async fn next_task() {
    let timer = Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .expect("a window")
            .set_timeout_with_callback(&resolve);
    });
    let _ = JsFuture::from(timer).await;
    microtasks().await;
}

#[wasm_bindgen_test]
async fn the_app_is_drawn_in_two_tasks_and_what_drawing_spawns_runs_after_in_order() {
    let log: Log = Rc::default();
    let owner = Owner::new();
    let screen_log = log.clone();
    let screen_owner = owner.clone();
    beatbook::startup::draw_then_start(
        || {
            // A JavaScript microtask queued by the first runs before the
            // next: each has a task of its own.
            let first = log.clone();
            leptos::task::spawn_local(async move {
                first.borrow_mut().push("spawned first");
                let then = first.clone();
                let microtask =
                    Closure::once(move |_: JsValue| then.borrow_mut().push("its microtask"));
                let _ = Promise::resolve(&JsValue::NULL).then(&microtask);
                microtask.forget();
            });
            owner.with(|| {
                let log = log.clone();
                Effect::new(move |_| log.borrow_mut().push("effect"));
            });
            let put_off = log.clone();
            beatbook::startup::put_off(move || {
                put_off.borrow_mut().push("screen");
                true
            });
            log.borrow_mut().push("frame");
        },
        move || {
            assert!(beatbook::startup::draw_put_off(), "drawn");
            screen_owner.with(|| {
                let log = screen_log.clone();
                Effect::new(move |_| log.borrow_mut().push("screen's effect"));
            });
            leptos::task::spawn_local(logged(&screen_log, "spawned last"));
            screen_log.borrow_mut().push("taken over");
        },
    );
    leptos::task::spawn_local(logged(&log, "spawned after drawing"));

    microtasks().await;
    assert_eq!(
        *log.borrow(),
        ["frame", "spawned after drawing"],
        "the screen waits for the next task, and nothing spawned while drawing runs"
    );

    next_task().await;
    assert_eq!(
        *log.borrow(),
        ["frame", "spawned after drawing", "screen", "taken over"],
        "the screen is drawn in the next task, and still nothing spawned runs"
    );

    next_task().await;
    assert_eq!(
        *log.borrow(),
        [
            "frame",
            "spawned after drawing",
            "screen",
            "taken over",
            "spawned first",
            "its microtask",
            "effect",
            "screen's effect",
            "spawned last"
        ],
        "in the tasks after, one each, all of it, in the order spawned"
    );

    // From then on, a spawn runs within the task that asked for it.
    leptos::task::spawn_local(logged(&log, "spawned later"));
    microtasks().await;
    assert_eq!(log.borrow().last(), Some(&"spawned later"));
    drop(owner);
}
