//! [`recent_renewals`]: which instances the account renewed lately, from the server's own
//! operations, so that a rerun with no journal (another pod, a retried job, a person) does not
//! renew them again.

use std::collections::BTreeMap;

use crate::xmlrpc::{DateTime, Struct};

use super::super::Gandi;
use super::super::error::GandiError;
use super::super::types::Operation;

/// The operation type a renewal's billing shows up as.
pub const RENEW_OP: &str = "paas_vm_renew";

/// The newest `paas_vm_renew` operation of each instance created after `since` (a server-local
/// dateTime, as the API writes `date_created`) that did not fail: pending ones count, since
/// they will renew.
///
/// A few fleet-wide `operation.list` calls (`type` and `>date_created`, paged at 500), not one
/// per instance. `type` is not a documented filter of `operation.list`: when the server refuses
/// it with a fault, the list is read with the date bound alone. Either way each operation is
/// checked here (type, date, step), so a server that ignores a filter costs more pages, never a
/// wrong answer.
pub fn recent_renewals(gandi: &Gandi, since: DateTime) -> Result<BTreeMap<i64, Operation>, GandiError> {
    let by_date = Struct::new().with(">date_created", since).with("sort_by", "id ASC");
    let ops = match gandi.operation_list(&by_date.clone().with("type", RENEW_OP)) {
        Ok(ops) => ops,
        Err(e) if e.fault().is_some() => gandi.operation_list(&by_date)?,
        Err(e) => return Err(e),
    };
    let bound = since.naive_timestamp();
    let mut newest: BTreeMap<i64, Operation> = BTreeMap::new();
    for op in ops {
        let recent = op.date_created.is_some_and(|d| d.naive_timestamp() > bound);
        if op.kind.as_deref() != Some(RENEW_OP) || !recent || op.step.is_failure() {
            continue;
        }
        let Some(paas_id) = op.paas_id() else { continue };
        if newest.get(&paas_id).is_none_or(|o| o.id < op.id) {
            newest.insert(paas_id, op);
        }
    }
    Ok(newest)
}
