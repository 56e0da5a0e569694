//! `paas::` — instances.

use std::sync::Arc;

use rhai::{Dynamic, Map, Module, NativeCallContext};

use super::{
    Res, arg_error, call, count, filter_or_empty, id_arg, label, list, mutate, pos, reg, register_list,
    struct_arg,
};
use crate::script::host::Host;
use crate::xmlrpc::{Struct, Value};

pub(super) fn module(host: &Arc<Host>) -> Module {
    let mut m = Module::new();
    m.set_var("DEFAULT_DURATION", "12m");

    register_list(
        &mut m,
        host,
        "paas::list",
        "paas.list",
        "Every instance (pages of 500 are fetched transparently).",
        "The instances matching a filter, e.g. `paas::list(#{state: \"running\"})`.\nKeys: `state`, `size`, `name`, `type`, `datacenter_id`, `sort_by`, …",
    );
    let h = host.clone();
    reg!(&mut m, "count", &["i64"], "The number of instances.", move |ctx: NativeCallContext| -> Res<i64> {
        count(&h, &ctx, "paas.count", Struct::new())
    });
    let h = host.clone();
    reg!(
        &mut m,
        "count",
        &["filter: Map", "i64"],
        "The number of instances matching a filter.",
        move |ctx: NativeCallContext, filter: Map| -> Res<i64> {
            let f = filter_or_empty(&ctx, "paas::count", Some(&filter))?;
            count(&h, &ctx, "paas.count", f)
        }
    );
    let h = host.clone();
    reg!(
        &mut m,
        "info",
        &["instance: i64 | Map", "Map"],
        "Everything about one instance: `paas::info(1)` or `paas::info(p)` with an instance map.",
        move |ctx: NativeCallContext, inst: Dynamic| -> Res<Dynamic> {
            let id = id_arg(&ctx, "paas::info", "instance", &inst)?;
            call(&h, &ctx, "paas::info", "paas.info", vec![Value::Int(id)])
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "create",
        &["params: Map", "Array"],
        "Creates an instance: `paas::create(#{name, size, type, datacenter_id, duration, password, vhosts, quantity})`.\nReturns its three operations (the new instance's id is `ops[0].params.paas_id`).\nIn dry-run mode, Gandi's `--dry-run` check runs and the plan entry carries its `errors`.",
        move |ctx: NativeCallContext, params: Map| -> Res<Dynamic> {
            let p = struct_arg(&ctx, "paas::create", &params)?;
            let summary = format!(
                "create instance {:?} ({} {}, datacenter {}, {})",
                p.get("name").and_then(Value::as_str).unwrap_or("?"),
                p.get("type").and_then(Value::as_str).unwrap_or("?"),
                p.get("size").and_then(Value::as_str).unwrap_or("?"),
                p.get("datacenter_id")
                    .and_then(Value::as_i64)
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "?".into()),
                p.get("duration").and_then(Value::as_str).unwrap_or("?"),
            );
            mutate(&h, &ctx, "paas::create", "paas.create", vec![Value::Struct(p)], summary, true)
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "update",
        &["instance: i64 | Map", "params: Map", "Array"],
        "Changes an instance: `paas::update(p, #{size: \"l\"})` (keys: size, quantity, password, name, upgrade, console, snapshot_profile…).",
        move |ctx: NativeCallContext, inst: Dynamic, params: Map| -> Res<Dynamic> {
            let id = id_arg(&ctx, "paas::update", "instance", &inst)?;
            let p = struct_arg(&ctx, "paas::update", &params)?;
            let keys: Vec<String> = p
                .keys()
                .map(|k| if k == "password" { k.to_string() } else { format!("{k}={}", show(p.get(k))) })
                .collect();
            let summary = format!("update {}: {}", label("instance", id, &inst), keys.join(", "));
            mutate(
                &h,
                &ctx,
                "paas::update",
                "paas.update",
                vec![Value::Int(id), Value::Struct(p)],
                summary,
                false,
            )
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "renew",
        &["instance: i64 | Map", "duration: &str", "Array"],
        "Renews an instance for a duration such as \"12m\": `op::wait(paas::renew(p, \"12m\"))`.",
        move |ctx: NativeCallContext, inst: Dynamic, duration: &str| -> Res<Dynamic> {
            renew(&h, &ctx, inst, Struct::new().with("duration", duration))
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "renew",
        &["instance: i64 | Map", "params: Map", "Array"],
        "Renews an instance with full parameters: `paas::renew(p, #{duration: \"12m\", fixed: false})`.",
        move |ctx: NativeCallContext, inst: Dynamic, params: Map| -> Res<Dynamic> {
            let p = struct_arg(&ctx, "paas::renew", &params)?;
            renew(&h, &ctx, inst, p)
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "restart",
        &["instance: i64 | Map", "Map"],
        "Restarts an instance; returns the operation.",
        move |ctx: NativeCallContext, inst: Dynamic| -> Res<Dynamic> {
            let id = id_arg(&ctx, "paas::restart", "instance", &inst)?;
            let summary = format!("restart {}", label("instance", id, &inst));
            mutate(&h, &ctx, "paas::restart", "paas.restart", vec![Value::Int(id)], summary, false)
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "delete",
        &["instance: i64 | Map", "Map"],
        "Deletes an instance (and its vhosts); returns the operation.",
        move |ctx: NativeCallContext, inst: Dynamic| -> Res<Dynamic> {
            let id = id_arg(&ctx, "paas::delete", "instance", &inst)?;
            let summary = format!("delete {}", label("instance", id, &inst));
            mutate(&h, &ctx, "paas::delete", "paas.delete", vec![Value::Int(id)], summary, false)
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "types",
        &["Array"],
        "The instance types (`#{name, language, database}`).",
        move |ctx: NativeCallContext| -> Res<Dynamic> {
            list(&h, &ctx, "paas::types", "paas.type.list", &Struct::new())
        }
    );
    let h = host.clone();
    reg!(
        &mut m,
        "types",
        &["filter: Map", "Array"],
        "The instance types matching a filter.",
        move |ctx: NativeCallContext, filter: Map| -> Res<Dynamic> {
            let f = struct_arg(&ctx, "paas::types", &filter)?;
            list(&h, &ctx, "paas::types", "paas.type.list", &f)
        }
    );
    m
}

fn show(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Double(d)) => d.to_string(),
        Some(Value::Nil) | None => "()".into(),
        Some(other) => other.type_name().to_string(),
    }
}

fn renew(h: &Host, ctx: &NativeCallContext, inst: Dynamic, params: Struct) -> Res<Dynamic> {
    let id = id_arg(ctx, "paas::renew", "instance", &inst)?;
    let Some(duration) = params.get("duration").and_then(Value::as_str).map(str::to_owned) else {
        return Err(arg_error("paas::renew", "the parameters need a `duration` such as \"12m\"", pos(ctx)));
    };
    let summary = format!("renew {} for {duration}", label("instance", id, &inst));
    mutate(h, ctx, "paas::renew", "paas.renew", vec![Value::Int(id), Value::Struct(params)], summary, false)
}
