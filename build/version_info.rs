// Shared by `build.rs` and `tests/ship_version.rs` (through `include!`): what the version line
// says, worked out from a source folder. Plain functions with no dependencies, so that the build
// script needs no build-dependency and the test checks the very code the build runs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The commit a build comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitInfo {
    /// The full hash.
    pub hash: String,
    /// The commit date, `YYYY-MM-DD` (the committer's).
    pub date: String,
    /// Files whose changes should rerun the build script: HEAD, the branch's ref, packed-refs.
    pub watch: Vec<PathBuf>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The commit of the git checkout whose top folder is `dir`, or `None` when there is no `git`,
/// no repository, or `dir` is only inside some other repository (a package unpacked under a
/// checkout must not claim that checkout's commit).
pub fn git_info(dir: &Path) -> Option<GitInfo> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), dir) {
        return None;
    }
    let hash = git(dir, &["rev-parse", "HEAD"])?;
    let date = git(dir, &["log", "-1", "--format=%cs", "HEAD"])?;
    // `--git-path` resolves worktrees (HEAD is per worktree, refs are shared).
    let path = |p: &str| git(dir, &["rev-parse", "--git-path", p]).map(|p| dir.join(p));
    let mut watch: Vec<PathBuf> = ["HEAD", "packed-refs"].iter().filter_map(|p| path(p)).collect();
    if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"]).and_then(|r| path(&r)) {
        watch.push(r);
    }
    // A path that does not exist would make cargo rerun the script on every build.
    watch.retain(|p| p.exists());
    Some(GitInfo { hash, date, watch })
}

/// `YYYY-MM-DD` of a Unix time (UTC), by the civil-from-days algorithm (no date crate here).
pub fn utc_date(unix_seconds: i64) -> String {
    let z = unix_seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// What `--version` prints after `gandish `: the version alone without git, else
/// `VERSION (HASH9 COMMIT-DATE, built BUILD-DATE)`, as `cargo --version` does.
pub fn version_line(version: &str, git: Option<&GitInfo>, build_date: &str) -> String {
    match git {
        Some(g) => format!("{version} ({} {}, built {build_date})", &g.hash[..g.hash.len().min(9)], g.date),
        None => version.to_string(),
    }
}
