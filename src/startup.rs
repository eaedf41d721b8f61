//! Keeps the tasks that start the residents' pages short. The app takes
//! over the server's plain page in two tasks: the first draws its frame
//! (state, header, bottom bar), hidden while the plain page is there; the
//! next reads what was typed, draws the screen, and removes the plain page,
//! so that nothing in between is ever painted, and whatever is typed before
//! the screen is drawn goes into the plain form, which is read then. What
//! that drawing starts (effects, reads of storage, fetches, the service
//! worker's registration) waits for the tasks after them, one each: on a
//! cheap phone the whole start-up in one go held the page for 200 ms or
//! more, and a keystroke or a scroll waited for all of it.
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
    /// The drawing put off to the second task ([`put_off`]).
    static PUT_OFF: RefCell<Option<Box<dyn FnOnce() -> bool>>> = const { RefCell::new(None) };
}

/// Runs `frame` (which draws the app's frame) in this task, `then` (which
/// draws the rest, [`draw_put_off`]) in a later one (input and a paint may
/// come in between: the frame is hidden, and the plain page in use), then
/// whatever both spawned, each in a task of its own, in the order spawned.
pub fn draw_then_start(frame: impl FnOnce(), then: impl FnOnce() + 'static) {
    // Leptos's mount would set wasm-bindgen's executor; set first, this one
    // stays (the one installed first is kept).
    let _ = Executor::init_custom_executor(HoldWhileDrawing);
    drawing(frame);
    // Timers set alike run in the order set, each in its own task: the
    // held work gets its timers only once the rest is drawn.
    leptos::prelude::set_timeout(
        move || {
            drawing(then);
            for task in HELD.take() {
                leptos::prelude::set_timeout(
                    move || wasm_bindgen_futures::spawn_local(task),
                    Duration::ZERO,
                );
            }
        },
        Duration::ZERO,
    );
}

fn drawing(draw: impl FnOnce()) {
    DRAWING.set(true);
    draw();
    DRAWING.set(false);
}

/// Puts off `step` of the drawing (the screen) to the second task, where
/// [`draw_put_off`] runs it; `step` says whether it drew.
pub fn put_off(step: impl FnOnce() -> bool + 'static) {
    PUT_OFF.set(Some(Box::new(step)));
}

/// Draws what the frame put off, if anything; whether the app is whole
/// (what was put off is drawn, or nothing was).
pub fn draw_put_off() -> bool {
    PUT_OFF.take().is_none_or(|step| step())
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
