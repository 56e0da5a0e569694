//! `gandish watch`: run a script, then again whenever a watched file changes.
//!
//! Changes are debounced (250 ms of quiet by default): a burst of editor writes, or a
//! write-then-rename, gives one run. Whether a file changed is decided by its content, so reads
//! and saves that change nothing do not rerun. Hidden files, editor swap and backup files are
//! ignored; in a watched folder only `*.rhai` files count. A change during a run cancels it (at
//! its next operation; an API call in flight finishes first) and starts a new one. Before each
//! run the module cache is cleared, so edited imports are read again. Errors are reported and
//! watching goes on. Each run has a header (time and file) and a footer (status and duration) on
//! stderr; results go to stdout. Ctrl-C stops (exit 130).
//!
//! The watcher never goes deaf. Each PATH is followed by the name it was given: the folder
//! holding it is watched too, and after every burst of events each PATH is looked at again, so
//! when it is moved away and recreated, deleted and recreated, or swapped through symlinks (a
//! Kubernetes ConfigMap's `..data`), its watches are set up again on what it leads to now, and
//! stderr says so. While a PATH is gone the watcher says it is waiting, watches the nearest
//! folder that still exists, and looks again every second.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::args::watch::WatchArgs;
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use rhai::Map;

use super::exit::{CliError, Exit};
use super::interrupt;
use super::run::{parse_args, run_once};
use super::settings::{Settings, runtime};
use crate::Runtime;

enum Msg {
    /// Something happened under a watched path (reads excepted).
    Fs,
    /// Watched files whose content changed.
    Changed(Vec<PathBuf>),
    RunDone,
    Interrupt,
    WatchError(String),
}

/// What a file or folder is, to tell it from another one later found at the same path: its
/// device and inode where there are such, and where it is once symlinks are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ident {
    canonical: PathBuf,
    inode: Option<(u64, u64)>,
}

/// The identity of what `path` leads to (symlinks followed), or `None` if nothing is there.
fn ident(path: &Path) -> Option<Ident> {
    let md = std::fs::metadata(path).ok()?;
    let canonical = std::fs::canonicalize(path).ok()?;
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        Some((md.dev(), md.ino()))
    };
    #[cfg(not(unix))]
    let inode = {
        let _ = md;
        None
    };
    Some(Ident { canonical, inode })
}

/// One PATH to watch, as named (absolute, symlinks not resolved, so that a path whose symlink
/// or folder is swapped is followed to its new target), and what it led to at the last look.
struct Target {
    path: PathBuf,
    /// The path as given, for messages.
    name: PathBuf,
    /// A folder (watched recursively, for `*.rhai` files), rather than a single file.
    dir: bool,
    /// For a folder, the folder; for a file, the folder it is in once symlinks are resolved
    /// (the file itself is replaced on every save by editors that write then rename). `None`:
    /// the path is gone.
    anchor: Option<Ident>,
}

impl Target {
    fn anchor_now(&self) -> Option<Ident> {
        let found = ident(&self.path)?;
        if self.dir {
            return Some(found);
        }
        let parent = found.canonical.parent()?;
        ident(parent)
    }
}

/// The inotify (or other) watches that cover the targets, kept in step with what the targets
/// lead to now; and the content of every watched file, to tell a real change from a read or a
/// save that changed nothing.
struct Watches {
    watcher: RecommendedWatcher,
    /// Registered watches: path → (mode, identity of what the path led to when registered).
    held: HashMap<PathBuf, (RecursiveMode, Option<Ident>)>,
    targets: Vec<Target>,
    /// The content hash of each watched file, by its path under a target (`None`: absent).
    seen: HashMap<PathBuf, Option<u64>>,
}

fn content_hash(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}

/// The `*.rhai` files under `dir`, hidden ones (and hidden folders, such as a ConfigMap's
/// `..data`) skipped; symlinks followed.
fn rhai_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let hidden = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() && depth < 16 {
            rhai_files(&p, depth + 1, out);
        } else if p.extension().is_some_and(|e| e == "rhai") {
            out.push(p);
        }
    }
}

impl Watches {
    /// The watches the targets need now: each folder recursively; the folder a file is in, both
    /// as named and once symlinks are resolved; and the folder holding each target, so that the
    /// target being moved, deleted, recreated or swapped is seen. A target that is gone is
    /// waited for from its nearest existing ancestor.
    fn wanted(&self) -> Vec<(PathBuf, RecursiveMode)> {
        let mut want: Vec<(PathBuf, RecursiveMode)> = Vec::new();
        let mut add = |p: &Path, mode| want.push((p.to_path_buf(), mode));
        for t in &self.targets {
            match (&t.anchor, t.path.parent()) {
                (None, _) => {
                    if let Some(a) = t.path.ancestors().skip(1).find(|a| a.is_dir()) {
                        add(a, RecursiveMode::NonRecursive);
                    }
                }
                (Some(anchor), parent) => {
                    let mode = if t.dir { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
                    add(if t.dir { &t.path } else { &anchor.canonical }, mode);
                    if let Some(parent) = parent {
                        add(parent, RecursiveMode::NonRecursive);
                    }
                }
            }
        }
        // A folder watched recursively covers what is under it; watching a path twice would
        // make unwatching one of them drop the other.
        let recursive: Vec<PathBuf> =
            want.iter().filter(|(_, m)| *m == RecursiveMode::Recursive).map(|(p, _)| p.clone()).collect();
        want.sort();
        want.dedup();
        want.retain(|(p, m)| *m == RecursiveMode::Recursive || !recursive.iter().any(|r| p.starts_with(r)));
        want
    }

    /// Registers the watches [`Watches::wanted`] lists, again for a path that now leads to
    /// another file or folder, and drops the others. Problems are returned as warnings.
    fn sync(&mut self) -> Vec<String> {
        let mut warnings = Vec::new();
        let want = self.wanted();
        let stale: Vec<PathBuf> =
            self.held.keys().filter(|p| !want.iter().any(|(w, _)| w == *p)).cloned().collect();
        for p in stale {
            self.held.remove(&p);
            // Already gone when notify saw its folder deleted: nothing to drop.
            let _ = self.watcher.unwatch(&p);
        }
        for (path, mode) in want {
            let now = ident(&path);
            if self.held.get(&path) == Some(&(mode, now.clone())) {
                continue;
            }
            if self.held.remove(&path).is_some() {
                let _ = self.watcher.unwatch(&path);
            }
            match self.watcher.watch(&path, mode) {
                Ok(()) => {
                    self.held.insert(path, (mode, now));
                }
                Err(e) => warnings.push(format!("warning: cannot watch {}: {e}", path.display())),
            }
        }
        warnings
    }

    /// Looks at every target again: returns what to say about each one that is gone, came back or
    /// now leads elsewhere, after re-establishing the watches.
    fn recheck(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        // A target inside a watched folder (typically the --run script) is not mentioned on its
        // own: the note about the folder says it.
        let dirs: Vec<PathBuf> = self.targets.iter().filter(|t| t.dir).map(|t| t.path.clone()).collect();
        for t in &mut self.targets {
            let now = t.anchor_now();
            let shown = t.name.display();
            let covered = dirs.iter().any(|d| *d != t.path && t.path.starts_with(d));
            match (&t.anchor, &now) {
                _ if covered => {}
                (Some(_), None) => notes.push(format!("watch: {shown} is gone; waiting for it to come back")),
                (None, Some(_)) => notes.push(format!("watch: {shown} is back; watching it again")),
                (Some(a), Some(b)) if a != b => {
                    notes.push(format!("watch: {shown} was replaced; watching it again"))
                }
                _ => {}
            }
            t.anchor = now;
        }
        notes.extend(self.sync());
        notes
    }

    /// Whether any target is gone.
    fn waiting(&self) -> bool {
        self.targets.iter().any(|t| t.anchor.is_none())
    }

    /// Hashes every watched file and returns those whose content differs from the last look
    /// (appeared, changed or gone).
    fn changed_files(&mut self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for t in &self.targets {
            if t.dir {
                rhai_files(&t.path, 0, &mut files);
            } else {
                files.push(t.path.clone());
            }
        }
        let mut now: HashMap<PathBuf, Option<u64>> = HashMap::new();
        for f in files {
            let h = content_hash(&f);
            now.insert(f, h);
        }
        let mut changed: Vec<PathBuf> = now
            .iter()
            .filter(|(p, h)| self.seen.get(*p).copied().flatten() != **h)
            .map(|(p, _)| p.clone())
            .chain(
                self.seen
                    .iter()
                    .filter(|(p, h)| h.is_some() && !now.contains_key(*p))
                    .map(|(p, _)| p.clone()),
            )
            .collect();
        changed.sort();
        self.seen = now;
        changed
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

    let (tx, rx) = mpsc::channel::<Msg>();
    let events = tx.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let msg = match res {
            // Reads (each run and each look at the files opens them) change nothing.
            Ok(e) if matches!(e.kind, EventKind::Access(k) if k != AccessKind::Close(AccessMode::Write)) => {
                return;
            }
            Ok(_) => Msg::Fs,
            Err(e) => Msg::WatchError(e.to_string()),
        };
        let _ = events.send(msg);
    })
    .map_err(|e| CliError::failure(format!("cannot start watching: {e}")))?;
    let mut watches = Watches { watcher, held: HashMap::new(), targets: Vec::new(), seen: HashMap::new() };
    for p in args.paths.iter().chain([&script]) {
        let path = std::path::absolute(p).map_err(|e| CliError::usage(format!("{}: {e}", p.display())))?;
        let mut t = Target { dir: path.is_dir(), path, name: p.clone(), anchor: None };
        t.anchor = t.anchor_now();
        if !watches.targets.iter().any(|o| o.path == t.path) {
            watches.targets.push(t);
        }
    }
    let failed = watches.sync();
    if let Some(first) = failed.first() {
        return Err(CliError::failure(first.trim_start_matches("warning: ").to_string()));
    }
    watches.changed_files();
    let debounce = Duration::from_millis(args.debounce);

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

    let say = |s: &str| settings.progress.eprintln(s);
    start(tx.clone());
    let mut running = true;
    let mut pending = false;
    // When to look at the files: after `debounce` of quiet following an event (a burst of
    // writes is one change), but no later than 10 debounce periods after the first one, so
    // that a file written without pause is still picked up.
    let mut due: Option<(Instant, Instant)> = None;
    loop {
        let msg = match due {
            None if watches.waiting() => match rx.recv_timeout(debounce.max(Duration::from_secs(1))) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Exit::Failure),
            },
            None => match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return Ok(Exit::Failure),
            },
            Some((quiet, latest)) => {
                match rx.recv_timeout(quiet.min(latest).saturating_duration_since(Instant::now())) {
                    Ok(m) => Some(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Exit::Failure),
                }
            }
        };
        let msg = match msg {
            Some(Msg::Fs) => {
                let now = Instant::now();
                let latest = due.map_or(now + debounce * 10, |(_, l)| l);
                due = Some((now + debounce, latest));
                continue;
            }
            Some(m) => m,
            None => {
                // Quiet (or a periodic look while a target is gone): follow moved, swapped and
                // recreated targets, then compare contents.
                due = None;
                for note in watches.recheck() {
                    say(&note);
                }
                let paths = watches.changed_files();
                if paths.is_empty() || watches.waiting() {
                    continue;
                }
                Msg::Changed(paths)
            }
        };
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
            Msg::WatchError(e) => say(&format!("warning: watching: {e}")),
            Msg::Fs => {}
        }
    }
}
