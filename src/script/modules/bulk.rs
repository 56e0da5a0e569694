//! `bulk::` — many instance changes at once, on the native bulk engine
//! ([`crate::gandi::bulk`]): scripts build the plan as data and read the results; the workers
//! run no script code.
//!
//! ```text
//! let tasks = paas::list().filter(|p| p.date_end.days_until() <= 30).map(|p| bulk::renew_task(p, "12m"));
//! for r in bulk::run(tasks, #{parallel: 8, journal: bulk::default_journal("renew")}) {
//!     print(`${r.id} ${r.outcome}`);
//! }
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, EvalAltResult, Map, Module, NativeCallContext};

use super::{Res, arg_error, confirmed, declined, id_arg, pos, reg, struct_arg};
use crate::gandi::bulk::{self, Action, ItemResult, Journal, Options, Task};
use crate::gandi::throttle::DEFAULT_RATE;
use crate::script::convert::{to_dynamic, to_value};
use crate::script::host::{Host, lock};
use crate::script::limits::Watch;
use crate::script::plan::PlanEntry;
use crate::xmlrpc::{Struct, Value};

pub(super) fn module(host: &Arc<Host>) -> Module {
    let mut m = Module::new();
    m.set_var("DEFAULT_PARALLEL", bulk::DEFAULT_WORKERS as i64);
    m.set_var("DEFAULT_RATE", DEFAULT_RATE as i64);

    reg!(
        &mut m,
        "renew_task",
        &["instance: Map", "duration: &str", "Map"],
        "A renewal for `bulk::run`: `bulk::renew_task(p, \"12m\")` (nothing is sent).\nThe instance map (as `paas::list` gives it) is kept as `before`: its `date_end` tells a renewal already applied from one still to do.",
        |ctx: NativeCallContext, p: Map, duration: &str| -> Res<Map> {
            let params = Struct::new().with("duration", duration);
            task_map(&ctx, "bulk::renew_task", p, "renew", params)
        },
    );
    reg!(
        &mut m,
        "renew_task",
        &["instance: Map", "params: Map", "Map"],
        "A renewal with full parameters: `bulk::renew_task(p, #{duration: \"12m\", fixed: false})`.",
        |ctx: NativeCallContext, p: Map, params: Map| -> Res<Map> {
            let params = struct_arg(&ctx, "bulk::renew_task", &params)?;
            task_map(&ctx, "bulk::renew_task", p, "renew", params)
        },
    );
    reg!(
        &mut m,
        "update_task",
        &["instance: Map", "params: Map", "Map"],
        "An update for `bulk::run`: `bulk::update_task(p, #{size: \"m\", quantity: 10})` (nothing is sent).\nThe instance map is kept as `before`.",
        |ctx: NativeCallContext, p: Map, params: Map| -> Res<Map> {
            let params = struct_arg(&ctx, "bulk::update_task", &params)?;
            task_map(&ctx, "bulk::update_task", p, "update", params)
        },
    );

    let h = host.clone();
    reg!(
        &mut m,
        "run",
        &["tasks: Array", "Array"],
        "Runs tasks (`bulk::renew_task`, `bulk::update_task`) with the default options; see `bulk::run(tasks, opts)`.",
        move |ctx: NativeCallContext, tasks: Array| -> Res<Array> { run(&h, &ctx, tasks, Map::new()) },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "run",
        &["tasks: Array", "opts: Map", "Array"],
        "Runs tasks on parallel workers and returns one result per task, in order:\n`#{index, id, name, action, key, outcome, sends, reconciled, ops, error, after}` with `outcome` one of\n`applied`, `already_applied` (an earlier run did it; found through the journal), `failed`, `cancelled`, `planned` (dry run).\nOne failure never stops the others. A change that may have been applied (lost reply, timeout) is never resent before\nthe instance and its operations show it was not.\nOptions: `parallel` (8), `rate` (calls/s for the whole runtime; 0 = none; default 15 unless the host set one),\n`journal` (a file path; `()` for none), `wait` (true), `wait_timeout` (s, 600), `poll` (s, 1), `verify` (false),\n`max_sends` (6), `settle_ms` (1000), `label`.\nIn dry-run mode nothing is sent: each task becomes a plan entry and its result says `planned`.",
        move |ctx: NativeCallContext, tasks: Array, opts: Map| -> Res<Array> { run(&h, &ctx, tasks, opts) },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "set_rate",
        &["per_second: i64", "()"],
        "Limits the runtime's API calls to this many per second from now on (0: no limit).",
        move |ctx: NativeCallContext, n: i64| -> Res<()> { set_rate(&h, &ctx, "bulk::set_rate", n) },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "rate",
        &["i64"],
        "The runtime's rate limit in calls per second (0: none).",
        move || -> i64 { h.throttle.limiter.rate().map_or(0, i64::from) },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "recent_renewals",
        &["hours: i64", "Map"],
        "The instances the account renewed in the last `hours` hours, by the server's clock: `#{\"<id>\": date}` with the\n`date_created` of each one's newest renewal operation that did not fail (pending ones count). A few fleet-wide\n`operation.list` calls, not one per instance. `std/renew` skips these, so a rerun with no journal renews nothing twice.",
        move |ctx: NativeCallContext, hours: i64| -> Res<Map> { recent(&h, &ctx, hours) },
    );
    let h = host.clone();
    reg!(
        &mut m,
        "default_journal",
        &["name: &str", "String | ()"],
        "Where a bulk script keeps its journal by default: `NAME.journal` in the runtime's journal folder. The CLI's is\n`$GANDISH_STATE_DIR`, else `$XDG_STATE_HOME/gandish/`, else `~/.local/state/gandish/`; `()` when there is none\n(an embedding host that set no journal folder, or none of those variables set).",
        move |name: &str| -> Dynamic {
            h.journal_dir
                .as_ref()
                .map_or(Dynamic::UNIT, |d| journal_in(d, name).to_string_lossy().into_owned().into())
        },
    );
    m
}

/// The global `set_exit_code(n)`.
pub(super) fn register_globals(engine: &mut rhai::Engine, host: &Arc<Host>) {
    let h = host.clone();
    super::registration(
        "set_exit_code",
        &["code: i64", "()"],
        "Asks the host to end with a failure status after the run (0–255; `gandish run` exits 1 for any\nnon-zero code), e.g. `set_exit_code(1)` when some items of a bulk run failed. The run itself goes on.",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, code: i64| -> Res<()> {
        if !(0..=255).contains(&code) {
            return Err(arg_error("set_exit_code", format!("the code must be 0 to 255, got {code}"), pos(&ctx)));
        }
        *lock(&h.exit_code) = Some(code as i32);
        Ok(())
    });
}

/// `DIR/NAME.journal`, with anything but letters, digits, `-` and `_` in the name replaced.
fn journal_in(dir: &std::path::Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    dir.join(format!("{safe}.journal"))
}

fn recent(h: &Host, ctx: &NativeCallContext, hours: i64) -> Res<Map> {
    let f = "bulk::recent_renewals";
    if !(0..=24 * 366).contains(&hours) {
        return Err(arg_error(f, format!("hours must be 0 to 8784 (a year), got {hours}"), pos(ctx)));
    }
    // The server compares its own naive Paris dates, so the bound is the server's time there.
    let server = match h.gandi.server_now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(_) => 0,
    };
    let local = crate::calendar::Zone::EUROPE_PARIS.to_local(server - hours * 3600);
    let since = crate::xmlrpc::DateTime::from_naive_timestamp(local)
        .ok_or_else(|| arg_error(f, "the server's clock is out of range", pos(ctx)))?;
    let found =
        bulk::recent_renewals(&h.gandi, since).map_err(|e| crate::script::error::api_error(e, pos(ctx)))?;
    let mut out = Map::new();
    for (id, op) in found {
        let date = match op.date_created {
            Some(d) => to_dynamic(Value::DateTime(d), &h.zone).unwrap_or(Dynamic::UNIT),
            None => Dynamic::UNIT,
        };
        out.insert(id.to_string().into(), date);
    }
    Ok(out)
}

fn set_rate(h: &Host, ctx: &NativeCallContext, function: &str, n: i64) -> Res<()> {
    if !(0..=100_000).contains(&n) {
        return Err(arg_error(
            function,
            format!("the rate must be 0 (no limit) to 100000 calls/s, got {n}"),
            pos(ctx),
        ));
    }
    h.throttle.limiter.set_rate(if n == 0 { None } else { Some(n as u32) });
    h.rate_configured.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

fn task_map(ctx: &NativeCallContext, function: &str, p: Map, action: &str, params: Struct) -> Res<Map> {
    let inst = Dynamic::from_map(p.clone());
    let id = id_arg(ctx, function, "instance", &inst)?;
    let mut t = Map::new();
    t.insert("id".into(), id.into());
    if let Some(n) = p.get("name").filter(|n| n.is_string()) {
        t.insert("name".into(), n.clone());
    }
    t.insert("action".into(), action.into());
    let params = Value::Struct(params);
    let zone = &crate::calendar::Zone::UTC;
    t.insert(
        "params".into(),
        to_dynamic(params, zone).map_err(|e| arg_error(function, e.to_string(), pos(ctx)))?,
    );
    t.insert("before".into(), Dynamic::from_map(p));
    Ok(t)
}

/// Reads a task map: `#{id, action, params[, name, before]}`.
fn task_of(ctx: &NativeCallContext, i: usize, d: &Dynamic) -> Res<Task> {
    let f = "bulk::run";
    let at = |msg: String| arg_error(f, format!("task {i}: {msg}"), pos(ctx));
    let Some(m) = d.read_lock::<Map>() else {
        return Err(at(format!("expected a task map (see bulk::renew_task), got {}", d.type_name())));
    };
    for k in m.keys() {
        if !matches!(k.as_str(), "id" | "action" | "params" | "name" | "before" | "request") {
            return Err(at(format!(
                "unknown key `{k}` (a task has id, action, params, name, before, request)"
            )));
        }
    }
    let id = match m.get("id").map(Dynamic::as_int) {
        Some(Ok(i)) => i,
        Some(Err(t)) => return Err(at(format!("`id` is a {t}, not an integer"))),
        None => return Err(at("no `id`".into())),
    };
    let params = match m.get("params") {
        Some(p) => match to_value(p, &format!("tasks[{i}].params")).map(Value::into_struct) {
            Ok(Ok(s)) => s,
            Ok(Err(other)) => return Err(at(format!("`params` is a {}, not a map", other.type_name()))),
            Err(e) => return Err(at(e.to_string())),
        },
        None => return Err(at("no `params`".into())),
    };
    let action = match m.get("action").and_then(|a| a.clone().into_string().ok()).as_deref() {
        Some("renew") => {
            for k in params.keys() {
                if k != "duration" && k != "fixed" {
                    return Err(at(format!("renew: unknown parameter `{k}` (duration, fixed)")));
                }
            }
            let Some(duration) = params.get("duration").and_then(Value::as_str) else {
                return Err(at("renew: `params.duration` must be a string such as \"12m\"".into()));
            };
            let fixed = match params.get("fixed") {
                None => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(v) => return Err(at(format!("renew: `fixed` must be a bool, got {}", v.type_name()))),
            };
            Action::Renew { duration: duration.to_string(), fixed }
        }
        Some("update") => {
            if params.is_empty() {
                return Err(at("update: `params` is empty".into()));
            }
            Action::Update { params }
        }
        Some(other) => return Err(at(format!("unknown action `{other}` (renew, update)"))),
        None => return Err(at("`action` must be \"renew\" or \"update\"".into())),
    };
    let name = m.get("name").and_then(|n| n.clone().into_string().ok());
    let before = match m.get("before") {
        None => None,
        Some(b) if b.is_unit() => None,
        Some(b) => match to_value(b, &format!("tasks[{i}].before")).map(Value::into_struct) {
            Ok(Ok(s)) => Some(s),
            Ok(Err(other)) => return Err(at(format!("`before` is a {}, not a map", other.type_name()))),
            Err(e) => return Err(at(e.to_string())),
        },
    };
    let request = match m.get("request") {
        None => None,
        Some(r) if r.is_unit() => None,
        Some(r) => {
            Some(r.clone().into_string().map_err(|t| at(format!("`request` must be a string, got {t}")))?)
        }
    };
    Ok(Task { paas_id: id, name, action, before, request })
}

struct Settings {
    workers: usize,
    journal: Option<PathBuf>,
    wait: bool,
    wait_timeout: Duration,
    poll: Duration,
    verify: bool,
    max_sends: u32,
    settle: Duration,
    label: String,
}

fn settings(h: &Host, ctx: &NativeCallContext, opts: &Map) -> Res<Settings> {
    let f = "bulk::run";
    let bad = |msg: String| arg_error(f, msg, pos(ctx));
    let int = |k: &str, lo: i64, hi: i64| -> Res<Option<i64>> {
        match opts.get(k) {
            None => Ok(None),
            Some(v) => match v.as_int() {
                Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
                Ok(n) => Err(bad(format!("option `{k}` must be {lo} to {hi}, got {n}"))),
                Err(t) => Err(bad(format!("option `{k}` must be an integer, got {t}"))),
            },
        }
    };
    let flag = |k: &str, default: bool| -> Res<bool> {
        match opts.get(k) {
            None => Ok(default),
            Some(v) => v.as_bool().map_err(|t| bad(format!("option `{k}` must be a bool, got {t}"))),
        }
    };
    let secs = |k: &str, default: Duration| -> Res<Duration> {
        match opts.get(k) {
            None => Ok(default),
            Some(v) => {
                let s = v.as_float().or_else(|_| v.as_int().map(|i| i as f64));
                match s {
                    Ok(s) if s > 0.0 && s <= 86_400.0 * 7.0 => Ok(Duration::from_secs_f64(s)),
                    Ok(s) => {
                        Err(bad(format!("option `{k}` must be more than 0 and at most a week, got {s}")))
                    }
                    Err(t) => Err(bad(format!("option `{k}` must be a number of seconds, got {t}"))),
                }
            }
        }
    };
    for k in opts.keys() {
        if !matches!(
            k.as_str(),
            "parallel"
                | "rate"
                | "journal"
                | "wait"
                | "wait_timeout"
                | "poll"
                | "verify"
                | "max_sends"
                | "settle_ms"
                | "label"
        ) {
            return Err(bad(format!(
                "unknown option `{k}` (parallel, rate, journal, wait, wait_timeout, poll, verify, max_sends, settle_ms, label)"
            )));
        }
    }
    let journal = match opts.get("journal") {
        None => None,
        Some(j) if j.is_unit() => None,
        Some(j) if j.as_bool() == Ok(false) => None,
        Some(j) => match j.clone().into_string() {
            Ok(s) if !s.is_empty() => Some(PathBuf::from(s)),
            Ok(_) => return Err(bad("option `journal` is empty".into())),
            Err(t) => return Err(bad(format!("option `journal` must be a file path, got {t}"))),
        },
    };
    let label = match opts.get("label") {
        None => "bulk".to_string(),
        Some(l) => {
            l.clone().into_string().map_err(|t| bad(format!("option `label` must be a string, got {t}")))?
        }
    };
    Ok(Settings {
        workers: int("parallel", 1, 64)?.unwrap_or(bulk::DEFAULT_WORKERS as i64) as usize,
        journal,
        wait: flag("wait", true)?,
        wait_timeout: secs("wait_timeout", h.wait_timeout)?,
        poll: secs("poll", h.poll_interval)?,
        verify: flag("verify", false)?,
        max_sends: int("max_sends", 1, 100)?.unwrap_or(6) as u32,
        settle: Duration::from_millis(int("settle_ms", 0, 600_000)?.unwrap_or(1000) as u64),
        label,
    })
}

fn run(h: &Host, ctx: &NativeCallContext, tasks: Array, opts: Map) -> Res<Array> {
    let f = "bulk::run";
    let s = settings(h, ctx, &opts)?;
    let parsed: Vec<Task> = tasks.iter().enumerate().map(|(i, t)| task_of(ctx, i, t)).collect::<Res<_>>()?;
    if h.dry_run() {
        return Ok(parsed.iter().enumerate().map(|(i, t)| planned(h, i, t)).collect());
    }
    // One question for the batch, before its first send; skipping a batch declines it.
    if let Some(first) = parsed.first() {
        let n = parsed.len();
        let summary = format!("{} ({n} change{} in all)", first.summary(), if n == 1 { "" } else { "s" });
        let m = crate::script::Mutation::new(f, first.method(), summary, None);
        if confirmed(h, ctx, &m)?.is_some() {
            return Err(declined(ctx, &m));
        }
    }
    match opts.get("rate").map(Dynamic::as_int) {
        Some(Ok(n)) => set_rate(h, ctx, f, n)?,
        Some(Err(t)) => {
            return Err(arg_error(f, format!("option `rate` must be an integer, got {t}"), pos(ctx)));
        }
        None => {
            if !h.rate_configured.load(std::sync::atomic::Ordering::Relaxed) {
                set_rate(h, ctx, f, i64::from(DEFAULT_RATE))?;
            }
        }
    }
    let journal = match &s.journal {
        Some(p) => Some(Journal::open(p).map_err(|e| journal_error(f, &e, pos(ctx)))?),
        None => None,
    };
    if let (Some(j), Some(hook)) = (&journal, &h.on_bulk)
        && let Some(message) = j.repair()
    {
        hook(&bulk::Event::Warning { label: &s.label, message });
    }
    let watch = Watch::current(&h.cancel);
    let cancel = || watch.stop().is_some();
    let hook = h.on_bulk.clone();
    let progress = move |e: &bulk::Event<'_>| {
        if let Some(hook) = &hook {
            hook(e)
        }
    };
    let options = Options {
        workers: s.workers,
        journal: journal.as_ref(),
        wait: s.wait,
        wait_timeout: s.wait_timeout,
        poll_interval: s.poll,
        verify: s.verify,
        max_sends: s.max_sends,
        settle: s.settle,
        label: s.label,
        progress: Some(&progress),
        cancel: Some(&cancel),
    };
    let results = bulk::run(&h.gandi, &parsed, &options).map_err(|e| {
        let mut m = Map::new();
        m.insert("kind".into(), "bulk".into());
        m.insert("message".into(), format!("{f}: {e}").into());
        super::super::error::map_error(m, pos(ctx))
    })?;
    if let Some(stop) = watch.stop() {
        return Err(EvalAltResult::ErrorTerminated(stop.token(), pos(ctx)).into());
    }
    Ok(results.into_iter().map(|r| result_map(h, r)).collect())
}

/// A journal that cannot be used: `kind: "journal"`, with `locked` when another run holds it.
/// Nothing was sent.
fn journal_error(f: &str, e: &bulk::JournalError, pos: rhai::Position) -> Box<EvalAltResult> {
    let mut m = Map::new();
    m.insert("kind".into(), "journal".into());
    m.insert("locked".into(), matches!(e, bulk::JournalError::Locked { .. }).into());
    m.insert("message".into(), format!("{f}: {e}; nothing was sent").into());
    super::super::error::map_error(m, pos)
}

fn planned(h: &Host, i: usize, t: &Task) -> Dynamic {
    let entry =
        PlanEntry { method: t.method().to_string(), args: t.args(), summary: t.summary(), errors: None };
    lock(&h.plan).push(entry);
    let mut m = Map::new();
    m.insert("index".into(), (i as i64).into());
    m.insert("id".into(), t.paas_id.into());
    m.insert("name".into(), t.name.clone().map_or(Dynamic::UNIT, Dynamic::from));
    m.insert("action".into(), t.action_name().into());
    m.insert("key".into(), t.key().into());
    m.insert("outcome".into(), "planned".into());
    m.insert("summary".into(), t.summary().into());
    m.insert("sends".into(), 0_i64.into());
    m.insert("reconciled".into(), 0_i64.into());
    m.insert("ops".into(), Dynamic::from_array(Array::new()));
    m.insert("error".into(), Dynamic::UNIT);
    m.insert("after".into(), Dynamic::UNIT);
    Dynamic::from_map(m)
}

fn result_map(h: &Host, r: ItemResult) -> Dynamic {
    let mut m = Map::new();
    m.insert("index".into(), (r.index as i64).into());
    m.insert("id".into(), r.paas_id.into());
    m.insert("name".into(), r.name.map_or(Dynamic::UNIT, Dynamic::from));
    m.insert("action".into(), r.action.into());
    m.insert("key".into(), r.key.into());
    m.insert("outcome".into(), r.outcome.as_str().into());
    m.insert("sends".into(), i64::from(r.sends).into());
    m.insert("reconciled".into(), i64::from(r.reconciled).into());
    m.insert("ops".into(), Dynamic::from_array(r.ops.into_iter().map(Dynamic::from).collect()));
    m.insert("error".into(), r.error.map_or(Dynamic::UNIT, Dynamic::from));
    let after = r.after.map(|s| to_dynamic(Value::Struct(s), &h.zone).unwrap_or(Dynamic::UNIT));
    m.insert("after".into(), after.unwrap_or(Dynamic::UNIT));
    Dynamic::from_map(m)
}
