//! A fluent way to run the built binary, in the style of just's test helper:
//!
//! ```ignore
//! Gandish::new().sandbox().args(["run", "std/renew", "journal=false"]).run().status(0).stdout_has("renewed");
//! ```
//!
//! [`Gandish::sandbox`] starts a sandbox in the test process (demo dataset, free loopback port,
//! operations applied at once) and points the binary at it with its key, so the test can read
//! the sandbox's state after the run ([`Ran::sandbox`]). The binary never reads a config file or
//! the caller's `GANDI_*` settings.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};

use gandish::sandbox::{Dataset, RunningSandbox, SandboxConfig, start};

/// A `gandish` command being set up.
pub struct Gandish {
    cmd: Command,
    sandbox: Option<RunningSandbox>,
    stdin: Option<String>,
}

impl Gandish {
    /// The built binary with `--no-config`, no inherited endpoint or key, and stdin closed.
    pub fn new() -> Gandish {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gandish"));
        cmd.arg("--no-config")
            .env_remove("GANDI_URL")
            .env_remove("GANDI_API_KEY")
            .env_remove("GANDISH_ENV")
            .stdin(Stdio::null());
        Gandish { cmd, sandbox: None, stdin: None }
    }

    /// Against a fresh demo sandbox of this test's, with operations applied at once.
    pub fn sandbox(self) -> Gandish {
        self.sandbox_with(|_| {})
    }

    /// Against a fresh sandbox of this test's, set up by `f` (from the demo dataset with
    /// operations applied at once).
    pub fn sandbox_with(mut self, f: impl FnOnce(&mut SandboxConfig)) -> Gandish {
        let mut cfg = SandboxConfig {
            listen: "127.0.0.1:0".into(),
            dataset: Dataset::Demo,
            op_seconds: 0,
            ..SandboxConfig::default()
        };
        f(&mut cfg);
        let sb = start(cfg).expect("the sandbox starts");
        self.cmd.args(["--url", &sb.url()]).env("GANDI_API_KEY", sb.api_key());
        self.sandbox = Some(sb);
        self
    }

    /// Against a sandbox the test already has (e.g. a rerun against [`Ran::sandbox`]).
    pub fn against(mut self, sb: &RunningSandbox) -> Gandish {
        self.cmd.args(["--url", &sb.url()]).env("GANDI_API_KEY", sb.api_key());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Gandish
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Gandish {
        self.cmd.env(key, value);
        self
    }

    /// Gives the run `text` on its standard input (a pipe, not a terminal).
    pub fn stdin(mut self, text: &str) -> Gandish {
        self.stdin = Some(text.to_string());
        self
    }

    /// Runs it to the end.
    pub fn run(mut self) -> Ran {
        let output = match self.stdin.take() {
            None => self.cmd.output().expect("gandish runs"),
            Some(text) => {
                use std::io::Write;
                let mut child = self
                    .cmd
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("gandish starts");
                child.stdin.take().expect("piped stdin").write_all(text.as_bytes()).expect("stdin written");
                child.wait_with_output().expect("gandish runs")
            }
        };
        Ran {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            output,
            sandbox: self.sandbox,
        }
    }
}

/// A finished run, to check.
pub struct Ran {
    /// What the process returned.
    pub output: Output,
    /// Its stdout, as text.
    pub stdout: String,
    /// Its stderr, as text.
    pub stderr: String,
    sandbox: Option<RunningSandbox>,
}

impl Ran {
    /// Asserts the exit status.
    pub fn status(self, code: i32) -> Ran {
        assert_eq!(
            self.output.status.code(),
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that stdout holds `text`.
    pub fn stdout_has(self, text: &str) -> Ran {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}", self.stdout);
        self
    }

    /// Asserts that stderr holds `text`.
    pub fn stderr_has(self, text: &str) -> Ran {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }

    /// Asserts that stdout is exactly one JSON document, and returns it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.stdout))
    }

    /// The sandbox the run talked to (after the run: its state shows what was sent).
    pub fn sandbox(&self) -> &RunningSandbox {
        self.sandbox.as_ref().expect("the run was given a sandbox")
    }

    /// Applied billable changes of type `kind` (e.g. `paas_vm_renew`), per instance.
    pub fn ledger(&self, kind: &str) -> std::collections::BTreeMap<i64, usize> {
        let mut out = std::collections::BTreeMap::new();
        for e in self.sandbox().sandbox().state().ledger.iter().filter(|e| e.kind == kind) {
            *out.entry(e.paas_id).or_insert(0) += 1;
        }
        out
    }
}
