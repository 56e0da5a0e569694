//! Confirmation of changes: a host hook asked before a script's mutating call is sent.
//!
//! A host that wants a say before a script changes something (the REPL asks the user before a
//! delete) installs a [`ConfirmHook`] with [`RuntimeBuilder::confirm`](super::RuntimeBuilder::confirm)
//! or [`Runtime::set_confirm`](super::Runtime::set_confirm). The hook is called, on the thread
//! running the script, before each call that would change something: `paas::create`, `update`,
//! `renew`, `restart`, `delete`, `vhost::create`/`delete`, `op::cancel`, and `gandi::invoke` of a
//! method that is not read-only. It is not called in dry-run mode (nothing is sent there).
//!
//! `bulk::run` asks once for the whole batch (its first task shown), before its first send.
//!
//! The hook answers a [`Decision`]: [`Send`](Decision::Send) it;
//! [`Skip`](Decision::Skip) it: nothing is sent and the call returns
//! `#{skipped: true, function, method, summary}`, so that a loop goes on with the next item
//! (`op::wait` of a skipped change returns at once); or [`Decline`](Decision::Decline): nothing
//! is sent and the call fails with a catchable error `#{kind: "declined", function, method,
//! message}` (a batch answered `Skip` is declined too). Without a hook every change is sent.

use std::fmt;
use std::sync::Arc;

/// A change a script is about to send.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mutation {
    /// The script function, e.g. `paas::delete` (or `gandi::invoke` for a raw call).
    pub function: String,
    /// The API method, e.g. `paas.delete`.
    pub method: String,
    /// A one-line description, e.g. `delete instance 1 (Mon PaaS)`.
    pub summary: String,
    /// The instance the call is about, when it names one (update, renew, restart, delete).
    pub instance: Option<i64>,
}

impl Mutation {
    /// A description of a change (for hosts and tests that build one).
    pub fn new(
        function: impl Into<String>,
        method: impl Into<String>,
        summary: impl Into<String>,
        instance: Option<i64>,
    ) -> Mutation {
        Mutation { function: function.into(), method: method.into(), summary: summary.into(), instance }
    }
}

impl Mutation {
    /// Whether it deletes something (`paas.delete`, `paas.vhost.delete`, any `*.delete`).
    pub fn is_delete(&self) -> bool {
        self.method.ends_with(".delete")
    }

    /// Whether it may bill: a creation, renewal or update (size and disk cost money), or a
    /// method gandish does not know (see [`gandi::methods`](crate::gandi::methods)).
    pub fn is_billable(&self) -> bool {
        matches!(self.method.as_str(), "paas.create" | "paas.renew" | "paas.update")
            || !(crate::gandi::methods::is_known_change(&self.method)
                || crate::gandi::is_known_read(&self.method))
    }
}

/// What a confirmation hook decides about a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Send it.
    Send,
    /// Do not send it; the call returns a `#{skipped: true, …}` map and the script goes on.
    Skip,
    /// Do not send it; the call fails with a catchable `declined` error.
    Decline,
}

impl From<bool> for Decision {
    /// `true` sends, `false` declines (the meaning of a yes/no hook).
    fn from(send: bool) -> Decision {
        if send { Decision::Send } else { Decision::Decline }
    }
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// Asked before each mutating call: what to do with it.
pub type ConfirmHook = Arc<dyn Fn(&Mutation) -> Decision + Send + Sync>;
