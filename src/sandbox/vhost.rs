//! Vhosts: `paas.vhost.*`, with the ownership check of [`ownership`](super::ownership)
//! (reference §6).

use crate::xmlrpc::{Fault, Struct, Value};

use super::Ctx;
use super::args::{Args, as_bool, is_dry_run};
use super::check::{self, Problem, Ty, clip};
use super::clock::stamp_to_datetime;
use super::fault::{code, fault};
use super::filter::{self, FTy};
use super::operation::{self, OpSpec, check_lock, require_paas};
use super::ownership::{apex, ownership_error, token, txt_value};
use super::state::{Effect, PVal, Params, State, Vhost};

/// The dry-run item for a vhost lacking its TXT proof (the seed's shape).
pub fn txt_problem(st: &State, field: &str, fqdn: &str) -> Problem {
    let want = txt_value(st, fqdn);
    Problem {
        fault: fault(code::TXT_MISSING, format_args!("TXT record \"{want}\" not found for {fqdn}")),
        error: "EC_TXT+EC_MISSINGMANDATORY",
        field: field.to_string(),
        field_type: None,
        reason: "You must put a TXT value in your zone".into(),
        attr: Some(vec![fqdn.to_string(), want]),
    }
}

/// The problem for a vhost that is already attached or about to be.
pub fn exists_problem(field: &str, fqdn: &str) -> Problem {
    Problem {
        fault: fault(code::VHOST_EXISTS, format_args!("Vhost '{}' already exists.", clip(fqdn))),
        error: "EC_EXIST",
        field: field.to_string(),
        field_type: None,
        reason: format!("Vhost '{}' already exists", clip(fqdn)),
        attr: Some(vec![clip(fqdn)]),
    }
}

/// Checks one requested vhost: syntax, then ownership, then uniqueness (the TXT check first).
pub fn vhost_problem(st: &State, field: &str, fqdn: &str) -> Option<Problem> {
    if !check::is_fqdn(fqdn) {
        return Some(check::fqdn_problem(field, fqdn));
    }
    if ownership_error(st, fqdn).is_some() {
        return Some(txt_problem(st, field, fqdn));
    }
    if st.vhost_by_name(fqdn).is_some() || st.vhost_pending(fqdn) {
        return Some(exists_problem(field, fqdn));
    }
    None
}

/// Normalizes a client FQDN (lowercase, no trailing dot).
pub fn normalize(fqdn: &str) -> String {
    fqdn.trim_end_matches('.').to_ascii_lowercase()
}

fn item(v: &Vhost) -> Value {
    Value::Struct(
        Struct::with_capacity(6)
            .with("cert_id", Value::Nil)
            .with("date_creation", stamp_to_datetime(v.date_creation))
            .with("id", v.id)
            .with("name", v.name.as_str())
            .with("paas_id", v.paas_id)
            .with("state", v.state.as_str()),
    )
}

const FIELDS: [(&str, FTy); 5] = [
    ("id", FTy::Int),
    ("name", FTy::Str),
    ("paas_id", FTy::Int),
    ("state", FTy::Str),
    ("date_creation", FTy::Date),
];

/// `paas.vhost.list(key[, opts])` / `paas.vhost.count(key[, opts])`.
pub fn list(ctx: &mut Ctx, args: &Args, count: bool) -> Result<Value, Fault> {
    args.arity(0, 1)?;
    let opts = filter::parse(args.opt_struct(0, "options")?, &FIELDS, &[])?;
    let items: Vec<Value> = ctx.st.vhosts.values().map(item).collect();
    if count {
        return Ok(Value::Int(opts.count(items.iter(), &filter::member)));
    }
    Ok(Value::Array(opts.select(items, &filter::member)))
}

/// `paas.vhost.info(key, fqdn)`.
pub fn info(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let fqdn = normalize(args.string(0, "fqdn")?);
    ctx.st.vhost_by_name(&fqdn).map(item).ok_or_else(|| not_found(&fqdn))
}

fn not_found(fqdn: &str) -> Fault {
    fault(code::VHOST_NOT_FOUND, format_args!("Vhost '{}' doesn't exist.", clip(fqdn)))
}

const CREATE_KEYS: [(&str, Ty); 4] =
    [("paas_id", Ty::Int), ("vhost", Ty::Str), ("zone_alter", Ty::Bool), ("override", Ty::Bool)];

/// `paas.vhost.create(key, {paas_id, vhost[, zone_alter, override, --dry-run]})`: one
/// `rproxy_update` op; fault 580142 without the ownership proof.
pub fn create(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let p = args.structure(0, "params")?;
    let dry = is_dry_run(p);
    let mut problems = check::keys(p, &CREATE_KEYS, &["paas_id", "vhost"], "paas.vhost.create");
    if problems.is_empty() {
        let pid = p.get("paas_id").and_then(Value::as_i64).unwrap_or_default();
        require_paas(ctx.st, pid)?;
        let fqdn = normalize(p.get("vhost").and_then(Value::as_str).unwrap_or_default());
        problems.extend(vhost_problem(ctx.st, "vhost", &fqdn));
        if dry {
            return Ok(Value::Array(problems.iter().map(Problem::item).collect()));
        }
        if let Some(first) = problems.into_iter().next() {
            return Err(first.fault);
        }
        check_lock(ctx, pid)?;
        let mut params = Params::new();
        params.insert("vhost".into(), PVal::Str(fqdn.clone()));
        for k in ["zone_alter", "override"] {
            if let Some(b) = p.get(k).and_then(as_bool) {
                params.insert(k.into(), PVal::Bool(b));
            }
        }
        let (label, product) = names(ctx.st, pid);
        let spec = OpSpec {
            kind: "rproxy_update",
            params,
            action: "update",
            effect: Effect::VhostAttach { fqdn },
            billable: false,
        };
        let ids = operation::start(ctx, pid, &label, &product, vec![spec]);
        return Ok(operation::views(ctx, &ids).pop().unwrap_or_default());
    }
    if dry {
        return Ok(Value::Array(problems.iter().map(Problem::item).collect()));
    }
    Err(problems.swap_remove(0).fault)
}

/// `paas.vhost.delete(key, fqdn)`: one `rproxy_update` op.
pub fn delete(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let fqdn = normalize(args.string(0, "fqdn")?);
    let pid = ctx.st.vhost_by_name(&fqdn).map(|v| v.paas_id).ok_or_else(|| not_found(&fqdn))?;
    check_lock(ctx, pid)?;
    let mut params = Params::new();
    params.insert("vhost".into(), PVal::Str(fqdn.clone()));
    let (label, product) = names(ctx.st, pid);
    let spec = OpSpec {
        kind: "rproxy_update",
        params,
        action: "update",
        effect: Effect::VhostDetach { fqdn },
        billable: false,
    };
    let ids = operation::start(ctx, pid, &label, &product, vec![spec]);
    Ok(operation::views(ctx, &ids).pop().unwrap_or_default())
}

fn names(st: &State, pid: i64) -> (String, String) {
    st.instances.get(&pid).map(|i| (i.name.clone(), format!("{}_{}", i.kind, i.size))).unwrap_or_default()
}

/// `paas.vhost.get_dns_entries(key, {vhost[, paas_id]})` → `{key, txt, cname, domain}`.
pub fn get_dns_entries(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let p = args.structure(0, "params")?;
    let problems =
        check::keys(p, &[("vhost", Ty::Str), ("paas_id", Ty::Int)], &["vhost"], "paas.vhost.get_dns_entries");
    if let Some(first) = problems.into_iter().next() {
        return Err(first.fault);
    }
    let fqdn = normalize(p.get("vhost").and_then(Value::as_str).unwrap_or_default());
    if !check::is_fqdn(&fqdn) {
        return Err(check::fqdn_problem("vhost", &fqdn).fault);
    }
    let dc = match p.get("paas_id").and_then(Value::as_i64) {
        Some(pid) => {
            require_paas(ctx.st, pid)?;
            ctx.st.instances[&pid].datacenter_id
        }
        None => 1,
    };
    Ok(Value::Struct(
        Struct::with_capacity(4)
            .with("cname", format!("webacc.dc{}.gpaas.net.", dc - 1))
            .with("domain", apex(&fqdn))
            .with("key", token(ctx.st, &fqdn))
            .with("txt", txt_value(ctx.st, &fqdn)),
    ))
}
