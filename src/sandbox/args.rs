//! Reading a method's positional arguments (after the API key) with Gandi-style faults for
//! missing, extra or mistyped ones.

use crate::xmlrpc::{Struct, Value};

use super::fault::{code, fault};
use crate::xmlrpc::Fault;

/// The positional arguments of one call, the key removed.
pub struct Args<'a> {
    method: &'a str,
    params: &'a [Value],
}

impl<'a> Args<'a> {
    /// Wraps the params that follow the key.
    pub fn new(method: &'a str, params: &'a [Value]) -> Self {
        Args { method, params }
    }

    /// Faults unless there are between `min` and `max` arguments.
    pub fn arity(&self, min: usize, max: usize) -> Result<(), Fault> {
        let n = self.params.len();
        if n < min {
            return Err(fault(
                code::MISSING_ARG,
                format_args!("{} expects {min} argument(s) after the API key, got {n}", self.method),
            ));
        }
        if n > max {
            return Err(fault(
                code::EXTRA_ARG,
                format_args!("{} expects at most {max} argument(s) after the API key, got {n}", self.method),
            ));
        }
        Ok(())
    }

    /// Argument `i` as an integer.
    pub fn int(&self, i: usize, name: &str) -> Result<i64, Fault> {
        match self.params.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            Some(other) => Err(wrong_type(code::NOT_INT, name, "an integer", other)),
            None => Err(self.missing(name)),
        }
    }

    /// Argument `i` as a string.
    pub fn string(&self, i: usize, name: &str) -> Result<&'a str, Fault> {
        match self.params.get(i) {
            Some(Value::String(v)) => Ok(v),
            Some(other) => Err(wrong_type(code::NOT_STRING, name, "a string", other)),
            None => Err(self.missing(name)),
        }
    }

    /// Argument `i` as a struct.
    pub fn structure(&self, i: usize, name: &str) -> Result<&'a Struct, Fault> {
        match self.params.get(i) {
            Some(Value::Struct(v)) => Ok(v),
            Some(other) => Err(wrong_type(code::NOT_STRUCT, name, "a struct", other)),
            None => Err(self.missing(name)),
        }
    }

    /// Optional struct argument `i` (absent or nil gives `None`).
    pub fn opt_struct(&self, i: usize, name: &str) -> Result<Option<&'a Struct>, Fault> {
        match self.params.get(i) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Struct(v)) => Ok(Some(v)),
            Some(other) => Err(wrong_type(code::NOT_STRUCT, name, "a struct", other)),
        }
    }

    /// Optional boolean argument `i` (absent or nil gives `None`; 0 and 1 are accepted).
    pub fn opt_bool(&self, i: usize, name: &str) -> Result<Option<bool>, Fault> {
        match self.params.get(i) {
            None | Some(Value::Nil) => Ok(None),
            Some(v) => as_bool(v).map(Some).ok_or_else(|| wrong_type(code::NOT_BOOL, name, "a boolean", v)),
        }
    }

    fn missing(&self, name: &str) -> Fault {
        fault(code::MISSING_ARG, format_args!("{}: missing argument '{name}'", self.method))
    }
}

/// A wrong-type fault naming the argument or key, what was expected and what came.
pub fn wrong_type(code: i64, name: &str, expected: &str, got: &Value) -> Fault {
    fault(code, format_args!("'{name}' must be {expected}, got {}", got.type_name()))
}

/// A boolean that may come as 0/1 (the CLI sends `console: 1`).
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(0) => Some(false),
        Value::Int(1) => Some(true),
        _ => None,
    }
}

/// Whether a params struct asks for a dry run (`'--dry-run': True` or 1).
pub fn is_dry_run(s: &Struct) -> bool {
    s.get("--dry-run").and_then(as_bool).unwrap_or(false)
}
