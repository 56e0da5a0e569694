//! `gandish run --log-format json` ends every run with one JSON line on stderr (success,
//! failed items, a bad key, no server), which is all that stderr holds, and never the key.

use crate::bulk_common;

use std::process::{Command, Stdio};

use bulk_common::{env, text};
use gandish::sandbox::ClockMode;

/// Every stderr line parsed as JSON; exactly one, the run's end, is expected.
fn end_event(stderr: &[u8], key: &str) -> serde_json::Value {
    let stderr = text(stderr);
    assert!(!stderr.contains(key), "the key is in the log: {stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert_eq!(lines[0]["event"], "run.end", "{stderr}");
    lines[0].clone()
}

#[test]
fn every_run_ends_with_one_json_line_and_no_key() {
    let env = env(30, |c| c.clock = ClockMode::System);
    let args = ["run", "std/renew", "within_days=30", "rate=0", "journal=false", "--log-format", "json"];
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(0));
    let e = end_event(&out.stderr, &env.key);
    assert_eq!((&e["status"], &e["exit"], &e["level"]), (&"ok".into(), &0.into(), &"info".into()), "{e}");
    assert!(e["error"].is_null() && e["api_calls"].as_u64().unwrap() > 0, "{e}");
    assert_eq!(e["bulk"][0]["label"], "renew", "{e}");
    assert_eq!(e["items"]["failed"], 0, "{e}");
    assert!(e["ts"].as_f64().unwrap() > 1.7e9 && e["duration_seconds"].as_f64().unwrap() >= 0.0, "{e}");

    // Another account where one renewal is refused.
    let env = bulk_common::env(30, |c| c.clock = ClockMode::System);
    let g = gandish::gandi::Gandi::new(&env.url, env.key.as_str(), Default::default()).unwrap();
    g.call("sandbox.op.fail_next", vec!["paas_vm_renew".into(), "billing refused".into()]).unwrap();
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let e = end_event(&out.stderr, &env.key);
    assert_eq!(
        (&e["status"], &e["exit"], &e["level"]),
        (&"failed".into(), &1.into(), &"error".into()),
        "{e}"
    );
    assert_eq!(e["items"]["failed"], 1, "{e}");

    // A wrong key (fault 3) and no server (4): the error text is inside the line.
    let wrong = "a wrong key of 24 chars!";
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    for (url, code, status) in
        [(env.url.clone(), 3, "fault"), (format!("http://{closed}/xmlrpc/"), 4, "transport")]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_gandish"))
            .args(["--no-config", "--url", &url, "run", "std/renew", "journal=false", "--log-format", "json"])
            .env("GANDI_API_KEY", wrong)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        let e = end_event(&out.stderr, wrong);
        assert_eq!(e["status"], status, "{e}");
        assert!(!e["error"].as_str().unwrap().is_empty(), "{e}");
    }
}
