//! `gandish watch` end to end: edit a file, see exactly one rerun; break it, see the error; fix
//! it, see a good run; a change during a run cancels it; Ctrl-C exits 130. Waits poll the output
//! with generous bounds; nothing asserts on timing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::collect;

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("gandish-watch-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p.canonicalize().unwrap())
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).unwrap();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Watcher {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Watcher {
    fn start(dir: &Path, args: &[&str]) -> Watcher {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gandish"))
            .args(["--no-config"])
            .args(args)
            .current_dir(dir)
            .env_remove("GANDI_API_KEY")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Watcher { child, stdout, stderr }
    }

    fn out(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn err(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (at most 60 s) until `cond(stdout, stderr)` holds.
    fn wait_for(&self, what: &str, cond: impl Fn(&str, &str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !cond(&self.out(), &self.err()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\nstdout:\n{}\nstderr:\n{}",
                self.out(),
                self.err()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn runs(&self) -> usize {
        self.err().lines().filter(|l| l.starts_with("=== ") && l.contains(" run ")).count()
    }

    fn footers(&self) -> usize {
        self.err().lines().filter(|l| l.starts_with("=== ") && !l.contains(" run ")).count()
    }

    /// Waits for `n` finished runs, then for quiet: no new run starts within the debounce period
    /// several times over (a spurious extra run would show up here).
    fn settle(&self, n: usize) {
        self.wait_for(&format!("{n} finished runs"), |_, e| {
            e.lines().filter(|l| l.starts_with("=== ") && !l.contains(" run ")).count() >= n
        });
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(self.runs(), n, "exactly {n} runs:\n{}", self.err());
        assert_eq!(self.footers(), n, "{}", self.err());
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn edits_rerun_once_errors_are_reported_and_imports_are_reloaded() {
    let d = Dir::new("edit");
    d.write("lib.rhai", "fn v() { 1 }\n");
    d.write("main.rhai", "import \"lib\" as lib;\n`value ${lib::v()}`\n");
    // A long debounce, so that a burst of writes stays one burst on a loaded machine.
    let w = Watcher::start(&d.0, &["watch", ".", "--run", "main.rhai", "--debounce", "1000"]);
    w.settle(1);
    assert_eq!(w.out(), "value 1\n");
    let e = w.err();
    let header = e.lines().find(|l| l.starts_with("=== ") && l.contains(" run ")).unwrap();
    assert!(header.starts_with("=== ") && header.ends_with(" run main.rhai ==="), "{header}");
    let time = &header[4..12];
    assert!(time.len() == 8 && time.as_bytes()[2] == b':' && time.as_bytes()[5] == b':', "{header}");
    assert!(e.lines().any(|l| l.starts_with("=== ok in ")), "{e}");

    // An edit to the imported file: exactly one rerun, with the new import.
    d.write("lib.rhai", "fn v() { 2 }\n");
    w.settle(2);
    assert_eq!(w.out(), "value 1\nvalue 2\n");

    // Reading the files (each run does) or saving them unchanged does not rerun.
    d.write("lib.rhai", "fn v() { 2 }\n");
    w.settle(2);

    // Break it: the error with its caret, and watching goes on.
    d.write("main.rhai", "import \"lib\" as lib;\nlet x = (1 + ;\n");
    w.settle(3);
    let e = w.err();
    assert!(e.contains("error: "), "{e}");
    assert!(e.contains(" --> main.rhai:2:"), "{e:?}");
    assert!(e.contains("2 | let x = (1 + ;\n"), "{e}");
    assert!(e.contains("=== failed (exit 1) in "), "{e}");

    // Fix it with a write-then-rename, as editors do: one good run.
    d.write(".main.rhai.swp", "import \"lib\" as lib;\n`fixed ${lib::v()}`\n");
    std::fs::rename(d.0.join(".main.rhai.swp"), d.0.join("main.rhai")).unwrap();
    w.settle(4);
    assert_eq!(w.out(), "value 1\nvalue 2\nfixed 2\n");
    assert_eq!(w.err().matches("=== ok in ").count(), 3);

    // A burst of writes: one run.
    for i in 0..5 {
        d.write("main.rhai", &format!("`burst {i}`\n"));
    }
    w.settle(5);
    assert!(w.out().ends_with("fixed 2\nburst 4\n"), "{}", w.out());
}

#[test]
fn a_change_cancels_the_run_in_progress_and_ctrl_c_exits_130() {
    let d = Dir::new("cancel");
    d.write(
        "slow.rhai",
        "print(\"slow started\"); let t = timestamp(); while t.elapsed < 60.0 { } \"slow done\"\n",
    );
    let w = Watcher::start(&d.0, &["watch", "slow.rhai"]);
    w.wait_for("the first run to start", |o, _| o.contains("slow started"));
    d.write("slow.rhai", "\"quick\"\n");
    w.wait_for("the rerun", |o, _| o.contains("quick"));
    let e = w.err();
    assert!(e.contains("cancelled: files changed\n=== cancelled after "), "{e}");
    assert!(!w.out().contains("slow done"));

    let ok = Command::new("kill").args(["-INT", &w.child.id().to_string()]).status().unwrap().success();
    assert!(ok);
    let mut w = w;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = w.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the watcher did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
}

#[test]
fn watch_needs_a_script_and_existing_paths() {
    let d = Dir::new("usage");
    std::fs::create_dir_all(d.0.join("scripts")).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gandish"))
            .arg("--no-config")
            .args(args)
            .current_dir(&d.0)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run(&["watch", "scripts"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--run FILE"));
    let o = run(&["watch", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot watch nowhere"));
}
