//! Helpers for the `bulk_*` tests: a sandbox of generated instances on a frozen clock (with
//! fault injection as asked), a runtime pointed at it with the same clock, the ledger, and
//! temporary journal files. Use with `mod bulk_common;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gandish::Runtime;
use gandish::gandi::Gandi;
use gandish::sandbox::{ClockMode, Dataset, RunningSandbox, SandboxConfig, start};
use gandish::script::Zone;
use gandish::xmlrpc::{ClientConfig, Value};

pub use crate::support::T0;

/// A sandbox with `instances` generated instances (plus the seed's), frozen at [`T0`], instant
/// ops, adjusted by `f`. Stops when dropped.
pub struct Env {
    pub sandbox: Option<RunningSandbox>,
    /// A client without injection troubles for checks (the sandbox injects on every call, so
    /// checks go through the world directly where they can).
    pub url: String,
    pub key: String,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            sb.shutdown();
        }
    }
}

pub fn env(instances: usize, f: impl FnOnce(&mut SandboxConfig)) -> Env {
    let mut cfg = SandboxConfig {
        listen: "127.0.0.1:0".into(),
        // Generated instances end between 30 days ago and a year ahead, so one 12-month renewal
        // always takes a due one past a 30-day window. (The seed's instance ended in 2011: a
        // year's renewal leaves it due.)
        dataset: Dataset::Empty,
        instances,
        op_seconds: 0,
        seed: 7,
        clock: ClockMode::Fixed(T0),
        ..SandboxConfig::default()
    };
    f(&mut cfg);
    let sandbox = start(cfg).expect("sandbox starts");
    let url = sandbox.url();
    let key = sandbox.api_key().to_string();
    Env { sandbox: Some(sandbox), url, key }
}

impl Env {
    /// The built gandish pointed at this sandbox: no configuration file, the key in
    /// `GANDI_API_KEY`, stdin closed.
    pub fn gandish(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gandish"));
        c.args(["--no-config", "--url", &self.url])
            .args(args)
            .env("GANDI_API_KEY", &self.key)
            .env_remove("GANDI_URL")
            .env_remove("GANDISH_ENV")
            .stdin(Stdio::null());
        c
    }

    /// Runs [`gandish`](Self::gandish) to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.gandish(args).output().expect("gandish runs")
    }

    /// The whole world as JSON: any change at all shows as a difference.
    pub fn world(&self) -> String {
        serde_json::to_string(&self.state()).expect("the state serializes")
    }
    /// The world right now (read directly, not through the API, so injection does not apply).
    pub fn state(&self) -> gandish::sandbox::state::State {
        self.sandbox.as_ref().expect("running").sandbox().state()
    }

    /// Ledger entries of type `kind` per instance.
    pub fn ledger_counts(&self, kind: &str) -> BTreeMap<i64, usize> {
        let mut out = BTreeMap::new();
        for e in self.state().ledger.iter().filter(|e| e.kind == kind) {
            *out.entry(e.paas_id).or_insert(0) += 1;
        }
        out
    }

    /// The ledger as the API shows it (`sandbox.ledger`), read with retries (the sandbox may be
    /// injecting faults).
    pub fn api_ledger(&self) -> Vec<Value> {
        let g = Gandi::new(&self.url, self.key.as_str(), ClientConfig::default()).unwrap();
        for _ in 0..50 {
            if let Ok(v) = g.call("sandbox.ledger", vec![]) {
                return v.into_array().expect("an array");
            }
        }
        panic!("sandbox.ledger kept failing");
    }

    /// Instances whose `date_end` is on or before now + `days` (naive Paris time, as the API
    /// shows it), and the others.
    pub fn split_by_window(&self, days: i64) -> (Vec<i64>, Vec<i64>) {
        let cutoff = Zone::EUROPE_PARIS.to_local(T0) + days * 86_400;
        let st = self.state();
        st.instances.values().map(|i| (i.id, i.date_end <= cutoff)).fold(
            (vec![], vec![]),
            |(mut a, mut b), (id, due)| {
                if due {
                    a.push(id)
                } else {
                    b.push(id)
                }
                (a, b)
            },
        )
    }

    /// [`split_by_window`](Self::split_by_window) for a sandbox on the system clock.
    pub fn split_by_window_now(&self, days: i64) -> (Vec<i64>, Vec<i64>) {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        self.split_at(Zone::EUROPE_PARIS.to_local(now) + days * 86_400)
    }

    fn split_at(&self, cutoff: i64) -> (Vec<i64>, Vec<i64>) {
        let st = self.state();
        let (mut due, mut rest) = (vec![], vec![]);
        for i in st.instances.values() {
            if i.date_end <= cutoff { due.push(i.id) } else { rest.push(i.id) }
        }
        (due, rest)
    }

    /// A runtime for this sandbox with the sandbox's clock, short waits and no output.
    pub fn runtime(&self) -> Runtime {
        self.runtime_with(|b| b)
    }

    pub fn runtime_with(
        &self,
        f: impl FnOnce(gandish::script::RuntimeBuilder) -> gandish::script::RuntimeBuilder,
    ) -> Runtime {
        let b = Runtime::builder()
            .endpoint(&self.url)
            .key(self.key.as_str())
            .clock(|| T0)
            .wait(Duration::from_secs(60), Duration::from_millis(50))
            .http_timeout(Duration::from_secs(10))
            .on_print(|_| {});
        f(b).build().expect("runtime")
    }
}

/// A fresh temporary file path (its folder is created; removed by the OS's temp cleaning).
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gandish-bulk-{}-{}-{}",
        std::process::id(),
        name,
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.journal"))
}

/// The integer `k` of a report map.
pub fn int(m: &rhai::Map, k: &str) -> i64 {
    m.get(k).unwrap_or_else(|| panic!("no {k} in {m:?}")).as_int().unwrap()
}

/// `std/renew`'s report for the options map `opts` (Rhai source).
pub fn renew(rt: &Runtime, opts: &str) -> rhai::Map {
    let v: rhai::Dynamic = rt
        .eval(&format!(r#"import "std/renew" as renew; renew::main({opts})"#))
        .unwrap_or_else(|e| panic!("renew failed: {e}"));
    v.try_cast::<rhai::Map>().expect("a report map")
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
