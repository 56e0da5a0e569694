//! `gandish run --metrics-file FILE` writes a Prometheus textfile whatever the exit (success,
//! failed items, a fault, an interruption), never while another run holds the lock, never with
//! the key; the file follows the text exposition rules (checked here, and by Python's
//! `prometheus_client` parser where it is installed, as `.ci/install-peers` does).

use crate::bulk_common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bulk_common::{Env, env, temp_path, text};
use gandish::sandbox::ClockMode;

/// One sample's name and its labels, sorted.
type Key = (String, Vec<(String, String)>);

fn is_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':');
    chars.next().is_some_and(ok_first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':'))
}

/// Parses the text exposition format strictly: `# HELP` and `# TYPE` once per metric and
/// before its samples, the samples of a metric together, valid metric and label names, label
/// values quoted with only `\\`, `\"` and `\n` escaped, values that are numbers, a final newline.
fn parse_exposition(text: &str) -> BTreeMap<Key, f64> {
    assert!(text.ends_with('\n'), "the file ends with a newline");
    let (mut samples, mut typed, mut helped) = (BTreeMap::new(), Vec::<String>::new(), Vec::<String>::new());
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or_else(|| panic!("HELP without text: {line}"));
            assert!(is_name(name, true) && !help.is_empty(), "{line}");
            assert!(!helped.contains(&name.to_string()), "HELP twice for {name}");
            helped.push(name.into());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("TYPE without a type: {line}"));
            assert!(is_name(name, true), "{line}");
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
            assert!(!typed.contains(&name.to_string()), "TYPE twice for {name}");
            assert!(kind != "counter" || name.ends_with("_total"), "a counter's name ends in _total: {line}");
            typed.push(name.into());
            current = Some(name.into());
        } else {
            assert!(!line.starts_with('#') && !line.trim().is_empty(), "unexpected line {line:?}");
            let (name, rest) = match line.find('{') {
                Some(i) => (&line[..i], &line[i..]),
                None => line.split_at(line.find(' ').unwrap_or_else(|| panic!("no value: {line}"))),
            };
            assert!(is_name(name, true), "bad metric name in {line}");
            assert_eq!(current.as_deref(), Some(name), "{name}'s samples follow its TYPE line");
            let mut labels = Vec::new();
            let mut rest = rest;
            if let Some(body) = rest.strip_prefix('{') {
                let mut chars = body.char_indices().peekable();
                let end;
                loop {
                    let start = chars.peek().map(|(i, _)| *i).unwrap();
                    if body[start..].starts_with('}') {
                        end = start + 1;
                        break;
                    }
                    let eq = body[start..].find("=\"").unwrap_or_else(|| panic!("label without =\": {line}"));
                    let lname = &body[start..start + eq];
                    assert!(is_name(lname, false) && !lname.starts_with("__"), "bad label name {lname:?}");
                    for _ in 0..eq + 2 {
                        chars.next();
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next().map(|(_, c)| c) {
                            Some('\\') => match chars.next().map(|(_, c)| c) {
                                Some('\\') => value.push('\\'),
                                Some('"') => value.push('"'),
                                Some('n') => value.push('\n'),
                                other => panic!("bad escape {other:?} in {line}"),
                            },
                            Some('"') => break,
                            Some('\n') | None => panic!("unterminated label value in {line}"),
                            Some(c) => value.push(c),
                        }
                    }
                    labels.push((lname.to_string(), value));
                    match chars.next().map(|(_, c)| c) {
                        Some(',') => {}
                        Some('}') => {
                            end = chars.peek().map_or(body.len(), |(i, _)| *i);
                            break;
                        }
                        other => panic!("expected , or }} after a label, got {other:?} in {line}"),
                    }
                }
                rest = &body[end..];
            }
            let value =
                rest.strip_prefix(' ').unwrap_or_else(|| panic!("one space before the value: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("the value is not a number: {line}"));
            labels.sort();
            assert!(samples.insert((name.to_string(), labels), value).is_none(), "a sample twice: {line}");
        }
    }
    assert_eq!(typed, helped, "every metric has HELP and TYPE");
    samples
}

/// Python's `prometheus_client` parser on the text: the number of samples it reads, or `None`
/// where it is not installed (then it must not be CI, which installs it). Debian's package puts
/// it in the system Python, which need not be the first `python3` on PATH (pyenv).
fn python_samples(text: &str) -> Option<usize> {
    let code = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as f\n\
                print(sum(len(m.samples) for m in f(sys.stdin.read())))";
    for python in ["python3", "/usr/bin/python3"] {
        let Ok(mut child) = Command::new(python)
            .args(["-c", code])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            continue;
        };
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = text_of(&out.stderr);
        if err.contains("No module named 'prometheus_client'") {
            continue;
        }
        assert!(out.status.success(), "prometheus_client ({python}) refused the file: {err}\n{text}");
        return Some(text_of(&out.stdout).trim().parse().unwrap());
    }
    assert!(std::env::var_os("CI").is_none(), "CI installs python3-prometheus-client");
    eprintln!("prometheus_client is not installed: only the strict parser here checked the file");
    None
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The metrics file, checked by both parsers, with the key nowhere in it.
fn metrics(path: &Path, key: &str) -> BTreeMap<Key, f64> {
    let raw = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no metrics file at {}: {e}", path.display()));
    assert!(!raw.contains(key), "the key is in the metrics file:\n{raw}");
    let samples = parse_exposition(&raw);
    if let Some(n) = python_samples(&raw) {
        assert_eq!(n, samples.len(), "both parsers read the same samples:\n{raw}");
    }
    samples
}

fn get(m: &BTreeMap<Key, f64>, name: &str, extra: &[(&str, &str)]) -> f64 {
    let mut labels: Vec<(String, String)> = vec![("script".into(), "std/renew".into())];
    labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    labels.sort();
    *m.get(&(name.to_string(), labels.clone())).unwrap_or_else(|| panic!("no {name}{labels:?} in {m:#?}"))
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn prom_path(name: &str) -> std::path::PathBuf {
    temp_path(name).with_extension("prom")
}

/// `std/renew` on the due instances with `--metrics-file PATH`, checked to exit `code`.
fn renew_with_metrics(env: &Env, path: &Path, code: i32) {
    let p = path.display().to_string();
    let out =
        env.run(&["run", "std/renew", "within_days=30", "rate=0", "journal=false", "--metrics-file", &p]);
    assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
}

#[test]
fn a_successful_run_writes_its_metrics() {
    let env = env(40, |c| c.clock = ClockMode::System);
    let (due, _) = env.split_by_window_now(30);
    assert!(!due.is_empty());
    let path = prom_path("metrics-ok");
    let before = now();
    renew_with_metrics(&env, &path, 0);
    let m = metrics(&path, &env.key);
    assert_eq!(get(&m, "gandish_run_last_exit_status", &[]), 0.0);
    assert_eq!(get(&m, "gandish_run_last_success", &[]), 1.0);
    let (start, end) = (
        get(&m, "gandish_run_last_start_timestamp_seconds", &[]),
        get(&m, "gandish_run_last_end_timestamp_seconds", &[]),
    );
    assert!(before - 1.0 <= start && start <= end && end <= now() + 1.0, "{start} {end}");
    assert!((get(&m, "gandish_run_duration_seconds", &[]) - (end - start)).abs() < 1e-3);
    let n = due.len() as f64;
    assert_eq!(get(&m, "gandish_run_items", &[("outcome", "renewed")]), n);
    assert_eq!(get(&m, "gandish_run_items", &[("outcome", "failed")]), 0.0);
    assert_eq!(get(&m, "gandish_bulk_items", &[("label", "renew"), ("outcome", "applied")]), n);
    assert_eq!(get(&m, "gandish_bulk_items", &[("label", "renew"), ("outcome", "not_done")]), 0.0);
    // At least a list and a renewal per due instance went out.
    assert!(get(&m, "gandish_run_api_calls", &[]) > n, "{m:?}");
    assert_eq!(get(&m, "gandish_run_rate_limit_faults", &[]), 0.0);
    // No temporary file is left beside it (the collector reads only *.prom, but still).
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(&format!(".{name}")))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn failed_items_and_a_fault_are_in_the_metrics_and_the_key_is_not() {
    let env = env(40, |c| c.clock = ClockMode::System);
    let g = gandish::gandi::Gandi::new(&env.url, env.key.as_str(), Default::default()).unwrap();
    g.call("sandbox.op.fail_next", vec!["paas_vm_renew".into(), "billing refused".into()]).unwrap();
    let path = prom_path("metrics-failed");
    renew_with_metrics(&env, &path, 1);
    let p = path.display().to_string();
    let m = metrics(&path, &env.key);
    assert_eq!(get(&m, "gandish_run_last_exit_status", &[]), 1.0);
    assert_eq!(get(&m, "gandish_run_last_success", &[]), 0.0);
    assert_eq!(get(&m, "gandish_run_items", &[("outcome", "failed")]), 1.0);
    assert_eq!(get(&m, "gandish_bulk_items", &[("label", "renew"), ("outcome", "failed")]), 1.0);

    // A wrong key: the run stops at a fault (3) before any bulk work; the file says so and
    // holds neither that key nor the right one.
    let wrong = "a wrong key of 24 chars!";
    let out = Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args(["--no-config", "--url", &env.url, "run", "std/renew", "journal=false", "--metrics-file", &p])
        .env("GANDI_API_KEY", wrong)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let m = metrics(&path, wrong);
    assert_eq!(get(&m, "gandish_run_last_exit_status", &[]), 3.0);
    assert!(!m.keys().any(|(name, _)| name == "gandish_bulk_items"), "no bulk run started: {m:?}");
}

/// A sandbox on the real clock whose calls take a while, so a run can be caught in flight.
fn slow_env() -> Env {
    env(120, |c| {
        c.clock = ClockMode::System;
        c.latency_ms = 150;
    })
}

#[test]
fn an_interrupted_run_writes_its_metrics_with_what_it_applied() {
    let env = slow_env();
    let path = prom_path("metrics-int");
    let p = path.display().to_string();
    let args =
        ["run", "std/renew", "within_days=30", "parallel=1", "rate=0", "journal=false", "--metrics-file", &p];
    let mut child = env.gandish(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while env.ledger_counts("paas_vm_renew").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "the run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let m = metrics(&path, &env.key);
    assert_eq!(get(&m, "gandish_run_last_exit_status", &[]), 130.0);
    let renew = |o| get(&m, "gandish_bulk_items", &[("label", "renew"), ("outcome", o)]);
    assert!(renew("applied") + renew("failed") >= 1.0, "{m:?}");
    assert!(renew("not_done") >= 1.0 && renew("total") > renew("applied"), "{m:?}");
}

#[test]
fn a_run_that_finds_the_lock_held_leaves_the_metrics_alone_and_a_bad_folder_stops_the_run() {
    let env = env(5, |_| {});
    let lock = temp_path("metrics-lock").with_extension("lock");
    let held = std::fs::File::create(&lock).unwrap();
    held.try_lock().unwrap();
    let path = prom_path("metrics-locked");
    std::fs::write(&path, "# the holder's metrics\n").unwrap();
    let (l, p) = (lock.display().to_string(), path.display().to_string());
    let out = env.run(&["run", "std/inventory", "--lock", &l, "--metrics-file", &p]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# the holder's metrics\n");
    drop(held);

    // A folder that is not there: refused before anything is sent (exit 2), naming it.
    let before = env.world();
    let missing = temp_path("metrics-nowhere").join("renew.prom");
    let m = missing.display().to_string();
    let out = env.run(&["run", "std/renew", "journal=false", "--metrics-file", &m]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("cannot write the metrics file {m}")) && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(env.world(), before, "nothing was sent");
}

#[test]
fn the_strict_parser_refuses_what_the_exposition_rules_forbid() {
    let good = "# HELP a_b Help.\n# TYPE a_b gauge\na_b{x=\"1\\\"\\n\"} 2.5\n";
    assert_eq!(parse_exposition(good).len(), 1);
    for bad in [
        "a_b 1\n",                                             // no TYPE before the sample
        "# HELP a_b H.\n# TYPE a_b gauge\na_b 1",              // no final newline
        "# HELP a_b H.\n# TYPE a_b gauge\na_b{x=\"\\t\"} 1\n", // a bad escape
        "# HELP a_b H.\n# TYPE a_b counter\na_b 1\n",          // a counter without _total
        "# HELP a_b H.\n# TYPE a_b gauge\na_b{1x=\"v\"} 1\n",  // a bad label name
        "# HELP a_b H.\n# TYPE a_b gauge\na_b one\n",          // not a number
        "# TYPE a_b gauge\na_b 1\n",                           // no HELP
    ] {
        let refused = std::panic::catch_unwind(|| parse_exposition(bad)).is_err();
        assert!(refused, "accepted {bad:?}");
    }
}
