//! A small multi-threaded HTTP/1.1 XML-RPC server on std threads and `std::net`.
//!
//! # Threading model
//!
//! - [`Server::bind`] binds the listener and starts one **accept thread**, then returns.
//! - With [`Threading::EventLoop`] (the default, on Linux), a few **worker threads** (about one
//!   per CPU, [`ServerConfig::workers`]) wait in one `epoll` set for whichever connection has a
//!   request, serve what it sent (keep-alive, pipelining) and hand the connection back. A
//!   connection waiting for its next request holds no thread, and under load a worker goes from
//!   one request to the next without sleeping. A monitor thread replaces workers that block
//!   inside a request (a client trickling its body, a handler that sleeps or waits for a lock)
//!   within milliseconds, so slow calls never hold up the others.
//! - With [`Threading::PerConnection`] (and on other systems), each connection gets **its own
//!   thread** (named `xmlrpc-conn`) for its whole life.
//! - At most [`ServerConfig::max_connections`] connections are open at once. When all slots
//!   are taken, the accept thread holds the next connection (the kernel's accept backlog holds the
//!   rest) until a slot frees, and closes the connection that has been **idle** the longest to make
//!   room: a kept-alive connection waiting for its next request, or a new connection that has not
//!   sent a byte yet. So sockets opened and left silent (hundreds of them) cannot starve real
//!   clients; a connection sending a request is never closed this way. Nobody gets a 503 from the
//!   server itself; clients beyond the limit wait while every connection is busy.
//! - Handler calls run on several threads at once: a [`Handler`] must be `Sync`.
//!
//! # Timeouts
//!
//! Every socket read carries a read timeout computed from a fixed deadline, so a client
//! trickling bytes cannot extend it:
//! - a new connection must deliver its first request head within
//!   [`ServerConfig::header_timeout`] of getting its slot;
//! - a kept-alive connection may sit idle for [`ServerConfig::keep_alive_timeout`]; once a
//!   request's first byte arrives, its head must be complete within `header_timeout`;
//! - the body must arrive within [`ServerConfig::body_timeout`] of the end of the head, and each
//!   response write is bounded by the same duration.
//!
//! A head or body that times out gets `408` and the connection is closed; an idle connection
//! that times out is closed silently.
//!
//! # HTTP behaviour
//!
//! | Request | Answer |
//! |---|---|
//! | not `POST` | 405 with `Allow: POST` |
//! | path not in [`ServerConfig::paths`] (query ignored) | 404 |
//! | no `Content-Length`, or a `Transfer-Encoding` (chunked) | 411 |
//! | `Content-Length` over `limits.max_body` | 413, decided before reading any of the body |
//! | `Content-Encoding` other than `gzip`/`identity` | 415 |
//! | malformed request line or header | 400 |
//! | head over 16 KiB or over 100 headers | 431 |
//! | HTTP version other than 1.0/1.1 | 505 |
//! | [`Handler::before_request`] says `Some(s)` | `s`, empty body (the body is read and dropped) |
//! | anything that reaches XML-RPC | 200 with a `text/xml` result or fault |
//!
//! Error statuses carry a one-line `text/plain` explanation and close the connection (after
//! draining, for a bounded time, what the client still sends, so it sees the answer).
//! `Content-Encoding: gzip` request bodies are decompressed with `limits.max_body` applied to the
//! decompressed size (413 above it). Responses over 1,400 bytes are gzipped when the client sends
//! `Accept-Encoding: gzip`, as Python's server does. `Expect: 100-continue` is honoured.
//! [`Handler::before_request`] runs once the head passed these checks, before the body is read.
//!
//! # XML-RPC behaviour
//!
//! - Undecodable calls get a fault naming the problem: -32700 for XML that is not well-formed (or
//!   a corrupt gzip body), -32701 for an unsupported encoding, -32600 for well-formed XML that is
//!   not a valid call (also an invalid method name).
//! - A panicking handler gives fault -32603 `internal error in "method"`; the connection and the
//!   server carry on. A result the encoder refuses (NaN, NUL) gives fault -32603 naming the
//!   problem.
//! - The server answers `system.listMethods` (the handler's names plus the `system.*` ones,
//!   sorted), `system.multicall` (§1.7 of the reference: a nested multicall, a malformed entry or
//!   an entry whose result cannot be encoded gives a fault *entry*; more than
//!   [`ServerConfig::max_multicall`] entries faults the whole call; an entry without `params` is
//!   called with none), and, unless the handler lists them itself, `system.methodHelp` (`""`) and
//!   `system.methodSignature` (`"undef"`, meaning unknown).
//! - A handler may write a large result straight into the response with
//!   [`Handler::call_into`] and a [`ValueWriter`] (no [`Value`] tree), with the encoder's rules
//!   and bytes; the server offers every call to it first, except its own `system.*` methods and
//!   multicall entries, and falls back to [`Handler::call`] when it declines.
//! - [`CallContext::drop_reply`] closes the connection without any reply; in a multicall it drops
//!   the whole batch's reply (every entry still runs).
//!
//! # Shutdown
//!
//! [`Server::shutdown`], dropping the [`Server`] or [`ShutdownHandle::shutdown`] stop accepting
//! (the accept thread is woken by a connection to itself), shut down the reading side of every
//! connection (idle ones close at once; a call being handled finishes and its reply is sent with
//! `Connection: close`) and join all threads. The port refuses connections afterwards.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use super::decode::{DecodeError, Limits, MethodCall, decode_call_with, gunzip_capped};
use super::encode::{
    ValueWriter, begin_response_into, encode_fault_into, encode_response_into, encode_value,
    end_response_into, is_valid_method_name,
};
use super::http::{
    BodyLength, Conn, MemWire, ReadError, ReadHeadError, RequestHead, Response, Version, Wire,
};
use super::value::{Fault, Value, fault_code};

pub(crate) mod blocking;
#[cfg(target_os = "linux")]
mod pool;

/// Tells the server's event loop, if the calling thread is one of its workers, that the thread
/// is about to block for a while (a sleep, a lock held by a slow thread, a call to another
/// server): if no other worker is free, one starts now, so other connections are served
/// meanwhile. Without it the event loop notices within a few milliseconds. A no-op on any other
/// thread, with [`Threading::PerConnection`], and on systems without the event loop.
pub fn about_to_block() {
    blocking::about_to_block();
}

/// What the server knows about the call being handled, and what the handler may ask of it.
#[derive(Debug)]
pub struct CallContext {
    peer: SocketAddr,
    drop_reply: bool,
    date: Option<SystemTime>,
}

impl CallContext {
    /// A context for a call from `peer` (servers create these; handlers and tests may too).
    pub fn new(peer: SocketAddr) -> Self {
        CallContext { peer, drop_reply: false, date: None }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Asks the server to close the connection without sending any reply once this call returns
    /// (used by the sandbox to simulate a reply lost in the network).
    pub fn drop_reply(&mut self) {
        self.drop_reply = true;
    }

    /// Whether [`CallContext::drop_reply`] was asked for.
    pub fn reply_dropped(&self) -> bool {
        self.drop_reply
    }

    /// Sets the time the reply's HTTP `Date` header states: a handler with its own clock (the
    /// sandbox, whose clock tests move forward) tells clients its time, as a real server's
    /// `Date` tells its clock.
    pub fn set_date(&mut self, date: SystemTime) {
        self.date = Some(date);
    }

    /// The time set with [`CallContext::set_date`], if any.
    pub fn date(&self) -> Option<SystemTime> {
        self.date
    }
}

/// Serves XML-RPC calls. Implemented by [`Methods`] and by the sandbox.
pub trait Handler: Send + Sync + 'static {
    /// Handles one call. `system.listMethods` and `system.multicall` are answered by the server
    /// itself, which calls this once per entry of a multicall.
    fn call(&self, ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault>;

    /// The names of the methods this handler serves (for `system.listMethods`).
    fn method_names(&self) -> Vec<String>;

    /// Handles one call by writing its result straight into the response, for methods whose
    /// result is large (a long list): no [`Value`] tree is built, allocated and freed. The
    /// default returns `None`, and so should an implementation for every method it leaves to
    /// [`Handler::call`].
    ///
    /// The server tries this first for every call except its own `system.*` methods and the
    /// entries of a `system.multicall` (those always go through [`Handler::call`]):
    /// - `None`: not handled here; the server discards anything written to `out` and calls
    ///   [`Handler::call`] with the same parameters. Decide this before doing anything else (such
    ///   as counting the call), since the call then runs again through `call`.
    /// - `Some(Ok(()))`: `out` must hold exactly one complete value, which becomes the result.
    ///   If the writer recorded an error (a character XML cannot carry, a non-finite double, a
    ///   misuse, an unfinished value), the answer is fault -32603 naming it, as for a result
    ///   [`Handler::call`] returned that cannot be encoded.
    /// - `Some(Err(fault))`: the fault is the answer; anything written to `out` is discarded.
    ///
    /// A panic gives fault -32603, as in [`Handler::call`]. An implementation must answer what
    /// `call` would answer for the same call: the response bytes are then the same either way.
    fn call_into(
        &self,
        _ctx: &mut CallContext,
        _method: &str,
        _params: &[Value],
        _out: &mut ValueWriter<'_>,
    ) -> Option<Result<(), Fault>> {
        None
    }

    /// Called for every POST before its body is decoded. `Some(status)` answers with that HTTP
    /// status (and an empty body) and does nothing else; the default is `None`.
    fn before_request(&self, _peer: SocketAddr) -> Option<u16> {
        None
    }
}

/// A boxed method: parameters in, value or fault out.
pub type Method = Box<dyn Fn(Vec<Value>) -> Result<Value, Fault> + Send + Sync>;

/// A [`Handler`] made of methods registered by name.
#[derive(Default)]
pub struct Methods {
    map: HashMap<String, Method>,
}

impl Methods {
    /// No methods yet.
    pub fn new() -> Self {
        Methods::default()
    }

    /// Registers `f` under `name`, replacing any earlier registration.
    pub fn add<F>(&mut self, name: impl Into<String>, f: F) -> &mut Self
    where
        F: Fn(Vec<Value>) -> Result<Value, Fault> + Send + Sync + 'static,
    {
        self.map.insert(name.into(), Box::new(f));
        self
    }
}

impl Handler for Methods {
    fn call(&self, _ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        match self.map.get(method) {
            Some(f) => f(params),
            None => Err(Fault::new(
                super::value::fault_code::METHOD_NOT_FOUND,
                format!("unknown method {method:?}"),
            )),
        }
    }

    fn method_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map.keys().cloned().collect();
        v.sort();
        v
    }
}

/// Server settings. The defaults suit a loopback test server and the sandbox.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Decoder limits; `limits.max_body` is also the largest request body accepted (413 above it).
    pub limits: Limits,
    /// Longest wait for a request's headers (slowloris guard), counted from the request's first
    /// byte on a kept-alive connection, and from the moment a new connection gets its slot for
    /// its first request.
    /// Bytes trickling in never extend it. Default 10 s.
    pub header_timeout: Duration,
    /// Longest wait for the whole body once headers are in; also bounds writing each response to
    /// a client that does not read. Default 30 s.
    pub body_timeout: Duration,
    /// Idle keep-alive connections are closed after this long. Default 15 s.
    pub keep_alive_timeout: Duration,
    /// At most this many connections are open at once; more wait in the
    /// accept queue while the connection idle the longest (kept alive between requests, or new
    /// and silent so far) is closed to make room. Default 256 (0 counts as 1).
    pub max_connections: usize,
    /// At most this many calls in one `system.multicall`. Default 1,000.
    pub max_multicall: usize,
    /// Request paths served; any other path gets 404. Empty means every path. Default
    /// `["/", "/RPC2", "/xmlrpc/", "/xmlrpc"]`. Matched exactly against the path without its
    /// query string.
    pub paths: Vec<String>,
    /// How connections get threads. Default [`Threading::EventLoop`].
    pub threading: Threading,
    /// With [`Threading::EventLoop`], how many worker threads serve requests when none blocks:
    /// 0 (the default) means the number of CPUs, at least 2.
    pub workers: usize,
}

/// How a [`Server`] gives threads to connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Threading {
    /// A few worker threads (about one per CPU) wait in one `epoll` set for whichever connection
    /// has a request, serve it, and hand the connection back. Idle connections cost no thread,
    /// and under load a worker goes from one request to the next without sleeping. A worker
    /// blocked in a request (a slow client, a handler that sleeps or waits for a lock) is
    /// replaced within milliseconds, so at most about [`ServerConfig::max_connections`] threads
    /// run. Linux only: elsewhere this is [`Threading::PerConnection`].
    #[default]
    EventLoop,
    /// One thread per connection, for its whole life: it serves the connection's requests one
    /// after another and sleeps in between.
    PerConnection,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits { max_depth: 128, max_body: 16 << 20 },
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(15),
            max_connections: 256,
            max_multicall: 1000,
            paths: ["/", "/RPC2", "/xmlrpc/", "/xmlrpc"].map(String::from).to_vec(),
            threading: Threading::default(),
            workers: 0,
        }
    }
}

/// Counters describing a running server (for tests, logs and benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections accepted since the server started.
    pub connections_accepted: u64,
    /// Connections open right now (being served, or waiting for their next request).
    pub connections_open: usize,
    /// HTTP requests whose head was read, whatever the answer.
    pub requests: u64,
    /// Threads serving connections right now: the event loop's workers with
    /// [`Threading::EventLoop`], one per open connection with [`Threading::PerConnection`].
    pub workers: usize,
}

/// A running server. Dropping it (or calling [`Server::shutdown`]) stops it and joins its threads.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` (use port 0 for a free port) and starts serving `handler` on background threads.
    pub fn bind(
        addr: impl ToSocketAddrs,
        handler: Arc<dyn Handler>,
        config: ServerConfig,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        #[cfg(target_os = "linux")]
        let pool = match config.threading {
            Threading::EventLoop => Some(pool::Pool::new(&config)?),
            Threading::PerConnection => None,
        };
        let shared = Arc::new(Shared {
            handler,
            config,
            stop: AtomicBool::new(false),
            table: Mutex::new(Table { next_id: 0, conns: HashMap::new() }),
            slot_freed: Condvar::new(),
            wake_addr: wake_addr(addr),
            accepted: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            epoch: Instant::now(),
            #[cfg(target_os = "linux")]
            pool,
        });
        let for_thread = Arc::clone(&shared);
        #[cfg(target_os = "linux")]
        let started = match &shared.pool {
            Some(pool) => pool.start(&shared),
            None => Ok(()),
        };
        #[cfg(not(target_os = "linux"))]
        let started: std::io::Result<()> = Ok(());
        let accept = started.and_then(|()| {
            thread::Builder::new()
                .name("xmlrpc-accept".into())
                .spawn(move || accept_loop(&for_thread, listener))
        });
        match accept {
            Ok(accept) => Ok(Server { addr, shared, accept: Some(accept) }),
            Err(e) => {
                // Threads could not start: stop the ones that did.
                shared.stop.store(true, Ordering::Release);
                #[cfg(target_os = "linux")]
                if let Some(pool) = &shared.pool {
                    pool.stop_and_join(&shared);
                }
                Err(e)
            }
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/RPC2`-style URL for `path` (e.g. `"/xmlrpc/"`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Current counters.
    pub fn stats(&self) -> ServerStats {
        let connections_open = self.shared.lock_table().conns.len();
        #[cfg(target_os = "linux")]
        let workers = self.shared.pool.as_ref().map_or(connections_open, pool::Pool::workers);
        #[cfg(not(target_os = "linux"))]
        let workers = connections_open;
        ServerStats {
            connections_accepted: self.shared.accepted.load(Ordering::Relaxed),
            connections_open,
            requests: self.shared.requests.load(Ordering::Relaxed),
            workers,
        }
    }

    /// Stops accepting, closes connections and joins the threads.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    /// Blocks the calling thread until the server stops (after [`Server::shutdown`] from another
    /// thread via a [`ShutdownHandle`]).
    pub fn wait(mut self) {
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }

    /// A cloneable handle that can stop the server from another thread (e.g. a signal handler).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle { shared: Arc::clone(&self.shared) }
    }

    fn stop_and_join(&mut self) {
        self.shared.request_stop();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// Stops a [`Server`] from another thread.
#[derive(Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle").field("stopping", &self.shared.stopping()).finish()
    }
}

impl ShutdownHandle {
    /// Asks the server to stop; returns at once.
    pub fn shutdown(&self) {
        self.shared.request_stop();
    }
}

// ---------------------------------------------------------------------------------------------
// Shared state and the accept loop
// ---------------------------------------------------------------------------------------------

/// A connection waiting for its next request; the accept thread may close it to make room.
const IDLE: u8 = 0;
/// A connection reading or serving a request.
const BUSY: u8 = 1;
/// An idle connection the accept thread has closed.
const REAPED: u8 = 2;

/// How long the wake-up connection of a shutdown may take.
const WAKE_TIMEOUT: Duration = Duration::from_millis(250);
/// A connection keeps its reply buffer between calls unless it grew past this (bytes).
const MAX_KEPT_OUTPUT: usize = 1 << 20;
/// Responses larger than this are gzipped for clients that accept it (Python's threshold).
const GZIP_THRESHOLD: usize = 1400;

struct Shared {
    handler: Arc<dyn Handler>,
    config: ServerConfig,
    stop: AtomicBool,
    table: Mutex<Table>,
    /// Signalled when a connection ends (a slot frees) or on shutdown.
    slot_freed: Condvar,
    /// Where a shutdown connects to wake the accept thread.
    wake_addr: SocketAddr,
    accepted: AtomicU64,
    requests: AtomicU64,
    /// The origin of [`Activity::idle_since`].
    epoch: Instant,
    /// The event loop's workers, with [`Threading::EventLoop`].
    #[cfg(target_os = "linux")]
    pool: Option<pool::Pool>,
}

/// The open connections.
struct Table {
    next_id: u64,
    conns: HashMap<u64, Arc<Entry>>,
}

/// One open connection, shared by the thread serving it and the table.
struct Entry {
    stream: TcpStream,
    peer: SocketAddr,
    activity: Activity,
    /// Locked by the thread serving a request (one at a time: the event loop hands a
    /// connection to one worker, and a connection thread is alone).
    session: Mutex<Session>,
}

/// Whether a connection is idle (and since when), shared by its thread and the accept thread.
struct Activity {
    /// [`IDLE`], [`BUSY`] or [`REAPED`].
    state: AtomicU8,
    /// When the connection last became idle, in nanoseconds since [`Shared::epoch`].
    idle_since: AtomicU64,
    /// With the event loop, when an idle connection is closed (nanoseconds since
    /// [`Shared::epoch`]): the first request's head is due `header_timeout` after admission, a
    /// later one within `keep_alive_timeout` of the previous reply.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // only the event loop reads it
    deadline: AtomicU64,
}

impl Activity {
    fn busy() -> Activity {
        Activity { state: AtomicU8::new(BUSY), idle_since: AtomicU64::new(0), deadline: AtomicU64::new(0) }
    }
}

/// What a connection keeps from one request to the next.
struct Session {
    /// The read buffer's allocation (its bytes are not kept: a connection is only put aside
    /// with nothing unread).
    buf: Vec<u8>,
    /// The encoded reply.
    out: String,
    gzipper: Gzipper,
    /// No request head has been read yet: the first one is due `header_timeout` after
    /// `admitted_at`.
    first: bool,
    admitted_at: Instant,
}

impl Session {
    fn new(admitted_at: Instant) -> Session {
        Session { buf: Vec::new(), out: String::new(), gzipper: Gzipper::default(), first: true, admitted_at }
    }
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Nanoseconds since [`Shared::epoch`].
    fn nanos_since_epoch(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    fn lock_table(&self) -> MutexGuard<'_, Table> {
        // The table is consistent after any panic (plain inserts and removes), so poisoning is
        // ignored.
        crate::sync::lock(&self.table)
    }

    /// Sets the stop flag, closes the reading side of every connection and wakes the accept
    /// thread. Idempotent.
    fn request_stop(&self) {
        if self.stop.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let table = self.lock_table();
            for entry in table.conns.values() {
                let _ = entry.stream.shutdown(Shutdown::Read);
            }
            self.slot_freed.notify_all();
        }
        // The accept thread may be blocked in accept(): give it a connection to return.
        let _ = TcpStream::connect_timeout(&self.wake_addr, WAKE_TIMEOUT);
    }

    /// Registers `stream` once a slot is free, closing an idle connection to make room if all are
    /// taken. `None` if the server stops meanwhile.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) -> Option<(u64, Arc<Entry>)> {
        let max = self.config.max_connections.max(1);
        let mut table = self.lock_table();
        loop {
            if self.stopping() {
                return None;
            }
            if table.conns.len() < max {
                break;
            }
            let state = |e: &Entry| e.activity.state.load(Ordering::Acquire);
            let reaping = table.conns.values().any(|e| state(e) == REAPED);
            if !reaping {
                // Close the connection idle the longest; it may turn busy meanwhile (then retry).
                let oldest = table
                    .conns
                    .values()
                    .filter(|e| state(e) == IDLE)
                    .min_by_key(|e| e.activity.idle_since.load(Ordering::Relaxed));
                if let Some(e) = oldest {
                    let cas =
                        e.activity.state.compare_exchange(IDLE, REAPED, Ordering::AcqRel, Ordering::Acquire);
                    if cas.is_err() {
                        continue;
                    }
                    let _ = e.stream.shutdown(Shutdown::Both);
                }
            }
            table = self
                .slot_freed
                .wait_timeout(table, Duration::from_millis(100))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let id = table.next_id;
        table.next_id += 1;
        // The header timeout of the first request counts from here, not from the accept: a
        // client that waited for a slot has usually sent its request already.
        let admitted_at = Instant::now();
        let _ = stream.set_nodelay(true);
        if !self.config.body_timeout.is_zero() {
            let _ = stream.set_write_timeout(Some(self.config.body_timeout));
        }
        let activity = Activity::busy();
        #[cfg(target_os = "linux")]
        if self.pool.is_some() {
            // Handed to the event loop idle, until its first request arrives.
            let now = self.nanos_since_epoch(admitted_at);
            activity.idle_since.store(now, Ordering::Relaxed);
            let deadline = self.nanos_since_epoch(admitted_at + self.config.header_timeout);
            activity.deadline.store(deadline, Ordering::Relaxed);
            activity.state.store(IDLE, Ordering::Release);
        }
        let session = Mutex::new(Session::new(admitted_at));
        let entry = Arc::new(Entry { stream, peer, activity, session });
        table.conns.insert(id, Arc::clone(&entry));
        Some((id, entry))
    }

    fn release(&self, id: u64) {
        let removed = self.lock_table().conns.remove(&id);
        self.slot_freed.notify_all();
        // The socket closes when the last `Arc<Entry>` goes, here or in the thread.
        drop(removed);
    }
}

/// Where to connect to reach a listener bound to `addr` (the loopback for a wildcard address).
fn wake_addr(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopping() {
        let (stream, peer) = match listener.accept() {
            Ok(pair) => pair,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if shared.stopping() {
            break;
        }
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        let Some((id, entry)) = shared.admit(stream, peer) else { break };
        #[cfg(target_os = "linux")]
        if let Some(pool) = &shared.pool {
            pool.add(shared, id, &entry);
            continue;
        }
        threads.retain(|t| !t.is_finished());
        let for_thread = Arc::clone(shared);
        let spawned = thread::Builder::new().name("xmlrpc-conn".into()).spawn(move || {
            let guard = Release { shared: &for_thread, id };
            let _ = catch_unwind(AssertUnwindSafe(|| serve_entry(&for_thread, &entry, false)));
            let _ = entry.stream.shutdown(Shutdown::Both);
            drop(guard);
        });
        match spawned {
            Ok(t) => threads.push(t),
            Err(_) => {
                shared.release(id);
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
    drop(listener);
    for t in threads {
        let _ = t.join();
    }
    #[cfg(target_os = "linux")]
    if let Some(pool) = &shared.pool {
        pool.stop_and_join(shared);
    }
}

/// Frees a connection's slot when its thread ends, even by a panic.
struct Release<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.shared.release(self.id);
    }
}

// ---------------------------------------------------------------------------------------------
// One connection
// ---------------------------------------------------------------------------------------------

/// What to do with the connection after a request.
enum Next {
    /// Read the next request.
    KeepAlive,
    /// Close now.
    Close,
    /// The request's body was left unread: shut down sending, drain a little, then close.
    Linger,
}

/// What became of a connection after [`serve_requests`].
enum Outcome {
    /// Kept alive and waiting for its next request, with nothing unread: the event loop takes
    /// it back.
    Parked,
    /// Closed, or to be closed now.
    Finished,
}

/// Serves the requests of an open connection with its session (see [`serve_requests`]): on its
/// own thread until it closes ([`Threading::PerConnection`], `park` false), or, when the event
/// loop found it readable, until it waits for its next request ([`Outcome::Parked`]).
fn serve_entry(shared: &Shared, entry: &Entry, park: bool) -> Outcome {
    let mut session = crate::sync::lock(&entry.session);
    let mut conn = Conn::with_buffer(&entry.stream, std::mem::take(&mut session.buf));
    let outcome = serve_requests(shared, &mut conn, &mut session, &entry.activity, entry.peer, park);
    session.buf = conn.into_buffer();
    outcome
}

/// Serves the requests of one connection. Without `park`, until the connection closes;
/// `activity` then tells the accept thread when the connection is idle (and lets it close the
/// connection then). With `park` (the event loop, which found the connection readable), until
/// a reply leaves nothing unread: the connection is then [`Outcome::Parked`].
fn serve_requests<W: Wire + ?Sized>(
    shared: &Shared,
    conn: &mut Conn<'_, W>,
    session: &mut Session,
    activity: &Activity,
    peer: SocketAddr,
    park: bool,
) -> Outcome {
    let cfg = &shared.config;
    let mut served = false;
    loop {
        if shared.stopping() {
            return Outcome::Finished;
        }
        let first = session.first;
        let head_start = if first { Some(session.admitted_at) } else { None };
        let first_byte_deadline = if first {
            session.admitted_at + cfg.header_timeout
        } else {
            Instant::now() + cfg.keep_alive_timeout
        };
        if conn.buffered() == 0 {
            if park && served {
                return Outcome::Parked;
            }
            if park {
                // The event loop saw bytes (or the end of the stream): this read is not a wait.
                if conn.fill(first_byte_deadline).is_err() {
                    return Outcome::Finished;
                }
            } else {
                // Waiting for a request's first byte, on a new connection or between requests:
                // the accept thread may close us to make room.
                activity.idle_since.store(shared.nanos_since_epoch(Instant::now()), Ordering::Relaxed);
                activity.state.store(IDLE, Ordering::Release);
                let got = conn.fill(first_byte_deadline);
                let busy = activity.state.compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire);
                if busy.is_err() || got.is_err() {
                    return Outcome::Finished;
                }
            }
        }
        session.first = false;
        served = true;
        let head = match conn.read_head(first_byte_deadline, cfg.header_timeout, head_start) {
            Ok(head) => head,
            Err(ReadHeadError::Idle | ReadHeadError::Partial(ReadError::Closed | ReadError::Io)) => {
                return Outcome::Finished;
            }
            Err(ReadHeadError::Partial(ReadError::Timeout)) => {
                shared.requests.fetch_add(1, Ordering::Relaxed);
                let msg = "the request head was not received in time\n";
                let _ = write_error(conn.stream(), 408, msg, &[]);
                return Outcome::Finished;
            }
            Err(ReadHeadError::Bad(e)) => {
                shared.requests.fetch_add(1, Ordering::Relaxed);
                let msg = format!("{e}\n");
                if write_error(conn.stream(), e.status(), &msg, &[]).is_ok() {
                    conn.linger_close();
                }
                return Outcome::Finished;
            }
        };
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let next = handle_request(shared, conn, &head, peer, &mut session.out, &mut session.gzipper);
        if session.out.capacity() > MAX_KEPT_OUTPUT {
            session.out = String::new();
        }
        session.gzipper.trim();
        match next {
            Next::KeepAlive => {}
            Next::Close => return Outcome::Finished,
            Next::Linger => {
                conn.linger_close();
                return Outcome::Finished;
            }
        }
    }
}

/// Runs the server's connection code over an in-memory connection: `input` is everything the
/// client sends (one or more HTTP requests, then end of stream), delivered at most `max_read`
/// bytes per read, and the result is everything the server writes back. For fuzzing the request
/// path (HTTP parsing, XML-RPC decoding and dispatch) without sockets; not part of the supported
/// API.
#[doc(hidden)]
pub fn fuzz_serve_connection(
    handler: Arc<dyn Handler>,
    config: ServerConfig,
    input: &[u8],
    max_read: usize,
) -> Vec<u8> {
    let shared = Shared {
        handler,
        config,
        stop: AtomicBool::new(false),
        table: Mutex::new(Table { next_id: 0, conns: HashMap::new() }),
        slot_freed: Condvar::new(),
        wake_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        accepted: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        epoch: Instant::now(),
        #[cfg(target_os = "linux")]
        pool: None,
    };
    let wire = MemWire::new(input, max_read);
    let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 40000));
    let mut session = Session::new(Instant::now());
    serve_requests(&shared, &mut Conn::new(&wire), &mut session, &Activity::busy(), peer, false);
    wire.into_output()
}

/// Writes an error answer: a `text/plain` explanation, and `Connection: close`.
fn write_error<W: Wire + ?Sized>(
    stream: &W,
    status: u16,
    body: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<()> {
    let mut all = vec![("Content-Type", "text/plain; charset=utf-8")];
    all.extend_from_slice(headers);
    let response = Response {
        status,
        headers: &all,
        body: body.as_bytes(),
        keep_alive: false,
        version: Version::Http11,
        date: None,
    };
    response.write_to(stream)
}

/// Answers with an error status before the body was read; the connection then lingers and closes.
fn refuse<W: Wire + ?Sized>(
    conn: &Conn<'_, W>,
    head: &RequestHead,
    status: u16,
    msg: &str,
    headers: &[(&str, &str)],
) -> Next {
    // A response to HEAD has no body.
    let body = if head.method == "HEAD" { String::new() } else { format!("{msg}\n") };
    match write_error(conn.stream(), status, &body, headers) {
        Ok(()) => Next::Linger,
        Err(_) => Next::Close,
    }
}

/// Serves one request whose head has been read.
fn handle_request<W: Wire + ?Sized>(
    shared: &Shared,
    conn: &mut Conn<'_, W>,
    head: &RequestHead,
    peer: SocketAddr,
    out: &mut String,
    gzipper: &mut Gzipper,
) -> Next {
    let cfg = &shared.config;
    if head.method != "POST" {
        let msg = format!("method {} is not allowed: XML-RPC calls are POST requests", head.method);
        return refuse(conn, head, 405, &msg, &[("Allow", "POST")]);
    }
    let path = head.path();
    if !cfg.paths.is_empty() && !cfg.paths.iter().any(|p| p == path) {
        let msg = format!("no XML-RPC service at path {path:?}; served paths: {}", cfg.paths.join(", "));
        return refuse(conn, head, 404, &msg, &[]);
    }
    let len = match head.body_length() {
        Ok(BodyLength::Length(n)) => n,
        Ok(BodyLength::Missing) => {
            return refuse(conn, head, 411, "Content-Length is required on an XML-RPC POST", &[]);
        }
        Ok(BodyLength::TransferEncoded) => {
            let msg = "Transfer-Encoding (chunked) request bodies are not supported; send Content-Length";
            return refuse(conn, head, 411, msg, &[]);
        }
        Err(e) => return refuse(conn, head, 400, &e.to_string(), &[]),
    };
    let max = cfg.limits.max_body;
    if len > max as u64 {
        let msg = format!("request body of {len} bytes is over the {max}-byte limit");
        return refuse(conn, head, 413, &msg, &[]);
    }
    let len = len as usize;
    let gzip = match head.get("content-encoding").map(str::trim) {
        None | Some("") => false,
        Some(c) if c.eq_ignore_ascii_case("identity") => false,
        Some(c) if c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip") => true,
        Some(c) => {
            let msg = format!("Content-Encoding {c:?} is not supported; use gzip or none");
            return refuse(conn, head, 415, &msg, &[]);
        }
    };
    let expect_continue = head.version == Version::Http11 && head.has_token("expect", "100-continue");
    let keep_alive = || head.client_keeps_alive() && !shared.stopping();

    match catch_unwind(AssertUnwindSafe(|| shared.handler.before_request(peer))) {
        Ok(None) => {}
        Ok(Some(status)) => {
            let status = if (200..=599).contains(&status) { status } else { 500 };
            if expect_continue {
                // The client waits for our go-ahead; answer now and close.
                return match reply(conn, head, status, &[], b"", false, None) {
                    Ok(()) => Next::Linger,
                    Err(_) => Next::Close,
                };
            }
            if conn.discard(len as u64, Instant::now() + cfg.body_timeout).is_err() {
                return Next::Close;
            }
            let keep = keep_alive();
            return match reply(conn, head, status, &[], b"", keep, None) {
                Ok(()) if keep => Next::KeepAlive,
                _ => Next::Close,
            };
        }
        Err(_) => return refuse(conn, head, 500, "internal error", &[]),
    }

    if expect_continue
        && conn.buffered() == 0
        && conn.stream().write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
    {
        return Next::Close;
    }
    let body = match conn.read_body(len, Instant::now() + cfg.body_timeout) {
        Ok(body) => body,
        Err(ReadError::Timeout) => {
            let _ = write_error(conn.stream(), 408, "the request body was not received in time\n", &[]);
            return Next::Close;
        }
        Err(_) => return Next::Close,
    };
    let close_after = |r: std::io::Result<()>, keep: bool| match r {
        Ok(()) if keep => Next::KeepAlive,
        _ => Next::Close,
    };
    let xml_in = if gzip {
        match gunzip_capped(&body, max) {
            Ok(b) => b,
            Err(DecodeError::TooLarge { limit }) => {
                let msg = format!("gzip request body decompresses to over the {limit}-byte limit\n");
                let keep = keep_alive();
                return close_after(plain(conn, head, 413, &msg, keep), keep);
            }
            Err(e) => {
                let keep = keep_alive();
                return close_after(plain(conn, head, 400, &format!("{e}\n"), keep), keep);
            }
        }
    } else {
        std::borrow::Cow::Borrowed(body.as_slice())
    };

    let mut ctx = CallContext::new(peer);
    shared.answer(&mut ctx, &xml_in, out);
    let xml_out = out.as_bytes();
    if ctx.reply_dropped() {
        return Next::Close;
    }
    // Decided after the call, so a shutdown during it announces the close.
    let keep = keep_alive();
    if head.accepts_gzip()
        && xml_out.len() > GZIP_THRESHOLD
        && let Some(gz) = gzipper.gzip(xml_out)
    {
        let headers = [("Content-Type", "text/xml"), ("Content-Encoding", "gzip")];
        return close_after(reply(conn, head, 200, &headers, gz, keep, ctx.date()), keep);
    }
    close_after(reply(conn, head, 200, &[("Content-Type", "text/xml")], xml_out, keep, ctx.date()), keep)
}

/// Writes a response in the request's version, with the `Date` a handler asked for
/// ([`CallContext::set_date`]; `None`: now).
fn reply<W: Wire + ?Sized>(
    conn: &Conn<'_, W>,
    head: &RequestHead,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
    date: Option<SystemTime>,
) -> std::io::Result<()> {
    Response { status, headers, body, keep_alive, version: head.version, date }.write_to(conn.stream())
}

/// Writes a `text/plain` error after the body was read (so the connection may stay open).
fn plain<W: Wire + ?Sized>(
    conn: &Conn<'_, W>,
    head: &RequestHead,
    status: u16,
    msg: &str,
    keep: bool,
) -> std::io::Result<()> {
    reply(conn, head, status, &[("Content-Type", "text/plain; charset=utf-8")], msg.as_bytes(), keep, None)
}

/// The gzip header the server writes: no name or time, "fastest" compression, unknown OS (what
/// `flate2`'s `GzEncoder` writes at `Compression::fast()`).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255];

/// Gzips the replies of one connection, reusing its compressor and output buffer from reply to
/// reply (a new compressor costs an allocation of a few hundred KB and its zeroing).
#[derive(Default)]
struct Gzipper {
    /// Raw deflate at `Compression::fast()`; made on the first reply that is gzipped.
    deflate: Option<flate2::Compress>,
    out: Vec<u8>,
}

impl Gzipper {
    /// `data` as a gzip member, or `None` if the compressor fails (the reply then goes out
    /// uncompressed).
    fn gzip(&mut self, data: &[u8]) -> Option<&[u8]> {
        use flate2::{Compress, Compression, FlushCompress, Status};
        let deflate = self.deflate.get_or_insert_with(|| Compress::new(Compression::fast(), false));
        deflate.reset();
        self.out.clear();
        self.out.reserve(data.len() / 4 + 64);
        self.out.extend_from_slice(&GZIP_HEADER);
        let mut input = data;
        loop {
            let (in_before, out_before) = (deflate.total_in(), deflate.total_out());
            let status = deflate.compress_vec(input, &mut self.out, FlushCompress::Finish).ok()?;
            let consumed = usize::try_from(deflate.total_in() - in_before).ok()?;
            input = input.get(consumed..)?;
            match status {
                Status::StreamEnd => break,
                // Out of room: grow and go on. No progress with room to spare would loop forever.
                _ if consumed == 0
                    && deflate.total_out() == out_before
                    && self.out.len() < self.out.capacity() =>
                {
                    return None;
                }
                _ => self.out.reserve(self.out.len().max(4096)),
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(data);
        self.out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE is the length modulo 2^32.
        self.out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        Some(&self.out)
    }

    /// Drops the output buffer if one reply made it large.
    fn trim(&mut self) {
        if self.out.capacity() > MAX_KEPT_OUTPUT {
            self.out = Vec::new();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// XML-RPC dispatch
// ---------------------------------------------------------------------------------------------

/// The methods the server answers itself.
const SYSTEM_METHODS: [&str; 4] =
    ["system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall"];

/// The fault code for a request that could not be decoded.
fn decode_fault_code(e: &DecodeError) -> i64 {
    match e {
        DecodeError::Xml { .. } | DecodeError::Entity { .. } | DecodeError::Gzip(_) => {
            fault_code::PARSE_ERROR
        }
        DecodeError::Encoding(_) => fault_code::UNSUPPORTED_ENCODING,
        _ => fault_code::INVALID_REQUEST,
    }
}

impl Shared {
    /// Decodes a call body and writes the encoded response (result or fault) into `out`,
    /// replacing what it held.
    fn answer(&self, ctx: &mut CallContext, body: &[u8], out: &mut String) {
        let MethodCall { method, params } = match decode_call_with(body, &self.config.limits) {
            Ok(call) => call,
            Err(e) => return encode_fault_into(out, &Fault::new(decode_fault_code(&e), e.to_string())),
        };
        if !is_valid_method_name(&method) {
            return encode_fault_into(out, &invalid_name(&method));
        }
        if !SYSTEM_METHODS.contains(&method.as_str()) && self.call_handler_into(ctx, &method, &params, out) {
            return;
        }
        match self.dispatch(ctx, &method, params, false) {
            Ok(value) => self.encode_result(&method, value, out),
            Err(fault) => encode_fault_into(out, &fault),
        }
    }

    /// Calls `method`, answering the `system.*` methods itself.
    fn dispatch(
        &self,
        ctx: &mut CallContext,
        method: &str,
        params: Vec<Value>,
        in_multicall: bool,
    ) -> Result<Value, Fault> {
        match method {
            "system.listMethods" => self.list_methods(),
            "system.multicall" if in_multicall => {
                Err(Fault::new(fault_code::INVALID_REQUEST, "nested system.multicall is refused"))
            }
            "system.multicall" => self.multicall(ctx, params),
            "system.methodHelp" | "system.methodSignature" if !self.handler_serves(method) => {
                match params.first().and_then(Value::as_str) {
                    Some(_) if params.len() == 1 => {
                        Ok(Value::from(if method == "system.methodHelp" { "" } else { "undef" }))
                    }
                    _ => Err(Fault::new(
                        fault_code::INVALID_PARAMS,
                        format!("{method} takes one string parameter, a method name"),
                    )),
                }
            }
            _ => self.call_handler(ctx, method, params),
        }
    }

    fn call_handler(&self, ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        catch_unwind(AssertUnwindSafe(|| self.handler.call(ctx, method, params)))
            .unwrap_or_else(|_| Err(internal_error(method)))
    }

    /// Offers the call to [`Handler::call_into`]; returns whether it answered (then `out` holds
    /// the whole response, result or fault).
    fn call_handler_into(
        &self,
        ctx: &mut CallContext,
        method: &str,
        params: &[Value],
        out: &mut String,
    ) -> bool {
        begin_response_into(out);
        let answered = catch_unwind(AssertUnwindSafe(|| {
            let mut writer = ValueWriter::for_result(out);
            let answer = self.handler.call_into(ctx, method, params, &mut writer);
            answer.map(|a| a.map(|()| writer.finish()))
        }));
        match answered {
            Ok(None) => false,
            Ok(Some(Ok(Ok(())))) => {
                end_response_into(out);
                true
            }
            Ok(Some(Ok(Err(e)))) => {
                encode_fault_into(out, &cannot_encode(method, &e));
                true
            }
            Ok(Some(Err(fault))) => {
                encode_fault_into(out, &fault);
                true
            }
            Err(_) => {
                encode_fault_into(out, &internal_error(method));
                true
            }
        }
    }

    fn handler_names(&self) -> Result<Vec<String>, Fault> {
        catch_unwind(AssertUnwindSafe(|| self.handler.method_names()))
            .map_err(|_| internal_error("system.listMethods"))
    }

    fn handler_serves(&self, method: &str) -> bool {
        self.handler_names().is_ok_and(|names| names.iter().any(|n| n == method))
    }

    fn list_methods(&self) -> Result<Value, Fault> {
        let mut names = self.handler_names()?;
        names.extend(SYSTEM_METHODS.iter().map(|s| (*s).to_owned()));
        names.sort();
        names.dedup();
        Ok(Value::Array(names.into_iter().map(Value::from).collect()))
    }

    fn multicall(&self, ctx: &mut CallContext, mut params: Vec<Value>) -> Result<Value, Fault> {
        let usage = "system.multicall takes one parameter: an array of {methodName, params} structs";
        if params.len() != 1 {
            return Err(Fault::new(
                fault_code::INVALID_PARAMS,
                format!("{usage}; got {} parameters", params.len()),
            ));
        }
        let calls = params
            .remove(0)
            .into_array()
            .map_err(|v| Fault::new(fault_code::INVALID_PARAMS, format!("{usage}; got {}", v.type_name())))?;
        let max = self.config.max_multicall;
        if calls.len() > max {
            return Err(Fault::new(
                fault_code::INVALID_PARAMS,
                format!("system.multicall got {} calls, over the limit of {max}", calls.len()),
            ));
        }
        let mut results = Vec::with_capacity(calls.len());
        for (i, call) in calls.into_iter().enumerate() {
            results.push(match self.multicall_entry(ctx, i, call) {
                Ok(v) => Value::Array(vec![v]),
                Err(f) => f.to_value(),
            });
        }
        Ok(Value::Array(results))
    }

    fn multicall_entry(&self, ctx: &mut CallContext, i: usize, call: Value) -> Result<Value, Fault> {
        let bad = |msg: String| {
            Fault::new(fault_code::INVALID_REQUEST, format!("system.multicall entry {i}: {msg}"))
        };
        let mut call = call
            .into_struct()
            .map_err(|v| bad(format!("expected a {{methodName, params}} struct, got {}", v.type_name())))?;
        let method = match call.remove("methodName") {
            Some(v) => {
                v.into_string().map_err(|v| bad(format!("methodName is {}, not a string", v.type_name())))?
            }
            None => return Err(bad("no methodName member".into())),
        };
        if !is_valid_method_name(&method) {
            return Err(bad(invalid_name(&method).message));
        }
        let params = match call.remove("params") {
            Some(v) => v
                .into_array()
                .map_err(|v| bad(format!("params of {method} is {}, not an array", v.type_name())))?,
            None => Vec::new(),
        };
        if method == "system.multicall" {
            return Err(bad("nested system.multicall is refused".into()));
        }
        self.dispatch(ctx, &method, params, true)
    }

    /// Encodes a successful result; a value the encoder refuses becomes fault -32603 (for a
    /// multicall, only the entries that cannot be encoded become fault entries).
    fn encode_result(&self, method: &str, mut value: Value, out: &mut String) {
        let err = match encode_response_into(out, &value) {
            Ok(()) => return,
            Err(e) => e,
        };
        if method == "system.multicall"
            && let Value::Array(entries) = &mut value
        {
            for (i, entry) in entries.iter_mut().enumerate() {
                if let Err(e) = encode_value(entry) {
                    *entry = Fault::new(
                        fault_code::INTERNAL_ERROR,
                        format!("system.multicall entry {i}: internal error: cannot encode the result: {e}"),
                    )
                    .to_value();
                }
            }
            if encode_response_into(out, &value).is_ok() {
                return;
            }
        }
        encode_fault_into(out, &cannot_encode(method, &err));
    }
}

fn cannot_encode(method: &str, err: &super::encode::EncodeError) -> Fault {
    Fault::new(
        fault_code::INTERNAL_ERROR,
        format!("internal error: cannot encode the result of {method}: {err}"),
    )
}

fn internal_error(method: &str) -> Fault {
    Fault::new(fault_code::INTERNAL_ERROR, format!("internal error in {method:?}"))
}

fn invalid_name(name: &str) -> Fault {
    let shown: String = name.chars().take(80).collect();
    Fault::new(
        fault_code::INVALID_REQUEST,
        format!("invalid method name {shown:?}: use 1 to 256 of the characters A-Z a-z 0-9 _ . : /"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data).read_to_end(&mut out).expect("a valid gzip member");
        out
    }

    #[test]
    fn one_gzipper_compresses_reply_after_reply() {
        // Bytes that do not compress (so the output outgrows its first reservation), text that
        // does, nothing at all, and the text again after the large one.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: Vec<u8> = (0..3_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let text = "<value><string>xml-rpc</string></value>".repeat(2000).into_bytes();
        let mut gz = Gzipper::default();
        for data in [&text[..], &noise[..], b"", &text[..]] {
            let packed = gz.gzip(data).expect("compresses").to_vec();
            assert_eq!(packed[..10], GZIP_HEADER);
            assert_eq!(gunzip(&packed), data);
            gz.trim();
        }
        assert!(gz.gzip(&text).unwrap().len() < text.len() / 10);
        // The header is the one flate2's own encoder writes at this level.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"x").unwrap();
        assert_eq!(enc.finish().unwrap()[..10], GZIP_HEADER);
    }
}
