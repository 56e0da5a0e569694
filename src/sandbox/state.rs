//! The sandbox's world: the account, instances, vhosts, operations, ledger, DNS zones and TXT
//! records, id counters and the clock offset. Serializable as a whole for `--state FILE`.
//!
//! Times: instance and vhost dates and ledger dates are naive Europe/Paris seconds (as
//! [`crate::xmlrpc::DateTime::naive_timestamp`] counts them); operation times are UTC seconds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Deserializer, Serialize};

use crate::xmlrpc::{Struct, Value};

/// A parameter value kept in operation params and ledger entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PVal {
    /// nil.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<PVal>),
}

impl PVal {
    /// As an XML-RPC value.
    pub fn to_value(&self) -> Value {
        match self {
            PVal::Nil => Value::Nil,
            PVal::Bool(b) => Value::Bool(*b),
            PVal::Int(i) => Value::Int(*i),
            PVal::Str(s) => Value::String(s.clone()),
            PVal::List(l) => Value::Array(l.iter().map(PVal::to_value).collect()),
        }
    }
}

/// Ordered parameters.
pub type Params = BTreeMap<String, PVal>;

/// Params as an XML-RPC struct.
pub fn params_value(p: &Params) -> Value {
    Value::Struct(p.iter().map(|(k, v)| (k.clone(), v.to_value())).collect::<Struct>())
}

/// The account that owns everything.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    /// Handle, e.g. `XXX-GANDI`.
    pub handle: String,
    /// Numeric id.
    pub id: i64,
}

/// A PaaS instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Id.
    pub id: i64,
    /// Name as sent.
    pub name: String,
    /// Type, e.g. `phpmysql`.
    pub kind: String,
    /// Size, e.g. `m`.
    pub size: String,
    /// Datacenter id.
    pub datacenter_id: i64,
    /// Extra disk GB (`data_disk_additional_size`).
    pub quantity: i64,
    /// Naive Paris seconds.
    pub date_start: i64,
    /// Naive Paris seconds.
    pub date_end: i64,
    /// Naive Paris seconds, if committed.
    pub date_end_commitment: Option<i64>,
    /// Whether a newer image exists.
    pub need_upgrade: bool,
    /// `running`, `halted` or `being_created`.
    pub state: String,
    /// The ssh/sftp/git login.
    pub user: i64,
    /// Server id.
    pub server_id: i64,
    /// Server uuid.
    pub server_uuid: i64,
    /// ftp server address.
    pub ftp_server: String,
    /// Snapshot profile id.
    pub snapshot_profile: Option<i64>,
    /// Console enabled.
    pub console: bool,
}

/// A vhost attached to an instance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Vhost {
    /// Id.
    pub id: i64,
    /// FQDN.
    pub name: String,
    /// Owning instance.
    pub paas_id: i64,
    /// Always `running` once attached.
    pub state: String,
    /// Naive Paris seconds.
    pub date_creation: i64,
}

/// A snapshot of an instance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Instance.
    pub paas_id: i64,
    /// Naive Paris seconds.
    pub date_created: i64,
    /// Size in bytes.
    pub size: i64,
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndStep {
    /// Applied.
    Done,
    /// Failed (see `last_error`).
    Error,
    /// Cancelled.
    Cancel,
}

impl EndStep {
    /// The step name.
    pub fn name(self) -> &'static str {
        match self {
            EndStep::Done => "DONE",
            EndStep::Error => "ERROR",
            EndStep::Cancel => "CANCEL",
        }
    }
}

/// The end of an operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct End {
    /// Final step.
    pub step: EndStep,
    /// UTC seconds.
    pub at: i64,
}

/// What an operation does when it reaches DONE.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Effect {
    /// Nothing but its step.
    None,
    /// The instance becomes `running`.
    VmCreate,
    /// Attach the requested vhosts that pass the ownership check; ERROR if any does not.
    RproxyCreate {
        /// Requested FQDNs.
        vhosts: Vec<String>,
    },
    /// Apply the VM-level changes (`size`, `name`, `console`, `snapshot_profile`, `upgrade`).
    VmUpdate,
    /// Apply `quantity`.
    DiskUpdate,
    /// Extend `date_end` by this many months.
    Renew {
        /// Months.
        months: u32,
    },
    /// Remove the instance and its vhosts; cancel its other pending ops.
    Delete,
    /// Attach a vhost.
    VhostAttach {
        /// FQDN.
        fqdn: String,
    },
    /// Detach a vhost.
    VhostDetach {
        /// FQDN.
        fqdn: String,
    },
}

/// An operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Op {
    /// Id.
    pub id: i64,
    /// Type, e.g. `paas_vm_create`.
    pub kind: String,
    /// The instance it works on.
    pub paas_id: i64,
    /// The id of the first op of the same call; the ops of one call share their timeline and
    /// are cancelled together.
    pub group: i64,
    /// UTC seconds.
    pub created: i64,
    /// Seconds from creation to DONE.
    pub duration: i64,
    /// Params shown in the op (and in the ledger entry).
    pub params: Params,
    /// `infos.product_action`.
    pub action: String,
    /// `infos.label`.
    pub label: String,
    /// `infos.product_name` (the instance's catalog name).
    pub product: String,
    /// Effect at DONE.
    pub effect: Effect,
    /// Whether applying it adds a ledger entry.
    pub billable: bool,
    /// Injected failure: the op ends in ERROR with this `last_error` instead of applying.
    pub planned_error: Option<String>,
    /// Set once it ended.
    pub end: Option<End>,
    /// `last_error`.
    pub last_error: Option<String>,
}

impl Op {
    /// UTC seconds at which it reaches DONE.
    pub fn done_at(&self) -> i64 {
        self.created.saturating_add(self.duration)
    }
}

/// One applied billable change.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The op that carried it.
    pub op_id: i64,
    /// Its type.
    pub kind: String,
    /// The instance.
    pub paas_id: i64,
    /// The call's params (without password or `--dry-run`).
    pub params: Params,
    /// Naive Paris seconds when applied.
    pub date: i64,
}

/// Next ids to hand out; they only grow.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Counters {
    /// Instances.
    pub paas: i64,
    /// Vhosts.
    pub vhost: i64,
    /// Operations (from 1000).
    pub op: i64,
    /// Servers.
    pub server: i64,
    /// Logins.
    pub user: i64,
    /// Snapshots.
    pub snapshot: i64,
}

/// The whole world.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// The account.
    pub account: Account,
    /// Instances by id.
    #[serde(deserialize_with = "unique_ids")]
    pub instances: BTreeMap<i64, Instance>,
    /// Vhosts by id. Change them through [`State::vhosts_mut`], which keeps
    /// [`State::vhosts_of`] right.
    #[serde(deserialize_with = "unique_ids")]
    pub vhosts: BTreeMap<i64, Vhost>,
    /// Operations by id.
    #[serde(deserialize_with = "unique_ids")]
    pub ops: BTreeMap<i64, Op>,
    /// Applied billable changes, in order.
    pub ledger: Vec<LedgerEntry>,
    /// Snapshots by id.
    #[serde(deserialize_with = "unique_ids")]
    pub snapshots: BTreeMap<i64, Snapshot>,
    /// Zones the account manages on Gandi DNS (vhosts under them need no proof).
    pub zones: BTreeSet<String>,
    /// External TXT records by FQDN.
    pub txt: BTreeMap<String, Vec<String>>,
    /// TXT tokens fixed by the dataset, by vhost FQDN (others are derived, see `vhost`).
    pub tokens: BTreeMap<String, String>,
    /// Injected failures by op type: the next op of that type ends in ERROR with this message.
    pub fail_next: BTreeMap<String, String>,
    /// Counters.
    pub next: Counters,
    /// Seconds added to the base clock by `sandbox.clock.advance`.
    pub clock_offset: i64,
    /// Not saved, derived from `vhosts` when first needed: the vhost ids of each instance, in id
    /// order, so `paas.info` does not scan every vhost. `None` until built and after any change
    /// made through [`State::vhosts_mut`].
    #[serde(skip)]
    pub vhost_index: Option<HashMap<i64, Vec<i64>>>,
    /// Not saved: no pending op reaches DONE before this time (UTC seconds), so a call need not
    /// look at every op. `None` means unknown (look).
    #[serde(skip)]
    pub next_due: Option<i64>,
}

/// Deserializes a map keyed by id, refusing a key given twice (serde would keep the last one
/// silently, and the record it hides may be the one a ledger entry or an operation refers to).
fn unique_ids<'de, D, T>(d: D) -> Result<BTreeMap<i64, T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Unique<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Unique<T> {
        type Value = BTreeMap<i64, T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map from ids to records")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((id, record)) = access.next_entry::<i64, T>()? {
                if out.insert(id, record).is_some() {
                    return Err(serde::de::Error::custom(format!("id {id} appears twice")));
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique(std::marker::PhantomData))
}

impl State {
    /// Checks what a loaded state file must hold for the sandbox to keep its promises: every
    /// record filed under its own id, no two vhosts with one name, one ledger entry per
    /// operation, and every counter in `next` above every id in use, so no id is ever handed out
    /// twice. Returns each problem found, in words that name the field (empty: consistent).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut filed = |what: &str, ids: &mut dyn Iterator<Item = (i64, i64)>| {
            for (key, id) in ids {
                if key != id {
                    out.push(format!("{what} {key} holds the record of id {id}"));
                }
            }
        };
        filed("instances", &mut self.instances.iter().map(|(k, v)| (*k, v.id)));
        filed("vhosts", &mut self.vhosts.iter().map(|(k, v)| (*k, v.id)));
        filed("ops", &mut self.ops.iter().map(|(k, v)| (*k, v.id)));
        filed("snapshots", &mut self.snapshots.iter().map(|(k, v)| (*k, v.id)));

        let mut names = BTreeSet::new();
        for v in self.vhosts.values() {
            if !names.insert(v.name.as_str()) {
                out.push(format!("two vhosts are named {:?}", v.name));
            }
        }
        let mut billed = BTreeSet::new();
        for e in &self.ledger {
            if !billed.insert(e.op_id) {
                out.push(format!("the ledger holds operation {} twice", e.op_id));
            }
        }

        let n = &self.next;
        let top = |ids: &mut dyn Iterator<Item = i64>| ids.max();
        let counters = [
            ("next.paas", n.paas, "instance", top(&mut self.instances.keys().copied())),
            ("next.vhost", n.vhost, "vhost", top(&mut self.vhosts.keys().copied())),
            (
                "next.op",
                n.op,
                "operation",
                top(&mut self.ops.keys().copied().chain(self.ledger.iter().map(|e| e.op_id))),
            ),
            ("next.server", n.server, "server", top(&mut self.instances.values().map(|i| i.server_id))),
            ("next.user", n.user, "login", top(&mut self.instances.values().map(|i| i.user))),
            ("next.snapshot", n.snapshot, "snapshot", top(&mut self.snapshots.keys().copied())),
        ];
        for (name, next, what, max) in counters {
            if let Some(max) = max
                && next <= max
            {
                out.push(format!(
                    "{name} is {next}, but {what} {max} is in use (it must be above every id in use)"
                ));
            }
        }
        out
    }

    /// A new id from a counter.
    pub fn take_id(counter: &mut i64) -> i64 {
        let id = *counter;
        *counter += 1;
        id
    }

    /// The vhosts, to change them: forgets [`State::vhost_index`].
    pub fn vhosts_mut(&mut self) -> &mut BTreeMap<i64, Vhost> {
        self.vhost_index = None;
        &mut self.vhosts
    }

    /// Builds [`State::vhost_index`] if it is not there.
    pub fn index_vhosts(&mut self) {
        if self.vhost_index.is_none() {
            let mut index: HashMap<i64, Vec<i64>> = HashMap::new();
            for v in self.vhosts.values() {
                index.entry(v.paas_id).or_default().push(v.id);
            }
            self.vhost_index = Some(index);
        }
    }

    /// The vhosts of instance `paas_id`, in id order: from [`State::vhost_index`] when built
    /// ([`State::index_vhosts`]), else by looking at every vhost.
    pub fn vhosts_of(&self, paas_id: i64) -> Vec<&Vhost> {
        match &self.vhost_index {
            Some(index) => index
                .get(&paas_id)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|id| self.vhosts.get(id))
                .collect(),
            None => self.vhosts.values().filter(|v| v.paas_id == paas_id).collect(),
        }
    }

    /// The vhost named `fqdn`, if attached.
    pub fn vhost_by_name(&self, fqdn: &str) -> Option<&Vhost> {
        self.vhosts.values().find(|v| v.name == fqdn)
    }

    /// Whether an op still pending will attach `fqdn`.
    pub fn vhost_pending(&self, fqdn: &str) -> bool {
        self.ops.values().any(|o| {
            o.end.is_none()
                && match &o.effect {
                    Effect::RproxyCreate { vhosts } => vhosts.iter().any(|v| v == fqdn),
                    Effect::VhostAttach { fqdn: f } => f == fqdn,
                    _ => false,
                }
        })
    }
}
