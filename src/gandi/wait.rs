//! Waiting for operations: [`Gandi::wait`] and [`Gandi::wait_ops`], on a [`Tracker`].

use std::fmt;
use std::time::{Duration, Instant};

use super::client::Gandi;
use super::error::GandiError;
use super::tracker::Tracker;
use super::types::{OpStep, Operation};

/// How [`Gandi::wait`] waits.
#[derive(Clone, Copy)]
pub struct WaitOptions<'a> {
    /// Give up (with [`GandiError::WaitTimeout`]) after this long. Default 600 s.
    pub timeout: Duration,
    /// Pause between polling rounds. Default 1 s.
    pub poll_interval: Duration,
    /// Called with each operation (as last read) after each tick.
    pub progress: Option<&'a dyn Fn(&Operation)>,
    /// Checked between polls (at least every 50 ms while pausing); returning `true` stops the
    /// wait with [`GandiError::WaitCancelled`].
    pub cancel: Option<&'a dyn Fn() -> bool>,
}

impl Default for WaitOptions<'_> {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(1),
            progress: None,
            cancel: None,
        }
    }
}

impl fmt::Debug for WaitOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}

impl<'a> WaitOptions<'a> {
    /// Sets the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the pause between polling rounds.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets the progress callback.
    pub fn with_progress(mut self, progress: &'a dyn Fn(&Operation)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Sets the cancellation check.
    pub fn with_cancel(mut self, cancel: &'a dyn Fn() -> bool) -> Self {
        self.cancel = Some(cancel);
        self
    }
}

fn op_ids(ops: &[Operation]) -> Vec<i64> {
    ops.iter().map(|o| o.id).collect()
}

impl Gandi {
    /// Follows `op_ids` with a [`Tracker`] (a few list calls per tick, however many they are)
    /// until every one is DONE, and returns them (in the order given, duplicates once). Ticks
    /// come at least `opts.poll_interval` apart, backing off to 30 s while nothing changes, and
    /// sooner when an operation's `eta` says so. `opts.progress` hears every operation after
    /// each tick.
    ///
    /// Fails with [`GandiError::OperationFailed`] as soon as one ends in ERROR, CANCEL,
    /// SUPPORT or an unknown step (naming its id, type and `last_error`), with
    /// [`GandiError::WaitTimeout`] when `opts.timeout` expires first, with
    /// [`GandiError::WaitCancelled`] when `opts.cancel` says so, and with the call's error if a
    /// poll fails. The first tick reads each operation once (`operation.info`) to learn its
    /// `date_created`; [`Gandi::wait_ops`] saves those reads.
    pub fn wait(&self, op_ids: &[i64], opts: &WaitOptions<'_>) -> Result<Vec<Operation>, GandiError> {
        let mut tracker = Tracker::new().with_min_delay(opts.poll_interval);
        for id in op_ids {
            tracker.track_id(*id);
        }
        self.wait_tracked(op_ids, tracker, opts)
    }

    /// [`Gandi::wait`] for operations as returned by the calls: their `date_created` lets the
    /// first tick list them instead of reading each, and those already DONE cost nothing.
    pub fn wait_ops(&self, ops: &[Operation], opts: &WaitOptions<'_>) -> Result<Vec<Operation>, GandiError> {
        let mut tracker = Tracker::new().with_min_delay(opts.poll_interval);
        for op in ops {
            tracker.track(op.clone());
        }
        self.wait_tracked(&op_ids(ops), tracker, opts)
    }

    /// Ticks `tracker` until every one of `ids` is DONE, one fails, the timeout passes or
    /// `opts.cancel` says stop.
    fn wait_tracked(
        &self,
        op_ids: &[i64],
        mut tracker: Tracker,
        opts: &WaitOptions<'_>,
    ) -> Result<Vec<Operation>, GandiError> {
        /// Ticks failing in transport in a row after which waiting gives up.
        const MAX_POLL_ERRORS: u32 = 8;
        let start = Instant::now();
        let mut ids: Vec<i64> = Vec::with_capacity(op_ids.len());
        for id in op_ids {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        let snapshot =
            |t: &Tracker| -> Vec<Option<Operation>> { ids.iter().map(|id| t.get(*id).cloned()).collect() };
        let mut poll_errors = 0;
        let mut first = true;
        loop {
            for op in ids.iter().filter_map(|id| tracker.get(*id)) {
                if op.step.is_failure() {
                    return Err(GandiError::OperationFailed {
                        id: op.id,
                        kind: op.kind_str().to_owned(),
                        step: op.step.clone(),
                        last_error: op.last_error.clone(),
                    });
                }
            }
            if tracker.pending() == 0 {
                return Ok(snapshot(&tracker).into_iter().flatten().collect());
            }
            if !first {
                let waited = start.elapsed();
                if waited >= opts.timeout {
                    return Err(GandiError::WaitTimeout {
                        waited,
                        pending: pending(&ids, &snapshot(&tracker)),
                    });
                }
                let until = Instant::now() + tracker.next_delay().min(opts.timeout - waited);
                loop {
                    if opts.cancel.is_some_and(|c| c()) {
                        return Err(GandiError::WaitCancelled {
                            pending: pending(&ids, &snapshot(&tracker)),
                        });
                    }
                    let now = Instant::now();
                    if now >= until {
                        break;
                    }
                    std::thread::sleep((until - now).min(Duration::from_millis(50)));
                }
            } else if opts.cancel.is_some_and(|c| c()) {
                return Err(GandiError::WaitCancelled { pending: pending(&ids, &snapshot(&tracker)) });
            }
            first = false;
            // A failed tick is a failed read: tried again at the next tick, up to
            // MAX_POLL_ERRORS in a row, within the wait timeout.
            match tracker.tick(self) {
                Ok(_) => {
                    poll_errors = 0;
                    if let Some(p) = opts.progress {
                        ids.iter().filter_map(|id| tracker.get(*id)).for_each(p);
                    }
                }
                Err(e) if e.is_transport() && poll_errors + 1 < MAX_POLL_ERRORS => poll_errors += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

fn pending(ids: &[i64], latest: &[Option<Operation>]) -> Vec<(i64, String, OpStep)> {
    ids.iter()
        .zip(latest)
        .filter(|(_, o)| !o.as_ref().is_some_and(|o| o.step == OpStep::Done))
        .map(|(id, o)| match o {
            Some(o) => (*id, o.kind_str().to_owned(), o.step.clone()),
            None => (*id, String::new(), OpStep::default()),
        })
        .collect()
}
