//! Which API methods only read. Under `--dry-run` only these are sent: a change is planned
//! instead, and so is every method this list does not name, because a name gandish does not
//! know might bill or delete something.
//!
//! The list is the read half of the reference catalogue (every `list`, `count`, `info`,
//! `get_dns_entries`, `hosting.metric.query`), the XML-RPC introspection methods, and the
//! sandbox's `sandbox.ledger`. `system.multicall` is not on it: it can carry any call.

/// Every method known to change nothing.
pub const READ_METHODS: &[&str] = &[
    "version.info",
    "paas.list",
    "paas.count",
    "paas.info",
    "paas.type.list",
    "paas.type.count",
    "paas.vhost.list",
    "paas.vhost.count",
    "paas.vhost.info",
    "paas.vhost.get_dns_entries",
    "paas.snapshot.list",
    "paas.snapshot.count",
    "paas.snapshot.info",
    "paas.snapshotprofile.list",
    "operation.info",
    "operation.list",
    "operation.count",
    "hosting.datacenter.list",
    "hosting.metric.query",
    "system.listMethods",
    "system.methodSignature",
    "system.methodHelp",
    "sandbox.ledger",
];

/// The catalogue's methods that change something (create, update, delete, renew, restart,
/// cancel, relaunch), some of them billable.
pub const CHANGE_METHODS: &[&str] = &[
    "paas.create",
    "paas.update",
    "paas.delete",
    "paas.renew",
    "paas.restart",
    "paas.vhost.create",
    "paas.vhost.delete",
    "operation.cancel",
    "operation.relaunch",
];

/// Whether `method` is one of the catalogue's changes ([`CHANGE_METHODS`]).
pub fn is_known_change(method: &str) -> bool {
    CHANGE_METHODS.contains(&method)
}

/// Whether `method` is known to change nothing ([`READ_METHODS`]). Every other name, known
/// change or unknown, counts as a change.
pub fn is_known_read(method: &str) -> bool {
    READ_METHODS.contains(&method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_and_unknown_names_are_not_reads() {
        for m in ["paas.list", "paas.vhost.get_dns_entries", "operation.count", "system.listMethods"] {
            assert!(is_known_read(m), "{m}");
        }
        for m in [
            "paas.create",
            "paas.update",
            "paas.delete",
            "paas.renew",
            "paas.restart",
            "operation.cancel",
            "paas.vhost.create",
            "system.multicall",
            "paas.getaway",
            "echo",
            "PAAS.LIST",
            "",
        ] {
            assert!(!is_known_read(m), "{m}");
        }
        assert!(CHANGE_METHODS.iter().all(|m| !is_known_read(m)));
    }
}
