//! The bulk engine: many instance changes at once, safely.
//!
//! [`run`] applies a list of [`Task`]s (renew or update one instance each) on N worker
//! threads and returns one [`ItemResult`] per task, in order. One task's failure never stops
//! the others.
//!
//! - **Pace.** Every call goes through the client's [`Throttle`](super::throttle::Throttle):
//!   a rate limiter shared by all workers, resends after rate-limit faults (160004: nothing
//!   was applied), and resends of reads after transient failures (503, reset, timeout). A
//!   client without one gets a default throttle (no rate limit, default retries) for the run.
//! - **No blind resend.** A mutation whose outcome is ambiguous
//!   ([`GandiError::maybe_applied`]: timeout, connection closed before the reply, 5xx,
//!   undecodable reply) is reconciled first ([`reconcile`](self)): the instance's operations of
//!   that type created after the attempt began, and the instance itself, are read; the change
//!   is sent again only if it was not applied. Errors where nothing was sent (connection
//!   refused) are retried; faults are final.
//! - **Journal.** With a [`Journal`], an intent is on disk before each send and the outcome
//!   after it, keyed by endpoint, instance, action, target and origin ([`Task::key`]). A rerun
//!   after a crash reconciles every key left open before sending anything for it. A run that
//!   ends with every task applied and its operations DONE closes its keys.
//! - **Waiting and checking.** Optionally waits for the operations (no poll when they are
//!   already DONE) and re-reads the instance to check it reached the target.
//! - **Progress** is reported through a callback ([`Event`]); **cancellation** is checked
//!   before each task and while waiting.
//!
//! ```no_run
//! use gandish::gandi::bulk::{self, Journal, Options, Task};
//! use gandish::gandi::{ApiRecord, Gandi};
//! use gandish::xmlrpc::ClientConfig;
//!
//! let gandi = Gandi::new("https://rpc.gandi.net/xmlrpc/", "my 24-character API key", ClientConfig::default())?;
//! let tasks: Vec<Task> = gandi
//!     .paas_list(&Default::default())?
//!     .into_iter()
//!     .map(|p| Task::renew(p.id, "12m").with_before(p.to_value().into_struct().unwrap_or_default()))
//!     .collect();
//! let journal = Journal::open("/var/lib/gandish/renew.journal")?;
//! let mut options = Options::default();
//! options.journal = Some(&journal);
//! let results = bulk::run(&gandi, &tasks, &options)?;
//! let failed = results.iter().filter(|r| r.outcome.is_failure()).count();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod engine;
mod journal;
mod recent;
mod reconcile;
mod task;

use std::time::Duration;

use crate::xmlrpc::Struct;

pub use engine::{POLL_SHARE, run};
pub use journal::{History, Journal, JournalError, RETENTION};
pub use recent::{RENEW_OP, recent_renewals};
pub use task::{Action, Task};

use super::error::GandiError;

/// The default number of workers.
pub const DEFAULT_WORKERS: usize = 8;

/// How a bulk run is carried out.
#[non_exhaustive]
pub struct Options<'a> {
    /// Worker threads (default [`DEFAULT_WORKERS`]; at least 1, at most 64).
    pub workers: usize,
    /// The journal (default none).
    pub journal: Option<&'a Journal>,
    /// Wait for each change's operations to finish (default true).
    pub wait: bool,
    /// Give up waiting after this long (default 600 s); the task then fails.
    pub wait_timeout: Duration,
    /// Pause between polls of pending operations (default 1 s).
    pub poll_interval: Duration,
    /// Re-read each instance afterwards and check it reached the target (default false; needs
    /// `wait`).
    pub verify: bool,
    /// How many times one task's call may be sent in all (default 6): resends happen only
    /// after reconciliation found the change not applied, or when nothing was sent.
    pub max_sends: u32,
    /// Pause after an ambiguous failure before reconciling, so a request still being processed
    /// can land (default 1 s).
    pub settle: Duration,
    /// A name for progress reports.
    pub label: String,
    /// Told about progress (from the worker threads).
    pub progress: Option<&'a (dyn Fn(&Event<'_>) + Sync)>,
    /// Returns true to stop: tasks not started yet end [`Outcome::Cancelled`].
    pub cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            workers: DEFAULT_WORKERS,
            journal: None,
            wait: true,
            wait_timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(1),
            verify: false,
            max_sends: 6,
            settle: Duration::from_secs(1),
            label: "bulk".into(),
            progress: None,
            cancel: None,
        }
    }
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("workers", &self.workers)
            .field("journal", &self.journal.map(|j| j.path().to_path_buf()))
            .field("wait", &self.wait)
            .field("wait_timeout", &self.wait_timeout)
            .field("poll_interval", &self.poll_interval)
            .field("verify", &self.verify)
            .field("max_sends", &self.max_sends)
            .field("settle", &self.settle)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// How one task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// This run applied the change.
    Applied,
    /// An earlier run had applied it (found through the journal); nothing was sent.
    AlreadyApplied,
    /// It failed; see [`ItemResult::error`].
    Failed,
    /// It was not attempted: the run was cancelled first.
    Cancelled,
}

impl Outcome {
    /// `applied`, `already_applied`, `failed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::AlreadyApplied => "already_applied",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Whether the task failed (cancelled counts: the work was not done).
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Cancelled)
    }
}

/// The result of one task.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemResult {
    /// The task's position in the list.
    pub index: usize,
    /// The instance.
    pub paas_id: i64,
    /// Its name, if known.
    pub name: Option<String>,
    /// `renew` or `update`.
    pub action: &'static str,
    /// The journal key ([`Task::key`]).
    pub key: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How many times the call was sent (0: not sent).
    pub sends: u32,
    /// How many times its outcome had to be reconciled.
    pub reconciled: u32,
    /// The change's operation ids, when known.
    pub ops: Vec<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// The instance afterwards (`paas.info`), when verified.
    pub after: Option<Struct>,
}

/// What a bulk run reports as it goes.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The run starts with `total` tasks.
    Started {
        /// [`Options::label`].
        label: &'a str,
        /// Tasks in all.
        total: usize,
    },
    /// One task ended.
    Item {
        /// [`Options::label`].
        label: &'a str,
        /// Its result.
        result: &'a ItemResult,
        /// Tasks ended so far (this one included).
        done: usize,
        /// Of which failed.
        failed: usize,
        /// Tasks in all.
        total: usize,
    },
    /// Something the user should know that is not a failure, e.g. a torn journal line that
    /// opening cut off. The CLI prints it on stderr.
    Warning {
        /// [`Options::label`].
        label: &'a str,
        /// What happened.
        message: &'a str,
    },
    /// Every task ended.
    Finished {
        /// [`Options::label`].
        label: &'a str,
        /// Tasks in all.
        total: usize,
        /// Of which failed.
        failed: usize,
        /// Wall time.
        elapsed: Duration,
    },
}

/// Why a bulk run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// Two tasks change the same instance the same way.
    #[error(
        "task {second} repeats task {first}: {action} of instance {paas_id} (one change per instance and action per run)"
    )]
    Duplicate {
        /// The first task's index.
        first: usize,
        /// The repeating task's index.
        second: usize,
        /// The action.
        action: &'static str,
        /// The instance.
        paas_id: i64,
    },
    /// The newest operation id could not be read, so ambiguous failures could not be
    /// reconciled: nothing was sent.
    #[error("cannot start the bulk run: reading the newest operation failed: {0}")]
    Mark(GandiError),
    /// A setting is out of range.
    #[error("invalid bulk setting: {0}")]
    Config(String),
}
