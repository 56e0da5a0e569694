//! The flags of `gandish watch`.

use std::path::PathBuf;

use clap::Args;

/// Long help for `gandish watch`.
pub const LONG_ABOUT: &str = "Run a script, then again each time a watched file changes.

  gandish watch scripts/ --run scripts/main.rhai
  gandish watch job.rhai --arg days=30

PATHs are files or folders (watched recursively, for *.rhai files; hidden, swap and backup files \
are ignored). With a single file PATH, --run defaults to it. Writes are debounced: a burst of \
editor writes, or a write-then-rename, gives one run. A PATH that is moved, deleted, recreated or \
swapped through symlinks (as a Kubernetes ConfigMap is) is followed to what it leads to now, and \
stderr says so; while it is gone, the watcher says it is waiting for it. A change while a run is in progress cancels \
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
