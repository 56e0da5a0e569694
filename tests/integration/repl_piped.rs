//! `gandish repl` with piped stdin, end to end through the binary against the embedded sandbox:
//! no prompts, one result per entry, the same multi-line rules as at a terminal.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The embedded sandbox's key (the API page's placeholder).
const SANDBOX_KEY: &str = "my 24-character API key";

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `gandish [args] repl --sandbox` with `input` on stdin, waiting at most a minute.
fn repl(args: &[&str], input: &str) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gandish"));
    cmd.env_remove("GANDI_API_KEY")
        .env_remove("GANDI_URL")
        .env("GANDISH_HISTORY", "")
        .env("NO_COLOR", "1")
        .arg("--no-config")
        .args(args)
        .args(["repl", "--sandbox"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("gandish starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the REPL did not finish within a minute\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    writer.join().unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gandish-repl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn variables_and_functions_persist_across_entries() {
    let o = repl(&[], "let x = 40;\nfn inc(v) { v + 1 }\nx = inc(x) + 1; x\nconst K = 2;\nx * K\n");
    assert_eq!(o.stdout, "42\n84\n", "stderr: {}", o.stderr);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(o.stderr, "", "no prompt, no banner with piped input");
}

#[test]
fn open_braces_brackets_and_parens_continue_on_the_next_line() {
    let input = "fn add(a,\n       b) {\n  // a comment\n\n  a + b\n}\nadd(1,\n  2)\nlet m = #{\n  a: [1,\n      2],\n};\nm.a[1]\nlet y =\n  5;\ny\n";
    let o = repl(&[], input);
    assert_eq!(o.stdout, "3\n2\n5\n", "stderr: {}", o.stderr);
    assert_eq!(o.code, Some(0));
}

#[test]
fn an_unterminated_string_does_not_trap_the_input() {
    let o = repl(&[], "let s = \"abc\n1 + 1\n");
    assert_eq!(o.stdout, "2\n", "the next line is an entry of its own: {}", o.stderr);
    assert!(o.stderr.contains("error: "), "{}", o.stderr);
    assert!(o.stderr.contains("<repl:1>:1:9") && o.stderr.contains("let s = \"abc"), "{}", o.stderr);
    assert!(o.stderr.contains("        ^"), "a caret under the quote: {}", o.stderr);
    assert_eq!(o.code, Some(1), "an entry failed");
}

#[test]
fn text_left_open_at_the_end_is_reported() {
    let o = repl(&[], "1\nfn f() {\n  2\n");
    assert_eq!(o.stdout, "1\n");
    assert!(o.stderr.starts_with("error: ") && o.stderr.contains(" --> <repl:2>:2:"), "{}", o.stderr);
    assert_eq!(o.code, Some(1));
}

#[test]
fn errors_are_reported_and_the_repl_continues() {
    let input =
        "nope + 1\n1 / 0\npaas::info(999999)\nfn bad(a) {\n  a.missing()\n}\nbad(1)\n\"still here\"\n";
    let o = repl(&[], input);
    assert_eq!(o.stdout, "still here\n", "stderr: {}", o.stderr);
    assert!(o.stderr.contains("nope"), "{}", o.stderr);
    assert!(o.stderr.contains("Division by zero"), "{}", o.stderr);
    assert!(o.stderr.contains("Paas '999999' doesn't exist"), "{}", o.stderr);
    // The error inside `bad` points into the entry that defined it, not the one calling it.
    assert!(o.stderr.contains("<repl:4>:2:5") && o.stderr.contains("  a.missing()"), "{}", o.stderr);
    assert_eq!(o.stderr.lines().filter(|l| l.starts_with("error: ")).count(), 4, "{}", o.stderr);
    assert_eq!(o.code, Some(1));
}

#[test]
fn api_calls_reach_the_sandbox_and_tables_print() {
    let o = repl(
        &[],
        "let p = paas::info(1);\np.name\npaas::list(#{name: \"Mon PaaS\"}).map(|p| #{id: p.id, name: p.name})\n",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0], "Mon PaaS");
    assert!(lines[1].starts_with("id") && lines[1].contains("name"), "a table header: {}", o.stdout);
    assert!(lines.iter().any(|l| l.starts_with('1') && l.ends_with("Mon PaaS")), "{}", o.stdout);
}

#[test]
fn commands_help_doc_vars_funcs_and_quit() {
    let input = ":help\n:doc paas::renew\n:doc paas\n:doc nothing_like_it\nlet answer = 42;\nlet p = #{name: \"x\"};\n:vars\n/// Doubles.\nfn twice(v) { v * 2 }\n:doc twice\n:funcs\n:bogus\n:quit\n\"not evaluated\"\n";
    let o = repl(&[], input);
    let out = &o.stdout;
    for c in [":help", ":doc NAME", ":vars", ":funcs", ":load FILE", ":json", ":dry-run", ":quit"] {
        assert!(out.contains(c), "{c} in :help\n{out}");
    }
    assert!(out.contains("paas::renew(instance: i64 | Map, duration: String) -> Array"), "{out}");
    assert!(out.contains("Renews an instance for a duration such as \"12m\""), "{out}");
    assert!(out.contains("module paas:") && out.contains("  delete "), "{out}");
    assert!(out.contains("answer: i64 = 42"), "{out}");
    assert!(out.contains("p: map = #{name: \"x\"}"), "{out}");
    assert!(out.contains("twice(v)\n\n    Doubles.\n"), "{out}");
    assert!(
        out.contains("twice(v)  // Doubles.") && out.contains("vhost::info(vhost: String | Map) -> Map"),
        "{out}"
    );
    assert!(!out.contains("not evaluated"), ":quit stops reading: {out}");
    assert!(o.stderr.contains("no function or module named \"nothing_like_it\""), "{}", o.stderr);
    assert!(o.stderr.contains("unknown command :bogus"), "{}", o.stderr);
    assert_eq!(o.code, Some(1), "two commands failed");
}

#[test]
fn load_runs_a_file_whose_functions_and_variables_stay() {
    let dir = temp_dir("load");
    let file = dir.join("lib.rhai");
    std::fs::write(
        &file,
        "let base = 100;\nfn plus_base(n) { n + 100 }\nfn broken() {\n  undefined_fn()\n}\nbase\n",
    )
    .unwrap();
    let input = format!(
        ":load {}\nplus_base(1)\nbase + 1\nbroken()\n:load {}\n",
        file.display(),
        dir.join("missing.rhai").display()
    );
    let o = repl(&[], &input);
    assert_eq!(o.stdout, "100\n101\n101\n", "stderr: {}", o.stderr);
    assert!(o.stderr.contains("lib.rhai:4:3"), "the error points into the file: {}", o.stderr);
    assert!(o.stderr.contains("missing.rhai"), "{}", o.stderr);
    assert_eq!(o.code, Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_mode_on_and_off() {
    let o = repl(&[], ":json on\n#{a: 1, s: \"x\", l: [true, ()]}\n:json\n:json off\n1 + 1\n:json maybe\n");
    let (json, rest) = o.stdout.split_once("}\n").expect("a JSON document first");
    let v: serde_json::Value = serde_json::from_str(&format!("{json}}}")).unwrap();
    assert_eq!(v, serde_json::json!({"a": 1, "s": "x", "l": [true, null]}));
    assert_eq!(rest, ":json is on\n2\n");
    assert!(o.stderr.contains(":json takes on or off"), "{}", o.stderr);

    // The global --json flag starts the REPL in JSON mode.
    let o = repl(&["--json"], "\"s\"\n");
    assert_eq!(o.stdout.trim(), "\"s\"");
}

#[test]
fn dry_run_plans_instead_of_sending() {
    let input = ":dry-run on\nlet before = paas::count();\npaas::delete(1)\npaas::renew(1, \"12m\").summary\n:dry-run off\n:dry-run\npaas::count() == before\n";
    let o = repl(&[], input);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("summary:  delete instance 1"), "the plan entry is the value: {}", o.stdout);
    assert!(
        o.stdout.contains("dry run: 1 change planned, none sent:\n  1. delete instance 1: paas.delete(1)"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("renew instance 1 for 12m"), "{}", o.stdout);
    assert!(o.stdout.contains(":dry-run is off\ntrue\n"), "nothing was deleted: {}", o.stdout);

    // The global --dry-run flag starts the REPL in dry-run mode.
    let o = repl(&["--dry-run"], "paas::restart(1).dry_run\n");
    assert!(o.stdout.starts_with("true\n"), "{}", o.stdout);
}

#[test]
fn piped_input_is_never_prompted_and_changes_are_sent() {
    // stdin is not a terminal: nobody to ask, so nothing is asked (a scheduled run never blocks)
    // and the changes go out as written, as with `gandish eval`.
    let o = repl(&[], "let n = paas::count();\nlet op = op::wait(paas::delete(1));\nn - paas::count()\n");
    assert_eq!(o.stdout, "1\n", "stderr: {}", o.stderr);
    assert!(!o.stderr.contains("[y]es") && !o.stderr.contains("refused"), "{}", o.stderr);
    let o = repl(
        &[],
        "let ids = paas::list().map(|p| p.id);\nlet done = 0;\nfor id in ids { paas::renew(id, \"1m\"); done += 1; }\ndone == ids.len()\n",
    );
    assert_eq!(o.stdout, "true\n", "stderr: {}", o.stderr);
    assert!(!o.stderr.contains("[y]es"), "{}", o.stderr);
}

#[test]
fn the_key_is_never_printed() {
    let input = format!("let k = \"{SANDBOX_KEY}\";\nk\n:vars\nthrow k\n:json on\nk\n");
    let o = repl(&[], &input);
    assert!(!o.stdout.contains(SANDBOX_KEY) && !o.stderr.contains(SANDBOX_KEY), "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("[REDACTED]"), "{}", o.stdout);
    assert!(o.stderr.contains("[REDACTED]"), "{}", o.stderr);
}
