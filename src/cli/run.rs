//! `gandish run` and `gandish eval`: run a script (a file or a bundled `std/NAME`) or an
//! expression, print its value (and the dry-run plan), render errors with a caret, and map the
//! outcome to an exit status. Also `--lock` (one run at a time) and `--report` (a JSON file).

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::args::run::{EvalArgs, LogFormat, RunArgs};
use rhai::{AST, Dynamic, Engine, Map, Scope};

use super::confirm::Confirmer;
use super::exit::{CliError, Exit, script_exit};
use super::interrupt;
use super::render::{Render, ScriptSource, render_error, render_plan, render_value, to_result_text};
use super::settings::{Settings, runtime};
use crate::Runtime;
use crate::script::Error;
use crate::script::resolver::{STDLIB, stdlib_names};

/// Reads a `KEY=VALUE` value: a Rhai literal if it is one, else the text as a string.
pub fn parse_value(text: &str) -> Dynamic {
    let t = text.trim();
    let number = {
        let body = t.strip_prefix('-').unwrap_or(t);
        !body.is_empty()
            && body.starts_with(|c: char| c.is_ascii_digit())
            && (body.chars().all(|c| c.is_ascii_digit() || c == '_')
                || is_float(body)
                || (body.starts_with("0x") && body[2..].chars().all(|c| c.is_ascii_hexdigit() || c == '_')))
    };
    let literal = number
        || matches!(t, "true" | "false" | "()")
        || t.starts_with(['"', '`', '\'', '['])
        || t.starts_with("#{");
    if literal {
        let mut engine = Engine::new_raw();
        engine.set_max_operations(10_000).set_max_expr_depths(32, 32).set_strict_variables(true);
        if let Ok(v) = engine.eval_expression::<Dynamic>(t) {
            return v;
        }
    }
    Dynamic::from(text.to_string())
}

fn is_float(s: &str) -> bool {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mant_ok = match mant.split_once('.') {
        Some((a, b)) => {
            !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit())
        }
        None => exp.is_some() && !mant.is_empty() && mant.chars().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mant_ok && exp_ok
}

/// The `ARGS` map from `KEY=VALUE` arguments.
pub fn parse_args(args: &[String]) -> Result<Map, CliError> {
    let mut map = Map::new();
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            return Err(CliError::usage(format!(
                "script argument {a:?} is not KEY=VALUE (e.g. days=30 or name=web01)"
            )));
        };
        let valid = k.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !valid {
            return Err(CliError::usage(format!(
                "script argument {a:?}: the key {k:?} must be a name (letters, digits, _)"
            )));
        }
        if map.insert(k.into(), parse_value(v)).is_some() {
            return Err(CliError::usage(format!("script argument {k} is given twice")));
        }
    }
    Ok(map)
}

/// Sets up Ctrl-C (and SIGTERM) to cancel the runtime's runs (through [`interrupt`]); a second
/// one exits 130 at once. Returns the flag telling whether it happened, and the guard keeping the
/// hook registered.
pub fn install_interrupt(rt: &Runtime) -> (Arc<AtomicBool>, interrupt::HookGuard) {
    let flag = Arc::new(AtomicBool::new(false));
    if let Err(e) = interrupt::install() {
        eprintln!("warning: {e}");
    }
    let cancel = rt.cancel_handle();
    let f = flag.clone();
    let guard = interrupt::on_interrupt(move || {
        if f.swap(true, Ordering::SeqCst) {
            return false; // the second one: exit now
        }
        cancel.cancel();
        true
    });
    (flag, guard)
}

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Takes the `--lock` file, or says who holds it and since when (exit 75; exit 1 when it has
/// been held for longer than `stale_after`). The holder writes `PID START_UNIX_SECONDS`.
pub fn acquire_lock(path: &Path, stale_after: Option<std::time::Duration>) -> Result<RunLock, CliError> {
    let mut file =
        File::options().read(true).write(true).create(true).truncate(false).open(path).map_err(|e| {
            CliError::usage(format!("cannot open the lock file {}: {e}; nothing was sent", path.display()))
        })?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = writeln!(file, "{} {}", std::process::id(), unix_now());
            Ok(RunLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let mut parts = text.split_whitespace();
            let pid = parts.next().filter(|p| p.bytes().all(|b| b.is_ascii_digit()));
            let held =
                parts.next().and_then(|s| s.parse::<i64>().ok()).map(|t| (unix_now() - t).max(0) as u64);
            let mut by = pid.map(|p| format!(" (pid {p}")).unwrap_or_default();
            if let Some(secs) = held {
                by.push_str(&format!("{}for {}", if pid.is_some() { ", " } else { " (" }, human_secs(secs)));
            }
            if !by.is_empty() {
                by.push(')');
            }
            if let (Some(limit), Some(secs)) = (stale_after, held)
                && secs > limit.as_secs()
            {
                return Err(CliError::rendered(
                    Exit::Failure,
                    format!(
                        "error: the lock {} is stale: held{by}, longer than --stale-after {}; that run looks stuck (not running)",
                        path.display(),
                        human_secs(limit.as_secs())
                    ),
                ));
            }
            Err(CliError::rendered(
                Exit::Locked,
                format!("error: another gandish run holds the lock {}{by}; not running", path.display()),
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(CliError::usage(format!("cannot lock {}: {e}; nothing was sent", path.display())))
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `95 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
fn human_secs(s: u64) -> String {
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The temporary file [`write_atomic`] writes before renaming it to `path`: in the same folder,
/// so that the rename is atomic.
fn temp_beside(path: &Path) -> PathBuf {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `text` to `path` atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Checks, before the run sends anything, that [`write_atomic`] will be able to write the report
/// at `path`: the path is not a folder, and its temporary file can be created and written in its
/// folder (then removed). Otherwise a usage error (exit 2) naming the path and the reason.
pub fn check_report(path: &Path) -> Result<(), CliError> {
    check_writable(path, "report")
}

/// [`check_report`] for any file written at the end of a run; `what` names it in the error.
fn check_writable(path: &Path, what: &str) -> Result<(), CliError> {
    let refuse = |why: String| {
        CliError::usage(format!("cannot write the {what} {}: {why}; nothing was sent", path.display()))
    };
    if path.is_dir() {
        return Err(refuse("it is a folder".into()));
    }
    let tmp = temp_beside(path);
    let probe = File::create(&tmp).and_then(|mut f| f.write_all(b"{}\n").and_then(|()| f.sync_all()));
    let _ = std::fs::remove_file(&tmp);
    probe.map_err(|e| match tmp.parent() {
        Some(dir) if e.kind() == std::io::ErrorKind::NotFound => {
            refuse(format!("the folder {} does not exist", dir.display()))
        }
        _ => refuse(e.to_string()),
    })
}

/// What to run.
enum Script {
    File(PathBuf),
    Std(&'static str, &'static str),
    Text(String),
    /// `run -`: the script read from standard input.
    Stdin(String),
}

fn resolve_script(name: &str) -> Result<Script, CliError> {
    if name == "-" {
        let text = std::io::read_to_string(std::io::stdin())
            .map_err(|e| CliError::usage(format!("cannot read the script from standard input: {e}")))?;
        return Ok(Script::Stdin(text));
    }
    if let Some(n) = name.strip_prefix("std/") {
        let n = n.strip_suffix(".rhai").unwrap_or(n);
        if let Some((k, text)) = STDLIB.iter().find(|(k, _)| *k == n) {
            return Ok(Script::Std(k, text));
        }
        if !Path::new(name).exists() {
            let names: Vec<String> = stdlib_names().map(|n| format!("std/{n}")).collect();
            return Err(CliError::usage(format!(
                "there is no bundled script {name}; the bundled scripts are: {}",
                names.join(", ")
            )));
        }
    }
    Ok(Script::File(PathBuf::from(name)))
}

/// Compiles and runs; returns the source (for error rendering), and the outcome.
fn execute(rt: &Runtime, script: &Script, scope: &mut Scope) -> (ScriptSource, Result<Dynamic, Error>) {
    let compiled: (ScriptSource, Result<AST, Error>) = match script {
        Script::File(path) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let canonical = std::fs::canonicalize(path).ok().map(|p| p.to_string_lossy().into_owned());
            let src = ScriptSource { display: path.display().to_string(), text, canonical };
            (src, rt.compile_file_with_scope(scope, path))
        }
        Script::Std(name, text) => {
            let display = format!("std/{name}");
            let ast = rt.compile_with_scope(scope, text).map(|mut a| {
                a.set_source(display.as_str());
                a
            });
            (ScriptSource { display: display.clone(), text: text.to_string(), canonical: Some(display) }, ast)
        }
        Script::Text(text) => {
            let src = ScriptSource { display: "<eval>".into(), text: text.clone(), canonical: None };
            (src, rt.compile_with_scope(scope, text))
        }
        Script::Stdin(text) => {
            let src = ScriptSource { display: "<stdin>".into(), text: text.clone(), canonical: None };
            (src, rt.compile_with_scope(scope, text))
        }
    };
    let (src, ast) = compiled;
    let result = ast.and_then(|ast| rt.run_ast_with_scope(scope, &ast));
    (src, result)
}

/// The full text for stderr of a failed run: the rendered error and, where useful, a note.
pub fn error_text(
    e: &Error,
    src: &ScriptSource,
    settings: &Settings,
    rt: &Runtime,
    interrupted: bool,
) -> String {
    if interrupted && matches!(e, Error::Cancelled { .. }) {
        return "interrupted\n".into();
    }
    // Refused arguments: the message says what to pass; where in the script it was thrown
    // does not help the user.
    if let Error::Usage { message, .. } = e {
        return format!("error: {message}\n");
    }
    let mut text = render_error(e, src, settings.color);
    text.push_str(&super::suggest::script_help(e, rt));
    if matches!(e, Error::Fault { .. }) && settings.api_key().is_none() {
        text.push_str(
            "note: no API key is configured: give --api-key, set GANDI_API_KEY, or set api_key in the config file\n",
        );
    }
    text
}

/// The end of a run stopped by Ctrl-C or SIGTERM (exit 130), whatever the script's outcome:
/// the call in flight was cut off, so its result (or error) is not the story. Bulk runs say
/// what they applied and what was pending.
fn interruption(settings: &Settings) -> CliError {
    let text = format!("interrupted\n{}", settings.bulk.interruption_summary());
    CliError::rendered(Exit::Interrupted, settings.redactor().apply(text.trim_end()).into_owned())
}

/// Prints `text` on stdout; a closed pipe is not an error.
pub fn print_stdout(settings: &Settings, text: &str) -> Result<(), CliError> {
    if text.is_empty() {
        return Ok(());
    }
    let text = settings.redactor().apply(text).into_owned();
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::failure(format!("cannot write the output: {e}"))),
    }
}

/// Prints the value and the plan of a finished run.
fn print_outcome(settings: &Settings, rt: &Runtime, value: Option<&Dynamic>) -> Result<(), CliError> {
    if let Some(v) = value {
        print_stdout(settings, &render_value(v, &Render::stdout(settings.json, rt.zone().clone())))?;
    }
    let plan = render_plan(&rt.take_plan());
    if settings.json || value.is_none() {
        // Keep stdout a single JSON document (or clean after a failure): the plan goes to stderr.
        if !plan.is_empty() {
            settings.progress.eprintln(settings.redactor().apply(plan.trim_end()).as_ref());
        }
    } else {
        print_stdout(settings, &plan)?;
    }
    Ok(())
}

fn summary(settings: &Settings, rt: &Runtime, started: Instant) {
    if settings.verbose > 0 {
        let calls = rt.calls();
        let in_calls: f64 = calls.iter().map(|c| c.duration.as_secs_f64()).sum();
        settings.progress.eprintln(&format!(
            "{} call{} ({:.1} ms in calls), {:.1} ms in all",
            calls.len(),
            if calls.len() == 1 { "" } else { "s" },
            in_calls * 1000.0,
            started.elapsed().as_secs_f64() * 1000.0
        ));
    }
}

/// `gandish run`: the run, then its `--metrics-file`.
pub fn run(args: &RunArgs, settings: &Settings) -> Result<(), CliError> {
    let start_unix = super::metrics::unix_now();
    let mut items = Vec::new();
    let outcome = run_script(args, settings, &mut items);
    let (calls, rate_limit_faults) = settings.calls.counts();
    let metrics = super::metrics::RunMetrics {
        script: args.script.clone(),
        exit: outcome.as_ref().err().map_or(0, |e| e.exit.code()),
        start_unix,
        end_unix: super::metrics::unix_now(),
        calls,
        rate_limit_faults,
        bulk: settings.bulk.runs(),
        items,
    };
    // A run that found the lock held (75) leaves the metrics file alone: the holder is running
    // and writes its own when it ends, and a 75 is not a failure to alert on.
    let outcome = match &args.metrics_file {
        Some(path) if !matches!(&outcome, Err(e) if e.exit == Exit::Locked) => {
            let text = settings.redactor().apply(&metrics.render()).into_owned();
            written(write_atomic(path, &text), "metrics file", path, outcome)
        }
        _ => outcome,
    };
    if args.log_format != LogFormat::Json {
        return outcome;
    }
    // One line for the whole end of the run: the error, text otherwise, is inside it, so that
    // every line a log collector gets from here parses as JSON.
    let status = outcome.as_ref().err().map_or("ok", |e| status_name(e.exit));
    let error = outcome.as_ref().err().map(|e| e.message.as_str());
    let line = settings.redactor().apply(&metrics.log_line(status, error)).into_owned();
    match outcome {
        Ok(()) => {
            settings.progress.eprintln(&line);
            Ok(())
        }
        Err(e) => Err(CliError::rendered(e.exit, line)),
    }
}

/// The outcome of a run after writing its `what` (report, metrics file) at `path`: unchanged if
/// it was written, else with the error added (a success becomes exit 1), so what the user sees
/// of the run is never hidden by a file that could not be written.
fn written(
    write: std::io::Result<()>,
    what: &str,
    path: &Path,
    outcome: Result<(), CliError>,
) -> Result<(), CliError> {
    let Err(e) = write else { return outcome };
    let line = format!("error: cannot write the {what} {}: {e}", path.display());
    Err(match outcome {
        Ok(()) => CliError::rendered(Exit::Failure, line),
        Err(mut err) => {
            err.message = format!("{}\n{line}", err.message);
            err
        }
    })
}

/// `gandish run` itself, with its `--lock` and `--report`.
/// `items` gets the outcome counts of the script's report (see [`report_items`]).
fn run_script(args: &RunArgs, settings: &Settings, items: &mut Vec<(String, i64)>) -> Result<(), CliError> {
    let script = resolve_script(&args.script)?;
    let map = parse_args(&args.args)?;
    let _lock = args.lock.as_deref().map(|p| acquire_lock(p, args.stale_after)).transpose()?;
    // Before anything is sent: a run that could not record its report would leave the user
    // unsure what it changed. (The journal is opened by `bulk::run` before its first send.)
    if let Some(path) = &args.report {
        check_report(path)?;
    }
    if let Some(path) = &args.metrics_file {
        check_writable(path, "metrics file")?;
    }
    let rt = runtime(settings)?;
    let _confirm = Confirmer::install(&rt, settings.yes, settings.dry_run);
    let (interrupted, _hook) = install_interrupt(&rt);
    let deadline = args.deadline.map(|d| Deadline::start(&rt, d));
    let started = Instant::now();
    let mut scope = Scope::new();
    scope.push("ARGS", map);
    let (src, result) = execute(&rt, &script, &mut scope);
    let deadline_hit = deadline.is_some_and(Deadline::stop);
    settings.progress.finish();
    summary(settings, &rt, started);
    // What the user sees comes first: a report that cannot be written must not hide it.
    let outcome = if deadline_hit {
        print_outcome(settings, &rt, None)?;
        let limit = args.deadline.map_or(0, |d| d.as_secs());
        let text = format!(
            "error: --deadline reached after {}; the run was stopped\n{}",
            human_secs(limit),
            settings.bulk.interruption_summary()
        );
        Err(CliError::rendered(Exit::Deadline, settings.redactor().apply(text.trim_end()).into_owned()))
    } else if interrupted.load(Ordering::SeqCst) {
        Err(interruption(settings))
    } else {
        match &result {
            Ok(v) => {
                print_outcome(settings, &rt, Some(v))?;
                // The script asked for a failure status (`set_exit_code`), e.g. std/renew when
                // some renewals failed: its output stands, the status is 1.
                match rt.exit_code() {
                    Some(code) if code != 0 => Err(CliError::rendered(
                        Exit::Failure,
                        format!("error: the script reported failures (set_exit_code({code}))"),
                    )),
                    _ => Ok(()),
                }
            }
            Err(e) => {
                print_outcome(settings, &rt, None)?;
                let text = error_text(e, &src, settings, &rt, false);
                Err(CliError::rendered(script_exit(e), text.trim_end()))
            }
        }
    };
    let base = scope.get_value::<Dynamic>("REPORT").or_else(|| result.as_ref().ok().cloned());
    *items = report_items(base.as_ref());
    let Some(path) = &args.report else { return outcome };
    let text =
        settings.redactor().apply(&to_result_text(&report(base, &outcome, settings), rt.zone())).into_owned();
    written(write_atomic(path, &text), "report", path, outcome)
}

/// The outcome counts of a bundled script's report (a map with a `report` member, as
/// `std/renew` and `std/resize` return): its integer `renewed`, `resized`, `still_due`,
/// `skipped`, `failed` and `planned`, for the metrics file. Other values give none.
fn report_items(base: Option<&Dynamic>) -> Vec<(String, i64)> {
    let Some(map) = base.and_then(|b| b.read_lock::<Map>()) else { return Vec::new() };
    if !map.contains_key("report") {
        return Vec::new();
    }
    ["renewed", "resized", "still_due", "skipped", "failed", "planned"]
        .into_iter()
        .filter_map(|k| Some((k.to_string(), map.get(k)?.as_int().ok()?)))
        .collect()
}

/// The `status` a report and a JSON log line give a failed run's exit.
fn status_name(exit: Exit) -> &'static str {
    match exit {
        Exit::Usage => "refused",
        Exit::Fault => "fault",
        Exit::Transport => "transport",
        Exit::Locked => "locked",
        Exit::Deadline => "deadline",
        Exit::Interrupted => "interrupted",
        _ => "failed",
    }
}

/// The `--report` document: the script's REPORT (or value) with `run: {status, exit, error,
/// bulk}` added, so a report always says how the run ended, even when the script never got to
/// set one. `status` is `ok`, `failed`, `refused`, `fault`, `transport`, `locked`, `deadline`
/// or `interrupted`; `bulk` lists each bulk run's counts so far.
fn report(base: Option<Dynamic>, outcome: &Result<(), CliError>, settings: &Settings) -> Dynamic {
    let (status, exit, error) = match outcome {
        Ok(()) => ("ok", 0, None),
        Err(e) => (status_name(e.exit), e.exit.code(), Some(e.message.clone())),
    };
    let bulk: rhai::Array = settings
        .bulk
        .runs()
        .into_iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("label".into(), r.label.into());
            m.insert("total".into(), (r.total as i64).into());
            m.insert("applied".into(), (r.applied as i64).into());
            m.insert("already_applied".into(), (r.already as i64).into());
            m.insert("failed".into(), (r.failed as i64).into());
            m.insert("finished".into(), r.finished.into());
            Dynamic::from_map(m)
        })
        .collect();
    let mut run = Map::new();
    run.insert("status".into(), status.into());
    run.insert("exit".into(), i64::from(exit).into());
    run.insert("error".into(), error.map_or(Dynamic::UNIT, Dynamic::from));
    run.insert("bulk".into(), Dynamic::from_array(bulk));
    let mut doc = match base {
        Some(b) if b.is_map() => b.cast::<Map>(),
        Some(b) if !b.is_unit() => Map::from_iter([("value".into(), b)]),
        _ => Map::new(),
    };
    doc.insert("run".into(), Dynamic::from_map(run));
    Dynamic::from_map(doc)
}

/// Ends a run at its `--deadline`: a thread that cancels the runtime (as Ctrl-C does, cutting
/// off the call in flight) unless the run ended first.
struct Deadline {
    done: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Deadline {
    fn start(rt: &Runtime, after: std::time::Duration) -> Deadline {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let cancel = rt.cancel_handle();
        let thread = std::thread::spawn(move || match wait.recv_timeout(after) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                cancel.cancel();
                true
            }
            _ => false,
        });
        Deadline { done, thread }
    }

    /// Stops the timer; whether it had fired.
    fn stop(self) -> bool {
        let _ = self.done.send(());
        self.thread.join().unwrap_or(false)
    }
}

/// `gandish eval`.
pub fn eval(args: &EvalArgs, settings: &Settings) -> Result<(), CliError> {
    let rt = runtime(settings)?;
    let _confirm = Confirmer::install(&rt, settings.yes, settings.dry_run);
    let (interrupted, _hook) = install_interrupt(&rt);
    let started = Instant::now();
    let (src, result) = execute(&rt, &Script::Text(args.expr.clone()), &mut Scope::new());
    settings.progress.finish();
    summary(settings, &rt, started);
    if interrupted.load(Ordering::SeqCst) {
        return Err(interruption(settings));
    }
    match result {
        Ok(v) => print_outcome(settings, &rt, Some(&v)),
        Err(e) => {
            print_outcome(settings, &rt, None)?;
            let text = error_text(&e, &src, settings, &rt, interrupted.load(Ordering::SeqCst));
            Err(CliError::rendered(script_exit(&e), text.trim_end()))
        }
    }
}

/// Runs a script file once for the watcher, with `ARGS` (shared with [`run`]); returns the
/// outcome and the text to show for an error.
pub(crate) fn run_once(
    rt: &Runtime,
    settings: &Settings,
    path: &Path,
    args: &Map,
) -> Result<(), (Exit, String)> {
    let mut scope = Scope::new();
    scope.push("ARGS", args.clone());
    let (src, result) = execute(rt, &Script::File(path.to_path_buf()), &mut scope);
    settings.progress.finish();
    match result {
        Ok(v) => print_outcome(settings, rt, Some(&v)).map_err(|e| (e.exit, e.message)),
        Err(e) => {
            let _ = print_outcome(settings, rt, None);
            let text = if matches!(e, Error::Cancelled { .. }) {
                "cancelled: files changed\n".to_string()
            } else {
                error_text(&e, &src, settings, rt, false)
            };
            Err((script_exit(&e), text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_literals_where_they_parse() {
        let show = |s: &str| {
            let v = parse_value(s);
            format!("{}:{}", v.type_name(), crate::script::display::to_debug(&v))
        };
        assert_eq!(show("42"), "i64:42");
        assert_eq!(show("-7"), "i64:-7");
        assert_eq!(show("1_000"), "i64:1000");
        assert_eq!(show("2.5"), "f64:2.5");
        assert_eq!(show("1e3"), "f64:1000.0");
        assert_eq!(show("true"), "bool:true");
        assert_eq!(show("\"42\""), "string:\"42\"");
        assert_eq!(show("[1, \"a\"]"), "array:[1, \"a\"]");
        assert_eq!(show("#{a: 1}"), "map:#{a: 1}");
        assert_eq!(show("()"), "():()");
        // Not literals: strings, as typed.
        assert_eq!(show("web01"), "string:\"web01\"");
        assert_eq!(show("2024-01-31"), "string:\"2024-01-31\"");
        assert_eq!(show("12m"), "string:\"12m\"");
        assert_eq!(show("[1,"), "string:\"[1,\"");
        assert_eq!(show("1.2.3"), "string:\"1.2.3\"");
        assert_eq!(show(""), "string:\"\"");
        assert_eq!(show("[x]"), "string:\"[x]\"");
    }

    #[test]
    fn args_need_a_name_and_an_equals_sign() {
        let m = parse_args(&["a=1".into(), "b=x=y".into()]).unwrap();
        assert_eq!(m["a"].as_int().unwrap(), 1);
        assert_eq!(m["b"].clone().into_string().unwrap(), "x=y");
        for bad in ["novalue", "=1", "a b=1", "1a=2"] {
            let e = parse_args(&[bad.into()]).unwrap_err();
            assert_eq!(e.exit, Exit::Usage, "{bad}");
        }
        assert!(parse_args(&["a=1".into(), "a=2".into()]).unwrap_err().message.contains("twice"));
    }

    #[test]
    fn the_lock_is_exclusive_and_reusable() {
        let path = std::env::temp_dir().join(format!("gandish-lock-{}", std::process::id()));
        let held = acquire_lock(&path, None).unwrap();
        let e = acquire_lock(&path, None).unwrap_err();
        assert_eq!(e.exit, Exit::Locked);
        assert!(e.message.contains(&format!("pid {}", std::process::id())), "{}", e.message);
        drop(held);
        drop(acquire_lock(&path, None).unwrap());
        std::fs::remove_file(&path).unwrap();
    }
}
