//! The sandbox's own control methods (not Gandi's), under `sandbox.`, key first:
//! `sandbox.ledger`, `sandbox.zone.set_txt`, `sandbox.zone.add`, `sandbox.clock.advance`,
//! `sandbox.op.fail_next` and `sandbox.reset`.

use crate::xmlrpc::{Fault, Struct, Value};

use super::Ctx;
use super::args::Args;
use super::check::{self, clip};
use super::clock::{paris_datetime, stamp_to_datetime};
use super::dataset;
use super::fault::{code, fault};
use super::operation;
use super::state::params_value;
use super::vhost::normalize;

/// `sandbox.ledger(key)`: every applied billable change as `{op_id, type, paas_id, params, date}`.
pub fn ledger(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(0, 0)?;
    Ok(Value::Array(
        ctx.st
            .ledger
            .iter()
            .map(|e| {
                Value::Struct(
                    Struct::with_capacity(5)
                        .with("date", stamp_to_datetime(e.date))
                        .with("op_id", e.op_id)
                        .with("params", params_value(&e.params))
                        .with("paas_id", e.paas_id)
                        .with("type", e.kind.as_str()),
                )
            })
            .collect(),
    ))
}

/// `sandbox.zone.set_txt(key, fqdn, value)`: sets the external TXT record at `fqdn` to `value`
/// (an empty value removes it). Returns true.
pub fn set_txt(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(2, 2)?;
    let fqdn = normalize(args.string(0, "fqdn")?);
    let value = args.string(1, "value")?;
    if !check::is_fqdn(&fqdn) {
        return Err(check::fqdn_problem("fqdn", &fqdn).fault);
    }
    if value.is_empty() {
        ctx.st.txt.remove(&fqdn);
    } else {
        ctx.st.txt.insert(fqdn, vec![clip(value)]);
    }
    ctx.changed = true;
    Ok(Value::Bool(true))
}

/// `sandbox.zone.add(key, zone)`: the account now manages `zone` on Gandi DNS (its vhosts need no
/// proof). Returns true.
pub fn add_zone(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let zone = normalize(args.string(0, "zone")?);
    if !check::is_fqdn(&zone) {
        return Err(check::fqdn_problem("zone", &zone).fault);
    }
    ctx.st.zones.insert(zone);
    ctx.changed = true;
    Ok(Value::Bool(true))
}

/// `sandbox.clock.advance(key, seconds)`: moves the clock forward (never back), applies what
/// came due, and returns the new Paris time.
pub fn advance(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let s = args.int(0, "seconds")?;
    if !(0..=100 * 366 * 86_400).contains(&s) {
        return Err(fault(code::INT_VALUE, format_args!("seconds must be between 0 and 100 years, got {s}")));
    }
    ctx.st.clock_offset += s;
    ctx.now += s;
    ctx.changed = true;
    operation::advance(ctx);
    Ok(Value::DateTime(paris_datetime(ctx.now)))
}

/// `sandbox.op.fail_next(key, type, last_error)`: the next op of that type ends in ERROR with
/// this `last_error` instead of applying. Returns true.
pub fn fail_next(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(2, 2)?;
    let kind = clip(args.string(0, "type")?);
    let msg = clip(args.string(1, "last_error")?);
    ctx.st.fail_next.insert(kind, msg);
    ctx.changed = true;
    Ok(Value::Bool(true))
}

/// `sandbox.stats(key[, reset])`: `{calls: {method: n}, peak_pending_ops, rate_limited}` since
/// the start or the last reset: the calls received per method (the rejected ones and this one
/// included), the most operations pending at one time, and the rate-limit faults given. With
/// `reset` true the counters start again from zero after this answer.
pub fn stats(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    use std::sync::atomic::Ordering::Relaxed;
    args.arity(0, 1)?;
    let reset = args.opt_bool(0, "reset")?.unwrap_or(false);
    let s = ctx.stats;
    let mut calls = crate::sync::lock(&s.calls);
    let by_method: Struct = calls.iter().map(|(m, n)| (m.clone(), Value::Int(*n as i64))).collect();
    let out = Struct::with_capacity(3)
        .with("calls", by_method)
        .with("peak_pending_ops", s.peak_pending.load(Relaxed) as i64)
        .with("rate_limited", s.rate_limited.load(Relaxed) as i64);
    if reset {
        calls.clear();
        s.peak_pending.store(operation::pending_count(ctx.st) as u64, Relaxed);
        s.rate_limited.store(0, Relaxed);
    }
    Ok(Value::Struct(out))
}

/// `sandbox.reset(key)`: the configured dataset again, clock offset back to 0. Returns true.
pub fn reset(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(0, 0)?;
    let base = ctx.now - ctx.st.clock_offset;
    *ctx.st = dataset::build(ctx.cfg, base);
    ctx.now = base;
    ctx.changed = true;
    Ok(Value::Bool(true))
}
