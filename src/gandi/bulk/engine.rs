//! [`run`]: submitters that send the changes, and one tracker that follows their operations.
//!
//! Submitting is decoupled from completing. `workers` threads take the tasks in order and do,
//! for each, what may send: read the baseline if the plan gave none, reconcile a key an earlier
//! run left open, then send (journalled before, reconciled after an ambiguous reply). A task
//! whose operations are pending is handed to the tracker, and its submitter moves on to the
//! next task, so the pace is the rate limit's, not workers ÷ operation time.
//!
//! The calling thread runs the [`Tracker`]: each tick learns the state of every pending
//! operation with a few `operation.list` calls. While tasks remain to be sent, ticks spend at
//! most [`POLL_SHARE`] of the rate limit, so polling never crowds out the sends. Verification
//! then reads the instances back with paged `paas.list` calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::xmlrpc::{Struct, Value};

use super::super::Gandi;
use super::super::error::GandiError;
use super::super::throttle::{RetryPolicy, Throttle, is_rate_limited};
use super::super::tracker::Tracker;
use super::super::types::{ApiRecord, Operation};
use super::journal::History;
use super::reconcile::{Found, Mode, reconcile};
use super::{BulkError, Event, ItemResult, Options, Outcome, Task};

/// How many times in all [`Shared::patient_read`] runs a read that fails in transport, and how
/// many ticks in a row may fail before the tasks waiting on them fail.
const READ_TRIES: u32 = 4;

/// The most of the rate limit that polling may use while tasks remain to be sent.
pub const POLL_SHARE: f64 = 0.05;

/// Up to this many tasks are verified with one `paas.info` each; more with paged `paas.list`.
const VERIFY_BY_INFO: usize = 3;

/// Runs `tasks`, sending on `opts.workers` threads and following their operations with one
/// tracker; returns one result per task, in order.
///
/// Fails before sending anything when two tasks repeat the same instance and action, when a
/// setting is out of range, or when the newest operation id (the first mark, see
/// [`reconcile`](super)) cannot be read.
pub fn run(gandi: &Gandi, tasks: &[Task], opts: &Options<'_>) -> Result<Vec<ItemResult>, BulkError> {
    if !(1..=64).contains(&opts.workers) {
        return Err(BulkError::Config(format!("workers must be between 1 and 64, got {}", opts.workers)));
    }
    if opts.max_sends == 0 {
        return Err(BulkError::Config("max_sends must be at least 1".into()));
    }
    if opts.poll_interval.is_zero() {
        return Err(BulkError::Config("the poll interval must not be zero".into()));
    }
    let mut seen: HashMap<(i64, &str), usize> = HashMap::new();
    for (i, t) in tasks.iter().enumerate() {
        if let Some(first) = seen.insert((t.paas_id, t.action_name()), i) {
            return Err(BulkError::Duplicate {
                first,
                second: i,
                action: t.action_name(),
                paas_id: t.paas_id,
            });
        }
    }
    let gandi = if gandi.throttle().is_some() {
        gandi.clone()
    } else {
        gandi.clone().with_throttle(Arc::new(Throttle::new(None, RetryPolicy::default())))
    };
    let started = Instant::now();
    if let Some(p) = opts.progress {
        p(&Event::Started { label: &opts.label, total: tasks.len() });
    }
    let mark = if tasks.is_empty() { 0 } else { newest_op(&gandi).map_err(BulkError::Mark)? };
    let workers = opts.workers.min(tasks.len()).max(1);
    let shared = Shared {
        gandi: &gandi,
        opts,
        mark: AtomicI64::new(mark),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        results: Mutex::new(vec![None; tasks.len()]),
        handoff: Mutex::new(Handoff { waiting: Vec::new(), senders: workers }),
        wake: Condvar::new(),
        tasks,
    };
    let mut to_verify = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                shared.submit();
                shared.handoff().senders -= 1;
                shared.wake.notify_all();
            });
        }
        to_verify = shared.track();
    });
    if opts.verify {
        shared.verify(to_verify);
    } else {
        for w in to_verify {
            shared.finish(w.result);
        }
    }
    let results: Vec<ItemResult> = crate::sync::into_inner(shared.results)
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| cancelled(i, &tasks[i])))
        .collect();
    let failed = results.iter().filter(|r| r.outcome.is_failure()).count();
    // A change seen through to DONE by a run that ended (whatever became of the others) leaves
    // nothing to recover: closing its key now means a later relative change (`quantity+10`)
    // is taken as new, not as this one. Only a crash leaves such keys open, for the rerun.
    if let Some(j) = opts.journal
        && opts.wait
    {
        let keys: Vec<String> = results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Applied | Outcome::AlreadyApplied))
            .map(|r| shared_key(&gandi, &r.key))
            .collect();
        let _ = j.resolved_all(keys.iter().map(String::as_str), "done");
    }
    if let Some(p) = opts.progress {
        p(&Event::Finished { label: &opts.label, total: tasks.len(), failed, elapsed: started.elapsed() });
    }
    Ok(results)
}

/// The journal key of a task key: the endpoint first, so worlds never mix, in one spelling
/// ([`endpoint_id`]) so that `…/xmlrpc/` and `…/xmlrpc` are one world.
fn shared_key(gandi: &Gandi, key: &str) -> String {
    format!("{} {key}", endpoint_id(gandi.url()))
}

/// The key an earlier version wrote: the URL as typed.
fn legacy_key(gandi: &Gandi, key: &str) -> String {
    format!("{} {key}", gandi.url())
}

/// An endpoint URL in one spelling: scheme and host lower-cased, the scheme's default port
/// dropped, trailing slashes of the path and any query or fragment removed.
pub(crate) fn endpoint_id(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = scheme.to_ascii_lowercase();
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host).to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    let authority = match default_port {
        Some(p) if authority.ends_with(p) => &authority[..authority.len() - p.len()],
        _ => authority.as_str(),
    };
    format!("{scheme}://{authority}{}", path.trim_end_matches('/'))
}

/// The newest operation id of the account (0 if it has none).
fn newest_op(gandi: &Gandi) -> Result<i64, GandiError> {
    let filter = Struct::new().with("sort_by", "id DESC").with("items_per_page", 1);
    Ok(gandi.operation_list(&filter)?.first().map_or(0, |o| o.id))
}

fn result(i: usize, t: &Task, outcome: Outcome) -> ItemResult {
    ItemResult {
        index: i,
        paas_id: t.paas_id,
        name: t.name.clone(),
        action: t.action_name(),
        key: t.key(),
        outcome,
        sends: 0,
        reconciled: 0,
        ops: Vec::new(),
        error: None,
        after: None,
    }
}

fn cancelled(i: usize, t: &Task) -> ItemResult {
    let mut r = result(i, t, Outcome::Cancelled);
    r.error = Some("not attempted: the run was cancelled".into());
    r
}

fn fail(mut r: ItemResult, error: String) -> ItemResult {
    r.outcome = Outcome::Failed;
    r.error = Some(error);
    r
}

struct Shared<'a> {
    gandi: &'a Gandi,
    opts: &'a Options<'a>,
    tasks: &'a [Task],
    /// The newest operation id seen so far (see the reconcile module).
    mark: AtomicI64,
    next: AtomicUsize,
    done: AtomicUsize,
    failed: AtomicUsize,
    results: Mutex<Vec<Option<ItemResult>>>,
    /// Sent tasks on their way from the submitters to the tracker.
    handoff: Mutex<Handoff>,
    /// Tells the tracker that work was handed off or a submitter finished.
    wake: Condvar,
}

struct Handoff {
    waiting: Vec<Waiting>,
    /// Submitters still running.
    senders: usize,
}

/// A task whose change was sent (or found applied), waiting for its operations.
struct Waiting {
    result: ItemResult,
    /// The task, with its baseline.
    task: Task,
    key: String,
    ops: Vec<Operation>,
    since: Instant,
}

/// Where a task stands once its submitter is done with it.
enum Submitted {
    /// Applied; its operations may still be pending.
    Waiting(Waiting),
    /// Its final result (failed, or nothing to wait for).
    Ended(ItemResult),
}

/// How a task's attempt to send went.
enum Sent {
    Applied(Vec<Operation>),
    Failed(String),
}

impl Shared<'_> {
    fn cancelled(&self) -> bool {
        self.opts.cancel.is_some_and(|c| c())
    }

    fn handoff(&self) -> MutexGuard<'_, Handoff> {
        crate::sync::lock(&self.handoff)
    }

    /// Records a task's final result and reports it.
    fn finish(&self, r: ItemResult) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failed = self.failed.load(Ordering::Relaxed) + usize::from(r.outcome.is_failure());
        if r.outcome.is_failure() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(p) = self.opts.progress {
            p(&Event::Item { label: &self.opts.label, result: &r, done, failed, total: self.tasks.len() });
        }
        let i = r.index;
        crate::sync::lock(&self.results)[i] = Some(r);
    }

    /// A submitter: takes tasks in order until none is left or the run is cancelled.
    fn submit(&self) {
        loop {
            if self.cancelled() {
                return;
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(task) = self.tasks.get(i) else { return };
            match self.send_one(i, task) {
                Submitted::Waiting(w) if !self.opts.wait => self.finish(w.result),
                Submitted::Waiting(w) => {
                    self.handoff().waiting.push(w);
                    self.wake.notify_all();
                }
                Submitted::Ended(r) => self.finish(r),
            }
        }
    }

    fn saw(&self, ops: &[Operation]) {
        if let Some(max) = ops.iter().map(|o| o.id).max() {
            self.mark.fetch_max(max, Ordering::Relaxed);
        }
    }

    fn journal_key(&self, task: &Task) -> String {
        shared_key(self.gandi, &task.key())
    }

    /// What may send, for one task: baseline, recovery, send (with reconciliation).
    fn send_one(&self, i: usize, task: &Task) -> Submitted {
        // The baseline, when the plan did not give one.
        let task = if task.before.is_none() {
            match self.patient_read(|| self.gandi.paas_info(task.paas_id)) {
                Ok(info) => task.clone().with_before(info.to_value().into_struct().unwrap_or_default()),
                Err(e) => {
                    return Submitted::Ended(fail(
                        result(i, task, Outcome::Failed),
                        format!("cannot read the instance: {e}"),
                    ));
                }
            }
        } else {
            task.clone()
        };
        let mut r = result(i, &task, Outcome::Applied);
        let key = self.journal_key(&task);

        // An earlier run left this key open: learn what happened before sending anything.
        let mut recovered = None;
        let earlier = self.opts.journal.and_then(|j| {
            j.history(&key).or_else(|| {
                let legacy = legacy_key(self.gandi, &task.key());
                let h = j.history(&legacy)?;
                // Carried over to the one spelling first, then closed under the old one, so the
                // history is never open nowhere.
                let carried = match &h {
                    History::Unresolved { mark } => j.intent(&key, *mark),
                    History::Applied { mark, ops } => j.applied(&key, *mark, ops),
                };
                if carried.is_ok() {
                    let _ = j.resolved(&legacy, "carried over to the normalised endpoint");
                }
                Some(h)
            })
        });
        if let Some(j) = self.opts.journal
            && let Some(h) = earlier
        {
            let mark = match &h {
                History::Unresolved { mark } | History::Applied { mark, .. } => *mark,
            };
            r.reconciled += 1;
            match self.patient_read(|| reconcile(self.gandi, &task, mark, Mode::Recovery)) {
                Ok(Found::Applied(found)) => {
                    self.saw(&found);
                    r.outcome = Outcome::AlreadyApplied;
                    let ids: Vec<i64> = if found.is_empty() {
                        match &h {
                            History::Applied { ops, .. } => ops.clone(),
                            History::Unresolved { .. } => vec![],
                        }
                    } else {
                        found.iter().map(|o| o.id).collect()
                    };
                    if let Err(e) = j.applied(&key, mark, &ids) {
                        return Submitted::Ended(fail(r, e.to_string()));
                    }
                    r.ops = ids;
                    recovered = Some(found);
                }
                Ok(Found::NotApplied) => {
                    if let Err(e) = j.resolved(&key, "not applied (found on recovery)") {
                        return Submitted::Ended(fail(r, e.to_string()));
                    }
                }
                Ok(Found::Gone) => {
                    return Submitted::Ended(fail(r, format!("instance {} no longer exists", task.paas_id)));
                }
                Ok(Found::OpFailed(op)) => return Submitted::Ended(fail(r, op_failure(&op))),
                Err(e) => {
                    return Submitted::Ended(fail(
                        r,
                        format!("an earlier run may have applied this; checking failed ({e}); nothing sent"),
                    ));
                }
            }
        }

        let ops = match recovered {
            Some(ops) => ops,
            None => match self.send(&task, &key, &mut r) {
                Sent::Applied(ops) => {
                    r.ops = ops.iter().map(|o| o.id).collect();
                    ops
                }
                Sent::Failed(e) => return Submitted::Ended(fail(r, e)),
            },
        };
        if let Some(op) = ops.iter().find(|o| o.step.is_failure()) {
            let e = op_failure(op);
            if let Some(j) = self.opts.journal {
                let _ = j.resolved(&key, &e);
            }
            return Submitted::Ended(fail(r, e));
        }
        Submitted::Waiting(Waiting { result: r, task, key, ops, since: Instant::now() })
    }

    /// The tracker (on the calling thread): follows the operations of every task handed off
    /// until each is DONE, failed or timed out. Returns the tasks whose operations all ended
    /// DONE, for verification.
    fn track(&self) -> Vec<Waiting> {
        let rate = self.gandi.throttle().and_then(|t| t.limiter.rate());
        let mut tracker = Tracker::new().with_min_delay(self.opts.poll_interval);
        let mut waiting: BTreeMap<usize, Waiting> = BTreeMap::new();
        let mut ready = Vec::new();
        let mut failed_ticks = 0;
        let mut next_tick = Instant::now();
        loop {
            let (arrived, senders) = {
                let mut h = self.handoff();
                (std::mem::take(&mut h.waiting), h.senders)
            };
            for w in arrived {
                for op in &w.ops {
                    tracker.track(op.clone());
                }
                waiting.insert(w.result.index, w);
            }
            self.settle(&mut tracker, &mut waiting, &mut ready);
            if self.cancelled() {
                for (_, w) in std::mem::take(&mut waiting) {
                    let pending: Vec<i64> =
                        w.ops.iter().map(|o| o.id).filter(|id| !tracker.has_ended(*id)).collect();
                    self.finish(fail(
                        w.result,
                        format!("cancelled while waiting for operations {pending:?} (applied)"),
                    ));
                }
            }
            if waiting.is_empty() {
                if senders == 0 {
                    return ready;
                }
                // Nothing to follow: sleep until a task is handed off or a submitter ends.
                let h = self.handoff();
                if h.waiting.is_empty() && h.senders > 0 {
                    let _ = self.wake.wait_timeout(h, Duration::from_millis(50));
                }
                continue;
            }
            let now = Instant::now();
            if now < next_tick {
                let h = self.handoff();
                let _ = self.wake.wait_timeout(h, (next_tick - now).min(Duration::from_millis(50)));
                continue;
            }
            match tracker.tick(self.gandi) {
                Ok(_) => failed_ticks = 0,
                Err(e) if e.is_transport() && failed_ticks + 1 < READ_TRIES => failed_ticks += 1,
                Err(e) => {
                    for (_, w) in std::mem::take(&mut waiting) {
                        for op in &w.ops {
                            tracker.forget(op.id);
                        }
                        self.finish(fail(
                            w.result,
                            format!("applied, but polling its operations failed: {e}"),
                        ));
                    }
                    failed_ticks = 0;
                    continue;
                }
            }
            self.settle(&mut tracker, &mut waiting, &mut ready);
            // While tasks remain to be sent, polling keeps to its share of the rate limit.
            let mut delay = tracker.next_delay();
            if senders > 0
                && let Some(rate) = rate
            {
                let share = f64::from(tracker.last_tick_calls().max(1)) / (POLL_SHARE * f64::from(rate));
                delay = delay.max(Duration::from_secs_f64(share));
            }
            next_tick = Instant::now() + delay;
        }
    }

    /// Ends the waiting tasks whose operations all ended, or that waited too long.
    fn settle(
        &self,
        tracker: &mut Tracker,
        waiting: &mut BTreeMap<usize, Waiting>,
        ready: &mut Vec<Waiting>,
    ) {
        let indexes: Vec<usize> = waiting.keys().copied().collect();
        for i in indexes {
            let w = &waiting[&i];
            let failed =
                w.ops.iter().filter_map(|o| tracker.get(o.id)).find(|o| o.step.is_failure()).cloned();
            let pending: Vec<i64> = w.ops.iter().map(|o| o.id).filter(|id| !tracker.has_ended(*id)).collect();
            if failed.is_none() && !pending.is_empty() && w.since.elapsed() < self.opts.wait_timeout {
                continue;
            }
            let Some(w) = waiting.remove(&i) else { continue };
            for op in &w.ops {
                tracker.forget(op.id);
            }
            if let Some(op) = failed {
                // It ended badly: nothing left to recover; a rerun may try again.
                let e = op_failure(&op);
                if let Some(j) = self.opts.journal {
                    let _ = j.resolved(&w.key, &e);
                }
                self.finish(fail(w.result, e));
            } else if !pending.is_empty() {
                self.finish(fail(
                    w.result,
                    format!(
                        "applied, but operations {pending:?} were still pending after {} s",
                        self.opts.wait_timeout.as_secs()
                    ),
                ));
            } else {
                ready.push(w);
            }
        }
    }

    /// Re-reads the instances of `done` and checks each reached its target: one `paas.info`
    /// each for a few, paged `paas.list` reads for more.
    fn verify(&self, done: Vec<Waiting>) {
        if done.is_empty() {
            return;
        }
        let listed: Result<HashMap<i64, Struct>, GandiError> = if done.len() <= VERIFY_BY_INFO {
            let mut by_id = HashMap::new();
            let mut outcome = Ok(());
            for w in &done {
                match self.patient_read(|| self.gandi.paas_info(w.task.paas_id)) {
                    Ok(info) => {
                        by_id.insert(w.task.paas_id, info.to_value().into_struct().unwrap_or_default());
                    }
                    Err(e) if e.fault().is_some_and(|f| f.is_not_found()) => {}
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
            outcome.map(|()| by_id)
        } else {
            self.patient_read(|| self.gandi.list_all("paas.list", &Struct::new())).map(|items| {
                items
                    .into_iter()
                    .filter_map(|v| {
                        let id = v.get("id").and_then(Value::as_i64)?;
                        Some((id, v.into_struct().ok()?))
                    })
                    .collect()
            })
        };
        for w in done {
            let mut r = w.result;
            let now = match &listed {
                Ok(by_id) => match by_id.get(&w.task.paas_id) {
                    Some(now) => now,
                    None => {
                        self.finish(fail(
                            r,
                            format!("applied, but instance {} is no longer listed", w.task.paas_id),
                        ));
                        continue;
                    }
                },
                Err(e) => {
                    self.finish(fail(r, format!("applied, but re-reading the instance failed: {e}")));
                    continue;
                }
            };
            // A relative change done by an earlier run cannot be checked against the target
            // this run computed from the grown instance.
            let relative_earlier = r.outcome == Outcome::AlreadyApplied && w.task.request.is_some();
            let wrong = if relative_earlier { vec![] } else { w.task.mismatches(now) };
            r.after = Some(now.clone());
            if wrong.is_empty() {
                self.finish(r);
            } else {
                self.finish(fail(r, format!("not at the target afterwards: {}", wrong.join("; "))));
            }
        }
    }

    /// Sends the change, reconciling after each ambiguous failure; never resends a change
    /// that may have been applied.
    fn send(&self, task: &Task, key: &str, r: &mut ItemResult) -> Sent {
        let journal = self.opts.journal;
        let policy = self.gandi.throttle().map(|t| t.policy).unwrap_or_default();
        let mut unsent_retries = 0;
        loop {
            if r.sends >= self.opts.max_sends {
                return Sent::Failed(format!(
                    "not applied after {} sends (each found not applied before resending)",
                    r.sends
                ));
            }
            if self.cancelled() {
                return Sent::Failed("cancelled before sending".into());
            }
            let mark = self.mark.load(Ordering::Relaxed);
            if let Some(j) = journal
                && let Err(e) = j.intent(key, mark)
            {
                return Sent::Failed(format!("not sent: {e}"));
            }
            r.sends += 1;
            let outcome = self.gandi.call(task.method(), task.args());
            let reply = match outcome {
                Ok(v) => v,
                Err(e) if e.maybe_applied() => {
                    r.reconciled += 1;
                    std::thread::sleep(self.opts.settle);
                    match self.patient_read(|| reconcile(self.gandi, task, mark, Mode::Own)) {
                        Ok(Found::Applied(ops)) => {
                            self.saw(&ops);
                            let ids: Vec<i64> = ops.iter().map(|o| o.id).collect();
                            if let Some(j) = journal
                                && let Err(e) = j.applied(key, mark, &ids)
                            {
                                return Sent::Failed(format!("applied, but {e}"));
                            }
                            return Sent::Applied(ops);
                        }
                        Ok(Found::NotApplied) => continue,
                        Ok(Found::OpFailed(op)) => {
                            let msg = op_failure(&op);
                            if let Some(j) = journal {
                                let _ = j.resolved(key, &msg);
                            }
                            return Sent::Failed(msg);
                        }
                        Ok(Found::Gone) => {
                            if let Some(j) = journal {
                                let _ = j.resolved(key, "instance gone");
                            }
                            return Sent::Failed(format!("instance {} no longer exists", task.paas_id));
                        }
                        Err(re) => {
                            // The intent stays open in the journal: a rerun checks again.
                            return Sent::Failed(format!(
                                "{e}; it may have been applied and checking failed ({re}), so it was not resent"
                            ));
                        }
                    }
                }
                Err(e)
                    if e.transport().is_some_and(|t| t.is_connect())
                        && unsent_retries < policy.read_retries =>
                {
                    // Nothing was sent: safe to try again.
                    r.sends -= 1;
                    std::thread::sleep(policy.backoff(unsent_retries));
                    unsent_retries += 1;
                    continue;
                }
                Err(e) => {
                    let msg = if is_rate_limited(&e) {
                        format!("{e} (still rate-limited after the retries; not applied)")
                    } else {
                        e.to_string()
                    };
                    if let Some(j) = journal {
                        let _ = j.resolved(key, &msg);
                    }
                    return Sent::Failed(msg);
                }
            };
            let ops = match ops_of(reply) {
                Ok(ops) => ops,
                Err(e) => {
                    // The server answered, so it may well have applied it: keep the intent open.
                    return Sent::Failed(format!("{}: unexpected reply: {e}; not resent", task.method()));
                }
            };
            self.saw(&ops);
            if let Some(j) = journal {
                let ids: Vec<i64> = ops.iter().map(|o| o.id).collect();
                if let Err(e) = j.applied(key, mark, &ids) {
                    return Sent::Failed(format!("applied, but {e}"));
                }
            }
            return Sent::Applied(ops);
        }
    }

    /// Runs `read` (a call that changes nothing), and runs it again after a poll interval when it
    /// fails in transport (a lost reply, a refused connection), up to [`READ_TRIES`] times in
    /// all: the throttle's own resends may all fall in one short outage, and one lost reply must
    /// not fail an item that was applied.
    fn patient_read<T>(&self, read: impl Fn() -> Result<T, GandiError>) -> Result<T, GandiError> {
        let mut result = read();
        for _ in 1..READ_TRIES {
            match &result {
                Err(e) if e.is_transport() && !self.cancelled() => {
                    std::thread::sleep(self.opts.poll_interval);
                    result = read();
                }
                _ => break,
            }
        }
        result
    }
}

fn op_failure(op: &Operation) -> String {
    match op.last_error.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => format!("operation {} ({}) ended in {}: {e}", op.id, op.kind_str(), op.step),
        None => format!("operation {} ({}) ended in {}", op.id, op.kind_str(), op.step),
    }
}

/// The ops of a mutation's reply (one op or an array).
fn ops_of(reply: Value) -> Result<Vec<Operation>, String> {
    let items = match reply {
        Value::Array(_) => reply.into_array().unwrap_or_default(),
        v @ Value::Struct(_) => vec![v],
        other => return Err(format!("expected operations, got {}", other.type_name())),
    };
    items.into_iter().map(|v| Operation::from_api(v).map_err(|e| e.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::endpoint_id;

    #[test]
    fn endpoints_have_one_spelling() {
        let one = "https://rpc.gandi.net/xmlrpc";
        for url in [
            "https://rpc.gandi.net/xmlrpc/",
            "https://rpc.gandi.net/xmlrpc",
            "HTTPS://RPC.Gandi.net:443/xmlrpc//",
            "https://rpc.gandi.net/xmlrpc/?x=1",
        ] {
            assert_eq!(endpoint_id(url), one, "{url}");
        }
        assert_eq!(endpoint_id("http://127.0.0.1:8421/xmlrpc/"), "http://127.0.0.1:8421/xmlrpc");
        assert_eq!(endpoint_id("http://127.0.0.1:80/"), "http://127.0.0.1");
        assert_ne!(endpoint_id("http://127.0.0.1:8421/xmlrpc/"), endpoint_id("http://127.0.0.1:8421/RPC2"));
        assert_ne!(endpoint_id("https://h/x"), endpoint_id("http://h/x"));
    }
}
