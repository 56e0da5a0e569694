//! `vhost::` — virtual hosts (the FQDNs an instance serves).

use std::sync::Arc;

use rhai::{Dynamic, Map, Module, NativeCallContext};

use super::{Res, arg_error, call, count, id_arg, mutate, name_arg, pos, reg, register_list, struct_arg};
use crate::script::host::Host;
use crate::xmlrpc::{Struct, Value};

pub(super) fn module(host: &Arc<Host>) -> Module {
    let mut m = Module::new();

    register_list(
        &mut m,
        host,
        "vhost::list",
        "paas.vhost.list",
        "Every vhost of the account.",
        "The vhosts matching a filter, e.g. `vhost::list(#{paas_id: 1})`.",
    );
    let h = host.clone();
    reg!(&mut m, "count", &["i64"], "The number of vhosts.", move |ctx: NativeCallContext| -> Res<i64> {
        count(&h, &ctx, "paas.vhost.count", Struct::new())
    });
    let h = host.clone();
    reg!(
        &mut m,
        "count",
        &["filter: Map", "i64"],
        "The number of vhosts matching a filter.",
        move |ctx: NativeCallContext, filter: Map| -> Res<i64> {
            let f = struct_arg(&ctx, "vhost::count", &filter)?;
            count(&h, &ctx, "paas.vhost.count", f)
        }
    );
    let h = host.clone();
    reg!(
        &mut m,
        "info",
        &["vhost: &str | Map", "Map"],
        "One vhost by FQDN: `vhost::info(\"www.example.com\")`.",
        move |ctx: NativeCallContext, v: Dynamic| -> Res<Dynamic> {
            let fqdn = name_arg(&ctx, "vhost::info", "vhost", &v)?;
            call(&h, &ctx, "vhost::info", "paas.vhost.info", vec![Value::from(fqdn)])
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "create",
        &["instance: i64 | Map", "fqdn: &str", "Map"],
        "Attaches a vhost to an instance: `vhost::create(p, \"www.example.com\")`; returns the operation.\nIn dry-run mode, Gandi's `--dry-run` check runs (e.g. the TXT ownership proof) and the plan entry carries its `errors`.",
        move |ctx: NativeCallContext, inst: Dynamic, fqdn: &str| -> Res<Dynamic> {
            let id = id_arg(&ctx, "vhost::create", "instance", &inst)?;
            create(&h, &ctx, Struct::new().with("paas_id", id).with("vhost", fqdn))
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "create",
        &["params: Map", "Map"],
        "Attaches a vhost with full parameters: `vhost::create(#{paas_id: 1, vhost: \"www.example.com\", zone_alter: true})`.",
        move |ctx: NativeCallContext, params: Map| -> Res<Dynamic> {
            let p = struct_arg(&ctx, "vhost::create", &params)?;
            create(&h, &ctx, p)
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "delete",
        &["vhost: &str | Map", "Map"],
        "Detaches a vhost by FQDN (or vhost map); returns the operation.",
        move |ctx: NativeCallContext, v: Dynamic| -> Res<Dynamic> {
            let fqdn = name_arg(&ctx, "vhost::delete", "vhost", &v)?;
            let summary = format!("delete vhost {fqdn}");
            mutate(&h, &ctx, "vhost::delete", "paas.vhost.delete", vec![Value::from(fqdn)], summary, false)
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "dns_entries",
        &["fqdn: &str", "Map"],
        "The DNS records to add to prove ownership of a vhost: `#{key, txt, cname, domain}`.",
        move |ctx: NativeCallContext, fqdn: &str| -> Res<Dynamic> {
            let p = Struct::new().with("vhost", fqdn);
            call(&h, &ctx, "vhost::dns_entries", "paas.vhost.get_dns_entries", vec![Value::Struct(p)])
        },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "dns_entries",
        &["fqdn: &str", "instance: i64 | Map", "Map"],
        "The DNS records to add for a vhost on a given instance.",
        move |ctx: NativeCallContext, fqdn: &str, inst: Dynamic| -> Res<Dynamic> {
            let id = id_arg(&ctx, "vhost::dns_entries", "instance", &inst)?;
            let p = Struct::new().with("vhost", fqdn).with("paas_id", id);
            call(&h, &ctx, "vhost::dns_entries", "paas.vhost.get_dns_entries", vec![Value::Struct(p)])
        },
    );
    m
}

fn create(h: &Host, ctx: &NativeCallContext, p: Struct) -> Res<Dynamic> {
    let (Some(fqdn), Some(id)) =
        (p.get("vhost").and_then(Value::as_str), p.get("paas_id").and_then(Value::as_i64))
    else {
        return Err(arg_error(
            "vhost::create",
            "the parameters need `paas_id` (an integer) and `vhost` (a string)",
            pos(ctx),
        ));
    };
    let summary = format!("attach vhost {fqdn} to instance {id}");
    mutate(h, ctx, "vhost::create", "paas.vhost.create", vec![Value::Struct(p)], summary, true)
}
