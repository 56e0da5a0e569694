//! [`GandiError`]: everything a [`Gandi`](super::Gandi) call or wait can fail with.

use std::time::Duration;

use crate::xmlrpc::SerdeError;
use crate::xmlrpc::client::Error as ClientError;

use super::fault::ApiFault;
use super::types::OpStep;

/// Why a Gandi call (or a wait for operations) failed. No message ever contains the API key.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GandiError {
    /// The API answered with a fault.
    #[error("{0}")]
    Fault(Box<ApiFault>),
    /// The call did not get an answer: connection, timeout, HTTP status, an undecodable reply, or
    /// a call that could not be encoded. [`GandiError::maybe_applied`] tells whether a mutation
    /// may have happened anyway.
    #[error("{method}: {source}")]
    Transport {
        /// The method being called.
        method: String,
        /// The client's error.
        source: ClientError,
    },
    /// A record in the answer did not have the shape the API documents (e.g. `id` missing, or
    /// a string where a dateTime was expected).
    #[error("{method}: unexpected reply{}: {source}", index.map(|i| format!(" (item {i})")).unwrap_or_default())]
    Decode {
        /// The method that answered.
        method: String,
        /// The item's position, when the answer was a list.
        index: Option<usize>,
        /// What did not match, with its path.
        source: SerdeError,
    },
    /// The answer as a whole was not what the method returns (e.g. a string where an array was
    /// expected, or a list that does not page).
    #[error("{method}: unexpected reply: {reason}")]
    BadReply {
        /// The method that answered.
        method: String,
        /// What was wrong.
        reason: String,
    },
    /// The client could not be set up (bad URL, plain http to a non-loopback host, unreadable
    /// CA file, zero timeout). Nothing was sent.
    #[error("cannot set up the Gandi client: {0}")]
    Setup(ClientError),
    /// An operation ended in a step other than DONE (ERROR, CANCEL, SUPPORT or an unknown step).
    #[error("operation {id} ({kind}) ended in {step}{}", last_error_suffix(last_error.as_deref()))]
    OperationFailed {
        /// The operation's id.
        id: i64,
        /// Its type, e.g. `paas_vm_create` (empty if the server did not say).
        kind: String,
        /// The step it ended in.
        step: OpStep,
        /// The server's `last_error`, if any.
        last_error: Option<String>,
    },
    /// Operations were still pending when the wait's timeout expired.
    #[error("timed out after {} waiting for {}", fmt_secs(*waited), pending_list(pending))]
    WaitTimeout {
        /// How long the wait lasted.
        waited: Duration,
        /// The operations not yet DONE: `(id, type, step)`.
        pending: Vec<(i64, String, OpStep)>,
    },
    /// The wait was stopped by its cancellation check before every operation was DONE.
    #[error("wait cancelled with {} still pending", pending_list(pending))]
    WaitCancelled {
        /// The operations not yet DONE: `(id, type, step)`.
        pending: Vec<(i64, String, OpStep)>,
    },
}

fn last_error_suffix(e: Option<&str>) -> String {
    match e {
        Some(e) if !e.is_empty() => format!(": {e}"),
        _ => String::new(),
    }
}

fn fmt_secs(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{} s", d.as_secs()) } else { format!("{:.1} s", d.as_secs_f64()) }
}

fn pending_list(p: &[(i64, String, OpStep)]) -> String {
    let shown: Vec<String> =
        p.iter().take(10).map(|(id, kind, step)| format!("{id} ({kind}, {step})")).collect();
    let more = if p.len() > 10 { format!(" and {} more", p.len() - 10) } else { String::new() };
    let noun = if p.len() == 1 { "operation" } else { "operations" };
    format!("{noun} {}{more}", shown.join(", "))
}

impl GandiError {
    /// Whether the API answered with a fault.
    pub fn is_fault(&self) -> bool {
        matches!(self, GandiError::Fault(_))
    }

    /// The fault, if the API answered with one.
    pub fn fault(&self) -> Option<&ApiFault> {
        match self {
            GandiError::Fault(f) => Some(f),
            _ => None,
        }
    }

    /// The transport error, if the call got no answer.
    pub fn transport(&self) -> Option<&ClientError> {
        match self {
            GandiError::Transport { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether this is a transport failure (no answer from the API).
    pub fn is_transport(&self) -> bool {
        matches!(self, GandiError::Transport { .. })
    }

    /// Whether an HTTP timeout expired during the call (not a wait timeout; see
    /// [`GandiError::is_wait_timeout`]).
    pub fn is_timeout(&self) -> bool {
        self.transport().is_some_and(ClientError::is_timeout)
    }

    /// Whether the connection closed before the reply arrived.
    pub fn is_closed_before_reply(&self) -> bool {
        self.transport().is_some_and(ClientError::is_closed_before_reply)
    }

    /// Whether the call may have been applied although no answer says so (see
    /// [`ClientError::maybe_applied`]). A reply of the wrong shape also counts: the server
    /// answered, so a mutation may well have happened.
    pub fn maybe_applied(&self) -> bool {
        match self {
            GandiError::Transport { source, .. } => source.maybe_applied(),
            GandiError::Decode { .. } | GandiError::BadReply { .. } => true,
            _ => false,
        }
    }

    /// Whether a wait for operations timed out.
    pub fn is_wait_timeout(&self) -> bool {
        matches!(self, GandiError::WaitTimeout { .. })
    }

    /// Whether an operation ended in ERROR, CANCEL, SUPPORT or an unknown step.
    pub fn is_operation_failed(&self) -> bool {
        matches!(self, GandiError::OperationFailed { .. })
    }

    /// The method that failed, for call errors (`None` for wait errors).
    pub fn method(&self) -> Option<&str> {
        match self {
            GandiError::Fault(f) => Some(&f.method),
            GandiError::Transport { method, .. }
            | GandiError::Decode { method, .. }
            | GandiError::BadReply { method, .. } => Some(method),
            _ => None,
        }
    }
}
