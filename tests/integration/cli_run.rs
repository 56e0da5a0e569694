//! `gandish run`, `eval`, `stdlib`, `completions`, `repl` wiring and the global options, end to
//! end: the built binary against its embedded sandbox (`--sandbox`), with exit statuses.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::collect;

/// The embedded sandbox's key (the API page's placeholder).
const SANDBOX_KEY: &str = "my 24-character API key";

/// `gandish` with an environment free of the variables it reads, and no config file.
fn gandish_cmd(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gandish"));
    for v in ["GANDI_API_KEY", "GANDI_URL", "GANDISH_ENV", "GANDISH_TIMEOUT", "NO_COLOR", "GANDISH_HISTORY"] {
        c.env_remove(v);
    }
    c.env("GANDISH_CONFIG", dir.join("no-such-config.toml")).current_dir(dir).stdin(Stdio::null());
    c
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = gandish_cmd(dir);
    c.args(args);
    // GANDISH_CONFIG names a missing file on purpose: --no-config semantics without the flag.
    c.arg("--no-config");
    c.output().expect("run gandish")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "gandish-cli-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child whose stdout and stderr are collected by threads, so tests can poll them.
struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn gandish");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Running { child, stdout, stderr }
    }

    /// Waits (at most 60 s) until `cond(stdout, stderr)` holds.
    fn wait_for(&self, what: &str, cond: impl Fn(&str, &str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (o, e) = (self.stdout.lock().unwrap().clone(), self.stderr.lock().unwrap().clone());
            if cond(&o, &e) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}\nstdout:\n{o}\nstderr:\n{e}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig}");
    }

    /// Waits (at most 60 s) for the exit status.
    fn status(mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("gandish did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn eval_prints_the_value_and_exits_0() {
    let d = TempDir::new("eval");
    let o = run_in(&d.0, &["eval", "1 + 1"]);
    assert_eq!((o.status.code(), out(&o).as_str(), err(&o).as_str()), (Some(0), "2\n", ""));
    let o = run_in(&d.0, &["eval", "let x = 1"]);
    assert_eq!((o.status.code(), out(&o).as_str()), (Some(0), ""), "() prints nothing");
    let o = run_in(&d.0, &["eval", "\"bare string\""]);
    assert_eq!(out(&o), "bare string\n");
}

#[test]
fn an_array_of_maps_prints_as_a_table() {
    let d = TempDir::new("table");
    let o = run_in(
        &d.0,
        &["--sandbox", "eval", "paas::list(#{id: [1, 2]}).map(|p| #{id: p.id, name: p.name, size: p.size})"],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("id  name") && lines[0].ends_with("size"), "{text}");
    assert!(lines[1].starts_with("--  ----"), "{text}");
    assert!(lines[2].starts_with("1   Mon PaaS"), "{text}");
}

#[test]
fn json_output_has_rfc3339_dates_and_the_flag_works_after_the_subcommand() {
    let d = TempDir::new("json");
    for args in [
        &["--sandbox", "--json", "eval", "paas::info(1)"][..],
        &["eval", "paas::info(1)", "--json", "--sandbox"][..],
    ] {
        let o = run_in(&d.0, args);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("stdout is JSON");
        assert_eq!(v["name"], "Mon PaaS");
        assert_eq!(v["id"], 1);
        // Results give RFC 3339 with the zone's offset (`call` keeps the tagged form).
        let end = v["date_end"].as_str().expect("an RFC 3339 date");
        assert_eq!(end.len(), "2027-01-31T00:00:00+01:00".len(), "{end}");
    }
}

#[test]
fn key_value_arguments_reach_the_script_as_args() {
    let d = TempDir::new("args");
    d.file(
        "args.rhai",
        "[ARGS.n + 1, type_of(ARGS.s), ARGS.s, type_of(ARGS.d), ARGS.list.len(), ARGS.quoted, type_of(ARGS.f), ARGS.m.a]",
    );
    let o = run_in(
        &d.0,
        &[
            "--json",
            "run",
            "args.rhai",
            "n=41",
            "s=web01",
            "d=2024-01-31",
            "list=[1, 2, 3]",
            "quoted=\"42\"",
            "f=2.5",
            "m=#{a: \"x\"}",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v, serde_json::json!([42, "string", "web01", "string", 3, "42", "f64", "x"]));

    let o = run_in(&d.0, &["run", "args.rhai", "novalue"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("is not KEY=VALUE"), "{}", err(&o));
}

#[test]
fn script_errors_show_file_line_column_source_and_caret() {
    let d = TempDir::new("err");
    d.file("fault.rhai", "let a = 1;\nlet b = paas::info(999);\n");
    let o = run_in(&d.0, &["--sandbox", "run", "fault.rhai"]);
    assert_eq!(o.status.code(), Some(3), "an unhandled API fault exits 3: {o:?}");
    assert_eq!(
        err(&o),
        "error: paas.info failed with fault 537542: Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '999' doesn't exist.]\n \
         --> fault.rhai:2:15\n  |\n2 | let b = paas::info(999);\n  |               ^\n"
    );
    assert_eq!(out(&o), "");

    d.file("syntax.rhai", "let a = 1;\n\nlet b = (a + ;\n");
    let o = run_in(&d.0, &["run", "syntax.rhai"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let e = err(&o);
    assert!(e.starts_with("error: "), "{e}");
    assert!(e.contains(" --> syntax.rhai:3:"), "{e}");
    assert!(e.contains("3 | let b = (a + ;\n"), "{e}");
    let caret_line = e.lines().last().unwrap();
    let col: usize = e.split(" --> syntax.rhai:3:").nth(1).unwrap().lines().next().unwrap().parse().unwrap();
    assert_eq!(caret_line, format!("  | {}^", " ".repeat(col - 1)), "{e}");

    d.file("thrown.rhai", "fn check(n) {\n    if n > 1 { throw \"too big: \" + n }\n}\ncheck(5);\n");
    let o = run_in(&d.0, &["run", "thrown.rhai"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        "error: too big: 5\n --> thrown.rhai:2:16\n  |\n2 |     if n > 1 { throw \"too big: \" + n }\n  |                ^\n"
    );
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let d = TempDir::new("color");
    let run = |args: &[&str], no_color: bool| {
        let mut c = gandish_cmd(&d.0);
        c.args(args).arg("--no-config");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        err(&c.output().unwrap())
    };
    let plain = run(&["eval", "throw \"x\""], false);
    assert!(!plain.contains('\x1b'), "auto on a pipe: no colour: {plain:?}");
    let forced = run(&["--color", "always", "eval", "throw \"x\""], true);
    assert!(forced.contains("\x1b[1;31merror\x1b[0m"), "--color always beats NO_COLOR: {forced:?}");
    assert!(!run(&["--color", "never", "eval", "throw \"x\""], false).contains('\x1b'));
}

#[test]
fn exit_statuses() {
    let d = TempDir::new("exit");
    let code = |args: &[&str]| run_in(&d.0, args).status.code();
    assert_eq!(code(&["eval", "40 + 2"]), Some(0));
    assert_eq!(code(&["eval", "throw \"boom\""]), Some(1), "script error");
    assert_eq!(code(&["eval", "let x = ;"]), Some(1), "syntax error");
    assert_eq!(code(&["--no-such-flag", "eval", "1"]), Some(2), "usage");
    assert_eq!(code(&["run", "missing.rhai"]), Some(2), "unreadable script file");
    assert_eq!(code(&["run", "std/no-such-script"]), Some(2));
    assert_eq!(code(&["--sandbox", "eval", "paas::delete(424242)"]), Some(3), "API fault");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{closed}/xmlrpc/");
    assert_eq!(code(&["--url", &url, "--api-key", "k", "eval", "paas::count()"]), Some(4), "transport");
    // A caught fault is not an error.
    assert_eq!(code(&["--sandbox", "eval", "try { paas::info(999) } catch (e) { print(e.code) }"]), Some(0));
}

#[test]
fn ctrl_c_stops_a_running_script_with_130() {
    let d = TempDir::new("sigint");
    let mut c = gandish_cmd(&d.0);
    c.args(["--no-config", "eval", "print(\"started\"); loop { }"]);
    let r = Running::spawn(c);
    r.wait_for("the script to start", |o, _| o.contains("started"));
    r.signal("-INT");
    let stderr = r.stderr.clone();
    assert_eq!(r.status(), Some(130));
    assert_eq!(stderr.lock().unwrap().as_str(), "interrupted\n");
}

#[test]
fn dry_run_prints_the_plan_and_sends_nothing() {
    let d = TempDir::new("dry");
    let script = "paas::delete(1); paas::renew(2, \"12m\"); paas::list(#{id: [1, 2]}).len()";
    let o = run_in(&d.0, &["--sandbox", "--dry-run", "eval", script]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = out(&o);
    assert!(text.starts_with("2\ndry run: 2 changes planned, none sent:\n"), "{text}");
    assert!(text.contains("  1. delete instance 1"), "{text}");
    assert!(text.contains(": paas.delete(1)\n"), "{text}");
    assert!(text.contains("  2. renew instance 2"), "{text}");
    // With --json stdout stays one JSON document; the plan goes to stderr.
    let o = run_in(&d.0, &["--sandbox", "--dry-run", "--json", "eval", script]);
    assert_eq!(out(&o), "2\n");
    assert!(err(&o).contains("dry run: 2 changes planned"), "{}", err(&o));
}

#[test]
fn trace_logs_each_call_with_the_key_redacted() {
    let d = TempDir::new("trace");
    let o = run_in(&d.0, &["--sandbox", "--trace", "eval", "paas::count(); paas::info(1).id"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let e = err(&o);
    let lines: Vec<&str> = e.lines().filter(|l| l.starts_with("trace: ")).collect();
    assert_eq!(lines.len(), 2, "{e}");
    assert!(lines[0].starts_with("trace: paas.count [\"[REDACTED]\"] "), "{e}");
    assert!(lines[1].starts_with("trace: paas.info [\"[REDACTED]\",1] "), "{e}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" ms, ") && l.contains(" B sent, ") && l.ends_with(" B received: ok"))
    );
    assert!(!e.contains(SANDBOX_KEY) && !out(&o).contains(SANDBOX_KEY));

    // A key given on the command line, sent to a dead endpoint: never printed anywhere.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{closed}/xmlrpc/");
    let secret = "s3cret-KEY-0123456789ab";
    let o = run_in(&d.0, &["-v", "--trace", "--url", &url, "--api-key", secret, "eval", "paas::count()"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(err(&o).contains("trace: paas.count [\"[REDACTED]\"]"), "{}", err(&o));
    assert!(!err(&o).contains(secret) && !out(&o).contains(secret), "{o:?}");
}

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    let d = TempDir::new("pipe");
    let mut c = gandish_cmd(&d.0);
    c.args(["--no-config", "eval", "let s = \"\"; s.pad(300000, 'x'); s"]);
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(err(&o), "");
}

#[test]
fn stdlib_lists_the_bundled_scripts_and_run_finds_them() {
    let d = TempDir::new("stdlib");
    let o = run_in(&d.0, &["stdlib"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).lines().any(|l| l.starts_with("std/util  ")), "{}", out(&o));
    let o = run_in(&d.0, &["stdlib", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("std/util"), "the error lists what exists: {}", err(&o));
    let o = run_in(&d.0, &["--sandbox", "run", "std/util"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[test]
fn completions_for_each_shell() {
    let d = TempDir::new("compl");
    for shell in ["bash", "zsh", "fish"] {
        let o = run_in(&d.0, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let text = out(&o);
        assert!(text.contains("watch") && text.contains("dry-run") && text.contains("stdlib"), "{shell}");
    }
    assert_eq!(run_in(&d.0, &["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn repl_reads_piped_stdin_and_bare_gandish_needs_a_terminal() {
    let d = TempDir::new("repl");
    let mut c = gandish_cmd(&d.0);
    c.args(["--no-config", "--sandbox", "repl"]).stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"let n = paas::list(#{id: [1, 2]}).len();\nn * 10\n").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(out(&o).contains("20"), "{}", out(&o));

    let o = run_in(&d.0, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("gandish repl"), "{}", err(&o));
}

#[test]
fn help_explains_where_settings_come_from_and_hides_the_key() {
    let d = TempDir::new("help");
    let mut c = gandish_cmd(&d.0);
    let o = c.arg("--help").env("GANDI_API_KEY", "hidden-KEY-value-1234").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = out(&o);
    assert!(text.contains("Where settings come from"), "{text}");
    for s in ["GANDI_API_KEY", "GANDISH_CONFIG", "config.toml", "NO_COLOR", "key_command"] {
        assert!(text.contains(s), "{s} in {text}");
    }
    assert!(!text.contains("hidden-KEY-value-1234"));
}

#[test]
fn lock_refuses_an_overlapping_run_with_75() {
    let d = TempDir::new("lock");
    d.file("slow.rhai", "print(\"started\"); let t = timestamp(); while t.elapsed < 30.0 { } \"done\"");
    d.file("quick.rhai", "\"quick\"");
    let lock = d.0.join("job.lock");
    let lock_s = lock.to_str().unwrap();
    let mut c = gandish_cmd(&d.0);
    c.args(["--no-config", "run", "--lock", lock_s, "slow.rhai"]);
    let first = Running::spawn(c);
    first.wait_for("the first run to start", |o, _| o.contains("started"));

    let o = run_in(&d.0, &["run", "--lock", lock_s, "quick.rhai"]);
    assert_eq!(o.status.code(), Some(75), "{o:?}");
    let pid = first.child.id();
    let e = err(&o);
    let prefix = format!("error: another gandish run holds the lock {lock_s} (pid {pid}, for ");
    assert!(e.starts_with(&prefix) && e.ends_with(" s); not running\n"), "{e}");
    assert_eq!(out(&o), "");

    first.signal("-INT");
    assert_eq!(first.status(), Some(130));
    let o = run_in(&d.0, &["run", "--lock", lock_s, "quick.rhai"]);
    assert_eq!((o.status.code(), out(&o).as_str()), (Some(0), "quick\n"), "the lock is free again");
}

#[test]
fn report_is_written_atomically_from_report_or_the_value() {
    let d = TempDir::new("report");
    let report = d.0.join("out").join("report.json");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    let r = report.to_str().unwrap();
    d.file("with.rhai", "let REPORT = #{renewed: [1, 2], when: date(\"2027-01-31\")};\n7");
    let o = run_in(&d.0, &["run", "--report", r, "with.rhai"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let ok = serde_json::json!({"status": "ok", "exit": 0, "error": null, "bulk": []});
    assert_eq!(v, serde_json::json!({"renewed": [1, 2], "when": "2027-01-31T00:00:00+01:00", "run": ok}));
    assert_eq!(out(&o), "7\n");

    d.file("value.rhai", "#{count: 3}");
    run_in(&d.0, &["run", "--report", r, "value.rhai"]);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v, serde_json::json!({"count": 3, "run": ok}));

    // A failure without REPORT replaces the previous report with one saying so.
    d.file("fails.rhai", "throw \"no\"");
    assert_eq!(run_in(&d.0, &["run", "--report", r, "fails.rhai"]).status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["run"], "{v}");
    assert_eq!((&v["run"]["status"], &v["run"]["exit"]), (&"failed".into(), &1.into()), "{v}");
    assert!(v["run"]["error"].as_str().unwrap().contains("no"), "{v}");
    // …a failure after REPORT was set writes it, with how the run ended.
    d.file("partial.rhai", "let REPORT = #{done: 1};\nthrow \"half way\"");
    assert_eq!(run_in(&d.0, &["run", "--report", r, "partial.rhai"]).status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["done"], 1, "{v}");
    assert!(v["run"]["error"].as_str().unwrap().contains("half way"), "{v}");
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(report.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.json"]);
}

#[test]
fn the_main_job_renews_what_is_due_once_and_a_rerun_renews_nothing() {
    use crate::support::cmd::Gandish;
    let state = TempDir::new("main-job");
    let renew = ["run", "std/renew", "within_days=30", "duration=auto"];
    let first = Gandish::new().sandbox().env("GANDISH_STATE_DIR", &state.0).args(renew).run().status(0);
    let renewed = first.ledger("paas_vm_renew");
    assert!(!renewed.is_empty() && renewed.values().all(|n| *n == 1), "{renewed:?}");
    let first = first.stdout_has(&format!("renewed {}, skipped 0, failed 0", renewed.len()));
    // The same job again sends nothing: what is still due (the seed's instance, which ended in
    // 2011, is still due after the longest renewal Gandi allows) was renewed within the
    // cooldown, and says so.
    Gandish::new()
        .against(first.sandbox())
        .env("GANDISH_STATE_DIR", &state.0)
        .args(renew)
        .run()
        .status(0)
        .stdout_has("renewed 0, skipped 1, failed 0")
        .stdout_has("skipped (renewed ");
    assert_eq!(first.ledger("paas_vm_renew"), renewed, "the rerun billed nothing");
}

#[test]
fn run_dash_reads_the_script_from_standard_input() {
    use crate::support::cmd::Gandish;
    Gandish::new()
        .sandbox()
        .args(["run", "-", "n=2"])
        .stdin("let ids = paas::list().map(|p| p.id);\nids.len() * ARGS.n")
        .run()
        .status(0)
        .stdout_has("74");
    // Errors point into <stdin>.
    Gandish::new()
        .sandbox()
        .args(["run", "-"])
        .stdin("let x = 1;\npaas::info(99999)")
        .run()
        .status(3)
        .stderr_has("<stdin>:2");
}
