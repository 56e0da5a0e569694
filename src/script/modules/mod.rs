//! The script modules, registered by name on the engine:
//! `paas::`, `vhost::`, `op::`, `datacenter::`, `snapshot_profile::`, `gandi::`, `xmlrpc::`,
//! `bulk::`, the global date functions (`now()`, `date(…)`, `days(…)`, …) and `set_exit_code`.
//!
//! Every network and clock function is registered volatile (never folded at compile time), with
//! parameter information and a doc comment, and builds its errors with the call's position.

mod bulk;
mod misc;
mod op;
mod paas;
mod time;
mod vhost;

use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map, NativeCallContext, Position};

use super::confirm::{Decision, Mutation};
use super::convert::{to_dynamic, to_value};
use super::error::{api_error, arg_error};
use super::host::{Host, lock};
use super::plan::PlanEntry;
use crate::gandi::params::redact_passwords;
use crate::xmlrpc::{Struct, Value};

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Registers every module and the date functions.
pub(crate) fn register_all(engine: &mut Engine, host: &Arc<Host>) {
    time::register(engine, host);
    engine.register_static_module("paas", paas::module(host).into());
    engine.register_static_module("vhost", vhost::module(host).into());
    engine.register_static_module("op", op::module(host).into());
    engine.register_static_module("datacenter", misc::datacenter(host).into());
    engine.register_static_module("snapshot_profile", misc::snapshot_profile(host).into());
    engine.register_static_module("gandi", misc::gandi(host).into());
    engine.register_static_module("xmlrpc", misc::xmlrpc(host).into());
    engine.register_static_module("bulk", bulk::module(host).into());
    bulk::register_globals(engine, host);
}

/// A volatile registration with parameter info and a doc comment.
fn registration(name: &str, params: &[&str], doc: &str) -> FuncRegistration {
    let comment: String = doc.lines().map(|l| format!("/// {l}\n")).collect();
    FuncRegistration::new(name)
        .with_volatility(true)
        .with_params_info(params)
        .with_comments([comment.trim_end()])
}

/// Registers a volatile module function: `reg!(&mut module, name, params, doc, closure)`.
macro_rules! reg {
    ($m:expr, $name:expr, $params:expr, $doc:expr, $f:expr $(,)?) => {
        $crate::script::modules::registration($name, $params, $doc).set_into_module($m, $f)
    };
}
pub(crate) use reg;

/// The script position of the current native call.
fn pos(ctx: &NativeCallContext) -> Position {
    ctx.call_position()
}

/// An id: an integer, or a map with an integer `id` (an instance, an operation…).
fn id_arg(ctx: &NativeCallContext, function: &str, what: &str, v: &Dynamic) -> Res<i64> {
    if let Ok(i) = v.as_int() {
        return Ok(i);
    }
    if let Some(m) = v.read_lock::<Map>() {
        return match m.get("id").map(Dynamic::as_int) {
            Some(Ok(i)) => Ok(i),
            Some(Err(t)) => {
                Err(arg_error(function, format!("the {what}'s `id` is a {t}, not an integer"), pos(ctx)))
            }
            None => Err(arg_error(function, format!("the {what} map has no `id`"), pos(ctx))),
        };
    }
    Err(arg_error(function, format!("expected a {what} id or a {what} map, got {}", v.type_name()), pos(ctx)))
}

/// A label for a summary: `instance 1 (Mon PaaS)` when a map with a name was given.
fn label(what: &str, id: i64, v: &Dynamic) -> String {
    let name = v.read_lock::<Map>().and_then(|m| m.get("name").and_then(|n| n.clone().into_string().ok()));
    match name {
        Some(n) => format!("{what} {id} ({n})"),
        None => format!("{what} {id}"),
    }
}

/// A string argument, or the `name` of a map (a vhost map gives its FQDN).
fn name_arg(ctx: &NativeCallContext, function: &str, what: &str, v: &Dynamic) -> Res<String> {
    if let Ok(s) = v.clone().into_string() {
        return Ok(s);
    }
    if let Some(m) = v.read_lock::<Map>() {
        if let Some(Ok(s)) = m.get("name").map(|n| n.clone().into_string()) {
            return Ok(s);
        }
        return Err(arg_error(function, format!("the {what} map has no string `name`"), pos(ctx)));
    }
    Err(arg_error(function, format!("expected a {what} name or map, got {}", v.type_name()), pos(ctx)))
}

/// A map argument as an API struct.
fn struct_arg(ctx: &NativeCallContext, function: &str, m: &Map) -> Res<Struct> {
    let mut out = Struct::with_capacity(m.len());
    for (k, v) in m.iter() {
        let v = to_value(v, &format!("argument.{k}"))
            .map_err(|e| arg_error(function, e.to_string(), pos(ctx)))?;
        out.insert(k.as_str(), v);
    }
    Ok(out)
}

/// Any script value as an API value.
fn value_arg(ctx: &NativeCallContext, function: &str, name: &str, v: &Dynamic) -> Res<Value> {
    to_value(v, name).map_err(|e| arg_error(function, e.to_string(), pos(ctx)))
}

/// An API answer as a script value.
fn ret(host: &Host, ctx: &NativeCallContext, function: &str, v: Value) -> Res<Dynamic> {
    to_dynamic(v, &host.zone)
        .map_err(|e| arg_error(function, format!("cannot read the answer: {e}"), pos(ctx)))
}

/// Calls a Gandi method (key added) and returns the answer as a script value.
fn call(
    host: &Host,
    ctx: &NativeCallContext,
    function: &str,
    method: &str,
    args: Vec<Value>,
) -> Res<Dynamic> {
    let v = host.gandi.call(method, args).map_err(|e| api_error(e, pos(ctx)))?;
    ret(host, ctx, function, v)
}

/// Every item of a `*.list` method, paged.
/// Registers `list()` (everything) and `list(filter)` in `m`: `function` is the script name
/// (`paas::list`), `method` the API's (`paas.list`); all pages are fetched.
fn register_list(
    m: &mut rhai::Module,
    host: &Arc<Host>,
    function: &'static str,
    method: &'static str,
    doc_all: &'static str,
    doc_filter: &'static str,
) {
    let h = host.clone();
    reg!(m, "list", &["Array"], doc_all, move |ctx: NativeCallContext| -> Res<Dynamic> {
        list(&h, &ctx, function, method, &Struct::new())
    });
    let h = host.clone();
    reg!(m, "list", &["filter: Map", "Array"], doc_filter, move |ctx: NativeCallContext,
                                                                 filter: Map|
          -> Res<Dynamic> {
        let f = struct_arg(&ctx, function, &filter)?;
        list(&h, &ctx, function, method, &f)
    },);
}

fn list(host: &Host, ctx: &NativeCallContext, function: &str, method: &str, filter: &Struct) -> Res<Dynamic> {
    let items = host.gandi.list_all(method, filter).map_err(|e| api_error(e, pos(ctx)))?;
    ret(host, ctx, function, Value::Array(items))
}

/// A `*.count` call.
fn count(host: &Host, ctx: &NativeCallContext, method: &str, filter: Struct) -> Res<i64> {
    let args = if filter.is_empty() { vec![] } else { vec![Value::Struct(filter)] };
    let v = host.gandi.call(method, args).map_err(|e| api_error(e, pos(ctx)))?;
    v.as_i64().ok_or_else(|| {
        let mut m = Map::new();
        m.insert("kind".into(), "transport".into());
        m.insert("method".into(), method.into());
        m.insert("timeout".into(), false.into());
        m.insert("maybe_applied".into(), false.into());
        m.insert(
            "message".into(),
            format!("{method}: unexpected reply: expected an int, got {}", v.type_name()).into(),
        );
        super::error::map_error(m, pos(ctx))
    })
}

/// A call that changes something. In dry-run mode it is not sent: a plan entry is recorded and
/// returned instead; with `validate`, Gandi's own `'--dry-run'` check is asked for (the last
/// argument must be a struct) and its answer is kept in the entry.
fn mutate(
    host: &Host,
    ctx: &NativeCallContext,
    function: &str,
    method: &str,
    args: Vec<Value>,
    summary: String,
    validate: bool,
) -> Res<Dynamic> {
    if !host.dry_run() {
        let instance = match args.first() {
            Some(Value::Int(id)) if method.starts_with("paas.") => Some(*id),
            _ => None,
        };
        if let Some(skipped) = confirmed(host, ctx, &Mutation::new(function, method, summary, instance))? {
            return Ok(skipped);
        }
        return call(host, ctx, function, method, args);
    }
    let errors = if validate {
        let mut checked = args.clone();
        if let Some(Value::Struct(s)) = checked.last_mut() {
            s.insert("--dry-run", true);
        }
        let answer = host.gandi.call(method, checked).map_err(|e| api_error(e, pos(ctx)))?;
        Some(answer.into_array().unwrap_or_else(|v| vec![v]))
    } else {
        None
    };
    let mut shown = args;
    for a in shown.iter_mut() {
        redact_passwords(a);
    }
    let entry = PlanEntry { method: method.to_string(), args: shown, summary, errors };
    let d = entry.to_dynamic(&host.zone);
    lock(&host.plan).push(entry);
    Ok(d)
}

/// Asks the host's confirmation hook about a change: `None` to send it, or the value a skipped
/// change returns (`#{skipped: true, function, method, summary}`); a declined change is a
/// catchable `#{kind: "declined", function, method, message}` error. Nothing is sent unless
/// `None`.
fn confirmed(host: &Host, ctx: &NativeCallContext, m: &Mutation) -> Res<Option<Dynamic>> {
    match host.confirm(m) {
        Decision::Send => Ok(None),
        Decision::Skip => {
            let mut v = Map::new();
            v.insert("skipped".into(), Dynamic::TRUE);
            v.insert("function".into(), m.function.as_str().into());
            v.insert("method".into(), m.method.as_str().into());
            v.insert("summary".into(), m.summary.as_str().into());
            Ok(Some(Dynamic::from_map(v)))
        }
        _ => Err(declined(ctx, m)),
    }
}

/// The error of a declined change: nothing was sent.
fn declined(ctx: &NativeCallContext, m: &Mutation) -> Box<EvalAltResult> {
    let mut e = Map::new();
    e.insert("kind".into(), "declined".into());
    e.insert("function".into(), m.function.as_str().into());
    e.insert("method".into(), m.method.as_str().into());
    e.insert("message".into(), format!("{}: not confirmed, nothing sent ({})", m.function, m.summary).into());
    super::error::map_error(e, pos(ctx))
}

/// An optional filter: `f()` and `f(#{…})`.
fn filter_or_empty(ctx: &NativeCallContext, function: &str, m: Option<&Map>) -> Res<Struct> {
    match m {
        Some(m) => struct_arg(ctx, function, m),
        None => Ok(Struct::new()),
    }
}
