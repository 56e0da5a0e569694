//! `--state FILE`: the whole world as JSON, loaded at start (and checked: see
//! [`State::problems`]) and saved atomically (write to `FILE.tmp`, then rename) before each reply
//! that changed it. A process killed with `kill -9` therefore loses nothing it acknowledged; no
//! fsync is done, so a power loss may.
//!
//! When to save is decided in `Sandbox::dispatch` (group commit, see there); this module reads,
//! serializes and writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::SandboxError;
use super::state::State;

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Loads the state saved at `path`; `Ok(None)` if the file does not exist.
pub fn load(path: &Path) -> Result<Option<State>, SandboxError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SandboxError::State { path: path.to_path_buf(), reason: e.to_string() }),
    };
    let st: State = serde_json::from_slice(&bytes).map_err(|e| SandboxError::State {
        path: path.to_path_buf(),
        reason: format!("not a sandbox state file: {e}"),
    })?;
    // A file edited by hand (or by another tool) can be valid JSON and still break the
    // sandbox's promises, e.g. hand out an operation id that the ledger already holds.
    let problems = st.problems();
    if !problems.is_empty() {
        return Err(SandboxError::State {
            path: path.to_path_buf(),
            reason: format!("inconsistent, refused: {}", problems.join("; ")),
        });
    }
    Ok(Some(st))
}

/// Saves `st` to `path` atomically.
pub fn save(path: &Path, st: &State) -> Result<(), SandboxError> {
    write(path, &serialize(path, st)?)
}

/// The JSON of `st` (compact), as [`write`] stores it; `path` only names the file in errors.
pub fn serialize(path: &Path, st: &State) -> Result<Vec<u8>, SandboxError> {
    serde_json::to_vec(st)
        .map_err(|e| SandboxError::State { path: path.to_path_buf(), reason: e.to_string() })
}

/// Replaces `path` with `json` atomically: writes `FILE.tmp`, then renames it over `FILE`.
pub fn write(path: &Path, json: &[u8]) -> Result<(), SandboxError> {
    let err = |e: std::io::Error| SandboxError::State { path: path.to_path_buf(), reason: e.to_string() };
    let tmp = tmp_path(path);
    let mut f = fs::File::create(&tmp).map_err(err)?;
    f.write_all(json).map_err(err)?;
    drop(f);
    fs::rename(&tmp, path).map_err(err)
}
