//! [`run`]: the workers, and what each does with one task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::xmlrpc::{Struct, Value};

use super::super::Gandi;
use super::super::error::GandiError;
use super::super::throttle::{RetryPolicy, Throttle, is_rate_limited};
use super::super::types::{ApiRecord, OpStep, Operation};
use super::journal::History;
use super::reconcile::{Found, Mode, reconcile};
use super::{BulkError, Event, ItemResult, Options, Outcome, Task};

/// How many times in all [`Shared::patient_read`] runs a read that fails in transport.
const READ_TRIES: u32 = 4;

/// Runs `tasks` on `opts.workers` threads; returns one result per task, in order.
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
    let shared = Shared {
        gandi: &gandi,
        opts,
        mark: AtomicI64::new(mark),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        results: Mutex::new(vec![None; tasks.len()]),
        tasks,
    };
    let workers = opts.workers.min(tasks.len()).max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| shared.work());
        }
    });
    let results: Vec<ItemResult> = shared
        .results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| cancelled(i, &tasks[i])))
        .collect();
    let failed = results.iter().filter(|r| r.outcome.is_failure()).count();
    // A run that saw every change through to DONE leaves nothing to recover.
    if let Some(j) = opts.journal
        && failed == 0
        && opts.wait
    {
        let keys: Vec<String> = results.iter().map(|r| shared_key(&gandi, &r.key)).collect();
        let _ = j.resolved_all(keys.iter().map(String::as_str), "run complete");
    }
    if let Some(p) = opts.progress {
        p(&Event::Finished { label: &opts.label, total: tasks.len(), failed, elapsed: started.elapsed() });
    }
    Ok(results)
}

/// The journal key of a task key: the endpoint first, so worlds never mix.
fn shared_key(gandi: &Gandi, key: &str) -> String {
    format!("{} {key}", gandi.url())
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
}

/// Why waiting for a change's operations did not end with all of them DONE.
enum Waited {
    /// One ended in ERROR, CANCEL or SUPPORT.
    OpFailed(String),
    /// Still pending (timeout, cancel) or could not be polled.
    Unfinished(String),
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

    fn work(&self) {
        loop {
            if self.cancelled() {
                return;
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(task) = self.tasks.get(i) else { return };
            let r = self.one(i, task);
            let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
            let failed = self.failed.load(Ordering::Relaxed) + usize::from(r.outcome.is_failure());
            if r.outcome.is_failure() {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(p) = self.opts.progress {
                p(&Event::Item {
                    label: &self.opts.label,
                    result: &r,
                    done,
                    failed,
                    total: self.tasks.len(),
                });
            }
            self.results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
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

    /// Everything for one task: baseline, recovery, send (with reconciliation), wait, verify.
    fn one(&self, i: usize, task: &Task) -> ItemResult {
        // The baseline, when the plan did not give one.
        let owned;
        let task = if task.before.is_none() {
            match self.gandi.paas_info(task.paas_id) {
                Ok(info) => {
                    owned = task.clone().with_before(info.to_value().into_struct().unwrap_or_default());
                    &owned
                }
                Err(e) => {
                    return self
                        .fail(result(i, task, Outcome::Failed), format!("cannot read the instance: {e}"));
                }
            }
        } else {
            task
        };
        let mut r = result(i, task, Outcome::Applied);
        let key = self.journal_key(task);

        // An earlier run left this key open: learn what happened before sending anything.
        let mut ops = None;
        if let Some(j) = self.opts.journal
            && let Some(h) = j.history(&key)
        {
            let mark = match &h {
                History::Unresolved { mark } | History::Applied { mark, .. } => *mark,
            };
            r.reconciled += 1;
            match self.patient_read(|| reconcile(self.gandi, task, mark, Mode::Recovery)) {
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
                        return self.fail(r, e.to_string());
                    }
                    ops = Some(found);
                }
                Ok(Found::NotApplied) => {
                    if let Err(e) = j.resolved(&key, "not applied (found on recovery)") {
                        return self.fail(r, e.to_string());
                    }
                }
                Ok(Found::Gone) => {
                    return self.fail(r, format!("instance {} no longer exists", task.paas_id));
                }
                Ok(Found::OpFailed(op)) => return self.fail(r, op_failure(&op)),
                Err(e) => {
                    return self.fail(
                        r,
                        format!("an earlier run may have applied this; checking failed ({e}); nothing sent"),
                    );
                }
            }
        }

        let ops = match ops {
            Some(ops) => ops,
            None => match self.send(task, &key, &mut r) {
                Sent::Applied(ops) => ops,
                Sent::Failed(e) => return self.fail(r, e),
            },
        };
        r.ops = ops.iter().map(|o| o.id).collect();
        if !self.opts.wait {
            return r;
        }
        match self.wait(&ops) {
            Ok(()) => {}
            Err(Waited::OpFailed(e)) => {
                // It ended badly: nothing left to recover; a rerun may try again.
                if let Some(j) = self.opts.journal {
                    let _ = j.resolved(&key, &e);
                }
                return self.fail(r, e);
            }
            Err(Waited::Unfinished(e)) => return self.fail(r, e),
        }
        if self.opts.verify {
            match self.patient_read(|| self.gandi.paas_info(task.paas_id)) {
                Ok(info) => {
                    // A relative change done by an earlier run cannot be checked against the
                    // target this run computed from the grown instance.
                    let relative_earlier = r.outcome == Outcome::AlreadyApplied && task.request.is_some();
                    let wrong = if relative_earlier { vec![] } else { task.mismatches(&info) };
                    r.after = info.to_value().into_struct().ok();
                    if !wrong.is_empty() {
                        return self.fail(r, format!("not at the target afterwards: {}", wrong.join("; ")));
                    }
                }
                Err(e) => return self.fail(r, format!("applied, but re-reading the instance failed: {e}")),
            }
        }
        r
    }

    fn fail(&self, mut r: ItemResult, error: String) -> ItemResult {
        r.outcome = Outcome::Failed;
        r.error = Some(error);
        r
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

    /// Waits until every op is DONE (no poll for those already DONE).
    fn wait(&self, ops: &[Operation]) -> Result<(), Waited> {
        let start = Instant::now();
        let mut pending: Vec<i64> = Vec::new();
        for op in ops {
            if op.step.is_failure() {
                return Err(Waited::OpFailed(op_failure(op)));
            }
            if op.step != OpStep::Done {
                pending.push(op.id);
            }
        }
        while !pending.is_empty() {
            let pause_until = Instant::now() + self.opts.poll_interval;
            while Instant::now() < pause_until {
                if self.cancelled() {
                    return Err(Waited::Unfinished(format!(
                        "cancelled while waiting for operations {pending:?} (applied)"
                    )));
                }
                std::thread::sleep(Duration::from_millis(50).min(pause_until - Instant::now()));
            }
            let mut still = Vec::new();
            for id in pending {
                match self.patient_read(|| self.gandi.operation_info(id)) {
                    Ok(op) if op.step == OpStep::Done => {}
                    Ok(op) if op.step.is_failure() => return Err(Waited::OpFailed(op_failure(&op))),
                    Ok(_) => still.push(id),
                    Err(e) => {
                        return Err(Waited::Unfinished(format!(
                            "applied, but polling operation {id} failed: {e}"
                        )));
                    }
                }
            }
            pending = still;
            if !pending.is_empty() && start.elapsed() >= self.opts.wait_timeout {
                return Err(Waited::Unfinished(format!(
                    "applied, but operations {pending:?} were still pending after {} s",
                    self.opts.wait_timeout.as_secs()
                )));
            }
        }
        Ok(())
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
