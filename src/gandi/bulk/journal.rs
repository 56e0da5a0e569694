//! [`Journal`]: the durable record of a bulk run's intents and outcomes, so a run that crashed
//! can be rerun without repeating or losing work.
//!
//! One JSON object per line, appended; an intent is flushed to disk (`fsync`) before the call it
//! announces is sent (outcomes ride along with the next flush: one lost in a crash is found
//! again by reconciling its intent):
//!
//! ```text
//! {"t":1705320000,"key":"http://…/ renew 12 12m from 20240201T00:00:00","ev":"intent","mark":1041}
//! {"t":1705320001,"key":"http://…/ renew 12 12m from 20240201T00:00:00","ev":"applied","mark":1041,"ops":[1042,1043]}
//! ```
//!
//! `ev` is `intent` (about to send; `mark` is the newest operation id known before sending, so
//! any operation the call created has a larger id), `applied` (the change was accepted, with
//! its operation ids) or `resolved` (it ended without being applied, or failed: nothing to
//! recover). A key whose last event is `intent` or `applied` is checked against the API before
//! anything is sent again for it.
//!
//! Concurrent appends share flushes (group commit): a writer whose line an earlier flush
//! already covered does not flush again. Entries older than [`RETENTION`] are dropped when the
//! file is opened. A torn last line (a crash while writing) is ignored.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long entries are kept: a week-old intent is still recovered, a year-old one is not.
pub const RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The file (or its folder) could not be created, read or written.
    #[error("journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// What the journal knows about a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum History {
    /// A call was about to be sent and no outcome was recorded (a crash, or the outcome could
    /// not be learned): it may or may not have been applied.
    Unresolved {
        /// The newest operation id known before sending.
        mark: i64,
    },
    /// The change was accepted, with these operations.
    Applied {
        /// The newest operation id known before sending.
        mark: i64,
        /// Its operations.
        ops: Vec<i64>,
    },
}

#[derive(Serialize, Deserialize)]
struct Line {
    t: i64,
    key: String,
    ev: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mark: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ops: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

struct Sync {
    /// Lines written so far.
    written: u64,
    /// Lines known to be on disk.
    synced: u64,
    /// Whether a flush is under way.
    flushing: bool,
    /// The error of the last flush, reported to the writers it covered.
    failed: Option<String>,
}

/// A bulk run's journal file (see the module docs). `Send + Sync`: workers share one.
pub struct Journal {
    path: PathBuf,
    file: Arc<File>,
    known: Mutex<HashMap<String, (i64, History)>>,
    sync: Mutex<Sync>,
    flushed: Condvar,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish_non_exhaustive()
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Journal {
    /// Opens (or creates, with its folder) the journal at `path` and reads what it holds.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| JournalError::Io { path: path.clone(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut known = HashMap::new();
        let mut lines = 0usize;
        match File::open(&path) {
            Ok(f) => {
                let cutoff = now_secs() - RETENTION.as_secs() as i64;
                for line in BufReader::new(f).lines() {
                    let line = line.map_err(io)?;
                    lines += 1;
                    // A torn or foreign line is skipped: only whole entries count.
                    let Ok(l) = serde_json::from_str::<Line>(&line) else { continue };
                    if l.t < cutoff {
                        known.remove(&l.key);
                        continue;
                    }
                    match (l.ev.as_str(), l.mark) {
                        ("intent", Some(mark)) => {
                            known.insert(l.key, (l.t, History::Unresolved { mark }));
                        }
                        ("applied", Some(mark)) => {
                            known.insert(l.key, (l.t, History::Applied { mark, ops: l.ops }));
                        }
                        ("resolved", _) => {
                            known.remove(&l.key);
                        }
                        _ => {}
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        if lines > 2 * known.len() + 1000 {
            compact(&path, &known).map_err(io)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
        Ok(Journal {
            path,
            file: Arc::new(file),
            known: Mutex::new(known),
            sync: Mutex::new(Sync { written: 0, synced: 0, flushing: false, failed: None }),
            flushed: Condvar::new(),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is recorded for `key`: nothing, an unresolved intent, or an applied change.
    pub fn history(&self, key: &str) -> Option<History> {
        lock(&self.known).get(key).map(|(_, h)| h.clone())
    }

    /// How many keys have an unresolved intent or an applied change on record.
    pub fn open_entries(&self) -> usize {
        lock(&self.known).len()
    }

    /// Records that a call for `key` is about to be sent; returns once it is on disk.
    pub fn intent(&self, key: &str, mark: i64) -> Result<(), JournalError> {
        self.append(Line {
            t: now_secs(),
            key: key.into(),
            ev: "intent".into(),
            mark: Some(mark),
            ops: vec![],
            note: None,
        })?;
        lock(&self.known).insert(key.into(), (now_secs(), History::Unresolved { mark }));
        Ok(())
    }

    /// Records that the change for `key` was accepted, with its operations.
    pub fn applied(&self, key: &str, mark: i64, ops: &[i64]) -> Result<(), JournalError> {
        self.append(Line {
            t: now_secs(),
            key: key.into(),
            ev: "applied".into(),
            mark: Some(mark),
            ops: ops.to_vec(),
            note: None,
        })?;
        lock(&self.known).insert(key.into(), (now_secs(), History::Applied { mark, ops: ops.to_vec() }));
        Ok(())
    }

    /// Records that `key` needs no recovery: it was not applied, or it failed (`note` says how).
    pub fn resolved(&self, key: &str, note: &str) -> Result<(), JournalError> {
        self.append(Line {
            t: now_secs(),
            key: key.into(),
            ev: "resolved".into(),
            mark: None,
            ops: vec![],
            note: Some(note.chars().take(500).collect()),
        })?;
        lock(&self.known).remove(key);
        Ok(())
    }

    /// [`resolved`](Self::resolved) for many keys at once, with one flush.
    pub fn resolved_all<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
        note: &str,
    ) -> Result<(), JournalError> {
        let t = now_secs();
        let note: String = note.chars().take(500).collect();
        let mut lines = Vec::new();
        let mut done = Vec::new();
        for key in keys {
            lines.push(Line {
                t,
                key: key.into(),
                ev: "resolved".into(),
                mark: None,
                ops: vec![],
                note: Some(note.clone()),
            });
            done.push(key.to_string());
        }
        if lines.is_empty() {
            return Ok(());
        }
        self.append_lines(&lines, false)?;
        let mut known = lock(&self.known);
        for k in done {
            known.remove(&k);
        }
        Ok(())
    }

    /// Writes one line; an intent returns only once it is on disk.
    fn append(&self, line: Line) -> Result<(), JournalError> {
        let durable = line.ev == "intent";
        self.append_lines(std::slice::from_ref(&line), durable)
    }

    /// Writes lines; with `durable`, returns once they are on disk (sharing flushes with
    /// concurrent writers). Only intents need that: an outcome lost in a crash is found again by
    /// reconciling its intent, while a call sent without its intent on disk could be repeated.
    fn append_lines(&self, lines: &[Line], durable: bool) -> Result<(), JournalError> {
        let io = |source| JournalError::Io { path: self.path.clone(), source };
        let mut text = String::new();
        for line in lines {
            text.push_str(&serde_json::to_string(line).map_err(|e| io(std::io::Error::other(e)))?);
            text.push('\n');
        }
        let mut st = lock(&self.sync);
        // One write of the whole line on an append-mode file: lines never interleave.
        (&*self.file).write_all(text.as_bytes()).map_err(io)?;
        st.written += 1;
        let mine = st.written;
        if !durable {
            return Ok(());
        }
        loop {
            if st.synced >= mine {
                return match &st.failed {
                    Some(e) => Err(io(std::io::Error::other(e.clone()))),
                    None => Ok(()),
                };
            }
            if st.flushing {
                st = self.flushed.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st.flushing = true;
            let covers = st.written;
            drop(st);
            let result = self.file.sync_data();
            st = lock(&self.sync);
            st.flushing = false;
            st.synced = covers;
            st.failed = result.err().map(|e| e.to_string());
            self.flushed.notify_all();
        }
    }
}

/// Rewrites the file with only the entries still open (to a temporary file, then renamed).
fn compact(path: &Path, known: &HashMap<String, (i64, History)>) -> std::io::Result<()> {
    let tmp = path.with_extension("compact.tmp");
    {
        let mut f = File::create(&tmp)?;
        for (key, (t, h)) in known {
            let line = match h {
                History::Unresolved { mark } => Line {
                    t: *t,
                    key: key.clone(),
                    ev: "intent".into(),
                    mark: Some(*mark),
                    ops: vec![],
                    note: None,
                },
                History::Applied { mark, ops } => Line {
                    t: *t,
                    key: key.clone(),
                    ev: "applied".into(),
                    mark: Some(*mark),
                    ops: ops.clone(),
                    note: None,
                },
            };
            let mut text = serde_json::to_string(&line).map_err(std::io::Error::other)?;
            text.push('\n');
            f.write_all(text.as_bytes())?;
        }
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gandish-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("sub").join("j.journal")
    }

    #[test]
    fn reopening_recovers_open_entries_and_forgets_resolved_ones() {
        let path = temp("reopen");
        {
            let j = Journal::open(&path).unwrap();
            j.intent("a", 10).unwrap();
            j.intent("b", 11).unwrap();
            j.applied("b", 11, &[12, 13]).unwrap();
            j.intent("c", 14).unwrap();
            j.resolved("c", "fault 570530").unwrap();
        }
        // A crash while writing leaves a torn line.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"t\":1,\"ke").unwrap();
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.history("a"), Some(History::Unresolved { mark: 10 }));
        assert_eq!(j.history("b"), Some(History::Applied { mark: 11, ops: vec![12, 13] }));
        assert_eq!(j.history("c"), None);
        assert_eq!(j.open_entries(), 2);
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn concurrent_writers_all_land() {
        let path = temp("concurrent");
        let j = Journal::open(&path).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let j = &j;
                s.spawn(move || {
                    for i in 0..50 {
                        j.intent(&format!("k{t}-{i}"), i).unwrap();
                    }
                });
            }
        });
        drop(j);
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.open_entries(), 200);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 200);
        assert!(text.lines().all(|l| serde_json::from_str::<Line>(l).is_ok()));
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn an_unwritable_place_is_a_clear_error() {
        let e = Journal::open("/proc/gandish-no/j.journal").unwrap_err();
        assert!(e.to_string().contains("/proc/gandish-no/j.journal"), "{e}");
    }
}
