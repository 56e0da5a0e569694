//! `--state FILE`: the whole world as JSON, loaded at start and saved atomically (write to
//! `FILE.tmp`, then rename) before each reply that changed it. A process killed with `kill -9`
//! therefore loses nothing it acknowledged; no fsync is done, so a power loss may.

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
    serde_json::from_slice(&bytes).map(Some).map_err(|e| SandboxError::State {
        path: path.to_path_buf(),
        reason: format!("not a sandbox state file: {e}"),
    })
}

/// Saves `st` to `path` atomically.
pub fn save(path: &Path, st: &State) -> Result<(), SandboxError> {
    let err = |e: std::io::Error| SandboxError::State { path: path.to_path_buf(), reason: e.to_string() };
    let json = serde_json::to_vec(st)
        .map_err(|e| SandboxError::State { path: path.to_path_buf(), reason: e.to_string() })?;
    let tmp = tmp_path(path);
    let mut f = fs::File::create(&tmp).map_err(err)?;
    f.write_all(&json).map_err(err)?;
    drop(f);
    fs::rename(&tmp, path).map_err(err)
}
