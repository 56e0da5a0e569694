//! The README's scheduling recipes run as written: the systemd unit's `ExecStart=` line and the
//! cron line, taken from the README itself, run as an unprivileged user (uid 65534, through
//! `setpriv`) against the sandbox, in folders laid out as the recipe sets them up; the lock,
//! journal, report and metrics land where the recipe says. The binary also runs as the
//! container's uid 65532 with no HOME. Needs root (to switch users); skipped otherwise.

use crate::bulk_common;

use std::os::unix::fs::{PermissionsExt as _, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bulk_common::{Env, env, temp_path, text};
use gandish::sandbox::ClockMode;

const NOBODY: u32 = 65534;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The first fenced block after `marker` in the README.
fn block_after(readme: &str, marker: &str) -> String {
    let at = readme.find(marker).unwrap_or_else(|| panic!("the README has no {marker:?}"));
    let rest = &readme[at..];
    let open = rest.find("```").unwrap();
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

/// Whether this test can switch users: root, with `setpriv`.
fn can_switch_users() -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| text(&o.stdout).trim() == "0");
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok_and(|o| o.status.success());
    if !(root && setpriv) {
        eprintln!("skipped: switching to uid {NOBODY} needs root and setpriv");
    }
    root && setpriv
}

/// A folder owned by `uid` with `mode`, its parents created (root-owned, 0755, as /run and
/// /var/lib are).
fn owned_dir(path: &Path, uid: u32, mode: u32) {
    std::fs::create_dir_all(path).unwrap();
    chown(path, Some(uid), Some(uid)).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A fresh root for a recipe's folders, traversable by everyone.
fn fresh_root(name: &str) -> PathBuf {
    let root = temp_path(name).parent().unwrap().join("root");
    std::fs::create_dir_all(&root).unwrap();
    for dir in [root.as_path(), root.parent().unwrap()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    root
}

/// `program args…` as `uid`, with only the environment given (as systemd and cron start jobs).
fn as_user(uid: u32, program: &str, args: &[String], envs: &[(String, String)]) -> Output {
    let mut c = Command::new("setpriv");
    c.args([format!("--reuid={uid}"), format!("--regid={uid}"), "--clear-groups".into(), "--".into()])
        .arg(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    c.output().unwrap()
}

fn sandbox() -> Env {
    env(30, |c| c.clock = ClockMode::System)
}

fn assert_files(paths: &[&Path]) {
    for p in paths {
        let meta = std::fs::metadata(p).unwrap_or_else(|e| panic!("{} is missing: {e}", p.display()));
        use std::os::unix::fs::MetadataExt as _;
        assert_eq!(meta.uid(), NOBODY, "{} is the job user's", p.display());
    }
}

#[test]
fn the_systemd_units_exec_start_runs_as_a_dynamic_user_with_its_directories() {
    if !can_switch_users() {
        return;
    }
    let unit = block_after(&readme(), "`/etc/systemd/system/gandish-renew.service`:");
    for line in
        ["DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=gandish", "RuntimeDirectory=gandish"]
    {
        assert!(unit.lines().any(|l| l == line), "the unit has {line}:\n{unit}");
    }
    let exec = unit.split("ExecStart=").nth(1).unwrap();
    let mut exec_line = String::new();
    for l in exec.lines() {
        exec_line.push_str(l.trim_end_matches('\\'));
        exec_line.push(' ');
        if !l.ends_with('\\') {
            break;
        }
    }
    // systemd's layout: %t is /run (root's, 0755), %S is /var/lib; RuntimeDirectory= and
    // StateDirectory= give the dynamic user its own folder in each.
    let root = fresh_root("systemd");
    let (run, state) = (root.join("run"), root.join("var/lib"));
    owned_dir(&run, 0, 0o755);
    owned_dir(&run.join("gandish"), NOBODY, 0o755);
    owned_dir(&state.join("gandish"), NOBODY, 0o755);
    let bin = env!("CARGO_BIN_EXE_gandish");
    let subst = |s: &str| {
        s.replace("%t", &run.display().to_string())
            .replace("%S", &state.display().to_string())
            .replace("/usr/local/bin/gandish", bin)
    };
    let words: Vec<String> = subst(&exec_line).split_whitespace().map(String::from).collect();
    assert_eq!(words[0], bin, "{exec_line}");
    let env_line = unit.lines().find_map(|l| l.strip_prefix("Environment=GANDISH_STATE_DIR=")).unwrap();
    let sb = sandbox();
    let envs = vec![
        ("GANDISH_STATE_DIR".to_string(), subst(env_line)),
        // EnvironmentFile=/etc/gandish/env holds the key; the sandbox stands in for Gandi.
        ("GANDI_API_KEY".to_string(), sb.key.clone()),
        ("GANDI_URL".to_string(), sb.url.clone()),
    ];
    let out = as_user(NOBODY, bin, &words[1..], &envs);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("renewed "), "{}", text(&out.stdout));
    let g = state.join("gandish");
    assert_files(&[
        &run.join("gandish/renew.lock"),
        &run.join("gandish/renew.prom"),
        &g.join("renew-report.json"),
        &g.join("renew.journal"),
    ]);

    // The unit as it was (`--lock %t/gandish-renew.lock`, in the root-owned /run) fails, which
    // is what this recipe fixes.
    let mut old = words[1..].to_vec();
    let i = old.iter().position(|w| w == "--lock").unwrap();
    old[i + 1] = run.join("gandish-renew.lock").display().to_string();
    let out = as_user(NOBODY, bin, &old, &envs);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Permission denied"), "{}", text(&out.stderr));
}

#[test]
fn systemd_analyze_verifies_the_readmes_unit_and_timer() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    assert!(probe.status.success());
    let readme = readme();
    let dir = temp_path("units").parent().unwrap().to_path_buf();
    let unit = block_after(&readme, "`/etc/systemd/system/gandish-renew.service`:");
    // verify checks that ExecStart= names an executable: the one just built.
    let service = dir.join("gandish-renew.service");
    std::fs::write(&service, unit.replace("/usr/local/bin/gandish", env!("CARGO_BIN_EXE_gandish"))).unwrap();
    let timer = dir.join("gandish-renew.timer");
    std::fs::write(&timer, block_after(&readme, "`/etc/systemd/system/gandish-renew.timer`:")).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&service).arg(&timer).output().unwrap();
    // It warns (an unknown key, a bad value) on stderr and still exits 0: both must be clean.
    assert!(out.status.success() && out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn the_cron_line_runs_as_its_user_in_the_folders_the_setup_step_makes() {
    if !can_switch_users() {
        return;
    }
    let readme = readme();
    let setup = block_after(&readme, "Once, as root, create the user");
    let table = block_after(&readme, "`/etc/cron.d/gandish-renew`");
    let root = fresh_root("cron");
    let bin = env!("CARGO_BIN_EXE_gandish");
    let subst = |s: &str| {
        ["/etc/gandish", "/var/lib/gandish", "/var/log/gandish"]
            .iter()
            .fold(s.replace("/usr/local/bin/gandish", bin), |s, p| {
                s.replace(p, &format!("{}{p}", root.display()))
            })
    };
    // The setup step's folders and key file, with its owners and modes (the `gandish` user
    // being uid 65534 here).
    for (dir, mode) in [("/var/lib/gandish", 0o755), ("/var/log/gandish", 0o750)] {
        assert!(setup.contains(&format!("-m {mode:o} {dir}")), "{setup}");
        owned_dir(Path::new(&subst(dir)), NOBODY, mode);
    }
    owned_dir(&root.join("etc/gandish"), 0, 0o755);
    let sb = sandbox();
    let key = root.join("etc/gandish/key");
    std::fs::write(&key, &sb.key).unwrap();
    chown(&key, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // The table: NAME=value lines, then `MIN HOUR DOM MON DOW USER COMMAND`.
    let mut envs = vec![
        ("HOME".to_string(), subst("/var/lib/gandish")),
        ("SHELL".to_string(), "/bin/sh".to_string()),
        ("GANDI_URL".to_string(), sb.url.clone()),
    ];
    let mut command = None;
    for line in table.lines().filter(|l| !l.trim().is_empty()) {
        let first = line.split_whitespace().next().unwrap();
        if let Some((k, v)) = first.split_once('=')
            && line.trim() == first
        {
            envs.push((k.to_string(), subst(v)));
            continue;
        }
        let mut rest = line;
        for _ in 0..6 {
            rest = rest.trim_start();
            rest = &rest[rest.find(char::is_whitespace).unwrap()..];
        }
        assert_eq!(line.split_whitespace().nth(5), Some("gandish"), "{line}");
        command = Some(subst(rest.trim()));
    }
    let command = command.expect("a job line");
    // cron runs the command with `sh -c`, as the line's user.
    let out = as_user(NOBODY, "/bin/sh", &["-c".into(), command.clone()], &envs);
    let log = std::fs::read_to_string(subst("/var/log/gandish/renew.log")).unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{command}\n{log}\n{}", text(&out.stderr));
    assert!(log.contains("renewed "), "{log}");
    assert!(!log.contains(&sb.key), "the key is not in the log");
    let lib = PathBuf::from(subst("/var/lib/gandish"));
    let files = ["renew.lock", "renew-report.json", "renew.prom", "renew.journal"].map(|f| lib.join(f));
    assert_files(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>());
}

#[test]
fn the_binary_runs_as_the_containers_user_with_no_home() {
    if !can_switch_users() {
        return;
    }
    let root = fresh_root("container");
    let state = root.join("state");
    owned_dir(&state, 65532, 0o755);
    let s = state.display().to_string();
    let args: Vec<String> = ["--sandbox", "run", "std/renew", "within_days=30"]
        .iter()
        .map(|a| a.to_string())
        .chain([
            "--lock".into(),
            format!("{s}/renew.lock"),
            "--report".into(),
            format!("{s}/renew-report.json"),
        ])
        .collect();
    let out =
        as_user(65532, env!("CARGO_BIN_EXE_gandish"), &args, &[("GANDISH_STATE_DIR".into(), s.clone())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for f in ["renew.lock", "renew-report.json", "renew.journal"] {
        assert!(state.join(f).exists(), "{f} in {s}");
    }
}
