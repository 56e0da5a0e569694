//! The sandbox as a state machine, checked against a model.
//!
//! proptest generates a scenario: phases in which several threads each run a sequence of
//! `paas.create/update/renew/delete`, `paas.vhost.create/delete` and `operation.cancel` calls at
//! once, with a clock advance (`sandbox.clock.advance`) after each phase. A simple model predicts
//! every reply (the ops it starts, or the fault code) and the whole world.
//!
//! Each thread owns the instances it creates and the vhost names under its own label
//! (`v2.t1.managed.test`), so its model is exact whatever the interleaving; the clock moves only
//! between phases, so op steps (BILL, WAIT, RUN, DONE) are exact too. What the threads share —
//! the id counters, the lists, the ledger — is checked at every barrier:
//!
//! - ids unique (instances, vhosts, operations), and never reused by a later call;
//! - `*.count` equal to the number of items in every page of `*.list`;
//! - every instance's state, size, disk, name, `date_start` and `date_end` as the model says, with
//!   `date_end` = start + the months of the create and of every renew that reached DONE, in the
//!   order they were applied (calendar months, the day clamped: the clock starts on 31 January);
//! - every operation's type, instance and step as the model says; after the last advance (past
//!   `op_seconds`) none is left in BILL, WAIT or RUN;
//! - the ledger equal to the billable ops (`paas_vm_create/update/renew`) that reached DONE, each
//!   exactly once; cancelled, failed and cancelled-by-delete ones never.
//!
//! Failures shrink to a short scenario printed phase by phase.

use crate::support::sandbox as support;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use gandish::sandbox::{ClockMode, Dataset, Sandbox, SandboxConfig, start};
use gandish::xmlrpc::client::Error as ClientError;
use gandish::xmlrpc::{CallContext, Client, ClientConfig, Fault, Handler, Struct, Value};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::KEY;

/// 2024-01-31T12:00:00 UTC: 13:00 in Paris on the 31st, so renewals clamp the day (31 January
/// + 1 month = 29 February). Scenarios stay within February, in winter time (UTC+1).
const T0: i64 = 1_706_702_400;
/// Paris is UTC+1 until 2024-03-31T01:00:00 UTC.
const SUMMER_TIME: i64 = 1_711_846_800;
/// An instance id no scenario reaches.
const UNKNOWN_PAAS: i64 = 9_999_999;
/// An operation id no scenario reaches.
const UNKNOWN_OP: i64 = 99_999_999;
/// The zone the account manages (its vhosts need no TXT proof).
const MANAGED: &str = "managed.test";
/// A zone without a TXT proof (its vhosts fault 580142).
const OTHER: &str = "other.test";

const BILLABLE: [&str; 3] = ["paas_vm_create", "paas_vm_update", "paas_vm_renew"];
const VALID_SIZES: [&str; 5] = ["s", "m", "l", "xl", "xxl"];

// ---------------------------------------------------------------------------------------------
// Scenarios.

/// A thread's reference to one of its own instances (index modulo how many it created), or to an
/// id that does not exist.
#[derive(Clone, Copy)]
enum Target {
    Mine(usize),
    Unknown,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Mine(i) => write!(f, "#{i}"),
            Target::Unknown => write!(f, "unknown"),
        }
    }
}

/// A vhost name in the thread's namespace: `v{n}.t{thread}.managed.test` or `….other.test`.
#[derive(Clone, Copy)]
struct Name {
    n: u8,
    managed: bool,
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.n, if self.managed { "managed" } else { "other" })
    }
}

#[derive(Clone, Copy, Debug)]
enum Change {
    Size(&'static str),
    Quantity(i64),
    Rename,
    Nothing,
}

#[derive(Clone, Debug)]
enum Act {
    Create {
        size: &'static str,
        months: u32,
        vhosts: Vec<Name>,
    },
    Update {
        on: Target,
        change: Change,
    },
    /// `months: 0` sends the invalid duration "0m".
    Renew {
        on: Target,
        months: u32,
    },
    Delete {
        on: Target,
    },
    VhostCreate {
        on: Target,
        name: Name,
    },
    VhostDelete {
        name: Name,
    },
    /// One of the thread's own operations (index modulo how many), or an unknown id.
    Cancel {
        op: Target,
    },
}

#[derive(Clone, Debug)]
struct Phase {
    threads: Vec<Vec<Act>>,
    advance: i64,
}

#[derive(Clone)]
struct Scenario {
    op_seconds: u64,
    per_page: i64,
    phases: Vec<Phase>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "op_seconds {}, list pages of {}", self.op_seconds, self.per_page)?;
        for (p, phase) in self.phases.iter().enumerate() {
            writeln!(f, "phase {p}:")?;
            for (t, acts) in phase.threads.iter().enumerate() {
                writeln!(f, "  thread {t}: {acts:?}")?;
            }
            writeln!(f, "  then advance {} s", phase.advance)?;
        }
        Ok(())
    }
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![6 => (0usize..4).prop_map(Target::Mine), 1 => Just(Target::Unknown)]
}

fn name() -> impl Strategy<Value = Name> {
    (0u8..3, prop::bool::weighted(0.85)).prop_map(|(n, managed)| Name { n, managed })
}

fn months() -> impl Strategy<Value = u32> {
    prop_oneof![Just(1u32), Just(2), Just(12)]
}

fn act() -> impl Strategy<Value = Act> {
    let size = prop_oneof![8 => prop::sample::select(&VALID_SIZES[..]), 1 => Just("huge")];
    let change = prop_oneof![
        3 => prop::sample::select(&VALID_SIZES[..]).prop_map(Change::Size),
        1 => Just(Change::Size("huge")),
        3 => (0i64..4).prop_map(Change::Quantity),
        1 => Just(Change::Quantity(-1)),
        2 => Just(Change::Rename),
        1 => Just(Change::Nothing),
    ];
    prop_oneof![
        4 => (size, months(), prop::collection::vec(name(), 0..3))
            .prop_map(|(size, months, vhosts)| Act::Create { size, months, vhosts }),
        3 => (target(), change).prop_map(|(on, change)| Act::Update { on, change }),
        4 => (target(), prop_oneof![9 => months(), 1 => Just(0u32)])
            .prop_map(|(on, months)| Act::Renew { on, months }),
        2 => target().prop_map(|on| Act::Delete { on }),
        3 => (target(), name()).prop_map(|(on, name)| Act::VhostCreate { on, name }),
        2 => name().prop_map(|name| Act::VhostDelete { name }),
        3 => (0usize..12).prop_map(|i| Act::Cancel { op: Target::Mine(i) }),
        1 => Just(Act::Cancel { op: Target::Unknown }),
    ]
}

/// Clock steps: within an op's 40 s (to see BILL, WAIT and RUN), or a whole day.
fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 1i64..=45, 1 => Just(86_400)]
}

fn scenario(
    threads: usize,
    acts: usize,
    phases: usize,
    op_seconds: Vec<u64>,
) -> impl Strategy<Value = Scenario> {
    let phase = (prop::collection::vec(prop::collection::vec(act(), 0..=acts), threads), advance())
        .prop_map(|(threads, advance)| Phase { threads, advance });
    (
        prop::sample::select(op_seconds),
        prop::sample::select(vec![3i64, 7, 500]),
        prop::collection::vec(phase, 1..=phases),
    )
        .prop_map(|(op_seconds, per_page, phases)| Scenario { op_seconds, per_page, phases })
}

// ---------------------------------------------------------------------------------------------
// Calling the sandbox: directly as a Handler, or over HTTP.

trait Caller: Sync {
    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, Fault>;
}

impl Caller for Sandbox {
    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, Fault> {
        let mut params = vec![Value::from(KEY)];
        params.extend(args);
        let mut ctx = CallContext::new("127.0.0.1:9".parse().unwrap());
        Handler::call(self, &mut ctx, method, params)
    }
}

impl Caller for Client {
    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, Fault> {
        let mut params = vec![Value::from(KEY)];
        params.extend(args);
        match Client::call(self, method, &params) {
            Ok(v) => Ok(v),
            Err(ClientError::Fault(f)) => Err(f),
            Err(e) => panic!("{method}: transport error over loopback: {e}"),
        }
    }
}

fn config(op_seconds: u64) -> SandboxConfig {
    SandboxConfig {
        listen: "127.0.0.1:0".into(),
        dataset: Dataset::Empty,
        op_seconds,
        clock: ClockMode::Fixed(T0),
        ..SandboxConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The model.

/// Naive Paris seconds at UTC `utc` (winter time: the scenarios never reach summer time).
fn paris(utc: i64) -> i64 {
    assert!(utc < SUMMER_TIME, "the scenario ran into summer time");
    utc + 3600
}

// Calendar arithmetic comes from the library (unit-tested in src/calendar.rs): the model predicts
// the sandbox's records, not the calendar.
use gandish::xmlrpc::datetime::{from_naive_seconds, naive_seconds};

/// `stamp` plus `months` calendar months, the day clamped to the target month's last day.
fn add_months(stamp: i64, months: u32) -> i64 {
    let d = from_naive_seconds(stamp).expect("a stamp of the scenario's years");
    naive_seconds(gandish::calendar::add_months(d, i64::from(months)).expect("a year before 9999"))
}

fn show(stamp: i64) -> String {
    from_naive_seconds(stamp).map_or_else(|| format!("{stamp} s"), |d| d.to_string())
}

#[derive(Clone, Debug)]
enum Eff {
    None,
    VmCreate,
    Rproxy(Vec<String>),
    VmUpdate { size: Option<String>, name: Option<String> },
    Disk(i64),
    Renew(u32),
    Delete,
    Attach(String),
    Detach(String),
}

#[derive(Clone, Debug)]
struct MInst {
    id: i64,
    /// In the world (created, not deleted, create not cancelled).
    alive: bool,
    running: bool,
    name: String,
    size: String,
    quantity: i64,
    start: i64,
    end: i64,
}

#[derive(Clone, Debug)]
struct MOp {
    id: i64,
    kind: &'static str,
    inst: usize,
    /// The call that started it (cancelled together).
    group: usize,
    created: i64,
    ended: Option<&'static str>,
    eff: Eff,
}

/// One thread's part of the world.
struct Model {
    thread: usize,
    d: i64,
    instances: Vec<MInst>,
    ops: Vec<MOp>,
    /// Attached vhost name → instance index.
    vhosts: BTreeMap<String, usize>,
    /// Indexes of the ops billed, in the order they were applied.
    ledger: Vec<usize>,
    calls: usize,
}

impl Model {
    fn new(thread: usize, op_seconds: u64) -> Model {
        Model {
            thread,
            d: op_seconds as i64,
            instances: Vec::new(),
            ops: Vec::new(),
            vhosts: BTreeMap::new(),
            ledger: Vec::new(),
            calls: 0,
        }
    }

    fn vhost(&self, n: Name) -> String {
        format!("v{}.t{}.{}", n.n, self.thread, if n.managed { MANAGED } else { OTHER })
    }

    /// The instance a target names: its index (if the thread has one) and its id.
    fn target(&self, t: Target) -> (Option<usize>, i64) {
        match t {
            Target::Mine(i) if !self.instances.is_empty() => {
                let i = i % self.instances.len();
                (Some(i), self.instances[i].id)
            }
            _ => (None, UNKNOWN_PAAS),
        }
    }

    fn alive(&self, inst: Option<usize>) -> Option<usize> {
        inst.filter(|&i| self.instances[i].alive)
    }

    fn step(&self, op: &MOp, now: i64) -> &'static str {
        if let Some(e) = op.ended {
            return e;
        }
        let (elapsed, d) = (now - op.created, self.d);
        if d <= 0 || elapsed >= d {
            "DONE"
        } else if elapsed * 4 < d {
            "BILL"
        } else if elapsed * 2 < d {
            "WAIT"
        } else {
            "RUN"
        }
    }

    fn pending(&self, name: &str) -> bool {
        self.ops.iter().any(|o| {
            o.ended.is_none()
                && match &o.eff {
                    Eff::Rproxy(v) => v.iter().any(|x| x == name),
                    Eff::Attach(x) => x == name,
                    _ => false,
                }
        })
    }

    fn drop_instance(&mut self, inst: usize) {
        self.instances[inst].alive = false;
        self.vhosts.retain(|_, i| *i != inst);
    }

    /// Applies, in (done time, creation) order, every pending op whose time has come.
    fn apply_due(&mut self, now: i64) {
        let mut due: Vec<(i64, usize)> = (0..self.ops.len())
            .filter(|&i| self.ops[i].ended.is_none() && self.ops[i].created + self.d <= now)
            .map(|i| (self.ops[i].created + self.d, i))
            .collect();
        due.sort();
        for (_, i) in due {
            if self.ops[i].ended.is_none() {
                self.apply(i);
            }
        }
    }

    fn apply(&mut self, i: usize) {
        let inst = self.ops[i].inst;
        if !self.instances[inst].alive {
            self.ops[i].ended = Some("ERROR");
            return;
        }
        let mut failed = false;
        match self.ops[i].eff.clone() {
            Eff::None => {}
            Eff::VmCreate => self.instances[inst].running = true,
            Eff::Rproxy(names) => {
                for n in names {
                    if !n.ends_with(MANAGED) || self.vhosts.contains_key(&n) {
                        failed = true;
                    } else {
                        self.vhosts.insert(n, inst);
                    }
                }
            }
            Eff::VmUpdate { size, name } => {
                let m = &mut self.instances[inst];
                if let Some(s) = size {
                    m.size = s;
                }
                if let Some(n) = name {
                    m.name = n;
                }
            }
            Eff::Disk(q) => self.instances[inst].quantity = q,
            Eff::Renew(months) => {
                let m = &mut self.instances[inst];
                m.end = add_months(m.end, months);
            }
            Eff::Delete => {
                self.drop_instance(inst);
                let me = self.ops[i].id;
                for o in self.ops.iter_mut() {
                    if o.inst == inst && o.ended.is_none() && o.id != me {
                        o.ended = Some("CANCEL");
                    }
                }
            }
            Eff::Attach(n) => match self.vhosts.entry(n) {
                Entry::Occupied(_) => failed = true,
                Entry::Vacant(e) => {
                    e.insert(inst);
                }
            },
            Eff::Detach(n) => {
                self.vhosts.remove(&n);
            }
        }
        if !failed && BILLABLE.contains(&self.ops[i].kind) {
            self.ledger.push(i);
        }
        self.ops[i].ended = Some(if failed { "ERROR" } else { "DONE" });
    }

    /// Records the ops one call started (ids from the reply) and applies them if they are due.
    fn start(
        &mut self,
        inst: usize,
        now: i64,
        specs: Vec<(&'static str, Eff)>,
        views: &[Value],
    ) -> Result<(), String> {
        let group = self.calls;
        for ((kind, eff), view) in specs.into_iter().zip(views) {
            let id = int(view, "id")?;
            if self.ops.iter().any(|o| o.id == id) {
                return Err(format!("op id {id} given twice"));
            }
            let pid = view.get("params").and_then(|p| p.get("paas_id")).and_then(Value::as_i64);
            if pid != Some(self.instances[inst].id) {
                return Err(format!("op {id} is on instance {pid:?}, expected {}", self.instances[inst].id));
            }
            self.ops.push(MOp { id, kind, inst, group, created: now, ended: None, eff });
        }
        self.apply_due(now);
        Ok(())
    }

    /// Runs one act: predicts the reply, makes the call, compares, and moves the model on.
    fn act(&mut self, c: &dyn Caller, act: &Act, now: i64) -> Result<(), String> {
        self.calls += 1;
        let t = self.thread;
        let fail = |why: String| format!("thread {t}, {act:?}: {why}");
        match act {
            Act::Create { size, months, vhosts } => {
                let names: Vec<String> = vhosts.iter().map(|n| self.vhost(*n)).collect();
                let dup = names.iter().collect::<BTreeSet<_>>().len() < names.len();
                let name = format!("t{t}-{}", self.instances.len());
                let spec = Value::Struct(
                    Struct::new()
                        .with("name", name.as_str())
                        .with("size", *size)
                        .with("type", "phpmysql")
                        .with("datacenter_id", 1)
                        .with("vhosts", names.iter().map(|n| Value::from(n.as_str())).collect::<Vec<_>>())
                        .with("quantity", 0)
                        .with("duration", format!("{months}m"))
                        .with("password", "a password 123"),
                );
                let want = if !VALID_SIZES.contains(size) {
                    Want::Fault(537_530)
                } else if dup {
                    Want::Fault(537_641)
                } else {
                    Want::Ops(&["paas_vm_create", "paas_disk_create", "rproxy_create"])
                };
                let views = expect(c.call("paas.create", vec![spec]), want).map_err(fail)?;
                if views.is_empty() {
                    return Ok(());
                }
                let pid = views[0].get("params").and_then(|p| p.get("paas_id")).and_then(Value::as_i64);
                let pid = pid.ok_or_else(|| fail("no params.paas_id".into()))?;
                if self.instances.iter().any(|i| i.id == pid) {
                    return Err(fail(format!("instance id {pid} reused")));
                }
                let start = paris(now);
                self.instances.push(MInst {
                    id: pid,
                    alive: true,
                    running: false,
                    name,
                    size: size.to_string(),
                    quantity: 0,
                    start,
                    end: add_months(start, *months),
                });
                let inst = self.instances.len() - 1;
                let specs = vec![
                    ("paas_vm_create", Eff::VmCreate),
                    ("paas_disk_create", Eff::None),
                    ("rproxy_create", Eff::Rproxy(names)),
                ];
                self.start(inst, now, specs, &views).map_err(fail)?;
                self.check_views(&views, now).map_err(fail)
            }
            Act::Update { on, change } => {
                let (inst, id) = self.target(*on);
                let mut p = Struct::new();
                let new_name = format!("t{t}-renamed-{}", self.calls);
                match change {
                    Change::Size(s) => p.insert("size", *s),
                    Change::Quantity(q) => p.insert("quantity", *q),
                    Change::Rename => p.insert("name", new_name.as_str()),
                    Change::Nothing => None,
                };
                let want = match (self.alive(inst), change) {
                    (None, _) => Want::Fault(537_542),
                    (_, Change::Size(s)) if !VALID_SIZES.contains(s) => Want::Fault(537_530),
                    (_, Change::Quantity(q)) if *q < 0 => Want::Fault(571_530),
                    (_, Change::Nothing) => Want::Fault(537_544),
                    (_, Change::Quantity(_)) => Want::Ops(&["paas_vm_update", "paas_disk_update"]),
                    _ => Want::Ops(&["paas_vm_update"]),
                };
                let views =
                    expect(c.call("paas.update", vec![id.into(), Value::Struct(p)]), want).map_err(fail)?;
                if views.is_empty() {
                    return Ok(());
                }
                let vm = match change {
                    Change::Size(s) => Eff::VmUpdate { size: Some(s.to_string()), name: None },
                    Change::Rename => Eff::VmUpdate { size: None, name: Some(new_name) },
                    _ => Eff::VmUpdate { size: None, name: None },
                };
                let mut specs = vec![("paas_vm_update", vm)];
                if let Change::Quantity(q) = change {
                    specs.push(("paas_disk_update", Eff::Disk(*q)));
                }
                self.start(inst.unwrap(), now, specs, &views).map_err(fail)?;
                self.check_views(&views, now).map_err(fail)
            }
            Act::Renew { on, months } => {
                let (inst, id) = self.target(*on);
                let want = match (self.alive(inst), months) {
                    (None, _) => Want::Fault(537_542),
                    (_, 0) => Want::Fault(570_530),
                    _ => Want::Ops(&["paas_vm_renew", "paas_disk_renew"]),
                };
                let p = Value::Struct(Struct::new().with("duration", format!("{months}m")));
                let views = expect(c.call("paas.renew", vec![id.into(), p]), want).map_err(fail)?;
                if views.is_empty() {
                    return Ok(());
                }
                let specs = vec![("paas_vm_renew", Eff::Renew(*months)), ("paas_disk_renew", Eff::None)];
                self.start(inst.unwrap(), now, specs, &views).map_err(fail)?;
                self.check_views(&views, now).map_err(fail)
            }
            Act::Delete { on } => {
                let (inst, id) = self.target(*on);
                let want = match self.alive(inst) {
                    None => Want::Fault(537_542),
                    Some(_) => Want::Op("paas_delete"),
                };
                let views = expect(c.call("paas.delete", vec![id.into()]), want).map_err(fail)?;
                if views.is_empty() {
                    return Ok(());
                }
                self.start(inst.unwrap(), now, vec![("paas_delete", Eff::Delete)], &views).map_err(fail)?;
                self.check_views(&views, now).map_err(fail)
            }
            Act::VhostCreate { on, name } => {
                let (inst, id) = self.target(*on);
                let fqdn = self.vhost(*name);
                let want = if self.alive(inst).is_none() {
                    Want::Fault(537_542)
                } else if !name.managed {
                    Want::Fault(580_142)
                } else if self.vhosts.contains_key(&fqdn) || self.pending(&fqdn) {
                    Want::Fault(537_641)
                } else {
                    Want::Op("rproxy_update")
                };
                let p = Value::Struct(Struct::new().with("paas_id", id).with("vhost", fqdn.as_str()));
                let views = expect(c.call("paas.vhost.create", vec![p]), want).map_err(fail)?;
                if views.is_empty() {
                    return Ok(());
                }
                self.start(inst.unwrap(), now, vec![("rproxy_update", Eff::Attach(fqdn))], &views)
                    .map_err(fail)?;
                self.check_views(&views, now).map_err(fail)
            }
            Act::VhostDelete { name } => {
                let fqdn = self.vhost(*name);
                let owner = self.vhosts.get(&fqdn).copied();
                let want = if owner.is_some() { Want::Op("rproxy_update") } else { Want::Fault(537_642) };
                let views =
                    expect(c.call("paas.vhost.delete", vec![fqdn.as_str().into()]), want).map_err(fail)?;
                if views.is_empty() {
                    return Ok(());
                }
                self.start(owner.unwrap(), now, vec![("rproxy_update", Eff::Detach(fqdn))], &views)
                    .map_err(fail)?;
                self.check_views(&views, now).map_err(fail)
            }
            Act::Cancel { op } => {
                let idx = match op {
                    Target::Mine(i) if !self.ops.is_empty() => Some(i % self.ops.len()),
                    _ => None,
                };
                let id = idx.map_or(UNKNOWN_OP, |i| self.ops[i].id);
                let want = match idx {
                    None => Want::Fault(510_242),
                    Some(i) if matches!(self.step(&self.ops[i], now), "BILL" | "WAIT") => Want::True,
                    Some(_) => Want::Fault(525_090),
                };
                let cancelled = matches!(want, Want::True);
                expect(c.call("operation.cancel", vec![id.into()]), want).map_err(fail)?;
                if let (true, Some(i)) = (cancelled, idx) {
                    let group = self.ops[i].group;
                    let mut creates = None;
                    for o in self.ops.iter_mut().filter(|o| o.group == group && o.ended.is_none()) {
                        o.ended = Some("CANCEL");
                        if matches!(o.eff, Eff::VmCreate) {
                            creates = Some(o.inst);
                        }
                    }
                    if let Some(inst) = creates {
                        self.drop_instance(inst);
                    }
                }
                Ok(())
            }
        }
    }

    /// The op views of a reply show the steps the model expects.
    fn check_views(&self, views: &[Value], now: i64) -> Result<(), String> {
        for v in views {
            let id = int(v, "id")?;
            let op =
                self.ops.iter().find(|o| o.id == id).ok_or_else(|| format!("op {id} not in the model"))?;
            let step = v.get("step").and_then(Value::as_str).unwrap_or("?");
            if step != self.step(op, now) {
                return Err(format!(
                    "op {id} ({}) is in step {step}, the model says {}",
                    op.kind,
                    self.step(op, now)
                ));
            }
        }
        Ok(())
    }
}

enum Want {
    Fault(i64),
    /// An array of ops of these types.
    Ops(&'static [&'static str]),
    /// One op of this type.
    Op(&'static str),
    True,
}

/// Checks a reply against what the model wants; returns its op views (none for a fault or true).
fn expect(reply: Result<Value, Fault>, want: Want) -> Result<Vec<Value>, String> {
    let types = |views: &[Value]| -> Vec<String> {
        views.iter().map(|v| v.get("type").and_then(Value::as_str).unwrap_or("?").to_string()).collect()
    };
    match (want, reply) {
        (Want::Fault(code), Err(f)) if f.code == code => Ok(Vec::new()),
        (Want::Fault(code), Err(f)) => {
            Err(format!("expected fault {code}, got fault {} {:?}", f.code, f.message))
        }
        (Want::Fault(code), Ok(v)) => Err(format!("expected fault {code}, got {v:?}")),
        (_, Err(f)) => Err(format!("unexpected fault {} {:?}", f.code, f.message)),
        (Want::True, Ok(Value::Bool(true))) => Ok(Vec::new()),
        (Want::True, Ok(v)) => Err(format!("expected true, got {v:?}")),
        (Want::Ops(kinds), Ok(v)) => {
            let views = v.into_array().map_err(|v| format!("expected an array of ops, got {v:?}"))?;
            if types(&views) != kinds {
                return Err(format!("expected ops {kinds:?}, got {:?}", types(&views)));
            }
            Ok(views)
        }
        (Want::Op(kind), Ok(v)) => {
            let views = vec![v];
            if types(&views) != [kind] {
                return Err(format!("expected one {kind} op, got {:?}", views[0]));
            }
            Ok(views)
        }
    }
}

fn int(v: &Value, k: &str) -> Result<i64, String> {
    v.get(k).and_then(Value::as_i64).ok_or_else(|| format!("no integer {k} in {v:?}"))
}

fn text<'a>(v: &'a Value, k: &str) -> Result<&'a str, String> {
    v.get(k).and_then(Value::as_str).ok_or_else(|| format!("no string {k} in {v:?}"))
}

fn stamp(v: &Value, k: &str) -> Result<i64, String> {
    v.get(k)
        .and_then(Value::as_datetime)
        .map(|d| d.naive_timestamp())
        .ok_or_else(|| format!("no dateTime {k} in {v:?}"))
}

// ---------------------------------------------------------------------------------------------
// Checking the world at a barrier.

/// Every item of a list, page by page, and the count; fails if they disagree or ids repeat.
fn whole_list(c: &dyn Caller, what: &str, per_page: i64) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    for page in 0.. {
        let opts = Value::Struct(Struct::new().with("items_per_page", per_page).with("page", page));
        let got =
            c.call(&format!("{what}.list"), vec![opts]).map_err(|f| format!("{what}.list faulted: {f:?}"))?;
        let got = got.into_array().map_err(|v| format!("{what}.list gave {v:?}"))?;
        let n = got.len() as i64;
        items.extend(got);
        if n < per_page {
            break;
        }
    }
    let count =
        c.call(&format!("{what}.count"), vec![]).map_err(|f| format!("{what}.count faulted: {f:?}"))?;
    if count != Value::Int(items.len() as i64) {
        return Err(format!(
            "{what}.count is {count:?} but the pages of {what}.list hold {} items",
            items.len()
        ));
    }
    let mut ids = BTreeSet::new();
    for item in &items {
        let id = int(item, "id")?;
        if !ids.insert(id) {
            return Err(format!("{what}.list shows id {id} twice"));
        }
    }
    Ok(items)
}

fn check_world(c: &dyn Caller, models: &[Model], now: i64, per_page: i64) -> Result<(), String> {
    // Instances.
    let mut want: BTreeMap<i64, &MInst> = BTreeMap::new();
    for m in models {
        for i in m.instances.iter().filter(|i| i.alive) {
            want.insert(i.id, i);
        }
    }
    let list = whole_list(c, "paas", per_page)?;
    let got: BTreeSet<i64> = list.iter().map(|v| int(v, "id")).collect::<Result<_, _>>()?;
    if got != want.keys().copied().collect() {
        return Err(format!("instances {got:?}, the model has {:?}", want.keys().collect::<Vec<_>>()));
    }
    for item in &list {
        let m = want[&int(item, "id")?];
        let state = if m.running { "running" } else { "being_created" };
        let seen = (
            text(item, "state")?,
            text(item, "size")?,
            text(item, "name")?,
            int(item, "data_disk_additional_size")?,
            show(stamp(item, "date_start")?),
            show(stamp(item, "date_end")?),
        );
        let model = (state, m.size.as_str(), m.name.as_str(), m.quantity, show(m.start), show(m.end));
        if seen != model {
            return Err(format!(
                "instance {}: (state, size, name, disk, start, end) {seen:?}, the model says {model:?}",
                m.id
            ));
        }
    }

    // Vhosts.
    let mut want_vhosts = BTreeMap::new();
    for m in models {
        for (name, inst) in &m.vhosts {
            want_vhosts.insert(name.clone(), m.instances[*inst].id);
        }
    }
    let mut got_vhosts = BTreeMap::new();
    for v in whole_list(c, "paas.vhost", per_page)? {
        got_vhosts.insert(text(&v, "name")?.to_string(), int(&v, "paas_id")?);
    }
    if got_vhosts != want_vhosts {
        return Err(format!("vhosts {got_vhosts:?}, the model has {want_vhosts:?}"));
    }
    // paas.info lists the same vhosts for each instance (it reads them from an index).
    for id in want.keys() {
        let info = c.call("paas.info", vec![(*id).into()]).map_err(|f| format!("paas.info({id}): {f:?}"))?;
        let mut seen: Vec<String> = Vec::new();
        for v in
            info.get("vhosts").and_then(Value::as_array).ok_or(format!("paas.info({id}) has no vhosts"))?
        {
            seen.push(text(v, "name")?.to_string());
        }
        seen.sort();
        let model: Vec<String> =
            want_vhosts.iter().filter(|(_, pid)| **pid == *id).map(|(n, _)| n.clone()).collect();
        if seen != model {
            return Err(format!("paas.info({id}) vhosts {seen:?}, the model has {model:?}"));
        }
    }

    // Operations.
    let mut want_ops = BTreeMap::new();
    for m in models {
        for o in &m.ops {
            want_ops.insert(o.id, (o.kind, m.instances[o.inst].id, m.step(o, now).to_string()));
        }
    }
    let mut got_ops = BTreeMap::new();
    for v in whole_list(c, "operation", per_page)? {
        let pid = v.get("params").and_then(|p| p.get("paas_id")).and_then(Value::as_i64).unwrap_or(-1);
        let kind = BILLABLE
            .iter()
            .chain(&[
                "paas_disk_create",
                "paas_disk_update",
                "paas_disk_renew",
                "rproxy_create",
                "rproxy_update",
                "paas_delete",
            ])
            .find(|k| **k == text(&v, "type").unwrap_or(""))
            .copied()
            .unwrap_or("?");
        got_ops.insert(int(&v, "id")?, (kind, pid, text(&v, "step")?.to_string()));
    }
    if got_ops != want_ops {
        let diff: Vec<String> = want_ops
            .iter()
            .filter(|(id, w)| got_ops.get(id) != Some(w))
            .map(|(id, w)| format!("op {id}: model {w:?}, sandbox {:?}", got_ops.get(id)))
            .chain(
                got_ops
                    .keys()
                    .filter(|id| !want_ops.contains_key(id))
                    .map(|id| format!("op {id} not in the model")),
            )
            .collect();
        return Err(format!("operations differ: {diff:?}"));
    }

    // The ledger: each billable op that reached DONE, once.
    let ledger = c.call("sandbox.ledger", vec![]).map_err(|f| format!("sandbox.ledger faulted: {f:?}"))?;
    let ledger = ledger.into_array().map_err(|v| format!("sandbox.ledger gave {v:?}"))?;
    let mut got_ledger = BTreeMap::new();
    for e in &ledger {
        let id = int(e, "op_id")?;
        if got_ledger.insert(id, (text(e, "type")?.to_string(), int(e, "paas_id")?)).is_some() {
            return Err(format!("op {id} billed twice: {ledger:?}"));
        }
    }
    let mut want_ledger = BTreeMap::new();
    for m in models {
        for &i in &m.ledger {
            let o = &m.ops[i];
            want_ledger.insert(o.id, (o.kind.to_string(), m.instances[o.inst].id));
        }
    }
    if got_ledger != want_ledger {
        return Err(format!("ledger {got_ledger:?}, the model billed {want_ledger:?}"));
    }
    Ok(())
}

fn advance_clock(c: &dyn Caller, models: &mut [Model], now: &mut i64, secs: i64) -> Result<(), String> {
    let shown =
        c.call("sandbox.clock.advance", vec![secs.into()]).map_err(|f| format!("advance faulted: {f:?}"))?;
    *now += secs;
    let shown = shown.as_datetime().map(|d| d.naive_timestamp());
    if shown != Some(paris(*now)) {
        return Err(format!("the clock shows {:?}, expected {}", shown.map(show), show(paris(*now))));
    }
    for m in models.iter_mut() {
        m.apply_due(*now);
    }
    Ok(())
}

/// Runs a scenario: each phase's threads at once, then a full check and the clock advance; at the
/// end, the clock moves past `op_seconds` and nothing may be left pending.
fn run(c: &dyn Caller, s: &Scenario) -> Result<(), TestCaseError> {
    let threads = s.phases[0].threads.len();
    let mut models: Vec<Model> = (0..threads).map(|t| Model::new(t, s.op_seconds)).collect();
    let mut now = T0;
    c.call("sandbox.zone.add", vec![MANAGED.into()]).map_err(|f| TestCaseError::fail(format!("{f:?}")))?;
    for (p, phase) in s.phases.iter().enumerate() {
        let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = models
                .iter_mut()
                .zip(&phase.threads)
                .map(|(m, acts)| {
                    scope.spawn(move || -> Result<(), String> {
                        for a in acts {
                            m.act(c, a, now)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("the thread panicked".into())))
                .collect()
        });
        for r in results {
            r.map_err(|e| TestCaseError::fail(format!("phase {p}: {e}")))?;
        }
        check_world(c, &models, now, s.per_page)
            .map_err(|e| TestCaseError::fail(format!("after phase {p}: {e}")))?;
        advance_clock(c, &mut models, &mut now, phase.advance).map_err(TestCaseError::fail)?;
        check_world(c, &models, now, s.per_page)
            .map_err(|e| TestCaseError::fail(format!("after phase {p}'s advance: {e}")))?;
    }
    advance_clock(c, &mut models, &mut now, s.op_seconds as i64 + 1).map_err(TestCaseError::fail)?;
    for m in &models {
        if let Some(o) = m.ops.iter().find(|o| o.ended.is_none()) {
            return Err(TestCaseError::fail(format!("the model left op {} pending (a test bug)", o.id)));
        }
    }
    let stuck: Vec<Value> = whole_list(c, "operation", 500)
        .map_err(TestCaseError::fail)?
        .into_iter()
        .filter(|o| !matches!(o.get("step").and_then(Value::as_str), Some("DONE" | "ERROR" | "CANCEL")))
        .collect();
    prop_assert!(stuck.is_empty(), "ops still pending {} s after the last call: {stuck:?}", s.op_seconds + 1);
    check_world(c, &models, now, s.per_page).map_err(|e| TestCaseError::fail(format!("at the end: {e}")))?;
    Ok(())
}

/// `cases` runs (or `PROPTEST_CASES` if set, for a longer search), shrinking up to `shrink` steps.
fn settings(cases: u32, shrink: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, max_shrink_iters: shrink, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(settings(48, 4096))]

    /// One thread, longer sequences: every reply and the world exactly as the model says.
    #[test]
    fn one_thread_matches_the_model(s in scenario(1, 14, 5, vec![0, 40])) {
        run(&Sandbox::new(config(s.op_seconds)).unwrap(), &s)?;
    }
}

proptest! {
    #![proptest_config(settings(32, 4096))]

    /// Four threads at once on the Handler: shared ids, lists and the ledger stay consistent.
    #[test]
    fn four_threads_match_the_model(s in scenario(4, 6, 4, vec![0, 40])) {
        run(&Sandbox::new(config(s.op_seconds)).unwrap(), &s)?;
    }
}

proptest! {
    #![proptest_config(settings(8, 1024))]

    /// Four threads over HTTP (one connection each, through the server), ops that take 40 s.
    #[test]
    fn four_threads_over_http_match_the_model(s in scenario(4, 6, 4, vec![40])) {
        let sb = start(config(s.op_seconds)).unwrap();
        let client = Client::new(&sb.url(), ClientConfig::default()).unwrap();
        let result = run(&client, &s);
        sb.shutdown();
        result?;
    }
}

/// Runs `work(thread)` on `n` threads at once and collects what each returns.
fn on_threads<T: Send>(n: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = (0..n).map(|t| scope.spawn(move || work(t))).collect();
        handles.into_iter().map(|h| h.join().expect("a thread panicked")).collect()
    })
}

/// Threads racing on shared things: renews of one instance, and one vhost name claimed by each
/// thread's own instance. No renew is lost or applied twice, the ledger lists them in the order
/// they were applied (their id order), `date_end` is the start moved by each renew's months in
/// that order, and exactly one claim of the name wins.
fn contend(sb: &Sandbox, renews: &[Vec<u32>], op_seconds: u64) -> Result<(), TestCaseError> {
    let fail = |e: String| TestCaseError::fail(e);
    let c: &dyn Caller = sb;
    c.call("sandbox.zone.add", vec![MANAGED.into()]).map_err(|f| fail(format!("{f:?}")))?;
    let spec = |name: &str| {
        Value::Struct(
            Struct::new()
                .with("name", name)
                .with("size", "s")
                .with("type", "phpmysql")
                .with("datacenter_id", 1)
                .with("duration", "1m")
                .with("password", "a password 123"),
        )
    };
    let created = |v: Value| -> i64 {
        let ops = v.into_array().expect("paas.create answers ops");
        ops[0].get("params").and_then(|p| p.get("paas_id")).and_then(Value::as_i64).expect("paas_id")
    };
    let shared = created(c.call("paas.create", vec![spec("shared")]).map_err(|f| fail(format!("{f:?}")))?);
    let own: Vec<i64> = (0..renews.len())
        .map(|t| c.call("paas.create", vec![spec(&format!("own-{t}"))]).map(created))
        .collect::<Result<_, _>>()
        .map_err(|f| fail(format!("{f:?}")))?;
    // Let the creates finish, so the claims below are the only pending vhost ops.
    c.call("sandbox.clock.advance", vec![(op_seconds as i64 + 1).into()])
        .map_err(|f| fail(format!("{f:?}")))?;
    let before = c.call("paas.info", vec![shared.into()]).map_err(|f| fail(format!("{f:?}")))?;
    let start = stamp(&before, "date_end").map_err(fail)?;

    let results = on_threads(renews.len(), |t| {
        let mut ids = Vec::new();
        for m in &renews[t] {
            let p = Value::Struct(Struct::new().with("duration", format!("{m}m")));
            match c.call("paas.renew", vec![shared.into(), p]) {
                Ok(ops) => ids
                    .extend(ops.as_array().unwrap_or_default().iter().filter_map(|o| o.get("id")?.as_i64())),
                Err(f) => return Err(format!("thread {t}: renew faulted {f:?}")),
            }
        }
        let claim = Value::Struct(Struct::new().with("paas_id", own[t]).with("vhost", "race.managed.test"));
        Ok((ids, c.call("paas.vhost.create", vec![claim])))
    });
    let mut op_ids = BTreeSet::new();
    let mut winners = Vec::new();
    for (t, r) in results.into_iter().enumerate() {
        let (ids, claim) = r.map_err(fail)?;
        for id in ids {
            prop_assert!(op_ids.insert(id), "op id {id} given to two calls");
        }
        match claim {
            Ok(_) => winners.push(own[t]),
            Err(f) => prop_assert_eq!(f.code, 537_641, "a losing claim faults 'exists': {:?}", f),
        }
    }
    prop_assert_eq!(winners.len(), 1, "exactly one claim of the name wins: {:?}", winners);
    c.call("sandbox.clock.advance", vec![(op_seconds as i64 + 1).into()])
        .map_err(|f| fail(format!("{f:?}")))?;

    let ledger = c.call("sandbox.ledger", vec![]).map_err(|f| fail(format!("{f:?}")))?.into_array().unwrap();
    let renewed: Vec<(i64, u32)> = ledger
        .iter()
        .filter(|e| e.get("type").and_then(Value::as_str) == Some("paas_vm_renew"))
        .map(|e| {
            let months = e.get("params").and_then(|p| p.get("duration")).and_then(Value::as_str);
            let months = months.and_then(|d| d.strip_suffix('m')).and_then(|d| d.parse().ok()).unwrap_or(0);
            (e.get("op_id").and_then(Value::as_i64).unwrap_or(-1), months)
        })
        .collect();
    let total: usize = renews.iter().map(Vec::len).sum();
    prop_assert_eq!(renewed.len(), total, "every renew billed once: {:?}", renewed);
    prop_assert!(renewed.windows(2).all(|w| w[0].0 < w[1].0), "applied in id order: {:?}", renewed);
    prop_assert!(renewed.iter().all(|(id, _)| op_ids.contains(id)), "billed ops are ones the calls got");
    let want = renewed.iter().fold(start, |d, (_, m)| add_months(d, *m));
    let after = c.call("paas.info", vec![shared.into()]).map_err(|f| fail(format!("{f:?}")))?;
    prop_assert_eq!(show(stamp(&after, "date_end").map_err(fail)?), show(want));
    let vhosts = whole_list(c, "paas.vhost", 500).map_err(fail)?;
    let owners: Vec<i64> = vhosts.iter().filter_map(|v| v.get("paas_id")?.as_i64()).collect();
    prop_assert_eq!(owners, winners);
    Ok(())
}

proptest! {
    #![proptest_config(settings(24, 1024))]

    /// Four threads renew the same instance and claim the same vhost name.
    #[test]
    fn racing_threads_lose_no_renewal_and_one_claim_wins(
        renews in prop::collection::vec(prop::collection::vec(prop_oneof![Just(1u32), Just(2), Just(3), Just(12)], 0..8), 4),
        op_seconds in prop::sample::select(vec![0u64, 40]),
    ) {
        contend(&Sandbox::new(config(op_seconds)).unwrap(), &renews, op_seconds)?;
    }
}

#[test]
fn the_model_adds_calendar_months_with_the_day_clamped() {
    let at = |y, m, d| naive_seconds(jiff::civil::date(y, m, d).at(13, 0, 0, 0));
    assert_eq!(show(add_months(at(2024, 1, 31), 1)), "2024-02-29T13:00:00");
    assert_eq!(show(add_months(add_months(at(2024, 1, 31), 1), 1)), "2024-03-29T13:00:00");
    assert_eq!(show(add_months(at(2024, 1, 31), 2)), "2024-03-31T13:00:00");
    assert_eq!(show(add_months(at(2024, 2, 29), 12)), "2025-02-28T13:00:00");
    assert_eq!(show(add_months(at(2024, 11, 30), 14)), "2026-01-30T13:00:00");
    assert_eq!(show(paris(T0)), "2024-01-31T13:00:00");
}
