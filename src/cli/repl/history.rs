//! The REPL's history file: in the platform data directory (`~/.local/share/gandish/history` on
//! Linux), or where `GANDISH_HISTORY` says (empty: no history). Each entry is appended as soon as
//! it is read (several REPLs can share the file), except entries holding the API key.

use std::path::{Path, PathBuf};

use rustyline::Editor;
use rustyline::history::DefaultHistory;

use super::helper::ReplHelper;

/// The environment variable that overrides the history file (empty: no history).
pub const ENV: &str = "GANDISH_HISTORY";

/// Most entries kept.
pub const MAX_ENTRIES: usize = 10_000;

/// Where the history lives: `override_path`, else `GANDISH_HISTORY`, else the data directory.
/// `None`: no history (an empty `GANDISH_HISTORY`, or no home directory).
pub fn path(override_path: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = override_path {
        return Some(p.to_path_buf());
    }
    match std::env::var_os(ENV) {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => directories::ProjectDirs::from("", "", "gandish").map(|d| d.data_dir().join("history")),
    }
}

/// The history of one REPL session.
pub struct History {
    path: Option<PathBuf>,
    secrets: Vec<String>,
    warned: bool,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").field("path", &self.path).field("secrets", &self.secrets.len()).finish()
    }
}

impl History {
    /// History in `path` (`None`: kept in memory only); entries containing one of `secrets` are
    /// never recorded.
    pub fn new(path: Option<PathBuf>, secrets: Vec<String>) -> History {
        let secrets = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        History { path, secrets, warned: false }
    }

    /// The file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether an entry may be recorded: it holds none of the secrets.
    pub fn allowed(&self, entry: &str) -> bool {
        !self.secrets.iter().any(|s| entry.contains(s.as_str()))
    }

    /// Loads the file into the editor (a missing file is an empty history).
    pub fn load(&mut self, rl: &mut Editor<ReplHelper, DefaultHistory>) {
        let Some(p) = &self.path else { return };
        if p.exists()
            && let Err(e) = rl.load_history(p)
        {
            eprintln!("warning: cannot read the history file {}: {e}", p.display());
        }
    }

    /// Records an entry (unless it holds a secret) and appends it to the file at once.
    pub fn record(&mut self, rl: &mut Editor<ReplHelper, DefaultHistory>, entry: &str) {
        if entry.trim().is_empty() || !self.allowed(entry) {
            return;
        }
        if rl.add_history_entry(entry).is_err() {
            return;
        }
        let Some(p) = &self.path else { return };
        if let Some(dir) = p.parent()
            && !dir.as_os_str().is_empty()
        {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = rl.append_history(p)
            && !self.warned
        {
            self.warned = true;
            eprintln!("warning: cannot write the history file {}: {e}", p.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_with_the_key_are_refused() {
        let h = History::new(None, vec!["s3cret-key".into(), String::new()]);
        assert!(h.allowed("paas::list()"));
        assert!(!h.allowed("let k = \"s3cret-key\";"));
        assert!(!h.allowed("gandi::invoke(\"x\", [\n\"s3cret-key\"])"));
    }

    #[test]
    fn an_explicit_path_wins() {
        assert_eq!(path(Some(Path::new("/tmp/h"))), Some(PathBuf::from("/tmp/h")));
    }
}
