//! [`Tracker`]: follows many pending operations with a few calls per tick, not one per
//! operation.
//!
//! Each [`tick`](Tracker::tick) learns the step of every tracked operation that has not ended:
//! 1. `operation.list` of the in-flight steps (`step: [BILL, WAIT, RUN]`) created after the
//!    oldest tracked one (`>date_created`), paged at 500: what it lists is still pending;
//! 2. for the tracked operations it did not list (they left the in-flight set), a list of the
//!    end steps (`step: [DONE, ERROR, CANCEL, SUPPORT]`) created in their time span;
//! 3. `operation.info` only for what neither list showed (a step this crate does not know, or
//!    one that moved between two pages while they were read).
//!
//! Both filter forms are facts of the API reference (§5). A server that ignores them, answering
//! operations outside the filter, is noticed, and the tracker then reads each operation with
//! `operation.info` from that tick on: slower, still correct. So does one that refuses them
//! with a fault. Operations tracked by id alone (no `date_created` known) are read once with
//! `operation.info` to learn it.
//!
//! [`next_delay`](Tracker::next_delay) backs off (doubling up to 30 s) while ticks see nothing
//! change, and brings the next tick forward to the soonest `eta` of a pending operation. Every call goes through the
//! client, so the client's throttle paces the tracker with everything else.
//!
//! ```no_run
//! use gandish::gandi::{Gandi, RenewParams, Tracker};
//! use gandish::xmlrpc::ClientConfig;
//!
//! let gandi = Gandi::new("https://rpc.gandi.net/xmlrpc/", "my 24-character API key", ClientConfig::default())?;
//! let mut tracker = Tracker::new();
//! for id in [12, 13, 14] {
//!     for op in gandi.paas_renew(id, &RenewParams::new("12m"))? {
//!         tracker.track(op);
//!     }
//! }
//! while tracker.pending() > 0 {
//!     std::thread::sleep(tracker.next_delay());
//!     for op in tracker.tick(&gandi)? {
//!         println!("operation {} is now {}", op.id, op.step);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::xmlrpc::{DateTime, Struct, Value};

use super::client::Gandi;
use super::error::GandiError;
use super::types::Operation;

/// The steps of an operation on its way.
pub const IN_FLIGHT_STEPS: [&str; 3] = ["BILL", "WAIT", "RUN"];

/// The steps an operation ends in.
pub const END_STEPS: [&str; 4] = ["DONE", "ERROR", "CANCEL", "SUPPORT"];

/// Items per `operation.list` page (the most clients ask for).
const PAGE: i64 = 500;

/// Pages read in one list before giving up on it (a server that ignores `page`).
const MAX_LIST_PAGES: i64 = 1000;

/// The longest pause [`Tracker::next_delay`] proposes.
pub const MAX_DELAY: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Tracked {
    /// The operation as last read (`None`: known by id only).
    latest: Option<Operation>,
    /// When `latest` was read (its `eta` counts from then).
    read_at: Instant,
}

impl Tracked {
    fn ended(&self) -> bool {
        self.latest.as_ref().is_some_and(|o| !o.step.is_pending())
    }
}

/// Follows pending operations; see the [module docs](self).
#[derive(Debug)]
pub struct Tracker {
    ops: BTreeMap<i64, Tracked>,
    /// Why operations are read one by one, once the server showed it ignores the filters.
    per_op: Option<String>,
    min_delay: Duration,
    backoff: Duration,
    calls: u64,
    last_calls: u32,
    ticks: u64,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new()
    }
}

/// What a list read found: the operations, or why they cannot be trusted.
enum Listed {
    Ops(Vec<Operation>),
    Ignored(String),
}

impl Tracker {
    /// A tracker with nothing tracked; ticks at least 1 s apart ([`Tracker::with_min_delay`]).
    pub fn new() -> Tracker {
        let min_delay = Duration::from_secs(1);
        Tracker {
            ops: BTreeMap::new(),
            per_op: None,
            min_delay,
            backoff: min_delay,
            calls: 0,
            last_calls: 0,
            ticks: 0,
        }
    }

    /// Sets the shortest pause [`Tracker::next_delay`] proposes (and where backing off starts).
    pub fn with_min_delay(mut self, min: Duration) -> Tracker {
        self.min_delay = min;
        self.backoff = min;
        self
    }

    /// Tracks an operation as a call returned it (its `date_created` saves a read). One
    /// already ended is recorded as such and costs no call.
    pub fn track(&mut self, op: Operation) {
        self.ops.insert(op.id, Tracked { latest: Some(op), read_at: Instant::now() });
    }

    /// Tracks an operation known only by id (the first tick reads it with `operation.info`).
    pub fn track_id(&mut self, id: i64) {
        self.ops.entry(id).or_insert(Tracked { latest: None, read_at: Instant::now() });
    }

    /// Stops tracking `id`.
    pub fn forget(&mut self, id: i64) {
        self.ops.remove(&id);
    }

    /// The operation as last read, if tracked and read.
    pub fn get(&self, id: i64) -> Option<&Operation> {
        self.ops.get(&id)?.latest.as_ref()
    }

    /// Whether `id` is tracked and has ended (DONE, or a failure end).
    pub fn has_ended(&self, id: i64) -> bool {
        self.ops.get(&id).is_some_and(Tracked::ended)
    }

    /// How many tracked operations have not ended.
    pub fn pending(&self) -> usize {
        self.ops.values().filter(|t| !t.ended()).count()
    }

    /// The ids of the tracked operations that have not ended, in id order.
    pub fn pending_ids(&self) -> Vec<i64> {
        self.ops.iter().filter(|(_, t)| !t.ended()).map(|(id, _)| *id).collect()
    }

    /// Calls made by all ticks so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Calls made by the last tick.
    pub fn last_tick_calls(&self) -> u32 {
        self.last_calls
    }

    /// Ticks so far.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Why the tracker reads operations one by one, if it does: the server was seen ignoring
    /// or refusing the list filters.
    pub fn per_op_reason(&self) -> Option<&str> {
        self.per_op.as_deref()
    }

    /// How long to wait before the next tick: the backoff (the minimum delay, doubled after each
    /// tick that saw no change, up to [`MAX_DELAY`]), or until the soonest `eta` of a pending
    /// operation when that comes first; never less than the minimum delay. (An `eta` only ever
    /// brings a tick forward: a server's estimate may be wrong, or its clock not ours.)
    pub fn next_delay(&self) -> Duration {
        let soonest = self
            .ops
            .values()
            .filter(|t| !t.ended())
            .filter_map(|t| {
                let eta = t.latest.as_ref()?.eta?;
                let left = eta - t.read_at.elapsed().as_secs() as i64;
                (left > 0).then(|| Duration::from_secs(left as u64))
            })
            .min();
        soonest
            .map_or(self.backoff, |eta| eta.min(self.backoff))
            .clamp(self.min_delay, MAX_DELAY.max(self.min_delay))
    }

    /// Learns the step of every pending operation; returns those whose step changed (or that
    /// were read for the first time), as they are now.
    ///
    /// A failed call ends the tick with its error; what the tick learned before it is kept,
    /// and the next tick tries again.
    pub fn tick(&mut self, gandi: &Gandi) -> Result<Vec<Operation>, GandiError> {
        self.ticks += 1;
        self.last_calls = 0;
        let mut changed = Vec::new();
        let result = self.learn(gandi, &mut changed);
        self.backoff = if changed.is_empty() {
            (self.backoff * 2).min(MAX_DELAY.max(self.min_delay))
        } else {
            self.min_delay
        };
        result.map(|()| changed)
    }

    fn learn(&mut self, gandi: &Gandi, changed: &mut Vec<Operation>) -> Result<(), GandiError> {
        let unread: Vec<i64> = self
            .ops
            .iter()
            .filter(|(_, t)| {
                t.latest.as_ref().is_none_or(|o| o.step.is_pending() && o.date_created.is_none())
            })
            .map(|(id, _)| *id)
            .collect();
        if self.per_op.is_some() {
            return self.read_each(gandi, &self.pending_ids(), changed);
        }
        self.read_each(gandi, &unread, changed)?;
        let pending: Vec<(i64, DateTime)> = self
            .ops
            .iter()
            .filter(|(_, t)| !t.ended())
            .filter_map(|(id, t)| Some((*id, t.latest.as_ref()?.date_created?)))
            .collect();
        let Some(oldest) = pending.iter().map(|(_, d)| d.naive_timestamp()).min() else { return Ok(()) };

        let after = oldest - 1;
        let filter = Struct::new()
            .with("step", steps(&IN_FLIGHT_STEPS))
            .with(">date_created", stamp(after))
            .with("sort_by", "id ASC");
        let in_flight = match self.list(gandi, filter, &IN_FLIGHT_STEPS, after, i64::MAX)? {
            Listed::Ops(ops) => ops,
            Listed::Ignored(why) => return self.fall_back(gandi, why, changed),
        };
        let mut listed = HashSet::with_capacity(in_flight.len());
        for op in in_flight {
            listed.insert(op.id);
            self.update(op, changed);
        }

        let left: Vec<(i64, i64)> = pending
            .iter()
            .filter(|(id, _)| !listed.contains(id))
            .map(|(id, d)| (*id, d.naive_timestamp()))
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        let lo = left.iter().map(|(_, d)| *d).min().unwrap_or(oldest) - 1;
        let hi = left.iter().map(|(_, d)| *d).max().unwrap_or(oldest) + 1;
        let filter = Struct::new()
            .with("step", steps(&END_STEPS))
            .with(">date_created", stamp(lo))
            .with("<date_created", stamp(hi))
            .with("sort_by", "id ASC");
        let ended = match self.list(gandi, filter, &END_STEPS, lo, hi)? {
            Listed::Ops(ops) => ops,
            Listed::Ignored(why) => return self.fall_back(gandi, why, changed),
        };
        let mut found = HashSet::with_capacity(ended.len());
        for op in ended {
            found.insert(op.id);
            self.update(op, changed);
        }
        let unexplained: Vec<i64> =
            left.into_iter().map(|(id, _)| id).filter(|id| !found.contains(id)).collect();
        self.read_each(gandi, &unexplained, changed)
    }

    /// Records `op` if tracked, noting it in `changed` when its step differs from before.
    fn update(&mut self, op: Operation, changed: &mut Vec<Operation>) {
        let Some(t) = self.ops.get_mut(&op.id) else { return };
        if t.ended() {
            return;
        }
        if t.latest.as_ref().is_none_or(|o| o.step != op.step) {
            changed.push(op.clone());
        }
        t.latest = Some(op);
        t.read_at = Instant::now();
    }

    fn read_each(
        &mut self,
        gandi: &Gandi,
        ids: &[i64],
        changed: &mut Vec<Operation>,
    ) -> Result<(), GandiError> {
        for id in ids {
            self.calls += 1;
            self.last_calls += 1;
            let op = gandi.operation_info(*id)?;
            self.update(op, changed);
        }
        Ok(())
    }

    fn fall_back(
        &mut self,
        gandi: &Gandi,
        why: String,
        changed: &mut Vec<Operation>,
    ) -> Result<(), GandiError> {
        self.per_op = Some(why);
        self.read_each(gandi, &self.pending_ids(), changed)
    }

    /// Every page of `operation.list` with `filter`, checked against what it asked for: each
    /// operation in one of `steps` and created strictly between `after` and `before` (naive
    /// seconds).
    fn list(
        &mut self,
        gandi: &Gandi,
        filter: Struct,
        steps: &[&str],
        after: i64,
        before: i64,
    ) -> Result<Listed, GandiError> {
        let mut all: Vec<Operation> = Vec::new();
        for page in 0..MAX_LIST_PAGES {
            let mut f = filter.clone();
            f.insert("items_per_page", PAGE);
            f.insert("page", page);
            self.calls += 1;
            self.last_calls += 1;
            let ops = match gandi.operation_list(&f) {
                Ok(ops) => ops,
                Err(e) if e.fault().is_some() => {
                    return Ok(Listed::Ignored(format!(
                        "operation.list refused the step and date filters: {e}"
                    )));
                }
                Err(e) => return Err(e),
            };
            let n = ops.len() as i64;
            for op in &ops {
                let created = op.date_created.map(|d| d.naive_timestamp());
                if !steps.contains(&op.step.as_str()) {
                    return Ok(Listed::Ignored(format!(
                        "operation.list answered operation {} in step {} although only {} were asked for",
                        op.id,
                        op.step,
                        steps.join(", ")
                    )));
                }
                if !created.is_some_and(|c| c > after && c < before) {
                    return Ok(Listed::Ignored(format!(
                        "operation.list answered operation {} created outside the date_created bounds asked for",
                        op.id
                    )));
                }
            }
            if n > PAGE {
                return Ok(Listed::Ignored(format!(
                    "operation.list answered {n} items for a page of {PAGE}"
                )));
            }
            if page > 0 && n > 0 && all.iter().any(|o| o.id == ops[0].id) {
                return Ok(Listed::Ignored(format!("operation.list page {page} repeats an earlier page")));
            }
            all.extend(ops);
            if n < PAGE {
                return Ok(Listed::Ops(all));
            }
        }
        Ok(Listed::Ignored(format!("operation.list still had full pages after {MAX_LIST_PAGES}")))
    }
}

fn steps(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|s| Value::from(*s)).collect())
}

/// Naive seconds as a dateTime (as the API writes them: server-local, no zone).
fn stamp(secs: i64) -> DateTime {
    DateTime::from_naive_timestamp(secs).unwrap_or(DateTime::UNIX_EPOCH)
}
