//! `gandish repl` in a pseudo-terminal (tmux): Tab completion, signature hints, multi-line
//! entries, Ctrl-C cancelling `loop {}` while the REPL survives, confirmation prompts, and the
//! history file. Every wait polls the screen (or the file) up to a bound; nothing is timed.
//!
//! Needs `tmux` (`.ci/install-peers` installs it); without it these tests fail and say so.

use crate::support::term;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use term::{PATIENCE, Term};

/// The embedded sandbox's key.
const SANDBOX_KEY: &str = "my 24-character API key";

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gandish-pty-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The number of result lines equal to `text` on the screen.
fn count_lines(screen: &str, text: &str) -> usize {
    screen.lines().filter(|l| l.trim_end() == text).count()
}

#[test]
fn tab_completes_modules_functions_variables_and_fields_and_hints_show_signatures() {
    let dir = temp_dir("complete");
    let t = Term::start(&dir.join("history"));
    t.entry("let my_inst = paas::info(1)");

    t.type_text("paas::l");
    t.keys(&["Tab"]);
    t.wait_line("paas::list");
    t.keys(&["C-u"]);

    t.type_text("vh");
    t.keys(&["Tab"]);
    t.wait_line("vhost::");
    t.keys(&["C-u"]);

    t.type_text("my_");
    t.keys(&["Tab"]);
    t.wait_line("my_inst");
    t.type_text(".datac");
    t.keys(&["Tab"]);
    t.wait_line("my_inst.datacenter");
    t.type_text(".na");
    t.keys(&["Tab"]);
    t.wait_line("my_inst.datacenter.name");
    t.keys(&["C-u"]);

    t.type_text("my_inst.na");
    t.keys(&["Tab"]);
    t.wait_line("my_inst.name");
    t.keys(&["Enter"]);
    t.wait_for("the instance's name", |s| count_lines(s, "Mon PaaS") == 1);

    // The hint shows the signature of the call being typed.
    t.type_text("paas::renew(inst, ");
    t.wait_for("the signature hint", |s| {
        s.contains(
            "gandish> paas::renew(inst,    paas::renew(instance: i64 | Map, duration: String) -> Array",
        )
    });
    t.keys(&["C-u"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn multi_line_entries_and_an_unterminated_string_at_a_terminal() {
    let dir = temp_dir("multiline");
    let t = Term::start(&dir.join("history"));
    t.at_prompt();
    t.line("fn twice(a) {");
    t.line("  a * 2");
    t.line("}");
    t.entry("twice(21)");
    t.wait_for("42", |s| count_lines(s, "42") == 1);

    // A "string" cannot continue on the next line: the entry is evaluated and reported.
    t.at_prompt();
    t.line("let s = \"abc");
    t.wait_for("the error", |s| s.contains("Open string is not terminated"));
    t.entry("1 + 1");
    t.wait_for("2", |s| count_lines(s, "2") == 1);

    // An open brace continues; an empty line submits it anyway.
    t.at_prompt();
    t.line("if true {");
    t.keys(&["Enter"]);
    t.wait_for("the error for the open brace", |s| s.contains("Expecting '}'"));
    t.entry("\"alive\"");
    t.wait_for("the REPL still answering", |s| count_lines(s, "alive") == 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ctrl_c_cancels_a_loop_and_clears_the_line_and_ctrl_d_exits() {
    let dir = temp_dir("ctrlc");
    let t = Term::start(&dir.join("history"));
    t.entry("let before = 40");
    t.at_prompt();
    t.line("loop {}");
    t.wait_for("the loop to start", |s| s.contains("gandish> loop {}"));
    // Ctrl-C until the loop reports its cancellation (one that lands before the run has begun
    // has nothing to cancel yet).
    let deadline = Instant::now() + PATIENCE;
    while !t.screen().contains("cancelled") {
        assert!(Instant::now() < deadline, "Ctrl-C never cancelled the loop:\n{}", t.screen());
        t.keys(&["C-c"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    t.at_prompt();
    t.line("before + 2");
    t.wait_for("the scope kept", |s| count_lines(s, "42") == 1);

    // At the prompt, Ctrl-C drops the line being typed.
    t.type_text("this_is_not_evaluated");
    t.wait_line("this_is_not_evaluated");
    t.keys(&["C-c"]);
    t.wait_line("");
    t.entry("\"next\"");
    t.wait_for("the next entry", |s| count_lines(s, "next") == 1);
    assert!(!t.screen().contains("error"), "the dropped line was not run:\n{}", t.screen());

    t.keys(&["C-d"]);
    t.wait_for("the REPL to end with status 0", |s| s.contains("[exited 0]"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_delete_asks_first_at_a_terminal() {
    let dir = temp_dir("confirm");
    let t = Term::start(&dir.join("history"));
    t.at_prompt();
    t.line("paas::delete(1)");
    t.wait_for("the question", |s| s.contains("delete instance 1? [y]es / [n]o, skip it / [a]ll / [q]uit"));
    t.line("n");
    t.wait_for("the skipped change as the value", |s| s.contains("skipped:") && s.contains("summary:"));
    t.at_prompt();
    // A loop of renewals asks once, before the first; `n` skips that one and asks again at the
    // next, which `y` sends with the rest; the loop goes on to the end.
    t.line("let sent = 0; for id in [1, 2, 3] { let r = paas::renew(id, \"1m\"); if !(\"skipped\" in r) { sent += 1 } } sent");
    t.wait_for("the first question", |s| s.contains("renew instance 1 for 1m (billable)? [y]es"));
    t.line("n");
    t.wait_for("the second question", |s| s.contains("renew instance 2 for 1m (billable)? [y]es"));
    t.line("y");
    t.wait_for("two renewals sent", |s| count_lines(s, "2") == 1);
    assert!(
        !t.screen().contains("renew instance 3 for 1m (billable)?"),
        "asked once confirmed:\n{}",
        t.screen()
    );
    t.at_prompt();
    t.line("paas::info(1).name");
    t.wait_for("the instance still there", |s| count_lines(s, "Mon PaaS") == 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn history_is_appended_after_each_entry_never_with_the_key() {
    let dir = temp_dir("history");
    let file = dir.join("sub").join("history");
    let read = || std::fs::read_to_string(&file).unwrap_or_default();
    let wait_file = |what: &str| {
        let deadline = Instant::now() + PATIENCE;
        while !read().contains(what) {
            assert!(Instant::now() < deadline, "{what:?} never reached the history file:\n{}", read());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    {
        let t = Term::start(&file);
        t.entry("let marker = 1");
        wait_file("let marker = 1");
        t.entry(&format!("let k = \"{SANDBOX_KEY}\""));
        t.entry("\"after the key\"");
        wait_file("\"after the key\"");
        assert!(!read().contains(SANDBOX_KEY), "the line with the key was saved:\n{}", read());
        t.at_prompt();
        t.line("fn two() {");
        t.line("  2");
        t.line("}");
        wait_file("fn two() {");
    }
    // A new session reads it: Up brings back the last entry (a multi-line one, whole).
    let t = Term::start(&file);
    t.keys(&["Up"]);
    t.wait_for("the last entry recalled", |s| s.contains("gandish> fn two() {"));
    // Up first walks up through the recalled entry's lines, then to the entry before.
    let deadline = Instant::now() + PATIENCE;
    while !t.last_line().starts_with("gandish> \"after the key\"") {
        assert!(Instant::now() < deadline, "the entry before never came back:\n{}", t.screen());
        t.keys(&["Up"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `gandish sandbox` serving every call slowly, stopped when dropped.
struct SlowSandbox {
    child: std::process::Child,
    url: String,
    // Kept open: the sandbox writes to its stderr after the banner.
    _stderr: std::io::BufReader<std::process::ChildStderr>,
}

impl SlowSandbox {
    fn start(latency_ms: u64) -> SlowSandbox {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_gandish"))
            .args(["--no-config", "sandbox", "--listen", "127.0.0.1:0", "--dataset", "seed", "--latency"])
            .arg(latency_ms.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("gandish sandbox starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut banner = String::new();
        stderr.read_line(&mut banner).unwrap();
        let url = banner.trim().rsplit(' ').next().unwrap().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{banner:?}");
        SlowSandbox { child, url, _stderr: stderr }
    }
}

impl Drop for SlowSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ctrl_c_stops_a_script_blocked_in_slow_calls() {
    let sb = SlowSandbox::start(400);
    let dir = temp_dir("slow");
    let t = Term::start_with(
        &dir.join("history"),
        &["--url", &sb.url, "--api-key", SANDBOX_KEY, "--timeout", "5"],
    );
    t.entry("let calls = 0");
    t.at_prompt();
    t.line("loop { paas::count(); calls += 1; print(`call ${calls} done`); }");
    t.wait_for("a first slow call to finish", |s| s.contains("call 1 done"));
    let deadline = Instant::now() + PATIENCE;
    while !t.screen().contains("cancelled") {
        assert!(Instant::now() < deadline, "Ctrl-C never stopped the slow loop:\n{}", t.screen());
        t.keys(&["C-c"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    // The call in flight ended (within its latency) and the loop stopped after it.
    t.at_prompt();
    t.line("`alive after ${calls} calls`");
    t.wait_for("the REPL answering with the scope kept", |s| {
        s.lines().any(|l| l.starts_with("alive after ") && !l.contains("after 0 "))
    });
    std::fs::remove_dir_all(&dir).unwrap();
}
