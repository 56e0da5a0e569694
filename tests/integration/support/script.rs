//! Helpers for the script tests (included with `#[path]`): an in-process sandbox and a runtime
//! pointed at it, with `print` captured.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gandish::Runtime;
use gandish::gandi::Gandi;
use gandish::sandbox::{RunningSandbox, SandboxConfig};
use gandish::script::{Error, Limits, RuntimeBuilder, Zone};
use gandish::xmlrpc::{ClientConfig, Value};
use rhai::{Dynamic, EvalAltResult};

pub use crate::support::T0;

/// A seed-dataset sandbox on a free port, frozen clock, instant operations.
pub fn sandbox() -> RunningSandbox {
    sandbox_with(|_| {})
}

/// A sandbox as [`sandbox`], adjusted by `f`.
pub fn sandbox_with(f: impl FnOnce(&mut SandboxConfig)) -> RunningSandbox {
    super::frozen_seed_sandbox(f)
}

/// Collected `print` output.
#[derive(Clone, Default)]
pub struct Output(pub Arc<Mutex<Vec<String>>>);

impl Output {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A runtime builder for `sb`, with the clock pinned to the sandbox's, `print` captured and fast
/// `op::wait` polling.
pub fn builder(sb: &RunningSandbox) -> (RuntimeBuilder, Output) {
    let out = Output::default();
    let sink = out.0.clone();
    let b = Runtime::builder()
        .endpoint(sb.url())
        .key(sb.api_key())
        .zone(Zone::EUROPE_PARIS)
        .clock(|| T0)
        .http_timeout(Duration::from_secs(20))
        .wait(Duration::from_secs(20), Duration::from_millis(20))
        .on_print(move |s| sink.lock().unwrap().push(s.to_string()));
    (b, out)
}

/// A runtime for `sb` (see [`builder`]).
pub fn runtime(sb: &RunningSandbox) -> (Runtime, Output) {
    let (b, out) = builder(sb);
    (b.build().expect("runtime builds"), out)
}

/// A typed client for checking the sandbox's state from outside the script.
pub fn client(sb: &RunningSandbox) -> Gandi {
    Gandi::new(&sb.url(), sb.api_key(), ClientConfig::default()).unwrap()
}

/// Calls a method on the sandbox (key added).
pub fn call(sb: &RunningSandbox, method: &str, args: Vec<Value>) -> Value {
    client(sb).call(method, args).unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// The sandbox's ledger of applied changes.
pub fn ledger(sb: &RunningSandbox) -> Vec<Value> {
    call(sb, "sandbox.ledger", vec![]).into_array().expect("the ledger is an array")
}

/// Evaluates `script`, panicking with the error's message on failure.
pub fn eval(rt: &Runtime, script: &str) -> Dynamic {
    rt.eval(script).unwrap_or_else(|e| panic!("script failed: {e}\n--- script ---\n{script}"))
}

/// A script value as an i64.
pub fn int(d: &Dynamic) -> i64 {
    d.as_int().unwrap_or_else(|t| panic!("expected an int, got {t}: {d}"))
}

/// A script value as a string.
pub fn string(d: Dynamic) -> String {
    d.clone().into_string().unwrap_or_else(|t| panic!("expected a string, got {t}: {d}"))
}

/// A runtime whose Gandi endpoint is a closed loopback port, for scripts that make no call.
pub fn offline(limits: Limits) -> Runtime {
    Runtime::builder().endpoint("http://127.0.0.1:9/xmlrpc/").key("k").limits(limits).build().unwrap()
}

/// The Rhai error inside a script error; panics on any other kind of error.
pub fn script_error(e: Error) -> Box<EvalAltResult> {
    match e {
        Error::Script(e) => e,
        other => panic!("expected a script error, got {other:?}"),
    }
}
