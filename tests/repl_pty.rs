//! `gandish repl` in a pseudo-terminal (tmux): Tab completion, signature hints, multi-line
//! entries, Ctrl-C cancelling `loop {}` while the REPL survives, confirmation prompts, and the
//! history file. Every wait polls the screen (or the file) up to a bound; nothing is timed.
//!
//! Needs `tmux` (`.ci/install-peers` installs it); without it these tests fail and say so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The embedded sandbox's key.
const SANDBOX_KEY: &str = "my 24-character API key";
/// The longest any wait may take.
const PATIENCE: Duration = Duration::from_secs(30);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A gandish REPL running in its own tmux server.
struct Term {
    socket: String,
}

fn tmux_available() {
    match Command::new("tmux").arg("-V").output() {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "tmux is needed for the pseudo-terminal REPL tests and was not found: install it \
             (apt-get install tmux; .ci/install-peers does)"
        ),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Term {
    /// Starts `gandish repl --sandbox` with its history in `history`.
    fn start(history: &Path) -> Term {
        tmux_available();
        let socket = format!("gandish-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let cmd = format!(
            "exec env -u GANDI_API_KEY -u GANDI_URL -u NO_COLOR GANDISH_HISTORY={} {} --no-config repl --sandbox",
            quote(&history.display().to_string()),
            quote(env!("CARGO_BIN_EXE_gandish"))
        );
        let t = Term { socket };
        let out = t.tmux(&["new-session", "-d", "-s", "t", "-x", "200", "-y", "50", &cmd]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        t.tmux(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        t.wait_for("the banner and the prompt", |s| s.contains(":help for help") && s.contains("gandish>"));
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Types text literally. (tmux reads an argument ending in `;` as a command separator, so
    /// that one is escaped.)
    fn type_text(&self, text: &str) {
        let arg = match text.strip_suffix(';') {
            Some(t) => format!("{t}\\;"),
            None => text.to_string(),
        };
        self.tmux(&["send-keys", "-t", "t", "-l", &arg]);
    }

    /// Presses keys (`Enter`, `Tab`, `C-c`, `C-d`, `Up`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Types a line and presses Enter.
    fn line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// The screen and its scrollback.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t", "-S", "-2000"]).stdout)
            .into_owned()
    }

    /// The last non-empty line of the screen (the prompt line, while editing).
    fn last_line(&self) -> String {
        self.screen().lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim_end().to_string()
    }

    /// Polls the screen until `ok` holds; panics with the screen after [`PATIENCE`].
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("waited {PATIENCE:?} for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the prompt line reads exactly `gandish> {text}` (with a hint possibly after).
    fn wait_line(&self, text: &str) {
        let want = format!("gandish> {text}");
        let deadline = Instant::now() + PATIENCE;
        let matches =
            |line: String| if text.is_empty() { line == "gandish>" } else { line.starts_with(&want) };
        while !matches(self.last_line()) {
            if Instant::now() > deadline {
                panic!("waited {PATIENCE:?} for the line {want:?}; the screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `(dead, exit status)` of the REPL process.
    fn pane_status(&self) -> (bool, Option<i32>) {
        let out = self.tmux(&["display-message", "-p", "-t", "t", "#{pane_dead} #{pane_dead_status}"]);
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        (parts.next() == Some("1"), parts.next().and_then(|s| s.parse().ok()))
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

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
    t.line("let my_inst = paas::info(1)");
    t.wait_for("the next prompt", |s| s.matches("gandish>").count() >= 2);

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
    t.line("fn twice(a) {");
    t.line("  a * 2");
    t.line("}");
    t.line("twice(21)");
    t.wait_for("42", |s| count_lines(s, "42") == 1);

    // A "string" cannot continue on the next line: the entry is evaluated and reported.
    t.line("let s = \"abc");
    t.wait_for("the error", |s| s.contains("Open string is not terminated"));
    t.line("1 + 1");
    t.wait_for("2", |s| count_lines(s, "2") == 1);

    // An open brace continues; an empty line submits it anyway.
    t.line("if true {");
    t.keys(&["Enter"]);
    t.wait_for("the error for the open brace", |s| s.contains("Expecting '}'"));
    t.line("\"alive\"");
    t.wait_for("the REPL still answering", |s| count_lines(s, "alive") == 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ctrl_c_cancels_a_loop_and_clears_the_line_and_ctrl_d_exits() {
    let dir = temp_dir("ctrlc");
    let t = Term::start(&dir.join("history"));
    t.line("let before = 40");
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
    assert!(!t.pane_status().0, "the REPL survived Ctrl-C");
    t.line("before + 2");
    t.wait_for("the scope kept", |s| count_lines(s, "42") == 1);

    // At the prompt, Ctrl-C drops the line being typed.
    t.type_text("this_is_not_evaluated");
    t.wait_line("this_is_not_evaluated");
    t.keys(&["C-c"]);
    t.wait_line("");
    t.line("\"next\"");
    t.wait_for("the next entry", |s| count_lines(s, "next") == 1);
    assert!(!t.screen().contains("error"), "the dropped line was not run:\n{}", t.screen());

    t.keys(&["C-d"]);
    let deadline = Instant::now() + PATIENCE;
    while !t.pane_status().0 {
        assert!(Instant::now() < deadline, "Ctrl-D did not end the REPL:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(t.pane_status().1, Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_delete_asks_first_at_a_terminal() {
    let dir = temp_dir("confirm");
    let t = Term::start(&dir.join("history"));
    t.line("paas::delete(1)");
    t.wait_for("the question", |s| s.contains("delete instance 1? [y]es / [a]ll / [N]o"));
    t.line("n");
    t.wait_for("the refusal", |s| s.contains("paas::delete: not confirmed, nothing sent"));
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
        t.line("let marker = 1");
        wait_file("let marker = 1");
        t.line(&format!("let k = \"{SANDBOX_KEY}\""));
        t.line("\"after the key\"");
        wait_file("\"after the key\"");
        assert!(!read().contains(SANDBOX_KEY), "the line with the key was saved:\n{}", read());
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
