//! The Rhai scripting runtime: automation scripts that read like the task.
//!
//! ```text
//! for p in paas::list(#{state: "running"}) {
//!     if p.date_end.days_until() < 30 { op::wait(paas::renew(p, "12m")) }
//! }
//! ```
//!
//! [`Runtime`] is the embedding API (also re-exported as `gandish::Runtime`). What scripts get:
//!
//! | Module | Functions |
//! |---|---|
//! | `paas::` | `list([filter])`, `count([filter])`, `info(p)`, `create(params)`, `update(p, params)`, `renew(p, "12m" \| params)`, `restart(p)`, `delete(p)`, `types([filter])` |
//! | `vhost::` | `list([filter])`, `count([filter])`, `info(fqdn)`, `create(p, fqdn)` / `create(params)`, `delete(fqdn)`, `dns_entries(fqdn[, p])` |
//! | `op::` | `info(op)`, `list([filter])`, `wait(ops[, timeout_s])`, `cancel(op)` |
//! | `datacenter::`, `snapshot_profile::` | `list([filter])` |
//! | `gandi::` | `version()`, `invoke(method[, args])` (raw, key added) |
//! | `xmlrpc::` | `invoke(url, method, args)` (any server, no key) |
//! | global | `now()`, `today()`, `date(text)`, `date(y, m, d[, h, mi, s])`, `seconds/minutes/hours/days/weeks/months/years(n)` |
//!
//! (`call` is a reserved word in Rhai, so the raw calls are named `invoke`.)
//!
//! Wherever a function takes an instance (or operation) it accepts its id or its map, e.g.
//! `paas::renew(p, "12m")`. API structs become object maps with the API's field names
//! ([`convert`]); dateTimes become [`Date`]s.
//!
//! **Dates and zones.** Gandi's dateTimes carry no zone. They are read as local time in the
//! runtime's [`Zone`], Europe/Paris by default ([`RuntimeBuilder::zone`]); `now()` and
//! `today()` give the current time in that zone, and dates go back to the API as XML-RPC
//! dateTimes (never strings). A date prints as ISO 8601, `2027-01-31T00:00:00`;
//! `d.to_api()` gives the API's `20270131T00:00:00`.
//!
//! **Errors** are catchable maps with `kind` and `message` ([`error`]); a Gandi fault is
//! `#{kind: "fault", code, object, cause, message, method, …}`, a transport error
//! `#{kind: "transport", …}`. Each carries the script position of the failing call.
//!
//! **Dry-run** ([`RuntimeBuilder::dry_run`]): create, update, renew, restart, delete, vhost
//! create/delete and op cancel are not sent; each returns and records a [`PlanEntry`]
//! `#{method, args, summary}`. `paas::create` and `vhost::create` still ask Gandi's
//! `'--dry-run'` validation and keep its answer in `errors`. Reads still happen.
//!
//! **Confirmation** ([`RuntimeBuilder::confirm`], [`Runtime::set_confirm`]): a host hook is
//! asked before each change is sent (the REPL asks the user before a delete); a declined change
//! fails with a catchable `#{kind: "declined", …}` and nothing is sent.
//!
//! **Limits** ([`Limits`]) are set explicitly, the same in debug and release; a wall-clock
//! timeout and a [`CancelHandle`] stop runaway scripts between operations and in `sleep` and
//! `op::wait`; cancelling also cuts off the API calls in flight (as maybe applied). Each run has a thread of its own with a large stack, and values nested deeper
//! than 128 levels are dropped there rather than handed back.
//!
//! **Imports**: `import "std/util" as util;` loads the bundled `stdlib/util.rhai`; other paths
//! resolve against the importing script's folder ([`resolver`]).

pub mod confirm;
pub mod convert;
pub mod date;
pub mod display;
pub mod error;
mod hooks;
mod host;
pub mod limits;
mod modules;
pub mod plan;
pub mod resolver;
pub mod runtime;

pub use crate::calendar::{Zone, ZoneError};
pub use confirm::{ConfirmHook, Decision, Mutation};
pub use date::{Date, DateError, Span};
pub use error::Error;
pub use host::Clock;
pub use limits::{CancelHandle, Limits, RunToken};
pub use plan::PlanEntry;
pub use resolver::ModuleCache;
pub use runtime::{
    BuildError, BulkHook, CallHook, DebugHook, PrintHook, Runtime, RuntimeBuilder, WaitEvent, WaitHook,
    default_journal_dir,
};
