//! The bundled bulk scripts through `gandish run`: a run killed halfway and rerun applies each
//! change once; a failed item gives exit status 1; the report file and JSON output.

use crate::bulk_common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use bulk_common::{env, temp_path};
use gandish::sandbox::ClockMode;

#[test]
fn a_run_killed_halfway_and_rerun_renews_each_instance_once() {
    // The real clock on both sides (the child process reads the system clock).
    let env = env(500, |c| {
        c.clock = ClockMode::System;
        c.latency_ms = 15;
        c.lost_reply_rate = 0.05;
    });
    let (due, not_due) = env.split_by_window_now(30);
    assert!(due.len() > 40, "{}", due.len());
    let journal = temp_path("crash");
    let j = format!("journal={}", journal.display());
    let args =
        ["run", "std/renew", "within_days=30", "duration=12m", "parallel=2", "rate=0", "settle_ms=0", &j];

    let mut child = env.gandish(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    loop {
        let done = env.state().ledger.len();
        if done >= due.len() / 3 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    // Requests in flight when it died still land on the server: let them.
    std::thread::sleep(Duration::from_millis(300));
    let halfway = env.state().ledger.len();
    assert!(halfway < due.len(), "killed too late to test anything ({halfway} of {})", due.len());
    // The killed run left its keys open (a complete run closes them).
    let open = gandish::gandi::bulk::Journal::open(&journal).unwrap().open_entries();
    assert!(open >= halfway, "{open} open journal entries for {halfway} renewals");

    let out = env.gandish(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let counts = env.ledger_counts("paas_vm_renew");
    for id in &due {
        assert_eq!(counts.get(id), Some(&1), "instance {id}: renewed {:?} times", counts.get(id));
    }
    // The rerun's table: the rest renewed now, nothing failed.
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("renewed ") && last.contains("failed 0"), "{last}");
    assert!(not_due.iter().all(|id| !counts.contains_key(id)));
    // The rerun renewed exactly what the killed run had not.
    let renewed_now: usize = last["renewed ".len()..].split(',').next().unwrap().parse().unwrap();
    assert_eq!(halfway + renewed_now, due.len(), "{last}");
}

#[test]
fn a_failed_item_means_exit_status_1_and_the_report_file_says_which() {
    let env = env(60, |c| c.clock = ClockMode::System);
    let (due, _) = env.split_by_window_now(30);
    assert!(!due.is_empty());
    let g = gandish::gandi::Gandi::new(&env.url, env.key.as_str(), Default::default()).unwrap();
    g.call("sandbox.op.fail_next", vec!["paas_vm_renew".into(), "billing refused".into()]).unwrap();
    let report = temp_path("report").with_extension("json");
    let r = report.display().to_string();
    let out = env.run(&["--json", "run", "std/renew", "rate=0", "journal=false", "--report", &r]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(json["failed"], 1);
    assert_eq!(json["renewed"].as_u64().unwrap() as usize, due.len() - 1);
    let failed: Vec<&serde_json::Value> =
        json["rows"].as_array().unwrap().iter().filter(|r| r["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["error"].as_str().unwrap().contains("billing refused"), "{}", failed[0]);
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    // The report also says how the run ended.
    let run = file.as_object_mut().unwrap().remove("run").expect("the report has run");
    assert_eq!((&run["status"], &run["exit"]), (&"failed".into(), &1.into()), "{run}");
    assert_eq!(run["bulk"][0]["failed"], 1, "{run}");
    assert_eq!(file, json, "--report writes the same report");

    // Rerun: only the failed one is still due, and it renews now.
    let out = env.gandish(&["run", "std/renew", "rate=0", "journal=false"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().last().unwrap().starts_with("renewed 1, skipped 0, failed 0"), "{stdout}");
}
