//! A terminal for the tests: gandish in a tmux session of its own, typed into and read back.
//! Every wait polls the screen up to a bound ([`PATIENCE`]); nothing is timed. Included with
//! `#[path]` by the tests that need it; needs `tmux` (`.ci/install-peers` installs it).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest any wait may take.
pub const PATIENCE: Duration = Duration::from_secs(30);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A gandish REPL running in its own tmux server.
pub struct Term {
    socket: String,
}

pub fn tmux_available() {
    match Command::new("tmux").arg("-V").output() {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "tmux is needed for the pseudo-terminal REPL tests and was not found: install it \
             (apt-get install tmux; .ci/install-peers does)"
        ),
    }
}

pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Term {
    /// Starts `gandish repl --sandbox` with its history in `history`.
    pub fn start(history: &Path) -> Term {
        Term::start_with(history, &["--sandbox"])
    }

    /// Starts `gandish --no-config repl ARGS…` with its history in `history`.
    pub fn start_with(history: &Path, args: &[&str]) -> Term {
        let mut argv = vec!["repl"];
        argv.extend(args);
        let t = Term::command(history, &argv);
        t.wait_for("the banner and the prompt", |s| s.contains(":help for help") && s.contains("gandish>"));
        t
    }

    /// Starts `gandish --no-config ARGS…` on a terminal of its own, with its history in
    /// `history`; the screen ends with `[exited STATUS]` once it has ended.
    pub fn command(history: &Path, args: &[&str]) -> Term {
        Term::command_sized(history, args, 200, 50)
    }

    /// [`Term::command`] on a terminal `columns` wide and `rows` high (`COLUMNS` unset, so that
    /// the terminal's own size is what gandish sees).
    pub fn command_sized(history: &Path, args: &[&str], columns: u16, rows: u16) -> Term {
        tmux_available();
        let socket = format!("gandish-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let repl = format!(
            "{} --no-config {}",
            quote(env!("CARGO_BIN_EXE_gandish")),
            args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
        );
        // The shell reports the exit status on the screen once the REPL has ended (and traps
        // Ctrl-C's SIGINT so that it outlives the REPL; the REPL gets the default disposition).
        let cmd = format!(
            "exec env -u GANDI_API_KEY -u GANDI_URL -u NO_COLOR -u COLUMNS GANDISH_HISTORY={} sh -c {}",
            quote(&history.display().to_string()),
            quote(&format!("trap : INT; {repl}; echo \"[exited $?]\""))
        );
        let t = Term { socket };
        let (x, y) = (columns.to_string(), rows.to_string());
        let out = t.tmux(&["new-session", "-d", "-s", "t", "-x", &x, "-y", &y, &cmd]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        t.tmux(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        t
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Types text literally. (tmux reads an argument ending in `;` as a command separator, so
    /// that one is escaped.)
    pub fn type_text(&self, text: &str) {
        let arg = match text.strip_suffix(';') {
            Some(t) => format!("{t}\\;"),
            None => text.to_string(),
        };
        self.tmux(&["send-keys", "-t", "t", "-l", &arg]);
    }

    /// Presses keys (`Enter`, `Tab`, `C-c`, `C-d`, `Up`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Types a line and presses Enter.
    pub fn line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// Types a complete entry, presses Enter and waits for the next prompt. (Keys typed while
    /// an entry runs may be lost when the line editor takes the terminal back, as in other
    /// line editors, so a test types only at a prompt.)
    pub fn entry(&self, text: &str) {
        self.at_prompt();
        let prompts = self.screen().matches("gandish>").count();
        self.line(text);
        self.wait_for("the next prompt", |s| s.matches("gandish>").count() > prompts);
    }

    /// Waits for an empty prompt.
    pub fn at_prompt(&self) {
        self.wait_line("");
    }

    /// The screen and its scrollback.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t", "-S", "-2000"]).stdout)
            .into_owned()
    }

    /// The last non-empty line of the screen (the prompt line, while editing).
    pub fn last_line(&self) -> String {
        self.screen().lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim_end().to_string()
    }

    /// Polls the screen until `ok` holds; panics with the screen after [`PATIENCE`].
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
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
    pub fn wait_line(&self, text: &str) {
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
}

impl Drop for Term {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
