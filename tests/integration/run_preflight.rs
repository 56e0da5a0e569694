//! A run checks it can write its report, journal and lock before it sends any change: if it
//! cannot, exit 2 naming the path and the reason, and the sandbox (ledger included) is
//! unchanged. The built binary against a real sandbox.
//!
//! The unwritable places are paths under a regular file (ENOTDIR), a missing folder and a
//! folder where a file should be: these fail for root too, unlike permission bits.

use crate::bulk_common;

use std::path::PathBuf;

use bulk_common::{Env, env, temp_path, text};

/// A sandbox where std/renew has work to do, and a regular file to put paths under.
fn setup() -> (Env, PathBuf) {
    let env = env(40, |_| {});
    let (due, _) = env.split_by_window(30);
    assert!(!due.is_empty(), "std/renew must have something to renew");
    let file = temp_path("not-a-folder");
    std::fs::write(&file, "a file, not a folder").unwrap();
    (env, file)
}

/// Runs std/renew with `extra` arguments, and checks the refusal: exit 2, the path and the
/// reason on stderr, nothing on stdout, the sandbox untouched.
fn refused(env: &Env, extra: &[&str], path: &str, reason: &str) {
    let before = env.world();
    let ledger = env.api_ledger().len();
    let mut argv = vec!["run", "std/renew", "within_days=30", "duration=12m", "rate=0", "settle_ms=0"];
    argv.extend(extra);
    let o = env.run(&argv);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
    assert!(err.contains(path) && err.contains(reason), "{extra:?}: names {path} and {reason:?}: {err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert_eq!(text(&o.stdout), "", "{extra:?}");
    assert_eq!(env.api_ledger().len(), ledger, "{extra:?}: sandbox.ledger unchanged");
    assert_eq!(env.world(), before, "{extra:?}: nothing was sent");
}

#[test]
fn an_unwritable_report_stops_the_run_before_anything_is_sent() {
    let (env, file) = setup();
    let missing = temp_path("missing-folder").join("report.json");
    let m = missing.display().to_string();
    let folder = missing.parent().unwrap().display().to_string();
    refused(&env, &["journal=false", "--report", &m], &folder, "does not exist");

    let under_file = file.join("report.json").display().to_string();
    refused(&env, &["journal=false", "--report", &under_file], &under_file, "Not a directory");

    let dir = temp_path("report-is-a-folder");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    refused(&env, &["journal=false", "--report", &d], &d, "it is a folder");
    // The probe leaves nothing behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn an_unwritable_journal_stops_the_run_before_anything_is_sent() {
    let (env, file) = setup();
    let journal = file.join("renew.journal").display().to_string();
    let j = format!("journal={journal}");
    // create_dir_all finds a file where the folder should be.
    refused(&env, &[&j], &journal, "File exists");
}

#[test]
fn an_unwritable_default_journal_stops_the_run_too() {
    let (env, file) = setup();
    let before = env.world();
    let state_dir = file.join("state");
    let o =
        env.gandish(&["run", "std/renew", "rate=0"]).env("GANDISH_STATE_DIR", &state_dir).output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&state_dir.display().to_string()) && err.contains("Not a directory"), "{err}");
    assert_eq!(env.world(), before);
}

#[test]
fn an_unusable_lock_stops_the_run_before_anything_is_sent() {
    let (env, file) = setup();
    let lock = file.join("renew.lock").display().to_string();
    refused(&env, &["journal=false", "--lock", &lock], &lock, "Not a directory");
    let missing = temp_path("missing-lock-folder").join("renew.lock").display().to_string();
    refused(&env, &["journal=false", "--lock", &missing], &missing, "No such file or directory");
}

#[test]
fn a_writable_report_still_gets_the_report() {
    // The control: the same run with a report path that works renews and writes it.
    let (env, _) = setup();
    let report = temp_path("preflight-ok").with_extension("json");
    let r = report.display().to_string();
    let o = env.run(&["run", "std/renew", "rate=0", "settle_ms=0", "journal=false", "--report", &r]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json["renewed"].as_u64().unwrap() > 0, "{json}");
    assert!(!env.api_ledger().is_empty());
}
