//! `paas.count/list/info/create/update/delete/renew/restart` (reference §4.2–4.8, §8, §10).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::xmlrpc::{EncodedValue, Fault, Struct, Value, ValueWriter};

use super::Ctx;
use super::args::{Args, as_bool, is_dry_run};
use super::catalog::{self, datacenter};
use super::check::{self, Problem, Ty, clip, enum_problem};
use super::clock::{add_months, paris_stamp, stamp_to_datetime};
use super::fault::{code, fault, paas_not_found};
use super::filter::{self, FTy};
use super::operation::{self, OpSpec, check_lock, require_paas};
use super::state::{Effect, Instance, PVal, Params, State};
use super::vhost;

/// The literal graph URL the seed shows.
const GRAPH_URL: &str = "http://console.gandi.net/?key=[...]";

fn catalog_name(i: &Instance) -> String {
    format!("{}_{}", i.kind, i.size)
}

/// The `paas.list` item (the seed's field set; `console` and `snapshot_profile` when extended).
pub fn list_item(i: &Instance, extended: bool) -> Value {
    let mut s = Struct::with_capacity(if extended { 15 } else { 13 });
    s.push_distinct("catalog_name", catalog_name(i))
        .push_distinct("data_disk_additional_size", i.quantity)
        .push_distinct("datacenter_id", i.datacenter_id)
        .push_distinct("date_end", stamp_to_datetime(i.date_end))
        .push_distinct("date_end_commitment", i.date_end_commitment.map(stamp_to_datetime))
        .push_distinct("date_start", stamp_to_datetime(i.date_start))
        .push_distinct("id", i.id)
        .push_distinct("name", i.name.as_str())
        .push_distinct("need_upgrade", i.need_upgrade)
        .push_distinct("servers", vec![Value::Struct(Struct::new().with("id", i.server_id))])
        .push_distinct("size", i.size.as_str())
        .push_distinct("state", i.state.as_str())
        .push_distinct("type", i.kind.as_str());
    if extended {
        s.push_distinct("console", console(i));
        s.push_distinct("snapshot_profile", i.snapshot_profile);
    }
    Value::Struct(s)
}

/// Writes [`list_item`]`(i, extended)` straight to `w` (the same bytes). `scratch` is a buffer
/// reused from item to item.
fn write_list_item(w: &mut ValueWriter<'_>, i: &Instance, extended: bool, scratch: &mut String) {
    scratch.clear();
    scratch.push_str(&i.kind);
    scratch.push('_');
    scratch.push_str(&i.size);
    w.begin_struct()
        .member("catalog_name")
        .string(scratch)
        .member("data_disk_additional_size")
        .int(i.quantity)
        .member("datacenter_id")
        .int(i.datacenter_id)
        .member("date_end")
        .datetime(&stamp_to_datetime(i.date_end))
        .member("date_end_commitment");
    match i.date_end_commitment {
        Some(t) => w.datetime(&stamp_to_datetime(t)),
        None => w.nil(),
    };
    w.member("date_start")
        .datetime(&stamp_to_datetime(i.date_start))
        .member("id")
        .int(i.id)
        .member("name")
        .string(&i.name)
        .member("need_upgrade")
        .boolean(i.need_upgrade)
        .member("servers")
        .begin_array()
        .begin_struct()
        .member("id")
        .int(i.server_id)
        .end_struct()
        .end_array()
        .member("size")
        .string(&i.size)
        .member("state")
        .string(&i.state)
        .member("type")
        .string(&i.kind);
    if extended {
        scratch.clear();
        write_console(scratch, i);
        w.member("console").string(scratch).member("snapshot_profile");
        match i.snapshot_profile {
            Some(p) => w.int(p),
            None => w.nil(),
        };
    }
    w.end_struct();
}

/// The value of filterable field `key` of an instance, as its `paas.list` item shows it (`user`,
/// filterable but not shown, included).
fn instance_field(i: &Instance, key: &str) -> Option<Value> {
    Some(match key {
        "id" => Value::Int(i.id),
        "name" => Value::from(i.name.as_str()),
        "size" => Value::from(i.size.as_str()),
        "type" => Value::from(i.kind.as_str()),
        "state" => Value::from(i.state.as_str()),
        "catalog_name" => Value::String(catalog_name(i)),
        "datacenter_id" => Value::Int(i.datacenter_id),
        "data_disk_additional_size" => Value::Int(i.quantity),
        "need_upgrade" => Value::Bool(i.need_upgrade),
        "date_start" => Value::DateTime(stamp_to_datetime(i.date_start)),
        "date_end" => Value::DateTime(stamp_to_datetime(i.date_end)),
        "date_end_commitment" => i.date_end_commitment.map(stamp_to_datetime).into(),
        "user" => Value::Int(i.user),
        _ => return None,
    })
}

fn console(i: &Instance) -> String {
    let mut s = String::new();
    write_console(&mut s, i);
    s
}

fn write_console(out: &mut String, i: &Instance) {
    use std::fmt::Write as _;
    let _ = write!(out, "{}@console.dc{}.gpaas.net", i.user, i.datacenter_id - 1);
}

/// The `paas.info` struct (the seed's field set, plus the later fields when extended).
pub fn info_value(st: &State, i: &Instance, extended: bool) -> Value {
    let urls = || vec![Value::from(GRAPH_URL)];
    let graph = Struct::new().with("vcpu", urls()).with("vdi", urls()).with("vif", urls());
    let server = Struct::new().with("graph_urls", graph).with("id", i.server_id).with("uuid", i.server_uuid);
    let vhosts: Vec<Value> = st
        .vhosts_of(i.id)
        .into_iter()
        .map(|v| {
            Value::Struct(
                Struct::with_capacity(4)
                    .with("date_creation", stamp_to_datetime(v.date_creation))
                    .with("id", v.id)
                    .with("name", v.name.as_str())
                    .with("state", v.state.as_str()),
            )
        })
        .collect();
    let dc = datacenter(i.datacenter_id).map_or(Value::Nil, |d| d.short(extended));
    let mut s = Struct::with_capacity(24)
        .with("autorenew", Value::Nil)
        .with("catalog_name", catalog_name(i))
        .with("data_disk_additional_size", i.quantity)
        .with("datacenter", dc)
        .with("date_end", stamp_to_datetime(i.date_end))
        .with("date_start", stamp_to_datetime(i.date_start))
        .with("ftp_server", i.ftp_server.as_str())
        .with("id", i.id)
        .with("name", i.name.as_str())
        .with("owner", Struct::new().with("handle", st.account.handle.as_str()).with("id", st.account.id))
        .with("servers", vec![Value::Struct(server)])
        .with("size", i.size.as_str())
        .with("state", i.state.as_str())
        .with("type", i.kind.as_str())
        .with("user", i.user)
        .with("vhosts", vhosts);
    if extended {
        s.insert("console", console(i));
        s.insert("datadisk_total_size", 10.0 + i.quantity as f64);
        s.insert("date_end_commitment", i.date_end_commitment.map(stamp_to_datetime));
        s.insert("git_server", format!("git.dc{}.gpaas.net", i.datacenter_id - 1));
        s.insert("need_upgrade", i.need_upgrade);
        s.insert("snapshot_profile", i.snapshot_profile);
    }
    Value::Struct(s)
}

/// Writes [`info_value`]`(st, i, extended)` straight to `w` (the same bytes).
fn write_info(w: &mut ValueWriter<'_>, st: &State, i: &Instance, extended: bool) {
    let mut text = String::new();
    w.begin_struct().member("autorenew").nil();
    text.push_str(&i.kind);
    text.push('_');
    text.push_str(&i.size);
    w.member("catalog_name").string(&text);
    w.member("data_disk_additional_size").int(i.quantity).member("datacenter");
    match datacenter(i.datacenter_id) {
        Some(d) => w.value(&d.short(extended)),
        None => w.nil(),
    };
    w.member("date_end")
        .datetime(&stamp_to_datetime(i.date_end))
        .member("date_start")
        .datetime(&stamp_to_datetime(i.date_start))
        .member("ftp_server")
        .string(&i.ftp_server)
        .member("id")
        .int(i.id)
        .member("name")
        .string(&i.name)
        .member("owner")
        .begin_struct()
        .member("handle")
        .string(&st.account.handle)
        .member("id")
        .int(st.account.id)
        .end_struct();
    w.member("servers").begin_array().begin_struct().member("graph_urls").begin_struct();
    for name in ["vcpu", "vdi", "vif"] {
        w.member(name).begin_array().string(GRAPH_URL).end_array();
    }
    w.end_struct().member("id").int(i.server_id).member("uuid").int(i.server_uuid).end_struct().end_array();
    w.member("size")
        .string(&i.size)
        .member("state")
        .string(&i.state)
        .member("type")
        .string(&i.kind)
        .member("user")
        .int(i.user)
        .member("vhosts")
        .begin_array();
    for v in st.vhosts_of(i.id) {
        w.begin_struct()
            .member("date_creation")
            .datetime(&stamp_to_datetime(v.date_creation))
            .member("id")
            .int(v.id)
            .member("name")
            .string(&v.name)
            .member("state")
            .string(&v.state)
            .end_struct();
    }
    w.end_array();
    if extended {
        text.clear();
        write_console(&mut text, i);
        w.member("console").string(&text);
        w.member("datadisk_total_size").double(10.0 + i.quantity as f64).member("date_end_commitment");
        match i.date_end_commitment {
            Some(t) => w.datetime(&stamp_to_datetime(t)),
            None => w.nil(),
        };
        text.clear();
        text.push_str("git.dc");
        text.push_str(&(i.datacenter_id - 1).to_string());
        text.push_str(".gpaas.net");
        w.member("git_server").string(&text).member("need_upgrade").boolean(i.need_upgrade);
        w.member("snapshot_profile");
        match i.snapshot_profile {
            Some(p) => w.int(p),
            None => w.nil(),
        };
    }
    w.end_struct();
}

const FIELDS: [(&str, FTy); 13] = [
    ("id", FTy::Int),
    ("name", FTy::Str),
    ("size", FTy::Str),
    ("type", FTy::Str),
    ("state", FTy::Str),
    ("catalog_name", FTy::Str),
    ("datacenter_id", FTy::Int),
    ("data_disk_additional_size", FTy::Int),
    ("need_upgrade", FTy::Bool),
    ("date_start", FTy::Date),
    ("date_end", FTy::Date),
    ("date_end_commitment", FTy::Date),
    ("user", FTy::Int),
];

/// `paas.list(key[, opts])` / `paas.count(key[, opts])`.
///
/// Filters, sorting and paging read the instances directly; only the page returned is turned
/// into values.
pub fn list(ctx: &mut Ctx, args: &Args, count: bool) -> Result<Value, Fault> {
    args.arity(0, 1)?;
    let opts = filter::parse(args.opt_struct(0, "options")?, &FIELDS, &[])?;
    if count {
        return Ok(Value::Int(opts.count(ctx.st.instances.values(), &instance_field)));
    }
    let ext = ctx.cfg.extended_fields;
    let page = opts.select(ctx.st.instances.values().collect(), &|i: &&Instance, key| instance_field(i, key));
    Ok(Value::Array(page.into_iter().map(|i| list_item(i, ext)).collect()))
}

/// Encoded `paas.list` items, reused from call to call.
///
/// An item is a function of its instance and the `extended` setting only, so each entry keeps a
/// copy of the instance it was encoded from and is used only while the instance is still equal
/// to that copy: a change to an instance, wherever it is made, makes its entry miss and be
/// encoded again, and nothing needs to invalidate it. At most [`ListCache::MAX`] entries are
/// kept (the cache is emptied when full).
#[derive(Default)]
pub struct ListCache {
    items: Mutex<HashMap<i64, CachedItem>>,
}

struct CachedItem {
    from: Instance,
    extended: bool,
    xml: EncodedValue,
}

impl ListCache {
    /// The most entries kept (about 1.3 KB each).
    pub const MAX: usize = 10_000;
}

/// `paas.list(key[, opts])`, written straight to `w` (the same bytes as [`list`]'s value), with
/// the items of unchanged instances copied from `cache`.
pub fn list_into(
    ctx: &mut Ctx,
    args: &Args,
    cache: &ListCache,
    w: &mut ValueWriter<'_>,
) -> Result<(), Fault> {
    args.arity(0, 1)?;
    let opts = filter::parse(args.opt_struct(0, "options")?, &FIELDS, &[])?;
    let ext = ctx.cfg.extended_fields;
    let page = opts.select(ctx.st.instances.values().collect(), &|i: &&Instance, key| instance_field(i, key));
    let mut scratch = String::new();
    let mut cached = crate::sync::lock(&cache.items);
    w.begin_array();
    for i in page {
        match cached.get(&i.id) {
            Some(c) if c.extended == ext && c.from == *i => {
                w.encoded(&c.xml);
            }
            _ => match EncodedValue::write(|iw| write_list_item(iw, i, ext, &mut scratch)) {
                Ok(xml) => {
                    w.encoded(&xml);
                    if cached.len() >= ListCache::MAX {
                        cached.clear();
                    }
                    cached.insert(i.id, CachedItem { from: i.clone(), extended: ext, xml });
                }
                // Written again in place, so the error names where the item sits in the list.
                Err(_) => write_list_item(w, i, ext, &mut scratch),
            },
        }
    }
    w.end_array();
    Ok(())
}

/// `paas.info(key, paas_id)`.
pub fn info(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let id = args.int(0, "paas_id")?;
    ctx.st.index_vhosts();
    let i = ctx.st.instances.get(&id).ok_or_else(|| paas_not_found(id))?;
    Ok(info_value(ctx.st, i, ctx.cfg.extended_fields))
}

/// `paas.info(key, paas_id)`, written straight to `w` (the same bytes as [`info`]'s value).
pub fn info_into(ctx: &mut Ctx, args: &Args, w: &mut ValueWriter<'_>) -> Result<(), Fault> {
    args.arity(1, 1)?;
    let id = args.int(0, "paas_id")?;
    ctx.st.index_vhosts();
    let i = ctx.st.instances.get(&id).ok_or_else(|| paas_not_found(id))?;
    write_info(w, ctx.st, i, ctx.cfg.extended_fields);
    Ok(())
}

const CREATE_KEYS: [(&str, Ty); 11] = [
    ("name", Ty::Str),
    ("size", Ty::Str),
    ("type", Ty::Str),
    ("datacenter_id", Ty::Int),
    ("vhosts", Ty::StrList),
    ("quantity", Ty::Int),
    ("duration", Ty::Str),
    ("password", Ty::Str),
    ("snapshot_profile", Ty::Int),
    ("keys", Ty::IntList),
    ("ssh_key", Ty::Str),
];

const CREATE_MANDATORY: [&str; 6] = ["name", "size", "type", "datacenter_id", "duration", "password"];

fn str_of<'a>(p: &'a Struct, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str)
}

fn size_problem(ctx: &Ctx, p: &Struct) -> Option<Problem> {
    let s = str_of(p, "size")?;
    (!catalog::is_size(s, ctx.cfg.allow_s_plus))
        .then(|| enum_problem(code::PAAS_VALUE, "size", s, &catalog::sizes_text(ctx.cfg.allow_s_plus)))
}

fn quantity_problem(p: &Struct) -> Option<Problem> {
    let q = p.get("quantity").and_then(Value::as_i64)?;
    (q < 0).then(|| check::quantity_problem(q))
}

fn profile_problem(p: &Struct) -> Option<Problem> {
    let id = p.get("snapshot_profile").and_then(Value::as_i64)?;
    (!catalog::SNAPSHOT_PROFILE_IDS.contains(&id)).then(|| Problem {
        fault: fault(code::PROFILE_NOT_FOUND, format_args!("Snapshot profile '{id}' doesn't exist.")),
        error: "EC_ENUMIN",
        field: "snapshot_profile".into(),
        field_type: Some("Enum"),
        reason: "snapshot_profile must be one of: 7".into(),
        attr: Some(vec![id.to_string()]),
    })
}

/// Client params worth echoing into op params and the ledger (no password, no dry-run flag,
/// no ssh key text).
fn echo(p: &Struct) -> Params {
    p.iter()
        .filter(|(k, _)| !matches!(*k, "password" | "--dry-run" | "ssh_key"))
        .map(|(k, v)| (k.to_string(), pval(v)))
        .collect()
}

fn pval(v: &Value) -> PVal {
    match v {
        Value::Int(i) => PVal::Int(*i),
        Value::Bool(b) => PVal::Bool(*b),
        Value::String(s) => PVal::Str(clip_long(s)),
        Value::Array(a) => PVal::List(a.iter().map(pval).collect()),
        Value::Nil => PVal::Nil,
        other => PVal::Str(other.type_name().to_string()),
    }
}

fn clip_long(s: &str) -> String {
    s.chars().take(1024).collect()
}

fn dry_or_fault(dry: bool, problems: Vec<Problem>) -> Result<Option<Value>, Fault> {
    if dry {
        return Ok(Some(Value::Array(problems.iter().map(Problem::item).collect())));
    }
    match problems.into_iter().next() {
        Some(p) => Err(p.fault),
        None => Ok(None),
    }
}

/// `paas.create(key, params)`: exactly `[paas_vm_create, paas_disk_create, rproxy_create]`.
pub fn create(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let p = args.structure(0, "params")?;
    let dry = is_dry_run(p);
    let mut problems = check::keys(p, &CREATE_KEYS, &CREATE_MANDATORY, "paas.create");
    problems.extend(size_problem(ctx, p));
    if let Some(t) = str_of(p, "type")
        && !catalog::is_type(t)
    {
        let all: Vec<&str> = catalog::TYPES.iter().map(|t| t.0).collect();
        problems.push(enum_problem(code::PAAS_VALUE, "type", t, &all.join(", ")));
    }
    if let Some(dc) = p.get("datacenter_id").and_then(Value::as_i64) {
        match datacenter(dc) {
            None => problems.push(Problem {
                fault: fault(code::DC_NOT_FOUND, format_args!("Datacenter '{dc}' doesn't exist.")),
                error: "EC_ENUMIN",
                field: "datacenter_id".into(),
                field_type: Some("Enum"),
                reason: "datacenter_id must be an existing datacenter".into(),
                attr: Some(vec![dc.to_string()]),
            }),
            Some(d) if !d.paas_open() => problems.push(Problem {
                fault: fault(code::DC_CLOSED, format_args!("Datacenter '{dc}' is closed for PaaS.")),
                error: "EC_ENUMIN",
                field: "datacenter_id".into(),
                field_type: Some("Enum"),
                reason: "datacenter_id must be a datacenter open for PaaS".into(),
                attr: Some(vec![dc.to_string()]),
            }),
            Some(_) => {}
        }
    }
    if let Some(d) = str_of(p, "duration")
        && check::months(d).is_none()
    {
        problems.push(check::duration_problem(d));
    }
    problems.extend(quantity_problem(p));
    problems.extend(profile_problem(p));
    let vhosts: Vec<String> = p
        .get("vhosts")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(vhost::normalize).collect())
        .unwrap_or_default();
    let mut seen = std::collections::BTreeSet::new();
    for v in &vhosts {
        if !check::is_fqdn(v) {
            problems.push(check::fqdn_problem("vhosts", v));
        } else if !seen.insert(v.clone()) {
            problems.push(vhost::exists_problem("vhosts", v));
        } else if dry {
            // Ownership and uniqueness are checked at once only in a dry run; a real create
            // checks them asynchronously (rproxy_create ends in ERROR), as the seed shows.
            problems.extend(vhost::vhost_problem(ctx.st, "vhosts", v));
        }
    }
    if let Some(v) = dry_or_fault(dry, problems)? {
        return Ok(v);
    }
    let name = clip_long(str_of(p, "name").unwrap_or_default());
    let size = str_of(p, "size").unwrap_or_default().to_string();
    let kind = str_of(p, "type").unwrap_or_default().to_string();
    let dc = p.get("datacenter_id").and_then(Value::as_i64).unwrap_or(1);
    let months = str_of(p, "duration").and_then(check::months).unwrap_or(1);
    let quantity = p.get("quantity").and_then(Value::as_i64).unwrap_or(0);
    let st = &mut *ctx.st;
    let id = State::take_id(&mut st.next.paas);
    let start = paris_stamp(ctx.now);
    let inst = Instance {
        id,
        name: name.clone(),
        kind,
        size,
        datacenter_id: dc,
        quantity,
        date_start: start,
        date_end: add_months(start, months),
        date_end_commitment: None,
        need_upgrade: false,
        state: "being_created".into(),
        user: State::take_id(&mut st.next.user),
        server_id: State::take_id(&mut st.next.server),
        server_uuid: 0,
        ftp_server: datacenter(dc).map(|d| d.ftp_server()).unwrap_or_default(),
        snapshot_profile: p.get("snapshot_profile").and_then(Value::as_i64),
        console: false,
    };
    let product = catalog_name(&inst);
    let server_id = inst.server_id;
    st.instances.insert(id, Instance { server_uuid: server_id, ..inst });
    let mut vm = echo(p);
    vm.insert("server_id".into(), PVal::Int(server_id));
    let mut disk = Params::new();
    disk.insert("datacenter_id".into(), PVal::Int(dc));
    disk.insert("duration".into(), PVal::Str(format!("{months}m")));
    disk.insert("quantity".into(), PVal::Int(quantity));
    let mut rproxy = Params::new();
    rproxy.insert("vhosts".into(), PVal::List(vhosts.iter().map(|v| PVal::Str(v.clone())).collect()));
    let specs = vec![
        OpSpec {
            kind: "paas_vm_create",
            params: vm,
            action: "create",
            effect: Effect::VmCreate,
            billable: true,
        },
        OpSpec {
            kind: "paas_disk_create",
            params: disk,
            action: "create",
            effect: Effect::None,
            billable: false,
        },
        OpSpec {
            kind: "rproxy_create",
            params: rproxy,
            action: "create",
            effect: Effect::RproxyCreate { vhosts },
            billable: false,
        },
    ];
    let ids = operation::start(ctx, id, &name, &product, specs);
    Ok(Value::Array(operation::views(ctx, &ids)))
}

const UPDATE_KEYS: [(&str, Ty); 10] = [
    ("size", Ty::Str),
    ("quantity", Ty::Int),
    ("password", Ty::Str),
    ("name", Ty::Str),
    ("keys", Ty::IntList),
    ("ssh_key", Ty::Str),
    ("upgrade", Ty::Bool),
    ("console", Ty::Bool),
    ("snapshot_profile", Ty::IntOrEmpty),
    ("reset_mysql_password", Ty::Any),
];

/// `paas.update(key, paas_id, params)`: `[paas_vm_update]`, plus `paas_disk_update` when
/// `quantity` is given.
pub fn update(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(2, 2)?;
    let id = args.int(0, "paas_id")?;
    let p = args.structure(1, "params")?;
    require_paas(ctx.st, id)?;
    let dry = is_dry_run(p);
    let mut problems = check::keys(p, &UPDATE_KEYS, &[], "paas.update");
    problems.extend(size_problem(ctx, p));
    problems.extend(quantity_problem(p));
    problems.extend(profile_problem(p));
    if problems.is_empty() && p.keys().all(|k| k == "--dry-run") {
        problems.push(Problem {
            fault: fault(code::PAAS_NOTHING, "nothing to update"),
            error: "EC_MISSINGFIELD",
            field: "params".into(),
            field_type: None,
            reason: "Nothing to update".into(),
            attr: None,
        });
    }
    if let Some(v) = dry_or_fault(dry, problems)? {
        return Ok(v);
    }
    check_lock(ctx, id)?;
    let mut vm = echo(p);
    if let Some(b) = p.get("console").and_then(as_bool) {
        vm.insert("console".into(), PVal::Bool(b));
    }
    let mut specs = vec![OpSpec {
        kind: "paas_vm_update",
        params: vm,
        action: "update",
        effect: Effect::VmUpdate,
        billable: true,
    }];
    if let Some(q) = p.get("quantity").and_then(Value::as_i64) {
        let mut disk = Params::new();
        disk.insert("quantity".into(), PVal::Int(q));
        specs.push(OpSpec {
            kind: "paas_disk_update",
            params: disk,
            action: "update",
            effect: Effect::DiskUpdate,
            billable: false,
        });
    }
    let (label, product) = names(ctx.st, id);
    let ids = operation::start(ctx, id, &label, &product, specs);
    Ok(Value::Array(operation::views(ctx, &ids)))
}

fn names(st: &State, id: i64) -> (String, String) {
    st.instances.get(&id).map(|i| (i.name.clone(), catalog_name(i))).unwrap_or_default()
}

/// `paas.renew(key, paas_id, {duration, [fixed]})`: `[paas_vm_renew, paas_disk_renew]`; at DONE
/// `date_end` moves forward by `duration` calendar months. The ledger entry is carried by
/// `paas_vm_renew`.
pub fn renew(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(2, 2)?;
    let id = args.int(0, "paas_id")?;
    let p = args.structure(1, "params")?;
    require_paas(ctx.st, id)?;
    let dry = is_dry_run(p);
    let mut problems =
        check::keys(p, &[("duration", Ty::Str), ("fixed", Ty::Bool)], &["duration"], "paas.renew");
    if let Some(d) = str_of(p, "duration")
        && check::months(d).is_none()
    {
        problems.push(check::duration_problem(d));
    }
    if let Some(v) = dry_or_fault(dry, problems)? {
        return Ok(v);
    }
    check_lock(ctx, id)?;
    let months = str_of(p, "duration").and_then(check::months).unwrap_or(1);
    let mut vm = echo(p);
    if let Some(b) = p.get("fixed").and_then(as_bool) {
        vm.insert("fixed".into(), PVal::Bool(b));
    }
    let mut disk = Params::new();
    disk.insert("duration".into(), PVal::Str(format!("{months}m")));
    let specs = vec![
        OpSpec {
            kind: "paas_vm_renew",
            params: vm,
            action: "renew",
            effect: Effect::Renew { months },
            billable: true,
        },
        OpSpec {
            kind: "paas_disk_renew",
            params: disk,
            action: "renew",
            effect: Effect::None,
            billable: false,
        },
    ];
    let (label, product) = names(ctx.st, id);
    let ids = operation::start(ctx, id, &label, &product, specs);
    Ok(Value::Array(operation::views(ctx, &ids)))
}

/// `paas.delete(key, paas_id)`: one `paas_delete` op.
pub fn delete(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let id = args.int(0, "paas_id")?;
    require_paas(ctx.st, id)?;
    check_lock(ctx, id)?;
    let (label, product) = names(ctx.st, id);
    let spec = OpSpec {
        kind: "paas_delete",
        params: Params::new(),
        action: "delete",
        effect: Effect::Delete,
        billable: false,
    };
    let ids = operation::start(ctx, id, &label, &product, vec![spec]);
    Ok(operation::views(ctx, &ids).pop().unwrap_or_default())
}

/// `paas.restart(key, paas_id)`: one `paas_vm_restart` op; the instance must not be being created.
pub fn restart(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let id = args.int(0, "paas_id")?;
    let state = ctx.st.instances.get(&id).map(|i| i.state.clone()).ok_or_else(|| paas_not_found(id))?;
    if state == "being_created" {
        return Err(fault(code::PAAS_STATE, format_args!("Paas '{id}' is in state {}", clip(&state))));
    }
    check_lock(ctx, id)?;
    let (label, product) = names(ctx.st, id);
    let spec = OpSpec {
        kind: "paas_vm_restart",
        params: Params::new(),
        action: "restart",
        effect: Effect::None,
        billable: false,
    };
    let ids = operation::start(ctx, id, &label, &product, vec![spec]);
    Ok(operation::views(ctx, &ids).pop().unwrap_or_default())
}
