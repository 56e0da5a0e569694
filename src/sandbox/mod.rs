//! The sandbox: a stateful simulator of the Gandi PaaS XML-RPC API (reference
//! `gandi-paas-api.md`), served over the crate's XML-RPC server.
//!
//! [`Sandbox`] implements [`Handler`], so it can be called directly (tests) or served with
//! [`start`], which binds a [`Server`] (default `127.0.0.1:8421`, paths `/xmlrpc/`, `/`, `/RPC2`).
//! One `Mutex` guards the whole world, so concurrent clients never lose an update or reuse an id.
//! With a state file, each call returns only once the file holds every change it made or saw;
//! concurrent calls share saves (group commit) and the file is written outside that lock.
//!
//! ```
//! use gandish::sandbox::{Dataset, Sandbox, SandboxConfig};
//! use gandish::xmlrpc::{CallContext, Handler, Value};
//!
//! let sb = Sandbox::new(SandboxConfig { dataset: Dataset::Seed, ..SandboxConfig::default() }).unwrap();
//! let mut ctx = CallContext::new("127.0.0.1:1".parse().unwrap());
//! let key = Value::from("my 24-character API key");
//! assert_eq!(sb.call(&mut ctx, "paas.count", vec![key]).unwrap(), Value::Int(1));
//! ```

mod args;
pub mod catalog;
mod check;
pub mod clock;
mod control;
pub mod dataset;
pub mod fault;
mod filter;
mod inject;
mod operation;
mod ownership;
mod paas;
mod persist;
mod rng;
mod snapshot;
pub mod state;
mod vhost;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::xmlrpc::{CallContext, Fault, Handler, Server, ServerConfig, ShutdownHandle, Value, ValueWriter};

pub use clock::ClockMode;
pub use dataset::Dataset;

use args::Args;
use inject::Injector;
use state::State;

/// The default listen address (port 8421).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8421";

/// The seed's placeholder key, the sandbox's default.
pub const DEFAULT_API_KEY: &str = "my 24-character API key";

/// Sandbox settings (CLI-agnostic).
#[derive(Clone)]
pub struct SandboxConfig {
    /// Address to bind (`127.0.0.1:0` for a free port).
    pub listen: String,
    /// The one accepted API key.
    pub api_key: String,
    /// Starting world.
    pub dataset: Dataset,
    /// Generated instances added to the dataset.
    pub instances: usize,
    /// Seed for generated instances and injection.
    pub seed: u64,
    /// Seconds an op takes from BILL to DONE (0: done in the reply).
    pub op_seconds: u64,
    /// Added to every call.
    pub latency_ms: u64,
    /// Probability of answering HTTP 503 before doing anything.
    pub fail_rate: f64,
    /// Probability of applying a call and closing the connection without a reply.
    pub lost_reply_rate: f64,
    /// Calls per second per key; above, fault 160004 and nothing applied.
    pub rate_limit: Option<u32>,
    /// JSON state file: loaded at start, saved before each reply that changed the world.
    pub state_file: Option<PathBuf>,
    /// Accept size `s+`.
    pub allow_s_plus: bool,
    /// Add the later sources' fields to `paas.list`/`paas.info`.
    pub extended_fields: bool,
    /// Refuse a change while another op on the same instance is pending (537567).
    pub strict: bool,
    /// The clock.
    pub clock: ClockMode,
    /// `operation.list`/`count` filter keys accepted but ignored, to test clients against a
    /// server that does not apply a filter (e.g. `step`).
    pub ignored_op_filters: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: DEFAULT_LISTEN.into(),
            api_key: DEFAULT_API_KEY.into(),
            dataset: Dataset::Demo,
            instances: 0,
            seed: 1,
            op_seconds: 3,
            latency_ms: 0,
            fail_rate: 0.0,
            lost_reply_rate: 0.0,
            rate_limit: None,
            state_file: None,
            allow_s_plus: false,
            extended_fields: false,
            strict: false,
            clock: ClockMode::System,
            ignored_op_filters: Vec::new(),
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("listen", &self.listen)
            .field("api_key", &"<redacted>")
            .field("dataset", &self.dataset)
            .field("instances", &self.instances)
            .field("seed", &self.seed)
            .field("op_seconds", &self.op_seconds)
            .field("latency_ms", &self.latency_ms)
            .field("fail_rate", &self.fail_rate)
            .field("lost_reply_rate", &self.lost_reply_rate)
            .field("rate_limit", &self.rate_limit)
            .field("state_file", &self.state_file)
            .field("allow_s_plus", &self.allow_s_plus)
            .field("extended_fields", &self.extended_fields)
            .field("strict", &self.strict)
            .field("clock", &self.clock)
            .field("ignored_op_filters", &self.ignored_op_filters)
            .finish()
    }
}

/// Why the sandbox could not start or save.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// A setting is out of range.
    #[error("invalid sandbox setting: {0}")]
    Config(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The state file could not be read, parsed or written.
    #[error("sandbox state file {path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
}

/// What a method sees: the world (locked), the settings and the time.
pub(crate) struct Ctx<'a> {
    st: &'a mut State,
    cfg: &'a SandboxConfig,
    /// UTC seconds (base clock + offset).
    now: i64,
    /// Set when the world changed (it is then saved).
    changed: bool,
    /// What `sandbox.stats` reports.
    stats: &'a Stats,
}

/// Counters for `sandbox.stats`: calls per method, the most operations pending at once, and
/// rate-limit faults given. Not saved with the state.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    calls: Mutex<std::collections::BTreeMap<String, u64>>,
    peak_pending: AtomicU64,
    rate_limited: AtomicU64,
}

impl Stats {
    fn count_call(&self, method: &str) {
        let mut calls = crate::sync::lock(&self.calls);
        if let Some(n) = calls.get_mut(method) {
            *n += 1;
            return;
        }
        // A flood of made-up method names must not grow this without bound.
        let name = if calls.len() < 256 { method } else { "(other)" };
        *calls.entry(name.to_string()).or_default() += 1;
    }

    /// Notes that `pending` operations are pending now.
    pub(crate) fn saw_pending(&self, pending: usize) {
        self.peak_pending.fetch_max(pending as u64, Ordering::Relaxed);
    }
}

/// Every method the sandbox serves.
pub const METHODS: [&str; 33] = [
    "version.info",
    "paas.count",
    "paas.list",
    "paas.info",
    "paas.create",
    "paas.update",
    "paas.delete",
    "paas.renew",
    "paas.restart",
    "paas.vhost.count",
    "paas.vhost.list",
    "paas.vhost.info",
    "paas.vhost.create",
    "paas.vhost.delete",
    "paas.vhost.get_dns_entries",
    "paas.type.count",
    "paas.type.list",
    "paas.snapshotprofile.list",
    "paas.snapshot.count",
    "paas.snapshot.list",
    "paas.snapshot.info",
    "operation.info",
    "operation.list",
    "operation.count",
    "operation.cancel",
    "hosting.datacenter.list",
    "sandbox.ledger",
    "sandbox.zone.set_txt",
    "sandbox.zone.add",
    "sandbox.clock.advance",
    "sandbox.op.fail_next",
    "sandbox.reset",
    "sandbox.stats",
];

/// The simulator; serve it with [`start`] or call it as a [`Handler`].
pub struct Sandbox {
    config: SandboxConfig,
    state: Mutex<State>,
    inject: Injector,
    /// Counts the changes to the world: bumped under the `state` lock by every call that
    /// changed it.
    generation: AtomicU64,
    /// The newest generation written to the state file (only used with one).
    saved: AtomicU64,
    /// Held while the state file is written, so saves never overlap or go back in time.
    save_lock: Mutex<()>,
    /// Encoded `paas.list` items of unchanged instances.
    list_cache: paas::ListCache,
    stats: Stats,
    /// The state's clock offset, kept here too so a reply's `Date` can state the sandbox's time
    /// without taking the state lock again.
    clock_offset: std::sync::atomic::AtomicI64,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("config", &self.config).finish_non_exhaustive()
    }
}

fn check_rate(name: &str, p: f64) -> Result<(), SandboxError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(SandboxError::Config(format!("{name} must be between 0 and 1, got {p}")))
    }
}

impl Sandbox {
    /// Checks the settings and builds the world: loaded from the state file if it exists,
    /// otherwise the configured dataset (saved at once when a state file is set).
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        check_rate("fail_rate", config.fail_rate)?;
        check_rate("lost_reply_rate", config.lost_reply_rate)?;
        if config.rate_limit == Some(0) {
            return Err(SandboxError::Config("rate_limit must be at least 1 call per second".into()));
        }
        if config.op_seconds > 86_400 * 365 {
            return Err(SandboxError::Config(format!(
                "op_seconds must be at most a year, got {}",
                config.op_seconds
            )));
        }
        if config.instances > 1_000_000 {
            return Err(SandboxError::Config(format!(
                "instances must be at most 1000000, got {}",
                config.instances
            )));
        }
        let loaded = match &config.state_file {
            Some(p) => persist::load(p)?,
            None => None,
        };
        let state = match loaded {
            Some(st) => st,
            None => {
                let st = dataset::build(&config, config.clock.base_now());
                if let Some(p) = &config.state_file {
                    persist::save(p, &st)?;
                }
                st
            }
        };
        let inject = Injector::new(
            config.latency_ms,
            config.fail_rate,
            config.lost_reply_rate,
            config.rate_limit,
            config.seed,
        );
        let clock_offset = std::sync::atomic::AtomicI64::new(state.clock_offset);
        Ok(Sandbox {
            clock_offset,
            stats: Stats::default(),
            config,
            state: Mutex::new(state),
            inject,
            generation: AtomicU64::new(0),
            saved: AtomicU64::new(0),
            save_lock: Mutex::new(()),
            list_cache: paas::ListCache::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::sync::lock(&self.state)
    }

    /// A copy of the world as it is now (after applying what came due).
    pub fn state(&self) -> State {
        let mut st = self.lock();
        let now = self.config.clock.base_now() + st.clock_offset;
        let mut ctx = Ctx { st: &mut st, cfg: &self.config, now, changed: false, stats: &self.stats };
        operation::advance(&mut ctx);
        if ctx.changed {
            // Not saved here; the next call's save covers it.
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        st.clone()
    }

    fn dispatch(&self, method: &str, params: &[Value]) -> Result<Value, Fault> {
        self.run(method, params, |ctx, args| route(ctx, method, args))
    }

    /// Checks the method and key, then runs `f` on the world (after applying what came due) and
    /// saves the state file if there is one; `f`'s result is returned once the save is done.
    fn run<R>(
        &self,
        method: &str,
        params: &[Value],
        f: impl FnOnce(&mut Ctx, &Args) -> Result<R, Fault>,
    ) -> Result<R, Fault> {
        if !METHODS.contains(&method) {
            return Err(fault::unknown_method(method));
        }
        match params.first() {
            Some(Value::String(k)) if *k == self.config.api_key => {}
            _ => return Err(fault::bad_key()),
        }
        let args = Args::new(method, &params[1..]);
        let (result, seen) = {
            let mut st = self.lock();
            let now = self.config.clock.base_now().saturating_add(st.clock_offset);
            let mut ctx = Ctx { st: &mut st, cfg: &self.config, now, changed: false, stats: &self.stats };
            operation::advance(&mut ctx);
            let result = f(&mut ctx, &args);
            self.clock_offset.store(ctx.st.clock_offset, Ordering::Relaxed);
            let seen = if ctx.changed {
                self.generation.fetch_add(1, Ordering::AcqRel) + 1
            } else {
                self.generation.load(Ordering::Acquire)
            };
            (result, seen)
        };
        if let Some(path) = &self.config.state_file
            && let Err(e) = self.save_up_to(path, seen)
        {
            return Err(fault::fault(fault::code::SYSTEM, format_args!("could not save the state: {e}")));
        }
        result
    }

    /// Returns once the state file holds generation `seen` or a later one, saving it if needed.
    ///
    /// Every call waits here for the generation it saw (so no reply, not even a read, shows a
    /// change that a `kill -9` could still lose). Saves are a group commit: one thread at a time
    /// serializes the world as it is *now* (under the state lock, which is all the lock is held
    /// for) and writes it outside the state lock; every call whose change that covered returns
    /// without writing again. Under many concurrent writers most calls therefore share a save.
    fn save_up_to(&self, path: &std::path::Path, seen: u64) -> Result<(), SandboxError> {
        if self.saved.load(Ordering::Acquire) >= seen {
            return Ok(());
        }
        // Waiting for another thread's save, or writing and syncing the file, blocks.
        crate::xmlrpc::server::about_to_block();
        let _saving = crate::sync::lock(&self.save_lock);
        if self.saved.load(Ordering::Acquire) >= seen {
            return Ok(());
        }
        let (json, covers) = {
            let st = self.lock();
            (persist::serialize(path, &st)?, self.generation.load(Ordering::Acquire))
        };
        persist::write(path, &json)?;
        self.saved.store(covers, Ordering::Release);
        Ok(())
    }
}

impl Sandbox {
    /// Runs `f` (the call) inside the fault injection: the latency first, then the rate limit
    /// (over it, the fault and nothing run), and after it maybe a lost reply.
    fn injected<R>(
        &self,
        ctx: &mut CallContext,
        params: &[Value],
        f: impl FnOnce() -> Result<R, Fault>,
    ) -> Result<R, Fault> {
        self.inject.delay();
        let key = params.first().and_then(Value::as_str).unwrap_or("");
        if let Err(limited) = self.inject.admit(key) {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Err(limited);
        }
        let result = f();
        if self.inject.lose_reply() {
            ctx.drop_reply();
        }
        let now = self.config.clock.base_now().saturating_add(self.clock_offset.load(Ordering::Relaxed));
        ctx.set_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64));
        result
    }
}

fn route(ctx: &mut Ctx, method: &str, a: &Args) -> Result<Value, Fault> {
    match method {
        "version.info" => catalog::version_info(a),
        "paas.count" => paas::list(ctx, a, true),
        "paas.list" => paas::list(ctx, a, false),
        "paas.info" => paas::info(ctx, a),
        "paas.create" => paas::create(ctx, a),
        "paas.update" => paas::update(ctx, a),
        "paas.delete" => paas::delete(ctx, a),
        "paas.renew" => paas::renew(ctx, a),
        "paas.restart" => paas::restart(ctx, a),
        "paas.vhost.count" => vhost::list(ctx, a, true),
        "paas.vhost.list" => vhost::list(ctx, a, false),
        "paas.vhost.info" => vhost::info(ctx, a),
        "paas.vhost.create" => vhost::create(ctx, a),
        "paas.vhost.delete" => vhost::delete(ctx, a),
        "paas.vhost.get_dns_entries" => vhost::get_dns_entries(ctx, a),
        "paas.type.count" => catalog::type_list(a, true),
        "paas.type.list" => catalog::type_list(a, false),
        "paas.snapshotprofile.list" => catalog::snapshotprofile_list(a),
        "paas.snapshot.count" => snapshot::list(ctx, a, true),
        "paas.snapshot.list" => snapshot::list(ctx, a, false),
        "paas.snapshot.info" => snapshot::info(ctx, a),
        "operation.info" => operation::info(ctx, a),
        "operation.list" => operation::list(ctx, a, false),
        "operation.count" => operation::list(ctx, a, true),
        "operation.cancel" => operation::cancel(ctx, a),
        "hosting.datacenter.list" => catalog::datacenter_list(a),
        "sandbox.ledger" => control::ledger(ctx, a),
        "sandbox.zone.set_txt" => control::set_txt(ctx, a),
        "sandbox.zone.add" => control::add_zone(ctx, a),
        "sandbox.clock.advance" => control::advance(ctx, a),
        "sandbox.op.fail_next" => control::fail_next(ctx, a),
        "sandbox.reset" => control::reset(ctx, a),
        "sandbox.stats" => control::stats(ctx, a),
        other => Err(fault::unknown_method(other)),
    }
}

impl Handler for Sandbox {
    fn call(&self, ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        self.stats.count_call(method);
        self.injected(ctx, &params, || self.dispatch(method, &params))
    }

    /// `paas.list` and `paas.info` write their result straight from the world (the same bytes
    /// as [`Handler::call`] gives, without building a value tree; `paas.list` copies the items
    /// of instances unchanged since they were last encoded); other methods go through `call`.
    /// Injection applies the same way.
    fn call_into(
        &self,
        ctx: &mut CallContext,
        method: &str,
        params: &[Value],
        out: &mut ValueWriter<'_>,
    ) -> Option<Result<(), Fault>> {
        let list = match method {
            "paas.list" => true,
            "paas.info" => false,
            _ => return None,
        };
        self.stats.count_call(method);
        Some(self.injected(ctx, params, || {
            self.run(method, params, |c, a| {
                if list { paas::list_into(c, a, &self.list_cache, out) } else { paas::info_into(c, a, out) }
            })
        }))
    }

    fn method_names(&self) -> Vec<String> {
        let mut v: Vec<String> = METHODS.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    fn before_request(&self, _peer: SocketAddr) -> Option<u16> {
        self.inject.http_failure()
    }
}

/// A sandbox being served.
pub struct RunningSandbox {
    server: Server,
    sandbox: Arc<Sandbox>,
}

impl fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSandbox").field("url", &self.url()).finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// The endpoint, `http://ADDR/xmlrpc/`.
    pub fn url(&self) -> String {
        self.server.url("/xmlrpc/")
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The key clients must send.
    pub fn api_key(&self) -> &str {
        &self.sandbox.config.api_key
    }

    /// The simulator itself (for direct calls or inspection).
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// A handle that stops the server from another thread (a signal handler).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.server.shutdown_handle()
    }

    /// Blocks until the server is stopped through a [`ShutdownHandle`].
    pub fn wait(self) {
        self.server.wait();
    }

    /// Stops serving and joins the server's threads.
    pub fn shutdown(self) {
        self.server.shutdown();
    }
}

/// Builds the sandbox and serves it on `config.listen`.
pub fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    let listen = config.listen.clone();
    let sandbox = Arc::new(Sandbox::new(config)?);
    let handler: Arc<dyn Handler> = sandbox.clone();
    let server = Server::bind(listen.as_str(), handler, ServerConfig::default())
        .map_err(|source| SandboxError::Bind { addr: listen, source })?;
    Ok(RunningSandbox { server, sandbox })
}
