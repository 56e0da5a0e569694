//! Dry-run plans and the log of calls a runtime made.

use rhai::{Array, Dynamic, Map};

use super::convert::to_dynamic;
use crate::calendar::Zone;
use crate::gandi::CallRecord;
use crate::xmlrpc::Value;

/// A change a script asked for in dry-run mode, which was not sent.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEntry {
    /// The API method that would have been called, e.g. `paas.renew`.
    pub method: String,
    /// Its arguments without the API key (passwords shown as `[REDACTED]`).
    pub args: Vec<Value>,
    /// A one-line description, e.g. `renew instance 1 (Mon PaaS) for 12m`.
    pub summary: String,
    /// For calls Gandi can validate (`paas.create`, `paas.vhost.create`): the server's dry-run
    /// answer, a list of error structs (`[]` means the call would succeed). `None` otherwise.
    pub errors: Option<Vec<Value>>,
}

impl PlanEntry {
    /// The entry as the script sees it: `#{method, args, summary, dry_run: true[, errors]}`.
    pub fn to_dynamic(&self, zone: &Zone) -> Dynamic {
        let mut m = Map::new();
        m.insert("method".into(), self.method.clone().into());
        let args: Array =
            self.args.iter().map(|a| to_dynamic(a.clone(), zone).unwrap_or(Dynamic::UNIT)).collect();
        m.insert("args".into(), Dynamic::from_array(args));
        m.insert("summary".into(), self.summary.clone().into());
        m.insert("dry_run".into(), Dynamic::TRUE);
        if let Some(errors) = &self.errors {
            let e: Array =
                errors.iter().map(|a| to_dynamic(a.clone(), zone).unwrap_or(Dynamic::UNIT)).collect();
            m.insert("errors".into(), Dynamic::from_array(e));
        }
        Dynamic::from_map(m)
    }
}

/// The most calls a runtime's log keeps; older ones are dropped (and counted).
pub const MAX_LOGGED_CALLS: usize = 10_000;

/// The log of calls (bounded to [`MAX_LOGGED_CALLS`]).
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    pub(crate) records: std::collections::VecDeque<CallRecord>,
    pub(crate) dropped: u64,
}

impl CallLog {
    pub(crate) fn push(&mut self, r: CallRecord) {
        if self.records.len() == MAX_LOGGED_CALLS {
            self.records.pop_front();
            self.dropped += 1;
        }
        self.records.push_back(r);
    }
}
