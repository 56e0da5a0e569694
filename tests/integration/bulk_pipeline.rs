//! The pipelined bulk engine and its operation tracker, counted with `sandbox.stats`: sends at
//! the rate limit's pace with many operations pending at once, polling that costs calls per tick
//! rather than per operation, a fallback when the server ignores the list filters, and reruns
//! with no journal that renew nothing twice (the cooldown read from the server's operations).

use crate::bulk_common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bulk_common::{Env, env, int, renew, temp_path};
use gandish::gandi::bulk::{self, Outcome, Task};
use gandish::gandi::{ApiRecord, Gandi, RetryPolicy, Throttle, Tracker};
use gandish::sandbox::ClockMode;
use gandish::xmlrpc::{ClientConfig, Value};
use rhai::Map;

/// `sandbox.stats`: calls per method (and the counters), optionally resetting them.
struct Stats {
    calls: BTreeMap<String, i64>,
    peak_pending_ops: i64,
}

fn stats(env: &Env, reset: bool) -> Stats {
    let g = Gandi::new(&env.url, env.key.as_str(), ClientConfig::default()).unwrap();
    let v = g.call("sandbox.stats", vec![Value::Bool(reset)]).unwrap();
    let calls = v
        .get("calls")
        .and_then(Value::as_struct)
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_i64().unwrap()))
        .collect();
    Stats { calls, peak_pending_ops: v.get("peak_pending_ops").and_then(Value::as_i64).unwrap() }
}

impl Stats {
    fn of(&self, method: &str) -> i64 {
        self.calls.get(method).copied().unwrap_or(0)
    }
}

/// Every paas_vm_renew in the ledger, per instance.
fn assert_each_once(env: &Env, due: &[i64]) {
    let counts = env.ledger_counts("paas_vm_renew");
    for id in due {
        assert_eq!(counts.get(id), Some(&1), "instance {id} renewed {:?} times", counts.get(id));
    }
    assert_eq!(counts.len(), due.len(), "only the due instances were renewed");
}

#[test]
fn renewals_are_sent_at_the_rate_limits_pace_while_one_tracker_follows_them() {
    // Real time: operations take 5 s, the default rate (15/s) paces the sends.
    let env = env(200, |c| {
        c.clock = ClockMode::System;
        c.op_seconds = 5;
    });
    let (due, _) = env.split_by_window_now(400);
    assert_eq!(due.len(), 200);
    let rt = env.runtime_with(|b| b.clock(now_unix));
    stats(&env, true);
    let report = renew(&rt, r#"#{within_days: 400, duration: "12m", journal: false}"#);
    assert_eq!(int(&report, "renewed"), 200, "{:?}", report.get("summary"));
    let s = stats(&env, false);
    assert_each_once(&env, &due);
    assert_eq!(s.of("paas.renew"), 200);
    // Submitting did not wait for completing: a renewal makes two operations, and at 15/s
    // with 5 s operations about 75 renewals are on their way at once.
    assert!(s.peak_pending_ops >= 100, "at most {} operations were pending at once", s.peak_pending_ops);
    // Polling: operation.list and operation.info, less the two reads before the first send
    // (the cooldown check and the newest-operation mark).
    let polls = s.of("operation.list") + s.of("operation.info") - 2;
    assert!(polls <= 200 / 5, "{polls} polling calls for 200 renewals");
    // Verification and the dates after come from one paged paas.list, not a paas.info each.
    assert_eq!(s.of("paas.info"), 0);
    assert_eq!(s.of("paas.list"), 2, "the plan's list and the verifying list");
}

fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn op_wait_on_many_operations_costs_calls_per_tick_not_per_operation() {
    let env = env(50, |c| {
        c.clock = ClockMode::System;
        c.op_seconds = 2;
    });
    let rt = env.runtime_with(|b| b.clock(now_unix));
    stats(&env, true);
    let n: i64 = rt
        .eval(
            r#"let ops = []; for p in paas::list() { ops.push(paas::renew(p, "1m")[0]); }
               let done = op::wait(ops); done.filter(|o| o.step == "DONE").len()"#,
        )
        .unwrap()
        .as_int()
        .unwrap();
    assert_eq!(n, 50);
    let s = stats(&env, false);
    assert_eq!(s.of("operation.info"), 0, "no operation was read on its own");
    // 2 s operations, ticks at their eta and at least 50 ms apart: a handful of ticks, at most
    // three list calls each, instead of 50 reads per tick.
    let lists = s.of("operation.list");
    assert!((1..=12).contains(&lists), "{lists} operation.list calls to wait for 50 operations");
}

fn renew_tasks(g: &Gandi) -> Vec<Task> {
    g.paas_list(&Default::default())
        .unwrap()
        .into_iter()
        .map(|p| Task::renew(p.id, "12m").with_before(p.to_value().into_struct().unwrap()))
        .collect()
}

#[test]
fn a_server_that_ignores_the_step_filter_is_noticed_and_each_operation_is_read() {
    let env = env(12, |c| {
        c.clock = ClockMode::System;
        c.op_seconds = 2;
        c.ignored_op_filters = vec!["step".into()];
    });
    let g = Gandi::new(&env.url, env.key.as_str(), ClientConfig::default())
        .unwrap()
        .with_throttle(std::sync::Arc::new(Throttle::new(None, RetryPolicy::default())));
    let tasks = renew_tasks(&g);
    let mut opts = bulk::Options::default();
    opts.poll_interval = Duration::from_millis(100);
    opts.verify = true;
    let results = bulk::run(&g, &tasks, &opts).unwrap();
    assert!(results.iter().all(|r| r.outcome == Outcome::Applied), "{results:?}");
    let ids: Vec<i64> = tasks.iter().map(|t| t.paas_id).collect();
    assert_each_once(&env, &ids);
    // The fallback read operations one by one.
    assert!(stats(&env, false).of("operation.info") >= 24, "each pending operation was read");

    // The tracker says why it fell back.
    let ops = g.paas_renew(ids[0], &gandish::gandi::RenewParams::new("1m")).unwrap();
    let mut t = Tracker::new();
    ops.into_iter().for_each(|o| t.track(o));
    // Once they are DONE, a list asked for in-flight steps that answers them gives it away.
    std::thread::sleep(Duration::from_millis(2500));
    t.tick(&g).unwrap();
    let why = t.per_op_reason().expect("the tracker noticed");
    assert!(why.contains("although only BILL, WAIT, RUN were asked for"), "{why}");
}

#[test]
fn a_tracker_follows_many_operations_with_a_few_list_calls() {
    let env = env(30, |c| {
        c.clock = ClockMode::System;
        c.op_seconds = 2;
    });
    let g = Gandi::new(&env.url, env.key.as_str(), ClientConfig::default()).unwrap();
    let mut t = Tracker::new().with_min_delay(Duration::from_millis(100));
    for p in g.paas_list(&Default::default()).unwrap() {
        for op in g.paas_renew(p.id, &gandish::gandi::RenewParams::new("1m")).unwrap() {
            t.track(op);
        }
    }
    assert_eq!(t.pending(), 60);
    let started = Instant::now();
    while t.pending() > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "operations never ended");
        std::thread::sleep(t.next_delay());
        t.tick(&g).unwrap();
    }
    assert!(t.per_op_reason().is_none());
    assert!(t.calls() <= 3 * t.ticks(), "{} calls in {} ticks", t.calls(), t.ticks());
    assert!(t.ticks() <= 10, "{} ticks for 2 s operations", t.ticks());
    assert!(t.pending_ids().is_empty());
}

#[test]
fn a_rerun_without_a_journal_renews_nothing_until_the_cooldown_has_passed() {
    // Frozen clock: renewals apply at once. Instances ended up to 30 days ago, so a 1-month
    // renewal leaves some still due.
    let env = env(400, |_| {});
    let (due, _) = env.split_by_window(30);
    let rt = env.runtime();
    let opts = r#"#{within_days: 30, duration: "1m", journal: false, rate: 0}"#;
    let first = renew(&rt, opts);
    assert_eq!(int(&first, "renewed") as usize, due.len());
    let still_due = int(&first, "still_due");
    assert!(still_due > 0, "the dataset has instances that ended over a month ago");
    let (still, _) = env.split_by_window(30);
    assert_eq!(still.len() as i64, still_due);
    assert!(!first["warnings"].clone().into_array().unwrap().is_empty());
    let ledger = env.ledger_counts("paas_vm_renew").values().sum::<usize>();

    // Right after: the server shows them renewed, so nothing is sent.
    let again = renew(&rt, opts);
    assert_eq!(int(&again, "renewed"), 0, "{:?}", again.get("summary"));
    assert_eq!(int(&again, "skipped"), still_due);
    let row = again["rows"].clone().into_array().unwrap()[0].clone().try_cast::<Map>().unwrap();
    assert!(row["outcome"].to_string().starts_with("skipped (renewed "), "{row:?}");
    assert_eq!(env.ledger_counts("paas_vm_renew").values().sum::<usize>(), ledger);

    // force=true renews at once.
    let forced = renew(&rt, r#"#{within_days: 30, duration: "1m", journal: false, rate: 0, force: true}"#);
    assert_eq!(int(&forced, "renewed"), still_due);
    let ledger = env.ledger_counts("paas_vm_renew").values().sum::<usize>();

    // Past the cooldown (the server's clock, which its replies' Date header tells), what is
    // still due is renewed again.
    let g = Gandi::new(&env.url, env.key.as_str(), ClientConfig::default()).unwrap();
    g.call("sandbox.clock.advance", vec![Value::Int(25 * 3600)]).unwrap();
    let (still, _) = env.split_by_window(30);
    let later = renew(&rt, opts);
    assert_eq!(int(&later, "renewed") as usize, still.len(), "{:?}", later.get("summary"));
    assert_eq!(env.ledger_counts("paas_vm_renew").values().sum::<usize>(), ledger + still.len());
}

#[test]
fn duration_auto_renews_each_instance_past_the_window() {
    let env = env(400, |_| {});
    let (due, _) = env.split_by_window(30);
    let rt = env.runtime();
    let report = renew(&rt, r#"#{within_days: 30, duration: "auto", journal: false, rate: 0}"#);
    assert_eq!(int(&report, "renewed") as usize, due.len());
    assert_eq!(int(&report, "still_due"), 0);
    let (still, _) = env.split_by_window(30);
    assert!(still.is_empty(), "still due: {still:?}");
    // Fewest months: some needed more than one, none went a month past what was needed.
    let rows = report["rows"].clone().into_array().unwrap();
    let months: Vec<i64> = rows
        .iter()
        .map(|r| {
            let d = r.clone().try_cast::<Map>().unwrap()["duration"].to_string();
            d.trim_end_matches('m').parse().unwrap()
        })
        .collect();
    assert!(months.iter().any(|m| *m > 1) && months.iter().all(|m| *m <= 3), "{months:?}");
}

#[test]
fn under_faults_a_run_killed_halfway_and_rerun_applies_each_renewal_once() {
    let env = env(500, |c| {
        c.clock = ClockMode::System;
        c.op_seconds = 2;
        c.fail_rate = 0.1;
        c.lost_reply_rate = 0.05;
    });
    let (due, _) = env.split_by_window_now(30);
    assert!(due.len() > 40, "{}", due.len());
    let journal = temp_path("pipeline-crash");
    let j = format!("journal={}", journal.display());
    let args = ["run", "std/renew", "within_days=30", "duration=12m", "rate=40", "settle_ms=0", &j];
    let mut child = env.gandish(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    let renews_sent = || env.state().ops.values().filter(|o| o.kind == "paas_vm_renew").count();
    while renews_sent() < due.len() / 2 {
        assert!(started.elapsed() < Duration::from_secs(120), "the run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let sent = renews_sent();
    assert!(sent < due.len(), "killed too late to test anything ({sent} of {})", due.len());

    let out = env.gandish(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Let the last operations reach DONE, then read the ledger.
    std::thread::sleep(Duration::from_millis(2500));
    assert_each_once(&env, &due);
}

#[test]
fn an_embedded_runtime_keeps_journals_only_where_its_host_says() {
    let env = env(40, |_| {});
    // No journal folder: no default journal, and std/renew will not run without being told.
    let rt = env.runtime();
    assert!(rt.eval(r#"bulk::default_journal("renew")"#).unwrap().is_unit());
    let err =
        rt.eval(r#"import "std/renew" as renew; renew::main(#{within_days: 30})"#).unwrap_err().to_string();
    assert!(err.contains("no state directory for the journal"), "{err}");
    assert!(env.ledger_counts("paas_vm_renew").is_empty(), "nothing was sent");
    // The host's folder.
    let dir = temp_path("journal-dir").parent().unwrap().to_path_buf();
    let rt = env.runtime_with(|b| b.journal_dir(&dir));
    let path = rt.eval(r#"bulk::default_journal("renew")"#).unwrap().to_string();
    assert_eq!(path, dir.join("renew.journal").display().to_string());
    let report = renew(&rt, r#"#{within_days: 30, rate: 0}"#);
    assert_eq!(int(&report, "failed"), 0);
    assert!(dir.join("renew.journal").exists());
}
