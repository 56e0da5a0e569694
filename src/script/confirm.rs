//! Confirmation of changes: a host hook asked before a script's mutating call is sent.
//!
//! A host that wants a say before a script changes something (the REPL asks the user before a
//! delete) installs a [`ConfirmHook`] with [`RuntimeBuilder::confirm`](super::RuntimeBuilder::confirm)
//! or [`Runtime::set_confirm`](super::Runtime::set_confirm). The hook is called, on the thread
//! running the script, before each call that would change something: `paas::create`, `update`,
//! `renew`, `restart`, `delete`, `vhost::create`/`delete`, `op::cancel`, and `gandi::invoke` of a
//! method that is not read-only. It is not called in dry-run mode (nothing is sent there).
//!
//! When the hook answers `false`, nothing is sent and the call fails with a catchable error
//! `#{kind: "declined", function, method, message}`. Without a hook every change is sent.

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

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// Asked before each mutating call; `true` sends it, `false` declines it.
pub type ConfirmHook = Arc<dyn Fn(&Mutation) -> bool + Send + Sync>;
