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
//! file is opened.
//!
//! The journal is trusted or refused. A line that is not a journal entry anywhere but at the
//! end ([`JournalError::Corrupt`]: junk, another program's file, invalid UTF-8) stops the run
//! before anything is sent, since skipping it could forget an intent and renew twice. A torn
//! last line (the tail a crash or a full disk leaves: no newline, not a whole entry) is cut off
//! before anything is appended, so the next intent starts a line of its own; [`Journal::repair`]
//! says so. While a `Journal` is open it holds an exclusive OS lock (on `FILE.lock` beside it),
//! so a second run on the same journal is refused ([`JournalError::Locked`]) rather than
//! renewing everything a second time.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use crate::sync::lock;
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
    /// A line that is not a journal entry, before the last one: the file was damaged or is not
    /// a journal. Nothing was sent.
    #[error(
        "journal {path} line {line}: {reason}; it cannot be trusted, so nothing was sent (move it aside to start afresh, after checking what the last run did)"
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Another run has this journal open.
    #[error("journal {path} is in use by another run (its lock {lock} is held)")]
    Locked {
        /// The journal file.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
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
    /// Holds the exclusive lock for as long as the journal is open.
    _lock: File,
    /// What opening had to repair, if anything.
    repair: Option<String>,
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

impl Journal {
    /// Opens (or creates, with its folder) the journal at `path`, takes its lock, and reads
    /// what it holds. Fails with [`JournalError::Locked`] when another run holds it and with
    /// [`JournalError::Corrupt`] when a line other than a torn last one is not an entry.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| JournalError::Io { path: path.clone(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // The lock lives in its own file: compaction replaces the journal by a rename, which a
        // lock on the journal itself would not survive.
        let lock_path = lock_path(&path);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked { path: path.clone(), lock: lock_path });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        let (known, lines, tail) = read_entries(&path, &bytes)?;
        // The next line must start a line of its own, or it would not parse either.
        let repair = match tail {
            Tail::Clean => None,
            Tail::Torn(keep) => {
                let f = OpenOptions::new().write(true).open(&path).map_err(io)?;
                f.set_len(keep as u64).map_err(io)?;
                f.sync_all().map_err(io)?;
                Some(format!(
                    "journal {}: cut off a torn last line ({} bytes; a crash or a full disk while writing)",
                    path.display(),
                    bytes.len() - keep
                ))
            }
            Tail::Unterminated => {
                let mut f = OpenOptions::new().append(true).open(&path).map_err(io)?;
                f.write_all(b"\n").map_err(io)?;
                f.sync_all().map_err(io)?;
                Some(format!("journal {}: ended its last line (it had no newline)", path.display()))
            }
        };
        if lines > 2 * known.len() + 1000 {
            compact(&path, &known).map_err(io)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
        Ok(Journal {
            path,
            file: Arc::new(file),
            _lock: lock,
            repair,
            known: Mutex::new(known),
            sync: Mutex::new(Sync { written: 0, synced: 0, flushing: false, failed: None }),
            flushed: Condvar::new(),
        })
    }

    /// What opening repaired, if anything: a torn last line cut off.
    pub fn repair(&self) -> Option<&str> {
        self.repair.as_deref()
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
                st = crate::sync::wait(&self.flushed, st);
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

/// The lock file of the journal at `path`: `PATH.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// How a journal's last line ends.
enum Tail {
    /// With a newline (or the file is empty).
    Clean,
    /// A whole entry without its newline: one is added before appending.
    Unterminated,
    /// Torn (no newline, not a whole entry): the file is cut to this length.
    Torn(usize),
}

/// Open entries by key, with the number of lines read and how the last one ends.
type Entries = (HashMap<String, (i64, History)>, usize, Tail);

/// Reads the entries of a journal's bytes; any line that is not an entry, but a torn last one,
/// is [`JournalError::Corrupt`].
fn read_entries(path: &Path, bytes: &[u8]) -> Result<Entries, JournalError> {
    let cutoff = now_secs() - RETENTION.as_secs() as i64;
    let mut known = HashMap::new();
    let mut lines = 0usize;
    let mut start = 0usize;
    while start < bytes.len() {
        let end = bytes[start..].iter().position(|b| *b == b'\n').map(|i| start + i);
        let raw = &bytes[start..end.unwrap_or(bytes.len())];
        lines += 1;
        let parsed = std::str::from_utf8(raw)
            .map_err(|_| "not UTF-8 text".to_string())
            .and_then(|text| entry(text).map_err(|e| e.to_string()));
        let l = match parsed {
            Ok(l) => l,
            // A torn tail: the last line, unterminated.
            Err(_) if end.is_none() => return Ok((known, lines - 1, Tail::Torn(start))),
            Err(reason) => {
                return Err(JournalError::Corrupt { path: path.to_path_buf(), line: lines, reason });
            }
        };
        start = end.map_or(bytes.len(), |e| e + 1);
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
            _ => {
                known.remove(&l.key);
            }
        }
    }
    let tail = if bytes.last().is_none_or(|b| *b == b'\n') { Tail::Clean } else { Tail::Unterminated };
    Ok((known, lines, tail))
}

/// One line as an entry: a JSON object with a known `ev` (and the `mark` it needs).
fn entry(text: &str) -> Result<Line, String> {
    let l: Line = serde_json::from_str(text).map_err(|e| format!("not a journal entry ({e})"))?;
    match (l.ev.as_str(), l.mark) {
        ("intent" | "applied", Some(_)) | ("resolved", _) => Ok(l),
        ("intent" | "applied", None) => Err(format!("a {} entry without its mark", l.ev)),
        (other, _) => Err(format!("unknown event {other:?}")),
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
    fn junk_before_the_last_line_is_refused_naming_the_line() {
        for junk in [
            &b"hello world, not json\n"[..],
            b"{\"t\":1}\n",
            b"\xff\xfe\n",
            b"{\"t\":1,\"key\":\"k\",\"ev\":\"intent\"}\n",
        ] {
            let path = temp("junk");
            {
                let j = Journal::open(&path).unwrap();
                j.intent("a", 10).unwrap();
            }
            let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(junk).unwrap();
            f.write_all(b"{\"t\":1,\"key\":\"b\",\"ev\":\"resolved\"}\n").unwrap();
            drop(f);
            match Journal::open(&path) {
                Err(JournalError::Corrupt { line, .. }) => assert_eq!(line, 2, "{junk:?}"),
                other => panic!("{junk:?}: {other:?}"),
            }
            let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
        }
    }

    #[test]
    fn a_torn_tail_is_cut_off_before_the_next_intent_and_a_whole_one_is_ended() {
        let path = temp("torn");
        {
            let j = Journal::open(&path).unwrap();
            j.intent("a", 10).unwrap();
        }
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"t\":1,\"ke").unwrap();
        {
            let j = Journal::open(&path).unwrap();
            assert!(j.repair().unwrap().contains("cut off a torn last line (10 bytes"), "{:?}", j.repair());
            j.intent("b", 11).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        assert!(j.repair().is_none());
        assert_eq!(
            j.history("b"),
            Some(History::Unresolved { mark: 11 }),
            "the intent after the tear reads back"
        );
        assert_eq!(j.history("a"), Some(History::Unresolved { mark: 10 }));
        drop(j);
        // A whole entry missing its newline is kept and ended.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.trim_end()).unwrap();
        let j = Journal::open(&path).unwrap();
        assert!(j.repair().unwrap().contains("ended its last line"), "{:?}", j.repair());
        j.intent("c", 12).unwrap();
        drop(j);
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.open_entries(), 3);
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_second_opener_is_refused_while_the_first_holds_the_journal() {
        let path = temp("locked");
        let first = Journal::open(&path).unwrap();
        match Journal::open(&path) {
            Err(e @ JournalError::Locked { .. }) => {
                assert!(e.to_string().contains("in use by another run"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        Journal::open(&path).expect("free again once the first is closed");
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn an_unwritable_place_is_a_clear_error() {
        let e = Journal::open("/proc/gandish-no/j.journal").unwrap_err();
        assert!(e.to_string().contains("/proc/gandish-no/j.journal"), "{e}");
    }
}
