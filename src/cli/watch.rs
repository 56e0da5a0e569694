//! `gandish watch`: run a script, then again whenever a watched file changes.
//!
//! Changes are debounced (notify-debouncer-mini, 250 ms): a burst of editor writes, or a
//! write-then-rename, gives one run. Hidden files, editor swap and backup files are ignored;
//! in a watched folder only `*.rhai` files count. A change during a run cancels it (at its next
//! operation; an API call in flight finishes first) and starts a new one. Before each run the
//! module cache is cleared, so edited imports are read again. Errors are reported and watching
//! goes on. Each run has a header (time and file) and a footer (status and duration) on stderr;
//! results go to stdout. Ctrl-C stops (exit 130).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use rhai::Map;

use super::exit::{CliError, Exit};
use super::interrupt;
use super::run::{parse_args, run_once};
use super::settings::{Settings, runtime};
use crate::Runtime;

/// Long help for `gandish watch`.
pub const LONG_ABOUT: &str = "Run a script, then again each time a watched file changes.

  gandish watch scripts/ --run scripts/main.rhai
  gandish watch job.rhai --arg days=30

PATHs are files or folders (watched recursively, for *.rhai files; hidden, swap and backup files \
are ignored). With a single file PATH, --run defaults to it. Writes are debounced: a burst of \
editor writes, or a write-then-rename, gives one run. A change while a run is in progress cancels \
it and starts a new one. Imported modules are re-read on every run. Errors are reported and \
watching goes on. Each run is framed on stderr by a header (time and file) and a footer (status \
and duration); values go to stdout. Ctrl-C stops watching (exit 130).";

/// `gandish watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Files or folders to watch (folders recursively, for *.rhai files).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// The script to run (default: the only PATH, when it is a file).
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,

    /// Arguments for the script, in the map ARGS (as for `gandish run`); repeatable.
    #[arg(long = "arg", value_name = "KEY=VALUE")]
    pub args: Vec<String>,

    /// How long to wait for quiet after a change before running, in milliseconds (raise it on
    /// slow or network file systems).
    #[arg(long, value_name = "MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub debounce: u64,
}

enum Msg {
    Changed(Vec<PathBuf>),
    RunDone,
    Interrupt,
    WatchError(String),
}

/// What the watcher reacts to: a change to the content of a watched file. (Reading a file, as
/// each run does, also raises events; comparing contents also ignores saves that change nothing.)
struct Filter {
    /// Folders watched recursively (canonical).
    dirs: Vec<PathBuf>,
    /// Files watched (canonical).
    files: Vec<PathBuf>,
    /// The content hash of each file seen (`None`: absent).
    seen: HashMap<PathBuf, Option<u64>>,
}

fn content_hash(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}

impl Filter {
    /// Records the current content of every watched file.
    fn snapshot(&mut self) {
        fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries.flatten() {
                let p = e.path();
                let hidden = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if hidden {
                    continue;
                }
                if p.is_dir() && depth < 16 {
                    walk(&p, depth + 1, out);
                } else if p.extension().is_some_and(|e| e == "rhai") {
                    out.push(p);
                }
            }
        }
        let mut all = self.files.clone();
        for d in &self.dirs {
            walk(d, 0, &mut all);
        }
        for p in all {
            let h = content_hash(&p);
            self.seen.insert(p, h);
        }
    }

    /// Whether `path` is watched and its content differs from what was last seen.
    fn changed(&mut self, path: &Path) -> bool {
        if !self.wants(path) {
            return false;
        }
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let now = content_hash(&key);
        let before = self.seen.insert(key, now);
        before.flatten() != now
    }

    fn wants(&self, path: &Path) -> bool {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else { return false };
        if name.starts_with('.') || name.ends_with('~') || name.starts_with('#') {
            return false;
        }
        if [".swp", ".swx", ".tmp", ".bak"].iter().any(|e| name.ends_with(e)) {
            return false;
        }
        let path = match std::fs::canonicalize(path) {
            Ok(p) => p,
            // Deleted: canonicalize its folder instead.
            Err(_) => match (path.parent().and_then(|d| std::fs::canonicalize(d).ok()), path.file_name()) {
                (Some(d), Some(n)) => d.join(n),
                _ => path.to_path_buf(),
            },
        };
        if self.files.contains(&path) {
            return true;
        }
        path.extension().is_some_and(|e| e == "rhai") && self.dirs.iter().any(|d| path.starts_with(d))
    }
}

fn clock(rt: &Runtime) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match crate::script::Date::from_unix(now, rt.zone()) {
        Ok(d) => d.to_string().get(11..19).unwrap_or_default().to_string(),
        Err(_) => String::new(),
    }
}

fn ms(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// Runs the watcher until Ctrl-C (exit 130).
pub fn run(args: &WatchArgs, settings: &Settings) -> Result<Exit, CliError> {
    for p in &args.paths {
        if !p.exists() {
            return Err(CliError::usage(format!("cannot watch {}: no such file or folder", p.display())));
        }
    }
    let script = match (&args.run, args.paths.as_slice()) {
        (Some(s), _) => s.clone(),
        (None, [only]) if only.is_file() => only.clone(),
        _ => {
            return Err(CliError::usage(
                "give the script to run with --run FILE (needed unless the only PATH is a file)",
            ));
        }
    };
    if !script.is_file() {
        return Err(CliError::usage(format!("the script {} does not exist", script.display())));
    }
    let map = parse_args(&args.args)?;
    let rt = Arc::new(runtime(settings)?);

    let mut filter = Filter { dirs: Vec::new(), files: Vec::new(), seen: HashMap::new() };
    let mut watch_dirs: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for p in args.paths.iter().chain([&script]) {
        let canon = std::fs::canonicalize(p).map_err(|e| CliError::usage(format!("{}: {e}", p.display())))?;
        if canon.is_dir() {
            filter.dirs.push(canon.clone());
            watch_dirs.push((canon, RecursiveMode::Recursive));
        } else {
            // Watch the file's folder: editors replace files by renaming over them.
            let dir = canon.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
            filter.files.push(canon);
            watch_dirs.push((dir, RecursiveMode::NonRecursive));
        }
    }

    filter.snapshot();
    let (tx, rx) = mpsc::channel::<Msg>();
    let events = tx.clone();
    let mut debouncer =
        new_debouncer(Duration::from_millis(args.debounce), move |res: DebounceEventResult| {
            let msg = match res {
                Ok(events) => {
                    let paths: Vec<PathBuf> =
                        events.into_iter().map(|e| e.path).filter(|p| filter.changed(p)).collect();
                    if paths.is_empty() {
                        return;
                    }
                    Msg::Changed(paths)
                }
                Err(e) => Msg::WatchError(e.to_string()),
            };
            let _ = events.send(msg);
        })
        .map_err(|e| CliError::failure(format!("cannot start watching: {e}")))?;
    for (dir, mode) in &watch_dirs {
        debouncer
            .watcher()
            .watch(dir, *mode)
            .map_err(|e| CliError::failure(format!("cannot watch {}: {e}", dir.display())))?;
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    if let Err(e) = interrupt::install() {
        settings.progress.eprintln(&format!("warning: {e}"));
    }
    let _hook = {
        let tx = tx.clone();
        let cancel = rt.cancel_handle();
        let flag = interrupted.clone();
        interrupt::on_interrupt(move || {
            if flag.swap(true, Ordering::SeqCst) {
                return false; // the second one: exit now
            }
            cancel.cancel();
            let _ = tx.send(Msg::Interrupt);
            true
        })
    };
    let note = |s: &str| {
        if !settings.quiet {
            settings.progress.eprintln(s);
        }
    };
    note(&format!(
        "watching {} for changes to run {} (Ctrl-C to stop)",
        args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        script.display()
    ));

    let start = |tx: mpsc::Sender<Msg>| {
        let rt = rt.clone();
        let settings = settings.clone();
        let script = script.clone();
        let map: Map = map.clone();
        rt.module_cache().clear();
        rt.clear_calls();
        if !settings.quiet {
            settings.progress.eprintln(&format!("=== {} run {} ===", clock(&rt), script.display()));
        }
        thread::spawn(move || {
            let t0 = Instant::now();
            let outcome = run_once(&rt, &settings, &script, &map);
            let took = ms(t0.elapsed());
            let redactor = settings.redactor();
            let footer = match outcome {
                Ok(()) => format!("=== ok in {took} ==="),
                Err((Exit::Interrupted, text)) => {
                    settings.progress.eprintln(text.trim_end());
                    format!("=== cancelled after {took} ===")
                }
                Err((exit, text)) => {
                    settings.progress.eprintln(redactor.apply(text.trim_end()).as_ref());
                    format!("=== failed (exit {}) in {took} ===", exit.code())
                }
            };
            if !settings.quiet {
                settings.progress.eprintln(&footer);
            }
            let _ = tx.send(Msg::RunDone);
        });
    };

    start(tx.clone());
    let mut running = true;
    let mut pending = false;
    loop {
        let Ok(msg) = rx.recv() else { return Ok(Exit::Failure) };
        match msg {
            Msg::Changed(paths) => {
                if settings.verbose > 0 {
                    for p in &paths {
                        note(&format!("changed: {}", p.display()));
                    }
                }
                if running {
                    pending = true;
                    rt.cancel_handle().cancel();
                } else {
                    running = true;
                    start(tx.clone());
                }
            }
            Msg::RunDone => {
                running = false;
                if interrupted.load(Ordering::SeqCst) {
                    return Ok(Exit::Interrupted);
                }
                if pending {
                    pending = false;
                    running = true;
                    start(tx.clone());
                }
            }
            Msg::Interrupt => {
                if !running {
                    return Ok(Exit::Interrupted);
                }
                // The run stops at its next operation; RunDone then exits.
            }
            Msg::WatchError(e) => note(&format!("warning: watching: {e}")),
        }
    }
}
