//! How a thread tells the event loop it is about to block: the loop's workers register what to
//! do ([`on_this_thread`]), and code anywhere in the server (the HTTP layer's slow reads and
//! writes, a handler's sleep) calls [`about_to_block`] without knowing about the loop.

use std::cell::Cell;

thread_local! {
    static HOOK: Cell<Option<fn()>> = const { Cell::new(None) };
}

/// Makes [`about_to_block`] call `hook` on this thread (an event-loop worker's).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn on_this_thread(hook: fn()) {
    HOOK.set(Some(hook));
}

/// Runs this thread's hook, if it has one; a no-op elsewhere.
pub(crate) fn about_to_block() {
    if let Some(hook) = HOOK.get() {
        hook();
    }
}
