//! Clean machine output (issue 16): with `--json`, stdout is exactly one JSON document for every
//! command that has JSON output (eval, run, the bulk reports, call, stdlib, the sandbox banner),
//! a script's `print()` goes to stderr, and dates in results and reports are RFC 3339 with the
//! configured zone's offset while `call` keeps the tagged `{"$datetime": …}` form.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `gandish --no-config ARGS…` in `dir`, with no key or endpoint from the environment and
/// standard input closed (so nothing is ever asked).
fn gandish(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gandish"))
        .arg("--no-config")
        .args(args)
        .current_dir(dir)
        .env_remove("GANDI_API_KEY")
        .env_remove("GANDI_URL")
        .env("GANDISH_STATE_DIR", dir)
        .stdin(Stdio::null())
        .output()
        .expect("gandish runs")
}

/// A fresh folder for one test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("gandish-frontends-json-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Stdout as exactly one JSON document (whitespace around it allowed); panics otherwise,
/// showing the output.
fn one_document(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let mut docs = serde_json::Deserializer::from_slice(&o.stdout).into_iter::<serde_json::Value>();
    let first = docs.next().unwrap_or_else(|| panic!("no JSON on stdout: {o:?}"));
    let first =
        first.unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)));
    assert!(
        docs.next().is_none(),
        "more than one document on stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    first
}

/// Checks that `text` is an RFC 3339 date-time with seconds and an offset (`Z` or `±hh:mm`),
/// its fields in range; returns the offset in minutes east of UTC.
fn rfc3339_offset(text: &str) -> i32 {
    let b = text.as_bytes();
    let bad = || -> ! { panic!("not an RFC 3339 date-time: {text:?}") };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        bad();
    }
    let num = |r: std::ops::Range<usize>| -> u32 { text[r].parse().unwrap_or_else(|_| bad()) };
    let (month, day, hour, minute, second) = (num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    num(0..4);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        bad();
    }
    match &text[19..] {
        "Z" => 0,
        off if off.len() == 6 && (off.starts_with('+') || off.starts_with('-')) && &off[3..4] == ":" => {
            let m = (num(20..22) * 60 + num(23..25)) as i32;
            if off.starts_with('-') { -m } else { m }
        }
        _ => bad(),
    }
}

#[test]
fn eval_json_is_one_document_with_prints_on_stderr_and_rfc3339_dates() {
    let d = TempDir::new("eval");
    let o = gandish(
        &d.0,
        &["--sandbox", "--json", "eval", r##"print("looking up"); print("#{not: json}"); paas::info(1)"##],
    );
    let v = one_document(&o);
    assert_eq!(v["name"], "Mon PaaS");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("looking up\n#{not: json}\n"), "print goes to stderr in JSON mode: {stderr}");
    // The seed's instance ends 2011-10-14T14:36:30, Paris time: summer, so +02:00.
    assert_eq!(v["date_end"], "2011-10-14T14:36:30+02:00");
    assert_eq!(rfc3339_offset(v["date_end"].as_str().unwrap()), 120);
    assert_eq!(rfc3339_offset(v["date_start"].as_str().unwrap()), 120);

    // Without --json, print stays on stdout, before the value.
    let o = gandish(&d.0, &["--sandbox", "eval", r#"print("looking up"); 7"#]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "looking up\n7\n");
}

#[test]
fn run_json_and_the_report_file_use_rfc3339_and_stay_one_document() {
    let d = TempDir::new("run");
    std::fs::write(
        d.0.join("s.rhai"),
        "print(\"starting\");\nlet REPORT = #{when: date(\"2027-01-31\"), in_summer: date(\"2027-07-01T08:00:00\"), rows: paas::list(#{items_per_page: 2})};\nprint(\"done\");\nREPORT\n",
    )
    .unwrap();
    let report = d.0.join("report.json");
    let o = gandish(&d.0, &["--sandbox", "--json", "run", "--report", report.to_str().unwrap(), "s.rhai"]);
    let v = one_document(&o);
    assert_eq!(v["when"], "2027-01-31T00:00:00+01:00");
    assert_eq!(v["in_summer"], "2027-07-01T08:00:00+02:00");
    for row in v["rows"].as_array().unwrap() {
        rfc3339_offset(row["date_end"].as_str().unwrap());
    }
    assert!(String::from_utf8_lossy(&o.stderr).contains("starting\ndone\n"));
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(file["when"], "2027-01-31T00:00:00+01:00", "the report has the same shape");
    assert_eq!(file["run"]["status"], "ok");

    // The dry-run plan goes to stderr too.
    std::fs::write(d.0.join("plan.rhai"), "paas::restart(1); print(\"planned\"); 1").unwrap();
    let o = gandish(&d.0, &["--sandbox", "--json", "--dry-run", "run", "plan.rhai"]);
    assert_eq!(one_document(&o), serde_json::json!(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("planned") && stderr.contains("paas.restart"), "{stderr}");
}

#[test]
fn the_bulk_report_is_one_document_with_rfc3339_dates() {
    let d = TempDir::new("bulk");
    let o = gandish(
        &d.0,
        &[
            "--sandbox",
            "--json",
            "--yes",
            "run",
            "std/renew",
            "within_days=400",
            "duration=12m",
            "journal=false",
        ],
    );
    let v = one_document(&o);
    let rows = v["rows"].as_array().expect("the report's rows");
    assert!(!rows.is_empty(), "the demo dataset has instances ending within 400 days: {v}");
    let mut dates = 0;
    for row in rows {
        for key in ["date_end_before", "date_end_after"] {
            if let Some(s) = row[key].as_str() {
                rfc3339_offset(s);
                dates += 1;
            }
        }
    }
    assert!(dates > 0, "{v}");
    assert!(v["summary"].is_string());
}

#[test]
fn call_json_is_one_document_and_keeps_the_tagged_datetime() {
    let d = TempDir::new("call");
    let v = one_document(&gandish(&d.0, &["--sandbox", "--json", "--trace", "call", "paas.info", "1"]));
    assert_eq!(v["date_end"]["$datetime"], "20111014T14:36:30", "call's output goes back in as arguments");
    let v = one_document(&gandish(&d.0, &["--sandbox", "--json", "--dry-run", "call", "paas.restart", "1"]));
    assert_eq!(v, serde_json::json!({"dry_run": true, "sent": false, "method": "paas.restart", "args": [1]}));
}

#[test]
fn stdlib_json_lists_the_scripts_with_their_arguments() {
    let d = TempDir::new("stdlib");
    let v = one_document(&gandish(&d.0, &["--json", "stdlib"]));
    let all = v.as_array().expect("an array of scripts");
    let renew = all.iter().find(|s| s["name"] == "std/renew").expect("std/renew is listed");
    assert!(renew["summary"].as_str().is_some_and(|s| !s.is_empty()));
    let args = renew["args"].as_array().unwrap();
    assert!(args.iter().any(|a| a["name"] == "within_days"), "{renew}");

    let one = one_document(&gandish(&d.0, &["stdlib", "renew", "--json"]));
    assert_eq!(one["name"], "std/renew");
    assert_eq!(one["args"], renew["args"]);

    let o = gandish(&d.0, &["--json", "stdlib", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

#[test]
fn the_sandbox_banner_is_one_json_line_on_stdout() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args([
            "--no-config",
            "--json",
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--key",
            "a sandbox key 0123456789",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gandish sandbox starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let banner: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let url = banner["url"].as_str().expect("the URL");
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/xmlrpc/"), "{url}");
    assert_eq!(banner["api_key"], "a sandbox key 0123456789");

    // It serves at that URL: a call through gandish itself.
    let d = TempDir::new("sandbox");
    let o = gandish(&d.0, &["--url", url, "--api-key", "a sandbox key 0123456789", "call", "paas.count"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let count: i64 = String::from_utf8_lossy(&o.stdout).trim().parse().expect("a count");
    assert!(count > 0, "the demo dataset has instances");

    // SIGTERM stops it; nothing else reached stdout.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "stdout holds the banner alone");
}
