//! Vhosts: `paas.vhost.*`, and the ownership check (reference §6).
//!
//! A vhost needs no proof when its zone is one the account manages on Gandi DNS. Otherwise it
//! needs the TXT record `<label>=<token>` at the vhost's name or at its zone apex, where the apex is
//! the last two labels, the label is the rest (`@` for the apex itself), and the token is the one
//! the dataset fixes for that name (the seed's `vhost.test.fr`) or else the MD5 hex of
//! `<account handle>:<fqdn>` — stable for a given account and vhost.

use md5::{Digest, Md5};

use crate::xmlrpc::{Fault, Struct, Value};

use super::Ctx;
use super::args::{Args, as_bool, is_dry_run};
use super::check::{self, Problem, Ty, clip};
use super::clock::stamp_to_datetime;
use super::fault::{code, fault};
use super::filter::{self, FTy};
use super::operation::{self, OpSpec, check_lock, require_paas};
use super::state::{Effect, PVal, Params, State, Vhost};

/// The zone apex of `fqdn` (its last two labels).
pub fn apex(fqdn: &str) -> &str {
    let mut dots = fqdn.rmatch_indices('.');
    dots.next();
    match dots.next() {
        Some((i, _)) => &fqdn[i + 1..],
        None => fqdn,
    }
}

/// The TXT label of `fqdn`: the part before its apex, or `@`.
pub fn label(fqdn: &str) -> &str {
    let a = apex(fqdn);
    if a.len() == fqdn.len() { "@" } else { &fqdn[..fqdn.len() - a.len() - 1] }
}

/// The ownership token of `fqdn` for this account.
pub fn token(st: &State, fqdn: &str) -> String {
    if let Some(t) = st.tokens.get(fqdn) {
        return t.clone();
    }
    let digest = Md5::digest(format!("{}:{fqdn}", st.account.handle).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The TXT value `<label>=<token>` proving ownership of `fqdn`.
pub fn txt_value(st: &State, fqdn: &str) -> String {
    format!("{}={}", label(fqdn), token(st, fqdn))
}

/// Whether `fqdn` is under a zone the account manages on Gandi DNS.
pub fn managed(st: &State, fqdn: &str) -> bool {
    st.zones.iter().any(|z| fqdn == z || fqdn.strip_suffix(z.as_str()).is_some_and(|p| p.ends_with('.')))
}

/// `None` if the account may use `fqdn`, else the reason (names the missing record).
pub fn ownership_error(st: &State, fqdn: &str) -> Option<String> {
    if managed(st, fqdn) {
        return None;
    }
    let want = txt_value(st, fqdn);
    let found = [fqdn, apex(fqdn)].iter().any(|n| st.txt.get(*n).is_some_and(|vals| vals.contains(&want)));
    if found {
        None
    } else {
        Some(format!(
            "TXT record \"{want}\" not found at {fqdn} or {} (add: 10800 IN TXT \"{want}\")",
            apex(fqdn)
        ))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_apexes() {
        assert_eq!(apex("vhost.test.fr"), "test.fr");
        assert_eq!(label("vhost.test.fr"), "vhost");
        assert_eq!(apex("test.fr"), "test.fr");
        assert_eq!(label("test.fr"), "@");
        assert_eq!(label("a.b.example.com"), "a.b");
    }
}
