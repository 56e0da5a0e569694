//! The journal through `gandish run std/renew`: trusted or refused. Junk in it stops the run
//! (exit 2, nothing sent), a torn tail is cut off and the run goes on, a second run on the same
//! journal exits 75, and with no state directory the run refuses unless `journal=false`.

use crate::bulk_common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use bulk_common::{env, temp_path, text};
use gandish::sandbox::ClockMode;

fn renews(env: &bulk_common::Env) -> usize {
    env.ledger_counts("paas_vm_renew").values().sum()
}

#[test]
fn junk_in_the_journal_stops_the_run_before_anything_is_sent() {
    let env = env(60, |_| {});
    let journal = temp_path("junk-cli");
    std::fs::write(&journal, "{\"t\":1,\"key\":\"k\",\"ev\":\"intent\",\"mark\":1}\nnot a journal line\n\n")
        .unwrap();
    let j = format!("journal={}", journal.display());
    let out = env.gandish(&["run", "std/renew", "within_days=30", "rate=0", &j]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("journal {} line 2", journal.display())), "{stderr}");
    assert_eq!(renews(&env), 0, "nothing was sent");
}

#[test]
fn a_torn_tail_is_cut_off_said_and_the_run_renews_each_instance_once() {
    // The real clock on both sides (the child process reads the system clock).
    let env = env(60, |c| c.clock = ClockMode::System);
    let (due, _) = env.split_by_window_now(30);
    let journal = temp_path("torn-cli");
    std::fs::write(&journal, "{\"t\":1,\"key\":\"k\",\"ev\":\"resolved\"}\n{\"t\":17053200").unwrap();
    let j = format!("journal={}", journal.display());
    let out = env.gandish(&["run", "std/renew", "within_days=30", "rate=0", &j]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("cut off a torn last line"), "{stderr}");
    assert_eq!(renews(&env), due.len());
    // What the run wrote after the cut reads back whole.
    gandish::gandi::bulk::Journal::open(&journal).expect("the journal is whole again");
}

#[test]
fn a_second_run_on_the_same_journal_exits_75_and_sends_nothing() {
    // Slow calls keep the first run busy long enough for the second to start.
    let env = env(200, |c| {
        c.clock = ClockMode::System;
        c.latency_ms = 100;
    });
    let (due, _) = env.split_by_window_now(30);
    let journal = temp_path("two-runs");
    let j = format!("journal={}", journal.display());
    let args = ["run", "std/renew", "within_days=30", "parallel=1", "rate=0", "force=true", &j];
    let mut first = env.gandish(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while renews(&env) == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the first run made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = env.state().ops.len();
    let second = env.gandish(&args).output().unwrap();
    let after = env.state().ops.len();
    assert_eq!(second.status.code(), Some(75), "{}", text(&second.stderr));
    assert!(text(&second.stderr).contains("in use by another run"), "{}", text(&second.stderr));
    assert!(first.try_wait().unwrap().is_none(), "the first run was still going");
    assert!(first.wait().unwrap().success());
    // The second sent no renewal: every operation meanwhile was the first run's, one each.
    assert!(after >= before);
    let counts = env.ledger_counts("paas_vm_renew");
    assert_eq!(counts.len(), due.len());
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[test]
fn with_no_state_directory_the_run_refuses_unless_told_journal_false() {
    let env = env(60, |c| c.clock = ClockMode::System);
    let (due, _) = env.split_by_window_now(30);
    let run = |extra: &[&str]| {
        let mut c = env.gandish(&["run", "std/renew", "within_days=30", "rate=0"]);
        c.args(extra).env_remove("HOME").env_remove("XDG_STATE_HOME").env_remove("GANDISH_STATE_DIR");
        c.output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no state directory for the journal"), "{}", text(&out.stderr));
    assert_eq!(renews(&env), 0);
    let out = run(&["journal=false"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(renews(&env), due.len());
}
