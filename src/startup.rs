//! Keeps the task that starts the residents' pages short. The app takes over
//! the server's plain page in one task (read what was typed, draw the app,
//! remove the page), so that nothing in between is ever painted or typed
//! into. What that drawing starts (effects, reads of storage, fetches, the
//! service worker's registration) waits for the tasks after it, one each:
//! on a cheap phone the whole start-up in one go held the page for 200 ms
//! or more, and a keystroke or a scroll waited for all of it.
//!
//! Leptos spawns its effects and tasks through `any_spawner`'s executor;
//! this one holds back what is spawned while the app is being drawn, then
//! hands it to wasm-bindgen's, as the default executor does with the rest.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use any_spawner::{CustomExecutor, Executor};

type Task = Pin<Box<dyn Future<Output = ()>>>;

thread_local! {
    /// Whether the app is being drawn, and what it has spawned meanwhile.
    static DRAWING: Cell<bool> = const { Cell::new(false) };
    static HELD: RefCell<Vec<Task>> = const { RefCell::new(Vec::new()) };
}

/// Runs `draw` (which draws the app), then whatever it spawned, each in a
/// task of its own, in the order spawned.
pub fn draw_then_start(draw: impl FnOnce()) {
    // Leptos's mount would set wasm-bindgen's executor; set first, this one
    // stays (the one installed first is kept).
    let _ = Executor::init_custom_executor(HoldWhileDrawing);
    DRAWING.set(true);
    draw();
    DRAWING.set(false);
    // Timers set alike run in the order set, each in its own task.
    for task in HELD.take() {
        leptos::prelude::set_timeout(
            move || wasm_bindgen_futures::spawn_local(task),
            Duration::ZERO,
        );
    }
}

struct HoldWhileDrawing;

impl CustomExecutor for HoldWhileDrawing {
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.spawn_local(task);
    }

    fn spawn_local(&self, task: Task) {
        if DRAWING.get() {
            HELD.with_borrow_mut(|held| held.push(task));
        } else {
            wasm_bindgen_futures::spawn_local(task);
        }
    }

    fn poll_local(&self) {}
}
