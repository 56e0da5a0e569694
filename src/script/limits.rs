//! Limits for scheduled and untrusted scripts, the wall-clock timeout and cancellation.
//!
//! Every limit is set explicitly on the engine, so debug and release builds behave the same
//! (Rhai's own call-depth default is 8 in debug builds and 64 in release). A run through
//! [`Runtime`](super::Runtime) also gets a wall-clock deadline and watches the runtime's
//! [`CancelHandle`]; both are checked between operations (Rhai's `on_progress`) and while
//! `op::wait` polls. A single API call is bounded by the HTTP timeouts instead.
//!
//! **Known gap (Rhai 1.27):** the size limits do not bound the *nesting depth* of values built
//! by property or index assignment (`m[k] = v`, `n.x = m` in a loop), and Rhai walks nested
//! values recursively, so a script that nests a few thousand levels deep can overflow the
//! thread's stack and abort the process. Nesting arrays through literals (`a = [a]`) is caught
//! by the array size limit. Run untrusted scripts in a separate process if that matters.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, Map};

/// The limits a script runs under. Start from [`Limits::default`] and adjust.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most operations (roughly AST nodes evaluated) per run. Default 100 million.
    pub max_operations: u64,
    /// Deepest script-function call nesting. Default 48, the same in debug and release.
    pub max_call_levels: usize,
    /// Deepest expression nesting at the top level, when compiling. Default 64.
    pub max_expr_depth: usize,
    /// Deepest expression nesting inside functions, when compiling. Default 32.
    pub max_function_expr_depth: usize,
    /// Longest string, in bytes. Default 16 MiB.
    pub max_string_size: usize,
    /// Most items in one array. Default 1 million.
    pub max_array_size: usize,
    /// Most properties in one object map. Default 100,000. Rhai 1.27 checks it when maps are
    /// merged (`+=`, `mixin`) and returned, but not on `m[key] = value`, where only the
    /// operation limit bounds growth.
    pub max_map_size: usize,
    /// Most modules one run may import. Default 64.
    pub max_modules: usize,
    /// Wall-clock limit for one run (`None`: none). Default `None`. Checked between operations
    /// and while waiting for operations; a single API call is bounded by the HTTP timeout.
    pub timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 100_000_000,
            max_call_levels: 48,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 16 << 20,
            max_array_size: 1_000_000,
            max_map_size: 100_000,
            max_modules: 64,
            timeout: None,
        }
    }
}

impl Limits {
    /// Sets the operation limit.
    pub fn with_max_operations(mut self, n: u64) -> Self {
        self.max_operations = n;
        self
    }
    /// Sets the call-depth limit.
    pub fn with_max_call_levels(mut self, n: usize) -> Self {
        self.max_call_levels = n;
        self
    }
    /// Sets both expression-depth limits (top level, inside functions).
    pub fn with_max_expr_depths(mut self, global: usize, function: usize) -> Self {
        self.max_expr_depth = global;
        self.max_function_expr_depth = function;
        self
    }
    /// Sets the string size limit (bytes).
    pub fn with_max_string_size(mut self, n: usize) -> Self {
        self.max_string_size = n;
        self
    }
    /// Sets the array size limit.
    pub fn with_max_array_size(mut self, n: usize) -> Self {
        self.max_array_size = n;
        self
    }
    /// Sets the map size limit.
    pub fn with_max_map_size(mut self, n: usize) -> Self {
        self.max_map_size = n;
        self
    }
    /// Sets the wall-clock limit of a run.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Applies the engine-side limits (everything but the timeout).
    pub fn apply(&self, engine: &mut Engine) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_levels)
            .set_max_expr_depths(self.max_expr_depth, self.max_function_expr_depth)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size)
            .set_max_modules(self.max_modules);
    }
}

/// Stops the scripts a [`Runtime`](super::Runtime) is running, from any thread.
///
/// [`cancel`](CancelHandle::cancel) stops every run in progress at its next operation (or its
/// next poll in `op::wait`) with [`Error::Cancelled`](super::Error::Cancelled); runs started
/// afterwards are not affected. Cloning shares the handle.
#[derive(Clone, Debug, Default)]
pub struct CancelHandle {
    generation: Arc<AtomicU64>,
}

impl CancelHandle {
    /// Cancels every run in progress.
    pub fn cancel(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn current(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// Why a run was stopped from outside (the token of Rhai's `ErrorTerminated`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    Cancelled,
    TimedOut(Duration),
}

impl Stop {
    pub(crate) fn token(self) -> Dynamic {
        let mut m = Map::new();
        match self {
            Stop::Cancelled => {
                m.insert("kind".into(), "cancelled".into());
                m.insert("message".into(), "the script was cancelled".into());
            }
            Stop::TimedOut(limit) => {
                m.insert("kind".into(), "timeout".into());
                m.insert(
                    "message".into(),
                    format!("the script ran longer than its {} ms limit", limit.as_millis()).into(),
                );
                m.insert("limit_ms".into(), (limit.as_millis() as i64).into());
            }
        }
        Dynamic::from_map(m)
    }

    pub(crate) fn from_token(token: &Dynamic) -> Option<Stop> {
        let m = token.read_lock::<Map>()?;
        match m.get("kind")?.clone().into_string().ok()?.as_str() {
            "cancelled" => Some(Stop::Cancelled),
            "timeout" => {
                let ms = m.get("limit_ms")?.as_int().ok()?;
                Some(Stop::TimedOut(Duration::from_millis(ms.max(0) as u64)))
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy)]
struct RunState {
    deadline: Option<(Instant, Duration)>,
    generation: u64,
    handle_id: usize,
}

thread_local! {
    static RUNS: RefCell<Vec<RunState>> = const { RefCell::new(Vec::new()) };
}

/// Marks the current thread as running a script for one runtime; dropped when the run ends.
pub(crate) struct RunGuard(());

impl RunGuard {
    pub(crate) fn enter(cancel: &CancelHandle, timeout: Option<Duration>) -> RunGuard {
        let state = RunState {
            deadline: timeout.map(|t| (Instant::now() + t, t)),
            generation: cancel.current(),
            handle_id: Arc::as_ptr(&cancel.generation) as usize,
        };
        RUNS.with(|r| r.borrow_mut().push(state));
        RunGuard(())
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        RUNS.with(|r| r.borrow_mut().pop());
    }
}

/// Whether the run on this thread (if any, and if it belongs to `cancel`) must stop.
pub(crate) fn check(cancel: &CancelHandle, check_clock: bool) -> Option<Stop> {
    let id = Arc::as_ptr(&cancel.generation) as usize;
    RUNS.with(|r| {
        let runs = r.borrow();
        let run = runs.last().filter(|s| s.handle_id == id)?;
        if cancel.current() != run.generation {
            return Some(Stop::Cancelled);
        }
        match run.deadline {
            Some((at, limit)) if check_clock && Instant::now() >= at => Some(Stop::TimedOut(limit)),
            _ => None,
        }
    })
}

/// The stop conditions of the run on this thread, carried to other threads (bulk workers):
/// cancellation of `cancel` since the run began, and the run's deadline.
#[derive(Clone, Debug)]
pub(crate) struct Watch {
    generation: Arc<AtomicU64>,
    since: Option<u64>,
    deadline: Option<(Instant, Duration)>,
}

impl Watch {
    /// The current run's conditions (none if this thread runs no script of this runtime:
    /// then only a cancel from now on stops it).
    pub(crate) fn current(cancel: &CancelHandle) -> Watch {
        let id = Arc::as_ptr(&cancel.generation) as usize;
        let run = RUNS.with(|r| r.borrow().last().filter(|s| s.handle_id == id).copied());
        Watch {
            generation: cancel.generation.clone(),
            since: Some(run.map_or(cancel.current(), |r| r.generation)),
            deadline: run.and_then(|r| r.deadline),
        }
    }

    /// Whether the run must stop.
    pub(crate) fn stop(&self) -> Option<Stop> {
        if self.since.is_some_and(|g| self.generation.load(Ordering::SeqCst) != g) {
            return Some(Stop::Cancelled);
        }
        match self.deadline {
            Some((at, limit)) if Instant::now() >= at => Some(Stop::TimedOut(limit)),
            _ => None,
        }
    }
}

/// Installs the `on_progress` watcher: cancellation at every operation, the clock every 256.
pub(crate) fn install_watch(engine: &mut Engine, cancel: CancelHandle) {
    engine.on_progress(move |ops| check(&cancel, ops % 256 == 0).map(Stop::token));
}
