//! Learning whether a change whose reply was lost was applied, before anything is resent.
//!
//! Two sources are read: the instance's operations of the change's types created after the
//! attempt started, and the instance itself.
//!
//! "Created after the attempt started" is judged by operation id, not by date: before each
//! attempt the engine notes the newest operation id it knows of (the *mark*; every id it has
//! seen was created before the attempt was sent), and an operation the attempt created has a
//! larger id. Ids rise with creation in Gandi and in the sandbox; dates would need the
//! client's clock to agree with the server's to the second.
//!
//! `operation.list` is asked for the instance's operations of those types (`paas_id` and
//! `type` filters, newest first, one page of 100) and the ids above the mark are kept here,
//! which needs no comparison filter on the server.

use crate::xmlrpc::{Struct, Value};

use super::super::Gandi;
use super::super::error::GandiError;
use super::super::types::{ApiRecord, OpStep, Operation};
use super::task::Task;

/// Whose attempt is being reconciled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// This run's own attempt just failed ambiguously. A finished operation counts as applied
    /// (whatever the instance shows now), and one that failed is this attempt's failure.
    Own,
    /// An attempt of an earlier run (from the journal). Only a pending operation or a visible
    /// change counts: a finished operation whose change is no longer visible was undone since,
    /// and one that failed left nothing to protect. (For a task with a
    /// [`request`](Task::request), a finished operation counts too.)
    Recovery,
}

/// What reconciliation found.
#[derive(Debug)]
pub(crate) enum Found {
    /// The change was applied (or is being applied): its operations, if found.
    Applied(Vec<Operation>),
    /// The change was not applied: safe to send.
    NotApplied,
    /// The attempt's operation ended in ERROR, CANCEL or SUPPORT.
    OpFailed(Box<Operation>),
    /// The instance no longer exists.
    Gone,
}

/// The operations of `task`'s types on its instance with an id above `mark`, oldest first.
pub(crate) fn ops_since(gandi: &Gandi, task: &Task, mark: i64) -> Result<Vec<Operation>, GandiError> {
    let types: Vec<Value> = task.op_types().iter().map(|t| Value::from(*t)).collect();
    let filter = Struct::new()
        .with("paas_id", task.paas_id)
        .with("type", Value::Array(types))
        .with("sort_by", "id DESC")
        .with("items_per_page", 100);
    let mut ops: Vec<Operation> =
        gandi.operation_list(&filter)?.into_iter().filter(|o| o.id > mark).collect();
    ops.sort_by_key(|o| o.id);
    Ok(ops)
}

/// Reads the operations and the instance, and decides.
pub(crate) fn reconcile(gandi: &Gandi, task: &Task, mark: i64, mode: Mode) -> Result<Found, GandiError> {
    let ops = ops_since(gandi, task, mark)?;
    let (failed, live): (Vec<Operation>, Vec<Operation>) = ops.into_iter().partition(|o| o.step.is_failure());
    if live.iter().any(|o| o.step != OpStep::Done) {
        return Ok(Found::Applied(live));
    }
    let info: Struct = match gandi.paas_info(task.paas_id) {
        Ok(i) => i.to_value().into_struct().unwrap_or_default(),
        Err(e) if e.fault().is_some_and(|f| f.is_not_found()) => return Ok(Found::Gone),
        Err(e) => return Err(e),
    };
    if task.shows_change(&info) {
        return Ok(Found::Applied(live));
    }
    // A relative change leaves nothing to compare against: its finished operation is proof.
    if mode == Mode::Own || task.request.is_some() {
        if !live.is_empty() {
            return Ok(Found::Applied(live));
        }
        if let Some(op) = failed.into_iter().next() {
            return Ok(Found::OpFailed(Box::new(op)));
        }
    }
    Ok(Found::NotApplied)
}
