//! Helpers for the `gandi_*` tests: a real sandbox served on 127.0.0.1 (free port) with a
//! [`Gandi`] client pointed at it. Use with `mod gandi_common;`.
#![allow(dead_code)]

use gandish::gandi::Gandi;
use gandish::sandbox::{RunningSandbox, SandboxConfig};
use gandish::xmlrpc::{ClientConfig, DateTime, Struct, Value};

/// The seed's key (the sandbox's default).
pub const KEY: &str = "my 24-character API key";

/// A served sandbox and a client for it; the sandbox stops when this is dropped.
pub struct Env {
    /// The client.
    pub gandi: Gandi,
    /// The sandbox (kept alive; stopped on drop).
    pub sandbox: Option<RunningSandbox>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            sb.shutdown();
        }
    }
}

/// A seed-dataset sandbox on a frozen clock with instant ops, adjusted by `f`, served on a free
/// loopback port.
pub fn env(f: impl FnOnce(&mut SandboxConfig)) -> Env {
    let sandbox = crate::support::frozen_seed_sandbox(f);
    let gandi = Gandi::new(&sandbox.url(), sandbox.api_key(), ClientConfig::default()).expect("client");
    Env { gandi, sandbox: Some(sandbox) }
}

impl Env {
    /// The sandbox's URL.
    pub fn url(&self) -> String {
        self.sandbox.as_ref().expect("running").url()
    }

    /// Moves the sandbox clock forward.
    pub fn advance(&self, seconds: i64) {
        self.gandi.call("sandbox.clock.advance", vec![Value::Int(seconds)]).expect("clock advances");
    }

    /// The sandbox's ledger of applied billable changes.
    pub fn ledger(&self) -> Vec<Value> {
        self.gandi.call("sandbox.ledger", vec![]).expect("ledger").into_array().expect("an array")
    }
}

/// A dateTime from text.
pub fn dt(s: &str) -> DateTime {
    DateTime::parse(s).expect("valid dateTime")
}

/// A filter struct from pairs.
pub fn filter(pairs: &[(&str, Value)]) -> Struct {
    let mut s = Struct::new();
    for (k, v) in pairs {
        s.insert(*k, v.clone());
    }
    s
}

impl Env {
    /// The sandbox's world right now (read directly, not through the API).
    pub fn state(&self) -> gandish::sandbox::state::State {
        self.sandbox.as_ref().expect("running").sandbox().state()
    }
}
