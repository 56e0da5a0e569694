//! `gandish run --report` says how every run ended (a fault, no server, an interruption, a
//! deadline), the summary reaches stdout even when the report cannot be written, `--deadline`
//! stops a script that swallows every error, and `--lock --stale-after` tells a stuck holder
//! from a busy one.

use crate::bulk_common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bulk_common::{Env, env, temp_path, text};
use gandish::sandbox::ClockMode;

fn report_of(path: &std::path::Path) -> serde_json::Value {
    let raw =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{e}: {raw}"))
}

fn run_status(report: &serde_json::Value) -> (&str, i64) {
    let run = &report["run"];
    (run["status"].as_str().unwrap_or("?"), run["exit"].as_i64().unwrap_or(-1))
}

/// `gandish run ARGS… --report FILE` with another key or URL than the sandbox's.
fn run_against(url: &str, key: &str, report: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args(["--no-config", "--url", url, "run"])
        .args(args)
        .arg("--report")
        .arg(report)
        .env("GANDI_API_KEY", key)
        .env("GANDISH_STATE_DIR", temp_path("state").parent().unwrap())
        .env_remove("GANDI_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_report_is_written_for_a_fault_and_for_a_server_that_is_not_there() {
    let env = env(20, |_| {});
    // The previous run's report must not survive as if it were this one's.
    let path = temp_path("report-fault").with_extension("json");
    std::fs::write(&path, r#"{"renewed": 3, "failed": 0}"#).unwrap();
    let o = run_against(&env.url, "a wrong key of 24 chars!", &path, &["std/renew", "within_days=30"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let r = report_of(&path);
    assert_eq!(run_status(&r), ("fault", 3), "{r}");
    assert!(r["run"]["error"].as_str().unwrap().contains("fault"), "{r}");
    assert!(r.get("renewed").is_none(), "nothing of the old report is left: {r}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/xmlrpc/");
    let o = run_against(&url, &env.key, &path, &["std/renew", "within_days=30"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert_eq!(run_status(&report_of(&path)), ("transport", 4));
}

/// A sandbox on the real clock whose calls take a while, so a run can be caught in flight.
fn slow_env() -> Env {
    env(120, |c| {
        c.clock = ClockMode::System;
        c.latency_ms = 150;
    })
}

fn wait_for_renewals(env: &Env, child: &mut std::process::Child) {
    let started = Instant::now();
    while env.ledger_counts("paas_vm_renew").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "the run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn an_interrupted_run_leaves_a_report_saying_so_with_what_it_applied() {
    let env = slow_env();
    let path = temp_path("report-int").with_extension("json");
    let j = format!("journal={}", temp_path("report-int").display());
    let report = path.display().to_string();
    let args = ["run", "std/renew", "within_days=30", "parallel=1", "rate=0", &j, "--report", &report];
    let mut child = env.gandish(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for_renewals(&env, &mut child);
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let r = report_of(&path);
    assert_eq!(run_status(&r), ("interrupted", 130), "{r}");
    // What was sent so far: renewals the server took (applied, or cut off while their
    // operations were pending), and how to finish.
    let bulk = &r["run"]["bulk"][0];
    assert_eq!(bulk["label"], "renew", "{r}");
    let sent = bulk["applied"].as_i64().unwrap() + bulk["failed"].as_i64().unwrap();
    assert!(sent >= 1 && sent < bulk["total"].as_i64().unwrap(), "{r}");
    assert!(r["run"]["error"].as_str().unwrap().contains("run the same command again"), "{r}");
}

#[test]
fn when_the_report_cannot_be_written_the_summary_still_reaches_stdout() {
    let env = slow_env();
    let dir = temp_path("report-gone").parent().unwrap().join("reports");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("renew.json");
    let j = format!("journal={}", temp_path("report-gone").display());
    let report = path.display().to_string();
    let args = ["run", "std/renew", "within_days=30", "rate=0", &j, "--report", &report];
    let mut child = env.gandish(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for_renewals(&env, &mut child);
    // The folder goes away while the run is going (a full or unmounted disk would do the same).
    std::fs::remove_dir_all(&dir).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.contains("renewed "), "the summary is on stdout: {stdout}");
    assert!(stderr.contains(&format!("cannot write the report {}", path.display())), "{stderr}");
}

#[test]
fn a_deadline_stops_a_script_that_swallows_every_error() {
    let env = env(5, |c| {
        c.clock = ClockMode::System;
        c.latency_ms = 50;
    });
    let script = temp_path("forever").with_extension("rhai");
    std::fs::write(&script, "let n = 0;\nloop { try { paas::count(); n += 1; } catch { } }\n").unwrap();
    let path = temp_path("report-deadline").with_extension("json");
    let (s, report) = (script.display().to_string(), path.display().to_string());
    let out = env.run(&["run", &s, "--deadline", "1s", "--report", &report]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "{stderr}");
    assert!(stderr.contains("--deadline reached after 1 s"), "{stderr}");
    assert_eq!(run_status(&report_of(&path)), ("deadline", 124));
    let bad = env.run(&["run", &s, "--deadline", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn a_lock_held_too_long_is_reported_stale_and_a_fresh_one_busy() {
    let env = env(5, |_| {});
    let lock = temp_path("stale").with_extension("lock");
    let mut held = std::fs::File::create(&lock).unwrap();
    held.try_lock().unwrap();
    let three_hours_ago =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3 * 3600;
    writeln!(held, "4242 {three_hours_ago}").unwrap();
    let l = lock.display().to_string();
    let busy = env.run(&["run", "std/inventory", "--lock", &l, "--stale-after", "4h"]);
    assert_eq!(busy.status.code(), Some(75), "{}", text(&busy.stderr));
    assert!(text(&busy.stderr).contains("(pid 4242, for 3 h 0 min)"), "{}", text(&busy.stderr));
    let stale = env.run(&["run", "std/inventory", "--lock", &l, "--stale-after", "2h"]);
    let err = text(&stale.stderr);
    assert_eq!(stale.status.code(), Some(1), "{err}");
    assert!(err.contains("is stale") && err.contains("longer than --stale-after 2 h 0 min"), "{err}");
}
