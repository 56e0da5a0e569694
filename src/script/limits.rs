//! Limits for scheduled and untrusted scripts, the wall-clock timeout and cancellation.
//!
//! Every limit is set explicitly on the engine, so debug and release builds behave the same
//! (Rhai's own call-depth default is 8 in debug builds and 64 in release). A run through
//! [`Runtime`](super::Runtime) also gets a wall-clock deadline and watches the runtime's
//! [`CancelHandle`]; both are checked between operations (Rhai's `on_progress`), while
//! `op::wait` polls and while `sleep` sleeps (Rhai's own `sleep` is replaced: it blocked the thread
//! for as long as asked, past both). A single API call is bounded by the HTTP timeouts; a
//! cancellation also cuts off the calls in flight by closing their connections.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FuncRegistration, Map, NativeCallContext, Position, Scope,
};

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
    /// Stack of the thread each run gets, in bytes. Default 256 MiB (reserved address space;
    /// memory is used only as deep as the script goes).
    ///
    /// Rhai copies, compares and drops nested arrays and maps recursively and has no limit on
    /// how deeply values nest (only on how many items they hold), so a script that wraps a value
    /// in itself in a loop can overflow a thread's stack, which aborts the process. On the
    /// default 2 MiB thread stack about 1,000 levels were enough (debug build). The large stack
    /// moves that point to more than 100,000 levels, which Rhai's size check (it walks the whole
    /// value after each assignment) makes hours of work; set [`timeout`](Self::timeout) for
    /// scripts you do not trust.
    pub stack_size: usize,
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
            stack_size: 256 << 20,
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

    /// Sets the stack size of the thread a run gets (bytes).
    pub fn with_stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
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
///
/// A runtime's handle also cuts off the API calls in flight, by closing their connections
/// ([`Client::interrupt`](crate::xmlrpc::Client::interrupt)): a call cut off that way fails as
/// maybe applied, so the bulk engine reconciles it rather than sending it again.
#[derive(Clone, Default)]
pub struct CancelHandle {
    generation: Arc<AtomicU64>,
    interrupters: Arc<std::sync::Mutex<Vec<crate::xmlrpc::Client>>>,
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHandle").field("generation", &self.current()).finish_non_exhaustive()
    }
}

impl CancelHandle {
    /// Cancels every run in progress, and cuts off the calls in flight.
    pub fn cancel(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let clients = crate::sync::lock(&self.interrupters).clone();
        for c in clients {
            c.interrupt();
        }
    }

    /// Lets the interrupted clients call again: a run is starting.
    fn resume(&self) {
        for c in crate::sync::lock(&self.interrupters).iter() {
            c.resume();
        }
    }

    /// Makes [`cancel`](Self::cancel) also interrupt the calls of `client` (and its clones).
    pub(crate) fn interrupts(&self, client: &crate::xmlrpc::Client) {
        crate::sync::lock(&self.interrupters).push(client.clone());
    }

    fn current(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// Stops one run: made with [`Runtime::run_token`](super::Runtime::run_token) and passed to
/// [`Runtime::eval_with_token`](super::Runtime::eval_with_token) (or `run_file_with_token`,
/// `run_ast_with_token`). Cancelling it stops that run at its next statement or call, and no
/// other; cancelled before the run starts, the run stops at once, having sent nothing. Unlike the
/// runtime-wide [`CancelHandle`], it does not cut off a call already in flight (other runs may be
/// sharing its connections): the run stops when that call returns. Cloning shares the token.
#[derive(Clone, Debug, Default)]
pub struct RunToken {
    cancelled: Arc<std::sync::atomic::AtomicBool>,
}

impl RunToken {
    /// Stops the run this token was given to (or will be).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
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

#[derive(Clone)]
struct RunState {
    deadline: Option<(Instant, Duration)>,
    generation: u64,
    handle_id: usize,
    token: Option<RunToken>,
}

thread_local! {
    static RUNS: RefCell<Vec<RunState>> = const { RefCell::new(Vec::new()) };
}

/// Marks the current thread as running a script for one runtime; dropped when the run ends.
pub(crate) struct RunGuard(());

impl RunGuard {
    pub(crate) fn enter(
        cancel: &CancelHandle,
        timeout: Option<Duration>,
        token: Option<&RunToken>,
    ) -> RunGuard {
        cancel.resume();
        let state = RunState {
            deadline: timeout.map(|t| (Instant::now() + t, t)),
            generation: cancel.current(),
            handle_id: Arc::as_ptr(&cancel.generation) as usize,
            token: token.cloned(),
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
        if cancel.current() != run.generation || run.token.as_ref().is_some_and(RunToken::is_cancelled) {
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
    token: Option<RunToken>,
}

impl Watch {
    /// The current run's conditions (none if this thread runs no script of this runtime:
    /// then only a cancel from now on stops it).
    pub(crate) fn current(cancel: &CancelHandle) -> Watch {
        let id = Arc::as_ptr(&cancel.generation) as usize;
        let run = RUNS.with(|r| r.borrow().last().filter(|s| s.handle_id == id).cloned());
        Watch {
            generation: cancel.generation.clone(),
            since: Some(run.as_ref().map_or(cancel.current(), |r| r.generation)),
            deadline: run.as_ref().and_then(|r| r.deadline),
            token: run.and_then(|r| r.token),
        }
    }

    /// Whether the run must stop.
    pub(crate) fn stop(&self) -> Option<Stop> {
        if self.since.is_some_and(|g| self.generation.load(Ordering::SeqCst) != g)
            || self.token.as_ref().is_some_and(RunToken::is_cancelled)
        {
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

/// How long `sleep` sleeps between two looks at the deadline and the cancel handle.
const SLEEP_SLICE: Duration = Duration::from_millis(20);

/// Sleeps `seconds` (nothing for zero, negative or NaN), in slices, stopping early with the
/// run's timeout or cancellation.
fn sleep(cancel: &CancelHandle, ctx: &NativeCallContext, seconds: f64) -> Result<(), Box<EvalAltResult>> {
    if seconds.is_nan() || seconds <= 0.0 {
        return Ok(());
    }
    let end = Duration::try_from_secs_f64(seconds).ok().and_then(|d| Instant::now().checked_add(d));
    loop {
        if let Some(stop) = check(cancel, true) {
            return Err(EvalAltResult::ErrorTerminated(stop.token(), ctx.call_position()).into());
        }
        let left = end.map_or(SLEEP_SLICE, |end| end.saturating_duration_since(Instant::now()));
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLEEP_SLICE));
    }
}

/// Replaces Rhai's `sleep(seconds)` (integer and float) with one that honours the run's deadline
/// and cancellation.
pub(crate) fn install_sleep(engine: &mut Engine, cancel: CancelHandle) {
    let doc = "/// Pauses the script for `seconds`; the run's timeout and cancellation still stop it.";
    let c = cancel.clone();
    FuncRegistration::new("sleep")
        .with_volatility(true)
        .with_params_info(["seconds: f64", "()"])
        .with_comments([doc])
        .register_into_engine(engine, move |ctx: NativeCallContext, seconds: f64| sleep(&c, &ctx, seconds));
    FuncRegistration::new("sleep")
        .with_volatility(true)
        .with_params_info(["seconds: i64", "()"])
        .with_comments([doc])
        .register_into_engine(engine, move |ctx: NativeCallContext, seconds: i64| {
            sleep(&cancel, &ctx, seconds as f64)
        });
}

/// The most levels of nested arrays and maps a value may have when it leaves a run (the result,
/// the scope's variables, a thrown value), the same as for values sent to or read from the API.
/// Deeper values are dropped on the run's own large stack (see [`Limits::stack_size`]): the
/// host's thread could overflow its stack just dropping them.
pub const MAX_RETURNED_DEPTH: usize = super::convert::MAX_DEPTH;

/// Whether `v` nests arrays and maps more than `limit` levels deep (looks no deeper than that).
fn deeper_than(v: &Dynamic, limit: usize) -> bool {
    if v.is_array() {
        limit == 0 || v.read_lock::<Array>().is_some_and(|a| a.iter().any(|x| deeper_than(x, limit - 1)))
    } else if v.is_map() {
        limit == 0 || v.read_lock::<Map>().is_some_and(|m| m.values().any(|x| deeper_than(x, limit - 1)))
    } else {
        false
    }
}

fn too_deep(what: &str, pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(
        format!("Nesting of {what} (more than {MAX_RETURNED_DEPTH} levels of arrays and maps)"),
        pos,
    )
    .into()
}

/// Run on the run's thread before anything leaves it: a result, a thrown value or scope variables
/// nested deeper than [`MAX_RETURNED_DEPTH`] are dropped here, and the run fails with
/// `ErrorDataTooLarge` instead (the scope's deep variables are removed).
pub(crate) fn shallow_or_dropped<T: 'static>(
    result: Result<T, Box<EvalAltResult>>,
    scope: &mut Scope,
) -> Result<T, Box<EvalAltResult>> {
    let deep_vars: Vec<String> = scope
        .iter_raw()
        .filter(|(_, _, v)| deeper_than(v, MAX_RETURNED_DEPTH))
        .map(|(name, _, _)| name.to_string())
        .collect();
    for name in &deep_vars {
        while scope.iter_raw().any(|(n, _, v)| n == name && deeper_than(v, MAX_RETURNED_DEPTH)) {
            drop(scope.remove::<Dynamic>(name));
        }
    }
    let result = match result {
        Ok(v) => {
            let any: &dyn std::any::Any = &v;
            let deep =
                match (any.downcast_ref::<Dynamic>(), any.downcast_ref::<Array>(), any.downcast_ref::<Map>())
                {
                    (Some(d), _, _) => deeper_than(d, MAX_RETURNED_DEPTH),
                    (_, Some(a), _) => a.iter().any(|x| deeper_than(x, MAX_RETURNED_DEPTH - 1)),
                    (_, _, Some(m)) => m.values().any(|x| deeper_than(x, MAX_RETURNED_DEPTH - 1)),
                    _ => false,
                };
            if deep {
                drop(v);
                return Err(too_deep("the script's result", Position::NONE));
            }
            Ok(v)
        }
        Err(e) => {
            let mut inner = &*e;
            while let EvalAltResult::ErrorInFunctionCall(_, _, i, _) | EvalAltResult::ErrorInModule(_, i, _) =
                inner
            {
                inner = i;
            }
            match inner {
                EvalAltResult::ErrorRuntime(v, pos) if deeper_than(v, MAX_RETURNED_DEPTH) => {
                    let pos = *pos;
                    drop(e);
                    Err(too_deep("a thrown value", pos))
                }
                _ => Err(e),
            }
        }
    };
    match (result, deep_vars.is_empty()) {
        (Ok(_), false) => Err(too_deep(&format!("variable `{}`", deep_vars.join("`, `")), Position::NONE)),
        (r, _) => r,
    }
}
