//! `datacenter::`, `snapshot_profile::`, `gandi::` (version, raw calls) and `xmlrpc::` (any server).

use std::sync::Arc;

use rhai::{Array, Dynamic, Map, Module, NativeCallContext};

use super::{Res, arg_error, call, confirmed, pos, reg, register_list, ret, struct_arg, value_arg};
use crate::gandi::throttle::is_read_only;
use crate::gandi::{ApiFault, GandiError, is_known_read};
use crate::script::confirm::Mutation;
use crate::script::error::api_error;
use crate::script::host::{Host, lock};
use crate::script::plan::PlanEntry;
use crate::xmlrpc::Value;
use crate::xmlrpc::client::Error as ClientError;

pub(super) fn datacenter(host: &Arc<Host>) -> Module {
    let mut m = Module::new();
    register_list(
        &mut m,
        host,
        "datacenter::list",
        "hosting.datacenter.list",
        "Every datacenter (`#{id, name, country, iso, dc_code, paas_closed_for, …}`).",
        "The datacenters matching a filter, e.g. `datacenter::list(#{paas_opened: true})`.",
    );
    m
}

pub(super) fn snapshot_profile(host: &Arc<Host>) -> Module {
    let mut m = Module::new();
    let h = host.clone();
    reg!(
        &mut m,
        "list",
        &["Array"],
        "Every snapshot profile (`#{id, name, kept_total, quota_factor, schedules}`).",
        move |ctx: NativeCallContext| -> Res<Dynamic> {
            call(&h, &ctx, "snapshot_profile::list", "paas.snapshotprofile.list", vec![])
        }
    );
    let h = host.clone();
    reg!(
        &mut m,
        "list",
        &["filter: Map", "Array"],
        "The snapshot profiles matching a filter (`#{id}` or `#{name}`).",
        move |ctx: NativeCallContext, filter: Map| -> Res<Dynamic> {
            let f = struct_arg(&ctx, "snapshot_profile::list", &filter)?;
            call(&h, &ctx, "snapshot_profile::list", "paas.snapshotprofile.list", vec![Value::Struct(f)])
        },
    );
    m
}

fn args_of(ctx: &NativeCallContext, function: &str, args: &Array) -> Res<Vec<Value>> {
    args.iter().enumerate().map(|(i, a)| value_arg(ctx, function, &format!("args[{i}]"), a)).collect()
}

fn plan_raw(h: &Host, method: &str, args: Vec<Value>, what: &str) -> Dynamic {
    let mut shown = args;
    for a in shown.iter_mut() {
        crate::gandi::params::redact_passwords(a);
    }
    let entry = PlanEntry {
        method: method.to_string(),
        args: shown,
        summary: format!("{what} {method}"),
        errors: None,
    };
    let d = entry.to_dynamic(&h.zone);
    lock(&h.plan).push(entry);
    d
}

/// A raw Gandi call that may change something, for the confirmation hook; a `paas.*` method
/// whose first argument is an integer names that instance.
fn raw_mutation(method: &str, args: &[Value]) -> Mutation {
    let instance = match args.first() {
        Some(Value::Int(id)) if method.starts_with("paas.") && !method.starts_with("paas.vhost.") => {
            Some(*id)
        }
        _ => None,
    };
    let shown = match instance {
        Some(id) => format!("raw call {method} on instance {id}"),
        None => format!("raw call {method}"),
    };
    Mutation::new("gandi::invoke", method, shown, instance)
}

pub(super) fn gandi(host: &Arc<Host>) -> Module {
    let mut m = Module::new();
    let h = host.clone();
    reg!(
        &mut m,
        "version",
        &["String"],
        "The API version, e.g. \"3.3.42\".",
        move |ctx: NativeCallContext| -> Res<Dynamic> {
            let v = call(&h, &ctx, "gandi::version", "version.info", vec![])?;
            let version = v.read_lock::<Map>().and_then(|m| m.get("api_version").cloned());
            version.ok_or_else(|| {
                arg_error("gandi::version", "version.info answered without `api_version`", pos(&ctx))
            })
        }
    );
    let h = host.clone();
    reg!(
        &mut m,
        "invoke",
        &["method: &str", "args: Array", "?"],
        "Calls any Gandi method with the API key added in front: `gandi::invoke(\"paas.info\", [1])`.\nIn dry-run mode only the methods known to read (the API's list, count, info, get_dns_entries and metric query) are sent; every other name, unknown ones included, is planned.",
        move |ctx: NativeCallContext, method: &str, args: Array| -> Res<Dynamic> {
            let args = args_of(&ctx, "gandi::invoke", &args)?;
            if !is_known_read(method) {
                if h.dry_run() {
                    return Ok(plan_raw(&h, method, args, "raw call"));
                }
                if let Some(skipped) = confirmed(&h, &ctx, &raw_mutation(method, &args))? {
                    return Ok(skipped);
                }
            }
            call(&h, &ctx, "gandi::invoke", method, args)
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "invoke",
        &["method: &str", "?"],
        "Calls any Gandi method without other arguments than the key.",
        move |ctx: NativeCallContext, method: &str| -> Res<Dynamic> {
            if !is_known_read(method) {
                if h.dry_run() {
                    return Ok(plan_raw(&h, method, vec![], "raw call"));
                }
                if let Some(skipped) = confirmed(&h, &ctx, &raw_mutation(method, &[]))? {
                    return Ok(skipped);
                }
            }
            call(&h, &ctx, "gandi::invoke", method, vec![])
        }
    );
    m
}

pub(super) fn xmlrpc(host: &Arc<Host>) -> Module {
    let mut m = Module::new();
    let h = host.clone();
    reg!(
        &mut m,
        "invoke",
        &["url: &str", "method: &str", "args: Array", "?"],
        "Calls a method on any XML-RPC server, with no API key: `xmlrpc::invoke(url, \"system.listMethods\", [])`.\nFaults are thrown like Gandi's (`kind: \"fault\"`), transport errors as `kind: \"transport\"`.\nIn dry-run mode only read-only method names are sent.",
        move |ctx: NativeCallContext, url: &str, method: &str, args: Array| -> Res<Dynamic> {
            let args = args_of(&ctx, "xmlrpc::invoke", &args)?;
            if h.dry_run() && !is_read_only(method) {
                return Ok(plan_raw(&h, method, args, &format!("XML-RPC call to {url}:")));
            }
            let client = h.xmlrpc_client(url).map_err(|e| {
                api_error(GandiError::Transport { method: method.to_string(), source: e }, pos(&ctx))
            })?;
            match client.call(method, &args) {
                Ok(v) => ret(&h, &ctx, "xmlrpc::invoke", v),
                Err(ClientError::Fault(f)) => {
                    Err(api_error(GandiError::Fault(Box::new(ApiFault::decode(method, &f))), pos(&ctx)))
                }
                Err(e) => {
                    Err(api_error(GandiError::Transport { method: method.to_string(), source: e }, pos(&ctx)))
                }
            }
        },
    );
    m
}
