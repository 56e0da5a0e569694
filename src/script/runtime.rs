//! [`Runtime`]: the embedding API.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rhai::{AST, Dynamic, Engine, FuncArgs, OptimizationLevel, Position, Scope};

use super::confirm::{ConfirmHook, Decision, Mutation};
use super::error::Error;
use super::host::{Clock, Host, lock, system_clock};
use super::limits::{self, CancelHandle, Limits, RunGuard, RunToken};
use super::modules;
use super::plan::{CallLog, PlanEntry};
use super::resolver::{ModuleCache, Resolver};
use crate::calendar::Zone;
use crate::gandi::{ApiKey, CallRecord, Gandi, GandiError, PRODUCTION_URL, RetryPolicy, Throttle};
use crate::xmlrpc::ClientConfig;

pub use super::hooks::{BulkHook, CallHook, DebugHook, PrintHook, WaitEvent, WaitHook};

/// Why a [`Runtime`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Neither a key nor a ready client was given.
    #[error("no API key: call RuntimeBuilder::key (or pass a ready client with RuntimeBuilder::gandi)")]
    NoKey,
    /// The endpoint or client settings are unusable (bad URL, plain http to a remote host, CA file).
    #[error("cannot set up the API client: {0}")]
    Client(#[from] GandiError),
    /// A setting is out of range.
    #[error("invalid runtime setting: {0}")]
    Config(String),
}

/// Builds a [`Runtime`]; start with [`Runtime::builder`].
pub struct RuntimeBuilder {
    endpoint: String,
    key: Option<ApiKey>,
    gandi: Option<Gandi>,
    client_config: ClientConfig,
    limits: Limits,
    dry_run: bool,
    zone: Zone,
    clock: Option<Clock>,
    on_print: Option<PrintHook>,
    on_debug: Option<DebugHook>,
    on_call: Option<CallHook>,
    on_wait: Option<WaitHook>,
    wait_timeout: Duration,
    poll_interval: Duration,
    base_dir: Option<PathBuf>,
    journal_dir: Option<PathBuf>,
    confirm: Option<ConfirmHook>,
    pacing: Pacing,
}

/// The builder's throttle settings.
#[derive(Clone, Default)]
struct Pacing {
    rate: Option<Option<u32>>,
    policy: RetryPolicy,
    on_bulk: Option<BulkHook>,
}

impl fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("endpoint", &self.endpoint)
            .field("key", &self.key)
            .field("gandi", &self.gandi)
            .field("client_config", &self.client_config)
            .field("limits", &self.limits)
            .field("dry_run", &self.dry_run)
            .field("zone", &self.zone)
            .field("wait_timeout", &self.wait_timeout)
            .field("poll_interval", &self.poll_interval)
            .field("base_dir", &self.base_dir)
            .field("journal_dir", &self.journal_dir)
            .field("rate_limit", &self.pacing.rate)
            .field("retry", &self.pacing.policy)
            .field("confirm", &self.confirm.is_some())
            .finish_non_exhaustive()
    }
}

impl RuntimeBuilder {
    /// The API endpoint (default: production, `https://rpc.gandi.net/xmlrpc/`).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// The API key.
    pub fn key(mut self, key: impl Into<ApiKey>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// A ready client (endpoint, key and settings); [`endpoint`](Self::endpoint),
    /// [`key`](Self::key) and [`client_config`](Self::client_config) are then ignored. The
    /// runtime installs its own call-log hook on its copy of the client.
    pub fn gandi(mut self, gandi: Gandi) -> Self {
        self.gandi = Some(gandi);
        self
    }

    /// HTTP settings for the API client and for `xmlrpc::call` (timeouts, CA file, …). The
    /// default has a 30 s call timeout.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.client_config = config;
        self
    }

    /// The HTTP timeout of one call (shortcut for the client config's whole-call and connect
    /// timeouts).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.client_config = self.client_config.with_timeout(timeout).with_connect_timeout(timeout);
        self
    }

    /// The script limits (operations, call depth, sizes, wall-clock timeout).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The wall-clock limit of one run (shortcut for [`Limits::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = Some(timeout);
        self
    }

    /// Dry-run mode: mutating calls are planned, not sent. Default off.
    pub fn dry_run(mut self, on: bool) -> Self {
        self.dry_run = on;
        self
    }

    /// The zone Gandi's dateTimes are read in, and `now()` is given in. Default Europe/Paris.
    pub fn zone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// The clock `now()`, `today()` and `days_until()` read: UTC Unix seconds. Default the
    /// system clock. Tests and simulations can pin it.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Where `print(…)` goes (default: a line on stdout).
    pub fn on_print(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_print = Some(Arc::new(hook));
        self
    }

    /// Where `debug(…)` goes (default: a line on stderr, with the source and line).
    pub fn on_debug(mut self, hook: impl Fn(&str, Option<&str>, Position) + Send + Sync + 'static) -> Self {
        self.on_debug = Some(Arc::new(hook));
        self
    }

    /// Called after every API call the scripts make (also in dry-run reads), with the key and
    /// passwords redacted: for a trace log.
    pub fn on_call(mut self, hook: impl Fn(&CallRecord) + Send + Sync + 'static) -> Self {
        self.on_call = Some(Arc::new(hook));
        self
    }

    /// Called when `op::wait` starts, polls and ends: for progress display.
    pub fn on_wait(mut self, hook: impl Fn(WaitEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_wait = Some(Arc::new(hook));
        self
    }

    /// How long `op::wait` waits by default (600 s) and how often it polls (1 s).
    pub fn wait(mut self, timeout: Duration, poll_interval: Duration) -> Self {
        self.wait_timeout = timeout;
        self.poll_interval = poll_interval;
        self
    }

    /// The folder relative imports resolve against in code not read from a file (default: the
    /// current directory). Scripts run with [`Runtime::run_file`] import relative to their own
    /// folder.
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = Some(dir.into());
        self
    }

    /// The folder where bulk scripts keep their journals by default
    /// (`bulk::default_journal(name)` is `DIR/NAME.journal`). Default: none, so an embedded
    /// runtime writes no file unless its host asks: `bulk::default_journal` is then `()` and a
    /// bulk script must be given a journal or told `journal=false`. The CLI sets
    /// [`default_journal_dir`].
    pub fn journal_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.journal_dir = Some(dir.into());
        self
    }

    /// The most API calls per second, from every script of this runtime together (`None`: no
    /// limit). Without this setting calls are not limited, except during `bulk::run`, which
    /// uses Gandi's default ([`DEFAULT_RATE`](crate::gandi::throttle::DEFAULT_RATE)) unless
    /// told otherwise.
    pub fn rate_limit(mut self, per_second: Option<u32>) -> Self {
        self.pacing.rate = Some(per_second);
        self
    }

    /// What is retried: resends after rate-limit faults (any method) and of read-only calls
    /// after transient failures (default [`RetryPolicy::default`]; [`RetryPolicy::none`] turns
    /// retries off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.pacing.policy = policy;
        self
    }

    /// Called as `bulk::run` progresses (start, each item, end), from its worker threads.
    pub fn on_bulk(mut self, hook: impl Fn(&crate::gandi::bulk::Event<'_>) + Send + Sync + 'static) -> Self {
        self.pacing.on_bulk = Some(Arc::new(hook));
        self
    }

    /// A hook asked before each change a script would send (see [`confirm`](super::confirm)):
    /// `false` declines it. Not asked in dry-run mode. Default: none, every change is sent.
    pub fn confirm(self, hook: impl Fn(&Mutation) -> bool + Send + Sync + 'static) -> Self {
        self.confirm_with(move |m| Decision::from(hook(m)))
    }

    /// [`confirm`](Self::confirm) with a hook that can also skip a change ([`Decision`]).
    pub fn confirm_with(mut self, hook: impl Fn(&Mutation) -> Decision + Send + Sync + 'static) -> Self {
        self.confirm = Some(Arc::new(hook));
        self
    }

    /// Builds the runtime: the client, the engine with its limits, hooks, resolver and modules.
    pub fn build(self) -> Result<Runtime, BuildError> {
        if self.poll_interval.is_zero() {
            return Err(BuildError::Config("the op::wait poll interval must not be zero".into()));
        }
        let mut gandi = match self.gandi {
            Some(g) => g,
            None => {
                let key = self.key.ok_or(BuildError::NoKey)?;
                Gandi::new(&self.endpoint, key, self.client_config.clone())?
            }
        };
        let throttle = Arc::new(Throttle::new(self.pacing.rate.flatten(), self.pacing.policy));
        gandi.set_throttle(Some(throttle.clone()));
        let calls = Arc::new(Mutex::new(CallLog::default()));
        let log = calls.clone();
        let user_hook = self.on_call;
        gandi.set_call_log(Some(Arc::new(move |r: &CallRecord| {
            lock(&log).push(r.clone());
            if let Some(h) = &user_hook {
                h(r);
            }
        })));
        let cancel = CancelHandle::default();
        cancel.interrupts(gandi.client());
        let host = Arc::new(Host {
            gandi,
            zone: self.zone,
            clock: self.clock.unwrap_or_else(system_clock),
            dry_run: AtomicBool::new(self.dry_run),
            plan: Mutex::new(Vec::new()),
            calls,
            cancel: cancel.clone(),
            wait_timeout: self.wait_timeout,
            poll_interval: self.poll_interval,
            on_wait: self.on_wait,
            xmlrpc_config: self.client_config,
            xmlrpc_clients: Mutex::new(Default::default()),
            throttle,
            rate_configured: AtomicBool::new(self.pacing.rate.is_some()),
            on_bulk: self.pacing.on_bulk,
            exit_code: Mutex::new(None),
            confirm: RwLock::new(self.confirm),
            journal_dir: self.journal_dir,
        });

        let mut engine = Engine::new();
        engine.set_optimization_level(OptimizationLevel::Simple);
        engine.set_strict_variables(true);
        engine.disable_symbol("eval");
        self.limits.apply(&mut engine);
        limits::install_watch(&mut engine, cancel.clone());
        limits::install_sleep(&mut engine, cancel);
        match self.on_print {
            Some(p) => engine.on_print(move |s| p(s)),
            None => engine.on_print(|s| println!("{s}")),
        };
        match self.on_debug {
            Some(d) => engine.on_debug(move |s, src, pos| d(s, src, pos)),
            None => engine.on_debug(|s, src, pos| match (src, pos.line()) {
                (Some(src), Some(l)) => eprintln!("[{src}:{l}] {s}"),
                (None, Some(l)) => eprintln!("[line {l}] {s}"),
                _ => eprintln!("{s}"),
            }),
        };
        let cache = ModuleCache::default();
        engine.set_module_resolver(Resolver { cache: cache.clone(), base_dir: self.base_dir });
        modules::register_all(&mut engine, &host);
        Ok(Runtime { engine, host, cache, limits: self.limits })
    }
}

/// A Rhai scripting runtime for the Gandi PaaS API.
///
/// Scripts get the `paas::`, `vhost::`, `op::`, `datacenter::`, `snapshot_profile::`,
/// `gandi::` and `xmlrpc::` modules, a `date` type with `now()`, `date("2027-01-31")`,
/// `days(30)`, `months(1)`…, and `import "std/NAME"` for the bundled library. See the
/// [`script`](crate::script) module for the details.
///
/// `Runtime` is `Send + Sync`: share it (e.g. in an `Arc`) and run scripts from several
/// threads. Each run gets its own wall-clock deadline; [`CancelHandle::cancel`] stops every run
/// in progress. Each run executes on a thread of its own with a large stack
/// ([`Limits::stack_size`]), and values nested more than
/// [`MAX_RETURNED_DEPTH`](super::limits::MAX_RETURNED_DEPTH) levels deep never leave it: a script
/// cannot overflow the caller's stack.
///
/// ```
/// use std::time::Duration;
/// use gandish::script::{Error, Limits, Runtime, Zone};
///
/// let rt = Runtime::builder()
///     .endpoint("https://rpc.gandi.net/xmlrpc/")
///     .key("my 24-character API key")
///     .zone(Zone::EUROPE_PARIS)
///     .limits(Limits::default().with_max_operations(1_000_000))
///     .timeout(Duration::from_secs(60))
///     .dry_run(true)
///     .on_print(|line| eprintln!("script: {line}"))
///     .build()?;
/// // No call is made here: dates are local.
/// let d = rt.eval(r#"(date("2027-01-31") + months(1)).format("%Y-%m-%d")"#)?;
/// assert_eq!(d.into_string().unwrap(), "2027-02-28");
/// assert!(matches!(rt.eval("loop {}"), Err(Error::Script(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Runtime {
    engine: Engine,
    host: Arc<Host>,
    cache: ModuleCache,
    limits: Limits,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("gandi", &self.host.gandi)
            .field("zone", &self.host.zone)
            .field("dry_run", &self.dry_run())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A builder with the defaults: production endpoint, no key, [`Limits::default`], dry-run
    /// off, Europe/Paris, the system clock, print to stdout and debug to stderr, `op::wait`
    /// timing out after 600 s and polling every second.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder {
            endpoint: PRODUCTION_URL.to_string(),
            key: None,
            gandi: None,
            client_config: ClientConfig::default(),
            limits: Limits::default(),
            dry_run: false,
            zone: Zone::default(),
            clock: None,
            on_print: None,
            on_debug: None,
            on_call: None,
            on_wait: None,
            wait_timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(1),
            base_dir: None,
            journal_dir: None,
            pacing: Pacing::default(),
            confirm: None,
        }
    }

    /// The engine, e.g. to compile or inspect functions (`gen_fn_signatures`).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, to register the host's own functions, types and modules before running
    /// scripts. Replacing the limits, progress callback or module resolver here changes the
    /// runtime's guarantees. Scripts run directly on the engine (not through the `Runtime`'s
    /// methods) get the limits but neither the wall-clock deadline nor cancellation.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The Gandi client scripts use.
    pub fn gandi(&self) -> &Gandi {
        &self.host.gandi
    }

    /// The zone dateTimes are read in.
    pub fn zone(&self) -> &Zone {
        &self.host.zone
    }

    /// The limits scripts run under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether dry-run mode is on.
    pub fn dry_run(&self) -> bool {
        self.host.dry_run()
    }

    /// Turns dry-run mode on or off; it applies from the next API call, also in a script that
    /// is running.
    pub fn set_dry_run(&self, on: bool) {
        self.host.dry_run.store(on, Ordering::Relaxed);
    }

    /// The throttle every API call goes through (rate limit and retries); e.g.
    /// `rt.throttle().rate_limited()` counts the rate-limit faults seen.
    pub fn throttle(&self) -> &Arc<Throttle> {
        &self.host.throttle
    }

    /// The exit status a script asked for with `set_exit_code(n)` (the last call wins), for
    /// hosts that end a process after a run. `None` if no script asked.
    pub fn exit_code(&self) -> Option<i32> {
        *lock(&self.host.exit_code)
    }

    /// Forgets the exit status scripts asked for (before the next run).
    pub fn clear_exit_code(&self) {
        *lock(&self.host.exit_code) = None;
    }

    /// Installs (or with `None` removes) the hook asked before each change a script would send
    /// (see [`confirm`](super::confirm)); it applies from the next change, also in a script that
    /// is running.
    pub fn set_confirm(&self, hook: Option<ConfirmHook>) {
        *crate::sync::write(&self.host.confirm) = hook;
    }

    /// A handle that cancels the runs in progress, from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.host.cancel.clone()
    }

    /// The compiled-module cache (clear it when imported files change).
    pub fn module_cache(&self) -> &ModuleCache {
        &self.cache
    }

    /// The changes planned so far in dry-run mode, oldest first.
    pub fn plan(&self) -> Vec<PlanEntry> {
        lock(&self.host.plan).clone()
    }

    /// Returns the plan and empties it.
    pub fn take_plan(&self) -> Vec<PlanEntry> {
        std::mem::take(&mut *lock(&self.host.plan))
    }

    /// The API calls made so far (the key and passwords redacted), oldest first; at most the
    /// last [`MAX_LOGGED_CALLS`](super::plan::MAX_LOGGED_CALLS).
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.host.calls).records.iter().cloned().collect()
    }

    /// Empties the call log.
    pub fn clear_calls(&self) {
        let mut log = lock(&self.host.calls);
        log.records.clear();
        log.dropped = 0;
    }

    /// Runs `f` under the run's deadline and cancel watch, on a thread of its own with the
    /// configured stack (see [`Limits::stack_size`]); values nested too deeply to leave that
    /// thread are dropped there ([`limits::MAX_RETURNED_DEPTH`]). A panic in the script's host
    /// functions is passed on to the caller. Should the thread not start, `f` runs on the
    /// caller's thread.
    fn guarded<T: Send + 'static>(
        &self,
        scope: &mut Scope,
        token: Option<&RunToken>,
        f: impl FnOnce(&mut Scope) -> Result<T, Box<rhai::EvalAltResult>> + Send,
    ) -> Result<T, Error> {
        if token.is_some_and(RunToken::is_cancelled) {
            return Err(Error::Cancelled { position: Position::NONE });
        }
        let slot = Mutex::new(Some((f, scope)));
        let run = || {
            let (f, scope) = lock(&slot).take()?;
            let _run = RunGuard::enter(&self.host.cancel, self.limits.timeout, token);
            let result = f(scope);
            Some(limits::shallow_or_dropped(result, scope).map_err(Error::from))
        };
        let result = std::thread::scope(|s| {
            let thread =
                std::thread::Builder::new().name("gandish-script".into()).stack_size(self.limits.stack_size);
            match thread.spawn_scoped(s, run) {
                Ok(h) => h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => None,
            }
        });
        result.or_else(run).expect("the run's closure is taken exactly once")
    }

    /// Compiles a script (for [`run_ast`](Self::run_ast) or [`call_fn`](Self::call_fn)).
    pub fn compile(&self, script: &str) -> Result<AST, Error> {
        self.engine.compile(script).map_err(|e| Error::Script(e.into()))
    }

    /// Compiles a script against the variables of a scope (as a REPL does).
    pub fn compile_with_scope(&self, scope: &Scope, script: &str) -> Result<AST, Error> {
        self.engine.compile_with_scope(scope, script).map_err(|e| Error::Script(e.into()))
    }

    /// Reads and compiles a script file; its imports resolve against its folder, and errors
    /// name the file. A `#!` first line is ignored.
    pub fn compile_file(&self, path: impl AsRef<Path>) -> Result<AST, Error> {
        self.compile_file_with_scope(&Scope::new(), path)
    }

    /// [`compile_file`](Self::compile_file) against the variables of a scope.
    pub fn compile_file_with_scope(&self, scope: &Scope, path: impl AsRef<Path>) -> Result<AST, Error> {
        let path = path.as_ref();
        let mut text =
            std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        if text.starts_with("#!") {
            // Blank the shebang line, keeping the line numbers.
            let end = text.find('\n').unwrap_or(text.len());
            text.replace_range(..end, "");
        }
        let mut ast = self.engine.compile_with_scope(scope, &text).map_err(|e| Error::Script(e.into()))?;
        let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        ast.set_source(full.to_string_lossy().as_ref());
        Ok(ast)
    }

    /// Evaluates a script and returns its value.
    pub fn eval(&self, script: &str) -> Result<Dynamic, Error> {
        self.eval_with_scope(&mut Scope::new(), script)
    }

    /// Evaluates a script with a scope (variables the host set, or kept from earlier runs).
    pub fn eval_with_scope(&self, scope: &mut Scope, script: &str) -> Result<Dynamic, Error> {
        let ast = self.compile_with_scope(scope, script)?;
        self.run_ast_with_scope(scope, &ast)
    }

    /// Runs a script file and returns its value.
    pub fn run_file(&self, path: impl AsRef<Path>) -> Result<Dynamic, Error> {
        self.run_file_with_scope(&mut Scope::new(), path)
    }

    /// Runs a script file with a scope (e.g. `--arg` values).
    pub fn run_file_with_scope(&self, scope: &mut Scope, path: impl AsRef<Path>) -> Result<Dynamic, Error> {
        let ast = self.compile_file_with_scope(scope, path)?;
        self.run_ast_with_scope(scope, &ast)
    }

    /// Runs a compiled script.
    pub fn run_ast(&self, ast: &AST) -> Result<Dynamic, Error> {
        self.run_ast_with_scope(&mut Scope::new(), ast)
    }

    /// Runs a compiled script with a scope.
    pub fn run_ast_with_scope(&self, scope: &mut Scope, ast: &AST) -> Result<Dynamic, Error> {
        self.guarded(scope, None, |scope| self.engine.eval_ast_with_scope::<Dynamic>(scope, ast))
    }

    /// A new token to stop one run (see [`RunToken`]): get it before the run starts, give it to
    /// [`eval_with_token`](Self::eval_with_token) and friends, and cancel it from any thread.
    pub fn run_token(&self) -> RunToken {
        RunToken::default()
    }

    /// [`eval_with_scope`](Self::eval_with_scope), stopped by `token` alone (and by the
    /// runtime-wide [`CancelHandle`]).
    pub fn eval_with_token(
        &self,
        scope: &mut Scope,
        script: &str,
        token: &RunToken,
    ) -> Result<Dynamic, Error> {
        let ast = self.compile_with_scope(scope, script)?;
        self.run_ast_with_token(scope, &ast, token)
    }

    /// [`run_file_with_scope`](Self::run_file_with_scope), stopped by `token` alone.
    pub fn run_file_with_token(
        &self,
        scope: &mut Scope,
        path: impl AsRef<Path>,
        token: &RunToken,
    ) -> Result<Dynamic, Error> {
        let ast = self.compile_file_with_scope(scope, path)?;
        self.run_ast_with_token(scope, &ast, token)
    }

    /// [`run_ast_with_scope`](Self::run_ast_with_scope), stopped by `token` alone.
    pub fn run_ast_with_token(
        &self,
        scope: &mut Scope,
        ast: &AST,
        token: &RunToken,
    ) -> Result<Dynamic, Error> {
        self.guarded(scope, Some(token), |scope| self.engine.eval_ast_with_scope::<Dynamic>(scope, ast))
    }

    /// Calls a function defined in a compiled script (its top-level statements run first), e.g.
    /// `rt.call_fn::<i64>(&mut scope, &ast, "count_expiring", (30_i64,))`.
    pub fn call_fn<T: Clone + Send + Sync + 'static>(
        &self,
        scope: &mut Scope,
        ast: &AST,
        name: &str,
        args: impl FuncArgs + Send,
    ) -> Result<T, Error> {
        self.guarded(scope, None, |scope| self.engine.call_fn::<T>(scope, ast, name, args))
    }
}

/// The CLI's journal folder: `$GANDISH_STATE_DIR`, else `$XDG_STATE_HOME/gandish`, else
/// `~/.local/state/gandish`; `None` when none of the variables is set.
pub fn default_journal_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("GANDISH_STATE_DIR")
        .or_else(|| env("XDG_STATE_HOME").map(|d| d.join("gandish")))
        .or_else(|| env("HOME").map(|d| d.join(".local/state/gandish")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Runtime>();
        check::<CancelHandle>();
        check::<Error>();
    }

    #[test]
    fn needs_a_key_and_never_shows_it() {
        assert!(matches!(Runtime::builder().build(), Err(BuildError::NoKey)));
        let rt =
            Runtime::builder().endpoint("http://127.0.0.1:9/xmlrpc/").key("sekrit-key-123").build().unwrap();
        let shown = format!("{rt:?}");
        assert!(!shown.contains("sekrit"), "{shown}");
    }
}
