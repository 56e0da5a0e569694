//! The event loop of [`Threading::EventLoop`](super::Threading::EventLoop) (Linux): worker
//! threads that wait in one `epoll` set for whichever connection has a request.
//!
//! - Every open connection that waits for its next request (or its first) is in the set,
//!   registered one-shot: the worker that gets its event has it to itself, serves the requests
//!   it finds ([`serve_ready`]), and re-arms it when a reply leaves nothing unread. Idle
//!   connections cost no thread, and under load a worker goes from one request to the next
//!   without sleeping, which is where this beats a thread per connection (no wake-up and
//!   context switch per call).
//! - About one worker per CPU runs ([`ServerConfig::workers`]). A worker can still block inside
//!   a request: a client trickling its body, a handler that sleeps or waits for a lock. The
//!   **monitor** thread looks every [`TICK`] at workers that have been in one request for over
//!   [`STALL`]; those the kernel reports sleeping (`/proc/self/task/TID/stat`) do not count, and
//!   new workers start until enough are free again. A worker that has waited [`SPARE_EXIT`]
//!   without an event ends while more than the minimum run.
//! - The monitor also closes idle connections past their deadline (the first head is due
//!   `header_timeout` after admission, later ones `keep_alive_timeout` after the previous
//!   reply): it marks them [`REAPED`] and shuts the socket down, and the event that follows
//!   makes a worker release them, as for any connection that ends.
//! - Shutdown: an `eventfd` in the set, made readable for good, sends every worker home once
//!   it finishes its request; whatever is still open afterwards is closed.

use std::cell::RefCell;
use std::io;
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use rustix::event::{EventfdFlags, Timespec, epoll, eventfd};

use super::{BUSY, Entry, IDLE, Outcome, REAPED, ServerConfig, Shared, serve_entry};

/// How often the monitor looks at busy workers while any is busy.
const TICK: Duration = Duration::from_millis(2);
/// How often the monitor wakes when no worker is busy but connections are open (to close idle
/// ones on time). With no connection open it sleeps until one arrives.
const IDLE_TICK: Duration = Duration::from_millis(50);
/// A worker in one request for longer than this, and asleep, is replaced.
const STALL: Duration = Duration::from_millis(2);
/// A worker beyond the minimum ends after waiting this long without an event.
const SPARE_EXIT: Duration = Duration::from_secs(5);
/// The `epoll` key of the shutdown `eventfd` (connection ids count up from 0).
const WAKE_KEY: u64 = u64::MAX;
/// Interest in a connection: readable, or closed by the peer; one event, then re-armed.
fn interest() -> epoll::EventFlags {
    epoll::EventFlags::IN | epoll::EventFlags::RDHUP | epoll::EventFlags::ONESHOT
}

/// The event loop's state, owned by [`Shared`].
pub(super) struct Pool {
    epoll: OwnedFd,
    /// Readable once the server stops.
    wake: OwnedFd,
    /// Workers that run when none blocks.
    min_workers: usize,
    /// The most workers at once: one per connection, plus the minimum.
    max_workers: usize,
    workers: Mutex<Workers>,
    /// Workers waiting for an event right now.
    idle: AtomicUsize,
    /// The monitor thread, to join it at shutdown.
    monitor: Mutex<Option<JoinHandle<()>>>,
    /// The monitor thread, to wake it when a connection arrives (it sleeps while none is open)
    /// and at shutdown.
    monitor_thread: OnceLock<Thread>,
}

/// The workers, for the monitor and for shutdown.
#[derive(Default)]
struct Workers {
    slots: Vec<Arc<Slot>>,
    handles: Vec<JoinHandle<()>>,
}

/// What the monitor sees of one worker.
#[derive(Default)]
struct Slot {
    /// The worker's kernel thread id (0 until it starts).
    tid: AtomicI32,
    /// When it started the request it is serving, in nanoseconds since [`Shared::epoch`] plus
    /// one; 0 while it waits for an event.
    busy_since: AtomicU64,
}

impl Pool {
    /// Makes the `epoll` set and the shutdown `eventfd`; no thread yet.
    pub(super) fn new(config: &ServerConfig) -> io::Result<Pool> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(&epoll, &wake, epoll::EventData::new_u64(WAKE_KEY), epoll::EventFlags::IN)?;
        let cpus = thread::available_parallelism().map_or(2, usize::from);
        let min_workers = if config.workers == 0 { cpus.max(2) } else { config.workers };
        Ok(Pool {
            epoll,
            wake,
            min_workers,
            max_workers: config.max_connections.max(1) + min_workers,
            workers: Mutex::new(Workers::default()),
            idle: AtomicUsize::new(0),
            monitor: Mutex::new(None),
            monitor_thread: OnceLock::new(),
        })
    }

    /// Starts the minimum number of workers and the monitor.
    pub(super) fn start(&self, shared: &Arc<Shared>) -> io::Result<()> {
        {
            let mut workers = self.lock_workers();
            for _ in 0..self.min_workers {
                spawn_worker(shared, &mut workers)?;
            }
        }
        let for_thread = Arc::clone(shared);
        let handle =
            thread::Builder::new().name("xmlrpc-monitor".into()).spawn(move || monitor(&for_thread))?;
        let _ = self.monitor_thread.set(handle.thread().clone());
        *crate::sync::lock(&self.monitor) = Some(handle);
        Ok(())
    }

    /// How many workers exist.
    pub(super) fn workers(&self) -> usize {
        self.lock_workers().slots.len()
    }

    fn lock_workers(&self) -> MutexGuard<'_, Workers> {
        crate::sync::lock(&self.workers)
    }

    /// Hands a newly admitted connection (idle, see [`Shared::admit`]) to the workers.
    pub(super) fn add(&self, shared: &Shared, id: u64, entry: &Entry) {
        if epoll::add(&self.epoll, &entry.stream, epoll::EventData::new_u64(id), interest()).is_err() {
            let _ = entry.stream.shutdown(Shutdown::Both);
            shared.release(id);
            return;
        }
        // Its deadline needs watching: wake the monitor if it sleeps for want of connections.
        if let Some(monitor) = self.monitor_thread.get() {
            monitor.unpark();
        }
    }

    /// Sends the workers home, joins them and the monitor, and closes what is still open.
    /// Called by the accept thread once the server stops.
    pub(super) fn stop_and_join(&self, shared: &Shared) {
        // An eventfd stays readable until read, and nobody reads it: every worker sees it.
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        if let Some(handle) = crate::sync::lock(&self.monitor).take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
        // The monitor has stopped, so no worker starts any more.
        let handles = std::mem::take(&mut self.lock_workers().handles);
        for h in handles {
            let _ = h.join();
        }
        let left: Vec<_> = shared.lock_table().conns.drain().map(|(_, e)| e).collect();
        for entry in left {
            let _ = entry.stream.shutdown(Shutdown::Both);
        }
        shared.slot_freed.notify_all();
    }

    /// Takes a connection out of the set, closes it and frees its slot.
    fn close(&self, shared: &Shared, id: u64, entry: &Entry) {
        let _ = epoll::delete(&self.epoll, &entry.stream);
        let _ = entry.stream.shutdown(Shutdown::Both);
        shared.release(id);
    }

    /// Puts a connection back in the set after a reply, idle until its next request or
    /// `keep_alive_timeout`.
    fn park(&self, shared: &Shared, id: u64, entry: &Entry) {
        let now = Instant::now();
        let a = &entry.activity;
        a.idle_since.store(shared.nanos_since_epoch(now), Ordering::Relaxed);
        a.deadline.store(shared.nanos_since_epoch(now + shared.config.keep_alive_timeout), Ordering::Relaxed);
        a.state.store(IDLE, Ordering::Release);
        if epoll::modify(&self.epoll, &entry.stream, epoll::EventData::new_u64(id), interest()).is_err()
            && a.state.compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            self.close(shared, id, entry);
        }
    }
}

fn pool(shared: &Shared) -> &Pool {
    shared.pool.as_ref().expect("the event loop runs only with a pool")
}

/// Starts up to `n` more workers, within [`Pool::max_workers`] and unless the server stops.
fn spawn_workers(shared: &Arc<Shared>, workers: &mut Workers, n: usize) {
    let room = pool(shared).max_workers.saturating_sub(workers.slots.len());
    for _ in 0..n.min(room) {
        if shared.stopping() || spawn_worker(shared, workers).is_err() {
            break;
        }
    }
}

/// Starts one worker.
fn spawn_worker(shared: &Arc<Shared>, workers: &mut Workers) -> io::Result<()> {
    let slot = Arc::new(Slot::default());
    let (for_thread, for_slot) = (Arc::clone(shared), Arc::clone(&slot));
    let handle = thread::Builder::new().name("xmlrpc-worker".into()).spawn(move || {
        worker(&for_thread, &for_slot);
    })?;
    workers.handles.retain(|h| !h.is_finished());
    workers.handles.push(handle);
    workers.slots.push(slot);
    Ok(())
}

thread_local! {
    /// On a worker thread, its server, for [`about_to_block`].
    static CURRENT: RefCell<Option<Weak<Shared>>> = const { RefCell::new(None) };
}

/// Called on any thread before something that may block for a while (a read or write that
/// would wait, a handler's sleep): on a worker of an event loop where no other worker waits for
/// events, starts one now, so requests keep being served meanwhile (the monitor would, but only
/// after [`STALL`]). Elsewhere it does nothing.
pub(crate) fn about_to_block() {
    CURRENT.with_borrow(|current| {
        let Some(shared) = current.as_ref().and_then(Weak::upgrade) else { return };
        let pool = pool(&shared);
        if pool.idle.load(Ordering::Acquire) > 0 || shared.stopping() {
            return;
        }
        spawn_workers(&shared, &mut pool.lock_workers(), 1);
    });
}

/// One worker: waits for a connection with a request, serves it, puts it back.
fn worker(shared: &Arc<Shared>, slot: &Arc<Slot>) {
    let pool = pool(shared);
    slot.tid.store(rustix::thread::gettid().as_raw_nonzero().get(), Ordering::Relaxed);
    CURRENT.set(Some(Arc::downgrade(shared)));
    super::blocking::on_this_thread(about_to_block);
    let spare_exit = Timespec { tv_sec: SPARE_EXIT.as_secs() as _, tv_nsec: 0 };
    let mut events = [MaybeUninit::<epoll::Event>::uninit(); 1];
    loop {
        pool.idle.fetch_add(1, Ordering::AcqRel);
        let waited = epoll::wait(&pool.epoll, &mut events, Some(&spare_exit));
        pool.idle.fetch_sub(1, Ordering::AcqRel);
        let event = match waited {
            Ok((ready, _)) => ready.first().copied(),
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => {
                // Out of memory and the like: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let Some(event) = event else {
            if leave_if_spare(pool, slot) {
                return;
            }
            continue;
        };
        let id = event.data.u64();
        if id == WAKE_KEY {
            if shared.stopping() {
                return;
            }
            continue;
        }
        let Some(entry) = shared.lock_table().conns.get(&id).cloned() else { continue };
        if entry.activity.state.compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // Reaped (idle too long, or to make room): the event is its shutdown.
            pool.close(shared, id, &entry);
            continue;
        }
        slot.busy_since.store(shared.nanos_since_epoch(Instant::now()) + 1, Ordering::Relaxed);
        let outcome =
            catch_unwind(AssertUnwindSafe(|| serve_entry(shared, &entry, true))).unwrap_or(Outcome::Finished);
        slot.busy_since.store(0, Ordering::Relaxed);
        match outcome {
            Outcome::Parked => pool.park(shared, id, &entry),
            Outcome::Finished => pool.close(shared, id, &entry),
        }
    }
}

/// Whether this worker, which waited [`SPARE_EXIT`] without an event, should end (it is then
/// taken off the list): yes while more than the minimum run.
fn leave_if_spare(pool: &Pool, slot: &Arc<Slot>) -> bool {
    let mut workers = pool.lock_workers();
    if workers.slots.len() <= pool.min_workers {
        return false;
    }
    workers.slots.retain(|s| !Arc::ptr_eq(s, slot));
    true
}

/// The monitor: closes idle connections past their deadline, and starts workers while too many
/// are blocked.
fn monitor(shared: &Arc<Shared>) {
    let pool = pool(shared);
    loop {
        let busy = pool.lock_workers().slots.iter().any(|s| s.busy_since.load(Ordering::Relaxed) != 0);
        if busy {
            thread::park_timeout(TICK);
        } else if !shared.lock_table().conns.is_empty() {
            thread::park_timeout(IDLE_TICK);
        } else {
            // Nothing open, nothing to watch: sleep until a connection arrives (`Pool::add`) or
            // the server stops. A server nobody uses costs no wake-ups.
            thread::park();
        }
        if shared.stopping() {
            return;
        }
        reap_expired(shared);
        replace_blocked(shared, pool);
    }
}

/// Closes the idle connections whose deadline passed (the event that follows releases them).
fn reap_expired(shared: &Shared) {
    let now = shared.nanos_since_epoch(Instant::now());
    let table = shared.lock_table();
    for entry in table.conns.values() {
        let a = &entry.activity;
        if a.state.load(Ordering::Acquire) == IDLE
            && a.deadline.load(Ordering::Relaxed) <= now
            && a.state.compare_exchange(IDLE, REAPED, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            let _ = entry.stream.shutdown(Shutdown::Both);
        }
    }
}

/// Starts workers until [`Pool::min_workers`] are free to take requests: waiting for one, or
/// serving one and not asleep in it for over [`STALL`].
fn replace_blocked(shared: &Arc<Shared>, pool: &Pool) {
    let now = shared.nanos_since_epoch(Instant::now());
    let stall = u64::try_from(STALL.as_nanos()).unwrap_or(u64::MAX);
    let mut workers = pool.lock_workers();
    // Waiting for an event, or not in its request for long: free without asking the kernel.
    let (mut free, mut stalled) = (0, Vec::new());
    for s in &workers.slots {
        let since = s.busy_since.load(Ordering::Relaxed);
        if since == 0 || now.saturating_sub(since - 1) < stall {
            free += 1;
        } else {
            stalled.push(s.tid.load(Ordering::Relaxed));
        }
    }
    // Only while too few are free, ask about the stalled ones (one small file each), and stop
    // asking once enough are found running: with hundreds of workers asleep in slow calls and
    // spares waiting, this reads nothing.
    for tid in stalled {
        if free >= pool.min_workers {
            break;
        }
        if !asleep(tid) {
            free += 1;
        }
    }
    spawn_workers(shared, &mut workers, pool.min_workers.saturating_sub(free));
}

/// Whether kernel thread `tid` of this process is asleep (state `S` or `D` in
/// `/proc/self/task/TID/stat`), not running or waiting for a CPU.
fn asleep(tid: i32) -> bool {
    if tid == 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may contain anything.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('S' | 'D'))
}
