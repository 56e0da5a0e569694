//! Helpers shared by the sandbox tests (included with `#[path]`; not a test target itself).
#![allow(dead_code)]

use gandish::sandbox::{ClockMode, Dataset, Sandbox, SandboxConfig};
use gandish::xmlrpc::{CallContext, DateTime, Fault, Handler, Struct, Value};

/// The seed's key.
pub const KEY: &str = "my 24-character API key";

pub use crate::support::T0;

/// A seed-dataset sandbox on a frozen clock with instant ops, adjusted by `f`.
pub fn sandbox(f: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
    let mut cfg = SandboxConfig {
        dataset: Dataset::Seed,
        op_seconds: 0,
        clock: ClockMode::Fixed(T0),
        ..SandboxConfig::default()
    };
    f(&mut cfg);
    Sandbox::new(cfg).expect("sandbox starts")
}

/// Calls `method` with the key prepended.
pub fn call(sb: &Sandbox, method: &str, args: Vec<Value>) -> Result<Value, Fault> {
    let mut params = vec![Value::from(KEY)];
    params.extend(args);
    let mut ctx = CallContext::new("127.0.0.1:9".parse().unwrap());
    sb.call(&mut ctx, method, params)
}

/// Calls and expects a value.
pub fn ok(sb: &Sandbox, method: &str, args: Vec<Value>) -> Value {
    match call(sb, method, args) {
        Ok(v) => v,
        Err(f) => panic!("{method} faulted: {} {}", f.code, f.message),
    }
}

/// Calls and expects a fault.
pub fn err(sb: &Sandbox, method: &str, args: Vec<Value>) -> Fault {
    match call(sb, method, args) {
        Ok(v) => panic!("{method} answered {v:?}, expected a fault"),
        Err(f) => f,
    }
}

/// A struct from pairs.
pub fn st(pairs: Vec<(&str, Value)>) -> Value {
    Value::Struct(pairs.into_iter().collect::<Struct>())
}

/// A dateTime from text.
pub fn dt(s: &str) -> Value {
    Value::DateTime(DateTime::parse(s).unwrap())
}

/// Member `k` of a struct value.
pub fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.get(k).unwrap_or_else(|| panic!("no member {k} in {v:?}"))
}

/// Member `k` as a string.
pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    get(v, k).as_str().unwrap_or_else(|| panic!("{k} is not a string in {v:?}"))
}

/// Member `k` as an int.
pub fn i(v: &Value, k: &str) -> i64 {
    get(v, k).as_i64().unwrap_or_else(|| panic!("{k} is not an int in {v:?}"))
}

/// An array value's items.
pub fn arr(v: &Value) -> &[Value] {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v:?}"))
}

/// The seed's create spec, optionally dry-run.
pub fn seed_spec(dry: bool) -> Value {
    let mut v = vec![
        ("name", Value::from("My PaaS")),
        ("size", "m".into()),
        ("type", "phpmysql".into()),
        ("datacenter_id", 1.into()),
        ("vhosts", vec![Value::from("vhost.test.fr")].into()),
        ("quantity", 0.into()),
        ("duration", "3m".into()),
        ("password", "xxxxxxxxxx".into()),
    ];
    if dry {
        v.push(("--dry-run", true.into()));
    }
    st(v)
}
