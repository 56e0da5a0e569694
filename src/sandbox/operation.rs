//! Operations: creation, the BILL → WAIT → RUN → DONE lifecycle on the sandbox clock, effects
//! applied exactly once at DONE, cancel, and `operation.info/list/count/cancel`.
//!
//! An op of duration `d` created at `t` is in BILL during `[t, t+d/4)`, WAIT during
//! `[t+d/4, t+d/2)`, RUN during `[t+d/2, t+d)` and ends at `t+d`. The ops of one call form a group:
//! they share the timeline and are cancelled together. Every call first "advances the world to
//! now", applying in `(done time, id)` order every op whose time has come.

use crate::xmlrpc::{Fault, Struct, Value};

use super::Ctx;
use super::args::Args;
use super::clock::{add_months, paris_datetime, paris_stamp};
use super::fault::{code, fault, paas_not_found};
use super::filter::{self, FTy};
use super::ownership::ownership_error;
use super::state::{Effect, End, EndStep, LedgerEntry, Op, PVal, Params, State, Vhost, params_value};

/// What a method asks for when it starts an operation.
pub struct OpSpec {
    /// Op type.
    pub kind: &'static str,
    /// Params shown in the op (`paas_id` is added).
    pub params: Params,
    /// `infos.product_action`.
    pub action: &'static str,
    /// Effect at DONE.
    pub effect: Effect,
    /// Adds a ledger entry when applied.
    pub billable: bool,
}

/// The step of `op` at UTC `now`.
pub fn step(op: &Op, now: i64) -> &'static str {
    if let Some(end) = &op.end {
        return end.step.name();
    }
    let elapsed = now - op.created;
    let d = op.duration;
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

/// Creates the ops of one call on instance `paas_id`, applies them at once when the clock says
/// so (`op_seconds = 0`), and returns their ids.
pub fn start(ctx: &mut Ctx, paas_id: i64, label: &str, product: &str, specs: Vec<OpSpec>) -> Vec<i64> {
    let mut ids = Vec::with_capacity(specs.len());
    let group = ctx.st.next.op;
    for spec in specs {
        let id = State::take_id(&mut ctx.st.next.op);
        let mut params = spec.params;
        params.insert("paas_id".into(), PVal::Int(paas_id));
        let planned_error = ctx.st.fail_next.remove(spec.kind);
        ctx.st.ops.insert(
            id,
            Op {
                id,
                kind: spec.kind.to_string(),
                paas_id,
                group,
                created: ctx.now,
                duration: ctx.cfg.op_seconds as i64,
                params,
                action: spec.action.to_string(),
                label: label.to_string(),
                product: product.to_string(),
                effect: spec.effect,
                billable: spec.billable,
                planned_error,
                end: None,
                last_error: None,
            },
        );
        ids.push(id);
        let done_at = ctx.now.saturating_add(ctx.cfg.op_seconds as i64);
        ctx.st.next_due = ctx.st.next_due.map(|d| d.min(done_at));
    }
    ctx.changed = true;
    advance(ctx);
    ctx.stats.saw_pending(pending_count(ctx.st));
    ids
}

/// How many operations are pending (not yet ended). Call after [`advance`].
pub fn pending_count(st: &State) -> usize {
    st.ops.values().filter(|o| o.end.is_none()).count()
}

/// Applies, once each and in order, every pending op whose DONE time has come.
pub fn advance(ctx: &mut Ctx) {
    let now = ctx.now;
    if ctx.st.next_due.is_some_and(|d| now < d) {
        return;
    }
    let mut due: Vec<(i64, i64)> = Vec::new();
    let mut next_due = i64::MAX;
    for o in ctx.st.ops.values().filter(|o| o.end.is_none()) {
        if o.done_at() <= now {
            due.push((o.done_at(), o.id));
        } else {
            next_due = next_due.min(o.done_at());
        }
    }
    // Applying ops creates none, and ending one early only makes this hint too soon.
    ctx.st.next_due = Some(next_due);
    if due.is_empty() {
        return;
    }
    due.sort_unstable();
    for (at, id) in due {
        // An earlier op (a delete) may have cancelled this one meanwhile.
        if ctx.st.ops.get(&id).is_some_and(|o| o.end.is_none()) {
            apply(ctx, id, at);
        }
    }
    ctx.changed = true;
}

fn end(st: &mut State, id: i64, step: EndStep, at: i64, error: Option<String>) {
    if let Some(op) = st.ops.get_mut(&id) {
        op.end = Some(End { step, at });
        op.last_error = error;
    }
}

fn apply(ctx: &mut Ctx, id: i64, at: i64) {
    let Some(op) = ctx.st.ops.get(&id).cloned() else { return };
    if let Some(msg) = op.planned_error.clone() {
        end(ctx.st, id, EndStep::Error, at, Some(msg));
        return;
    }
    let pid = op.paas_id;
    if !ctx.st.instances.contains_key(&pid) {
        end(ctx.st, id, EndStep::Error, at, Some(format!("Paas '{pid}' doesn't exist.")));
        return;
    }
    let date = paris_stamp(at);
    let mut error = None;
    match &op.effect {
        Effect::None => {}
        Effect::VmCreate => {
            if let Some(i) = ctx.st.instances.get_mut(&pid) {
                i.state = "running".into();
            }
        }
        Effect::RproxyCreate { vhosts } => {
            let mut failed = Vec::new();
            for fqdn in vhosts {
                if let Some(e) = ownership_error(ctx.st, fqdn) {
                    failed.push(e);
                } else if ctx.st.vhost_by_name(fqdn).is_some() {
                    failed.push(format!("Vhost '{fqdn}' already exists."));
                } else {
                    attach(ctx.st, pid, fqdn, date);
                }
            }
            if !failed.is_empty() {
                error = Some(failed.join(" "));
            }
        }
        Effect::VmUpdate => {
            if let Some(i) = ctx.st.instances.get_mut(&pid) {
                for (k, v) in &op.params {
                    match (k.as_str(), v) {
                        ("size", PVal::Str(s)) => i.size = s.clone(),
                        ("name", PVal::Str(s)) => i.name = s.clone(),
                        ("console", PVal::Bool(b)) => i.console = *b,
                        ("console", PVal::Int(n)) => i.console = *n != 0,
                        ("snapshot_profile", PVal::Int(p)) => i.snapshot_profile = Some(*p),
                        ("snapshot_profile", _) => i.snapshot_profile = None,
                        ("upgrade", PVal::Bool(true) | PVal::Int(1)) => i.need_upgrade = false,
                        _ => {}
                    }
                }
            }
        }
        Effect::DiskUpdate => {
            if let (Some(i), Some(PVal::Int(q))) = (ctx.st.instances.get_mut(&pid), op.params.get("quantity"))
            {
                i.quantity = *q;
            }
        }
        Effect::Renew { months } => {
            if let Some(i) = ctx.st.instances.get_mut(&pid) {
                i.date_end = add_months(i.date_end, *months);
            }
        }
        Effect::Delete => {
            ctx.st.instances.remove(&pid);
            ctx.st.vhosts_mut().retain(|_, v| v.paas_id != pid);
            ctx.st.snapshots.retain(|_, s| s.paas_id != pid);
            let others: Vec<i64> = ctx
                .st
                .ops
                .values()
                .filter(|o| o.end.is_none() && o.paas_id == pid && o.id != id)
                .map(|o| o.id)
                .collect();
            for o in others {
                end(ctx.st, o, EndStep::Cancel, at, None);
            }
        }
        Effect::VhostAttach { fqdn } => {
            if ctx.st.vhost_by_name(fqdn).is_some() {
                error = Some(format!("Vhost '{fqdn}' already exists."));
            } else {
                attach(ctx.st, pid, fqdn, date);
            }
        }
        Effect::VhostDetach { fqdn } => {
            ctx.st.vhosts_mut().retain(|_, v| v.name != *fqdn);
        }
    }
    if error.is_none() && op.billable {
        ctx.st.ledger.push(LedgerEntry {
            op_id: id,
            kind: op.kind.clone(),
            paas_id: pid,
            params: op.params.clone(),
            date,
        });
    }
    let step = if error.is_some() { EndStep::Error } else { EndStep::Done };
    end(ctx.st, id, step, at, error);
}

fn attach(st: &mut State, paas_id: i64, fqdn: &str, date: i64) {
    let id = State::take_id(&mut st.next.vhost);
    st.vhosts_mut().insert(
        id,
        Vhost { id, name: fqdn.to_string(), paas_id, state: "running".into(), date_creation: date },
    );
}

/// The op as the API shows it at UTC `now`.
pub fn view(st: &State, op: &Op, now: i64) -> Value {
    let step = step(op, now);
    let d = op.duration.max(0);
    let (updated, started) = match &op.end {
        Some(End { step: EndStep::Cancel, at }) => (*at, None),
        Some(End { at, .. }) => (*at, Some(op.created + d / 2)),
        None => match step {
            "BILL" => (op.created, None),
            "WAIT" => (op.created + (d + 3) / 4, None),
            _ => (op.created + (d + 1) / 2, Some(op.created + (d + 1) / 2)),
        },
    };
    let quantity = match op.params.get("quantity") {
        Some(PVal::Int(q)) => *q,
        _ => 1,
    };
    let infos = Struct::with_capacity(7)
        .with("extras", Value::Array(Vec::new()))
        .with("id", "")
        .with("label", op.label.as_str())
        .with("product_action", op.action.as_str())
        .with("product_name", op.product.as_str())
        .with("product_type", "paas")
        .with("quantity", quantity);
    Value::Struct(
        Struct::with_capacity(12)
            .with("date_created", paris_datetime(op.created))
            .with("date_start", started.map(paris_datetime))
            .with("date_updated", paris_datetime(updated))
            .with("errortype", op.last_error.as_ref().map(|_| "error"))
            .with("eta", op.done_at() - now)
            .with("id", op.id)
            .with("infos", infos)
            .with("last_error", op.last_error.as_deref())
            .with("params", params_value(&op.params))
            .with("session_id", op.group)
            .with("source", st.account.handle.as_str())
            .with("step", step)
            .with("type", op.kind.as_str()),
    )
}

/// Views of `ids`.
pub fn views(ctx: &Ctx, ids: &[i64]) -> Vec<Value> {
    ids.iter().filter_map(|id| ctx.st.ops.get(id)).map(|op| view(ctx.st, op, ctx.now)).collect()
}

const FIELDS: [(&str, FTy); 8] = [
    ("id", FTy::Int),
    ("type", FTy::Str),
    ("step", FTy::Str),
    ("paas_id", FTy::Int),
    ("date_created", FTy::Date),
    ("date_updated", FTy::Date),
    ("date_start", FTy::Date),
    ("eta", FTy::Int),
];

fn lookup(item: &Value, key: &str) -> Option<Value> {
    if key == "paas_id" {
        item.get("params").and_then(|p| p.get("paas_id")).cloned()
    } else {
        item.get(key).cloned()
    }
}

/// `operation.info(key, op_id)`.
pub fn info(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let id = args.int(0, "op_id")?;
    let op = ctx.st.ops.get(&id).ok_or_else(|| not_found(id))?;
    Ok(view(ctx.st, op, ctx.now))
}

/// `operation.list(key[, opts])` and `operation.count(key[, opts])`.
pub fn list(ctx: &mut Ctx, args: &Args, count: bool) -> Result<Value, Fault> {
    args.arity(0, 1)?;
    let given = args.opt_struct(0, "options")?;
    let kept;
    let given = match given {
        Some(o) if !ctx.cfg.ignored_op_filters.is_empty() => {
            // A server that does not apply these filters: checked as usual, then dropped.
            filter::parse(Some(o), &FIELDS, &[])?;
            kept = o
                .iter()
                .filter(|(k, _)| {
                    let field = k.trim_start_matches(['<', '>', '~']);
                    !ctx.cfg.ignored_op_filters.iter().any(|f| f == field)
                })
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Struct>();
            Some(&kept)
        }
        other => other,
    };
    let opts = filter::parse(given, &FIELDS, &[])?;
    let items: Vec<Value> = ctx.st.ops.values().map(|o| view(ctx.st, o, ctx.now)).collect();
    if count {
        return Ok(Value::Int(opts.count(items.iter(), &lookup)));
    }
    Ok(Value::Array(opts.select(items, &lookup)))
}

/// `operation.cancel(key, op_id)`: cancels the op and the rest of its call, before RUN only.
pub fn cancel(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let id = args.int(0, "op_id")?;
    let op = ctx.st.ops.get(&id).ok_or_else(|| not_found(id))?;
    let s = step(op, ctx.now);
    if !matches!(s, "BILL" | "WAIT") {
        return Err(fault(
            code::OP_NOT_CANCELABLE,
            format_args!("Operation '{id}' cannot be cancelled in step {s}"),
        ));
    }
    let group = op.group;
    let members: Vec<(i64, bool)> = ctx
        .st
        .ops
        .values()
        .filter(|o| o.group == group && o.end.is_none())
        .map(|o| (o.id, matches!(o.effect, Effect::VmCreate)))
        .collect();
    let now = ctx.now;
    for (oid, creates) in members {
        end(ctx.st, oid, EndStep::Cancel, now, None);
        if creates {
            // The instance made by the cancelled create goes away with it.
            let pid = ctx.st.ops[&oid].paas_id;
            ctx.st.instances.remove(&pid);
            ctx.st.vhosts_mut().retain(|_, v| v.paas_id != pid);
        }
    }
    ctx.changed = true;
    Ok(Value::Bool(true))
}

fn not_found(id: i64) -> Fault {
    fault(code::OP_NOT_FOUND, format_args!("Operation '{id}' doesn't exist."))
}

/// Whether instance `paas_id` has a pending op (strict mode refuses changes then).
pub fn pending_on(st: &State, paas_id: i64) -> bool {
    st.ops.values().any(|o| o.end.is_none() && o.paas_id == paas_id)
}

/// Faults 537567 in strict mode when `paas_id` has a pending op.
pub fn check_lock(ctx: &Ctx, paas_id: i64) -> Result<(), Fault> {
    if ctx.cfg.strict && pending_on(ctx.st, paas_id) {
        return Err(fault(code::PAAS_PENDING, format_args!("Paas '{paas_id}' has an operation pending")));
    }
    Ok(())
}

/// Faults 537542 unless `paas_id` exists.
pub fn require_paas(st: &State, paas_id: i64) -> Result<(), Fault> {
    if st.instances.contains_key(&paas_id) { Ok(()) } else { Err(paas_not_found(paas_id)) }
}
