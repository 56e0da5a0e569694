//! `gandish watch` end to end: edit a file, see exactly one rerun; break it, see the error; fix
//! it, see a good run; a change during a run cancels it; Ctrl-C exits 130. Waits poll the output
//! with generous bounds; nothing asserts on timing.

use crate::common;

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

/// Waits until `w`'s stderr has `needle`, then until its stdout ends with `line` (and a newline).
fn expect(w: &Watcher, needle: &str, line: &str) {
    w.wait_for(&format!("{needle:?} on stderr"), |_, e| e.contains(needle));
    w.wait_for(&format!("a run printing {line:?}"), |o, _| o.ends_with(&format!("{line}\n")));
}

/// A folder `w` with `main.rhai` printing `one`, watched, after its first run.
fn watching_w(tag: &str) -> (Dir, Watcher) {
    let d = Dir::new(tag);
    std::fs::create_dir(d.0.join("w")).unwrap();
    d.write("w/main.rhai", "`one`\n");
    let w = Watcher::start(&d.0, &["watch", "w", "--run", "w/main.rhai"]);
    w.wait_for("the first run", |o, _| o == "one\n");
    (d, w)
}

#[test]
fn a_folder_moved_away_and_recreated_is_watched_again() {
    let (d, w) = watching_w("moved");
    // `mv w w_old; mkdir w`: the watches followed w to w_old; they must move to the new w.
    std::fs::rename(d.0.join("w"), d.0.join("w_old")).unwrap();
    std::fs::create_dir(d.0.join("w")).unwrap();
    w.wait_for("the new folder to be watched", |_, e| {
        e.contains("watch: w ") && e.contains("; watching it again\n")
    });
    d.write("w/main.rhai", "`two`\n");
    expect(&w, "watching it again", "two");
    d.write("w/main.rhai", "`three`\n");
    expect(&w, "watching it again", "three");
}

#[test]
fn a_folder_deleted_is_waited_for_and_watched_again_when_it_comes_back() {
    let (d, w) = watching_w("deleted");
    std::fs::remove_dir_all(d.0.join("w")).unwrap();
    w.wait_for("the waiting note", |_, e| e.contains("watch: w is gone; waiting for it to come back\n"));
    // It comes back as a folder prepared elsewhere and renamed into place.
    std::fs::create_dir(d.0.join("prepared")).unwrap();
    d.write("prepared/main.rhai", "`two`\n");
    std::fs::rename(d.0.join("prepared"), d.0.join("w")).unwrap();
    expect(&w, "watch: w is back; watching it again\n", "two");
    // And a write after that is seen through the new watch.
    d.write("w/main.rhai", "`three`\n");
    expect(&w, "watch: w is back", "three");
}

/// Publishes `files` as a Kubernetes ConfigMap volume does (the kubelet's atomic writer): a new
/// hidden folder `..vN`, a `..data_tmp` symlink to it renamed over `..data`, the old folder
/// removed. The visible files are symlinks through `..data`, made with the first version.
fn configmap_publish(dir: &Path, version: u32, text: &str) {
    let new = dir.join(format!("..v{version}"));
    std::fs::create_dir(&new).unwrap();
    std::fs::write(new.join("main.rhai"), text).unwrap();
    std::os::unix::fs::symlink(format!("..v{version}"), dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    if version == 1 {
        std::os::unix::fs::symlink("..data/main.rhai", dir.join("main.rhai")).unwrap();
    } else {
        std::fs::remove_dir_all(dir.join(format!("..v{}", version - 1))).unwrap();
    }
}

#[test]
fn a_configmap_data_symlink_swapped_again_and_again_is_followed() {
    let d = Dir::new("configmap");
    let cfg = d.0.join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    configmap_publish(&cfg, 1, "`v1`\n");
    // The folder, and the file alone (whose real folder changes with every swap).
    let folder = Watcher::start(&d.0, &["watch", "cfg", "--run", "cfg/main.rhai"]);
    let file = Watcher::start(&d.0, &["watch", "cfg/main.rhai"]);
    for w in [&folder, &file] {
        w.wait_for("the first run", |o, _| o == "v1\n");
    }
    for version in 2..=4 {
        configmap_publish(&cfg, version, &format!("`v{version}`\n"));
        for w in [&folder, &file] {
            w.wait_for(&format!("the run of v{version}"), |o, _| o.ends_with(&format!("v{version}\n")));
        }
        assert!(
            file.err().contains("watch: cfg/main.rhai was replaced; watching it again\n"),
            "{}",
            file.err()
        );
    }
    assert_eq!(folder.out(), "v1\nv2\nv3\nv4\n");
    assert_eq!(file.out(), "v1\nv2\nv3\nv4\n");
}

#[test]
fn a_symlinked_folder_pointed_elsewhere_is_followed() {
    let d = Dir::new("repointed");
    for (dir, text) in [("w1", "`w1`\n"), ("w2", "`w2 a`\n")] {
        std::fs::create_dir(d.0.join(dir)).unwrap();
        d.write(&format!("{dir}/main.rhai"), text);
    }
    std::os::unix::fs::symlink("w1", d.0.join("w")).unwrap();
    let w = Watcher::start(&d.0, &["watch", "w", "--run", "w/main.rhai"]);
    w.wait_for("the first run", |o, _| o == "w1\n");
    // `ln -sfn w2 w`, atomically.
    std::os::unix::fs::symlink("w2", d.0.join("w_tmp")).unwrap();
    std::fs::rename(d.0.join("w_tmp"), d.0.join("w")).unwrap();
    expect(&w, "watch: w was replaced; watching it again\n", "w2 a");
    d.write("w2/main.rhai", "`w2 b`\n");
    expect(&w, "watch: w was replaced", "w2 b");
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
