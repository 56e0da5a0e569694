//! Ctrl-C for the whole process. The `ctrlc` crate allows one handler per process, so every
//! front end goes through this module instead of calling `ctrlc::set_handler` itself.
//!
//! [`install`] sets the handler once (later calls do nothing). When a signal arrives (SIGINT, and
//! with ctrlc's `termination` feature also SIGTERM and SIGHUP), the [`count`] goes up and the
//! hooks registered with [`on_interrupt`] are asked, newest first, until one returns `true`
//! ("handled", e.g. it cancelled a running script). When none does, the process exits with
//! status 130, as it would without a handler.
//!
//! ```no_run
//! use gandish::cli::interrupt;
//! # let runtime = gandish::Runtime::builder().key("k").build().unwrap();
//! interrupt::install().expect("Ctrl-C handler");
//! let cancel = runtime.cancel_handle();
//! let _hook = interrupt::on_interrupt(move || {
//!     cancel.cancel();
//!     true
//! });
//! // … runs started now stop at Ctrl-C; the hook is removed when `_hook` is dropped.
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

type Hook = Arc<dyn Fn() -> bool + Send + Sync>;

static COUNT: AtomicU64 = AtomicU64::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static HOOKS: Mutex<Vec<(u64, Hook)>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// The handler could not be installed (another one was set with `ctrlc` directly).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot handle Ctrl-C: {0}")]
pub struct InstallError(String);

/// Installs the process's signal handler; calling it again does nothing (and returns the first
/// call's outcome).
pub fn install() -> Result<(), InstallError> {
    INSTALLED
        .get_or_init(|| ctrlc::set_handler(handle).map_err(|e| e.to_string()))
        .clone()
        .map_err(InstallError)
}

/// How many interrupts arrived since the process started.
pub fn count() -> u64 {
    COUNT.load(Ordering::SeqCst)
}

/// Registers a hook asked at each interrupt while the returned guard lives.
#[must_use = "the hook is removed when the guard is dropped"]
pub fn on_interrupt(hook: impl Fn() -> bool + Send + Sync + 'static) -> HookGuard {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    crate::sync::lock(&HOOKS).push((id, Arc::new(hook)));
    HookGuard(id)
}

/// Removes its hook when dropped.
#[derive(Debug)]
pub struct HookGuard(u64);

impl Drop for HookGuard {
    fn drop(&mut self) {
        crate::sync::lock(&HOOKS).retain(|(id, _)| *id != self.0);
    }
}

fn handle() {
    COUNT.fetch_add(1, Ordering::SeqCst);
    if !dispatch() {
        std::process::exit(130);
    }
}

/// Asks the hooks, newest first; `true` when one handled the interrupt.
fn dispatch() -> bool {
    let hooks: Vec<Hook> = crate::sync::lock(&HOOKS).iter().map(|(_, h)| h.clone()).collect();
    hooks.iter().rev().any(|h| h())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn newest_hook_first_and_removed_on_drop() {
        let first = Arc::new(AtomicBool::new(false));
        let f = first.clone();
        let _outer = on_interrupt(move || {
            f.store(true, Ordering::SeqCst);
            true
        });
        {
            let _inner = on_interrupt(|| true);
            assert!(dispatch());
            assert!(!first.load(Ordering::SeqCst), "the newer hook handled it");
        }
        assert!(dispatch());
        assert!(first.load(Ordering::SeqCst), "the inner hook is gone, the outer one answers");
    }
}
