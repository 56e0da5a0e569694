//! `op::` — operations: read, list, wait for, cancel.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, EvalAltResult, Map, Module, NativeCallContext};

use super::{Res, arg_error, call, id_arg, label, mutate, pos, reg, register_list, ret};
use crate::gandi::{ApiRecord, GandiError, Operation, WaitOptions};
use crate::script::convert::to_value;
use crate::script::error::api_error;
use crate::script::host::Host;
use crate::script::limits;
use crate::script::runtime::WaitEvent;
use crate::xmlrpc::Value;

pub(super) fn module(host: &Arc<Host>) -> Module {
    let mut m = Module::new();

    let h = host.clone();
    reg!(
        &mut m,
        "info",
        &["operation: i64 | Map", "Map"],
        "One operation: `op::info(42)` or `op::info(op)`.",
        move |ctx: NativeCallContext, o: Dynamic| -> Res<Dynamic> {
            let id = id_arg(&ctx, "op::info", "operation", &o)?;
            call(&h, &ctx, "op::info", "operation.info", vec![Value::Int(id)])
        },
    );
    register_list(
        &mut m,
        host,
        "op::list",
        "operation.list",
        "Every operation.",
        "The operations matching a filter, e.g. `op::list(#{step: [\"BILL\", \"WAIT\", \"RUN\"]})`.",
    );
    let h = host.clone();
    reg!(
        &mut m,
        "wait",
        &["ops: Map | Array | i64", "Map | Array"],
        "Waits until the operation(s) are DONE and returns them as they ended (a map for one, an array for several).\nFails (catchable, `kind: \"operation\"`) if one ends in ERROR, CANCEL or SUPPORT, and (`kind: \"wait_timeout\"`) after the runtime's wait timeout.\nPlan entries (dry-run) are returned as they are.",
        move |ctx: NativeCallContext, ops: Dynamic| -> Res<Dynamic> { wait(&h, &ctx, ops, h.wait_timeout) },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "wait",
        &["ops: Map | Array | i64", "timeout_seconds: i64", "Map | Array"],
        "Like `op::wait(ops)`, with its own timeout in seconds.",
        move |ctx: NativeCallContext, ops: Dynamic, secs: i64| -> Res<Dynamic> {
            if secs < 0 {
                return Err(arg_error(
                    "op::wait",
                    format!("the timeout must not be negative, got {secs}"),
                    pos(&ctx),
                ));
            }
            wait(&h, &ctx, ops, Duration::from_secs(secs as u64))
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "cancel",
        &["operation: i64 | Map", "bool"],
        "Cancels an operation that has not started running (step BILL or WAIT).",
        move |ctx: NativeCallContext, o: Dynamic| -> Res<Dynamic> {
            let id = id_arg(&ctx, "op::cancel", "operation", &o)?;
            let summary = format!("cancel {}", label("operation", id, &o));
            mutate(&h, &ctx, "op::cancel", "operation.cancel", vec![Value::Int(id)], summary, false)
        },
    );
    m
}

/// A dry-run plan entry, or a change the confirmation skipped: nothing to wait for.
fn is_plan_entry(v: &Dynamic) -> bool {
    v.read_lock::<Map>().is_some_and(|m| {
        ["dry_run", "skipped"].iter().any(|k| m.get(*k).and_then(|d| d.as_bool().ok()) == Some(true))
    })
}

fn wait(h: &Host, ctx: &NativeCallContext, ops: Dynamic, timeout: Duration) -> Res<Dynamic> {
    let single = !ops.is_array();
    let items: Array = if single { vec![ops.clone()] } else { ops.clone().into_array().unwrap_or_default() };
    if items.iter().all(is_plan_entry) {
        return Ok(ops);
    }
    let mut ids = Vec::with_capacity(items.len());
    // Operation maps (as the calls returned them) carry `date_created`, which lets the tracker
    // follow them all with list calls from the first tick.
    let mut records = Vec::with_capacity(items.len());
    for item in items.iter().filter(|i| !is_plan_entry(i)) {
        ids.push(id_arg(ctx, "op::wait", "operation", item)?);
        if item.is_map()
            && let Ok(op) = to_value(item, "operation")
                .map_err(|_| ())
                .and_then(|v| Operation::from_api(v).map_err(|_| ()))
        {
            records.push(op);
        }
    }
    let cancel = || limits::check(&h.cancel, true).is_some();
    let progress = |op: &crate::gandi::Operation| {
        if let Some(hook) = &h.on_wait {
            hook(WaitEvent::Polled(op));
        }
    };
    let mut opts =
        WaitOptions::default().with_timeout(timeout).with_poll_interval(h.poll_interval).with_cancel(&cancel);
    if h.on_wait.is_some() {
        opts = opts.with_progress(&progress);
    }
    if let Some(hook) = &h.on_wait {
        hook(WaitEvent::Started(&ids));
    }
    let outcome = if records.len() == ids.len() {
        h.gandi.wait_ops(&records, &opts)
    } else {
        h.gandi.wait(&ids, &opts)
    };
    if let Some(hook) = &h.on_wait {
        hook(WaitEvent::Finished);
    }
    let done = match outcome {
        Ok(done) => done,
        Err(GandiError::WaitCancelled { .. }) => {
            let stop = limits::check(&h.cancel, true).unwrap_or(limits::Stop::Cancelled);
            return Err(EvalAltResult::ErrorTerminated(stop.token(), pos(ctx)).into());
        }
        Err(e) => return Err(api_error(e, pos(ctx))),
    };
    let mut out = Array::with_capacity(done.len());
    for op in done {
        out.push(ret(h, ctx, "op::wait", op.to_value())?);
    }
    if single { Ok(out.pop().unwrap_or(Dynamic::UNIT)) } else { Ok(Dynamic::from_array(out)) }
}
