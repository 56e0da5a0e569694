//! Validation of params structs. Each refusal is a [`Problem`]: the fault a real call raises and
//! the error struct a dry run lists (`{attr, error, field, field_type, reason}`, reference §6).

use crate::xmlrpc::{Fault, Struct, Value};

use super::args::as_bool;
use super::fault::{code, fault};

/// One refusal.
#[derive(Debug)]
pub struct Problem {
    /// What a real call answers.
    pub fault: Fault,
    /// `EC_*` code(s).
    pub error: &'static str,
    /// The parameter.
    pub field: String,
    /// nil, `String` or `Enum`.
    pub field_type: Option<&'static str>,
    /// Human-readable text.
    pub reason: String,
    /// nil or a list of strings.
    pub attr: Option<Vec<String>>,
}

impl Problem {
    /// The dry-run error struct.
    pub fn item(&self) -> Value {
        Value::Struct(
            Struct::with_capacity(5)
                .with(
                    "attr",
                    self.attr
                        .as_ref()
                        .map(|a| Value::Array(a.iter().map(|s| Value::from(s.as_str())).collect())),
                )
                .with("error", self.error)
                .with("field", self.field.as_str())
                .with("field_type", self.field_type)
                .with("reason", self.reason.as_str()),
        )
    }
}

/// The type a params key must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// An int.
    Int,
    /// A string.
    Str,
    /// A boolean (or 0/1).
    Bool,
    /// An array of strings.
    StrList,
    /// An array of ints.
    IntList,
    /// An int, or `''`/nil to clear.
    IntOrEmpty,
    /// Anything (accepted and echoed).
    Any,
}

impl Ty {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Ty::Int => matches!(v, Value::Int(_)),
            Ty::Str => matches!(v, Value::String(_)),
            Ty::Bool => as_bool(v).is_some(),
            Ty::StrList => v.as_array().is_some_and(|a| a.iter().all(|x| x.as_str().is_some())),
            Ty::IntList => v.as_array().is_some_and(|a| a.iter().all(|x| x.as_i64().is_some())),
            Ty::IntOrEmpty => matches!(v, Value::Int(_) | Value::Nil) || v.as_str() == Some(""),
            Ty::Any => true,
        }
    }

    fn describe(self) -> (&'static str, i64) {
        match self {
            Ty::Int => ("an integer", code::NOT_INT),
            Ty::Str => ("a string", code::NOT_STRING),
            Ty::Bool => ("a boolean", code::NOT_BOOL),
            Ty::StrList => ("an array of strings", code::NOT_LIST),
            Ty::IntList => ("an array of integers", code::NOT_LIST),
            Ty::IntOrEmpty => ("an integer or ''", code::NOT_INT),
            Ty::Any => ("anything", code::NOT_STRING),
        }
    }
}

/// Checks that `s` has only the `allowed` keys, each of its type, and every `mandatory` key.
/// `--dry-run` is always allowed.
pub fn keys(s: &Struct, allowed: &[(&str, Ty)], mandatory: &[&str], what: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    for (k, v) in s.iter() {
        if k == "--dry-run" {
            if as_bool(v).is_none() {
                out.push(type_problem(k, Ty::Bool, v));
            }
            continue;
        }
        match allowed.iter().find(|(name, _)| *name == k) {
            None => out.push(Problem {
                fault: fault(
                    code::UNKNOWN_KEY,
                    format_args!("unexpected key '{}' in {what} params", clip(k)),
                ),
                error: "EC_UNKNOWNFIELD",
                field: clip(k),
                field_type: None,
                reason: format!("Unknown field '{}'", clip(k)),
                attr: None,
            }),
            Some((_, ty)) if !ty.accepts(v) => out.push(type_problem(k, *ty, v)),
            Some(_) => {}
        }
    }
    for m in mandatory {
        if !s.contains_key(m) {
            out.push(Problem {
                fault: fault(code::MISSING_KEY, format_args!("missing mandatory key '{m}' in {what} params")),
                error: "EC_MISSINGFIELD",
                field: (*m).to_string(),
                field_type: None,
                reason: format!("Field '{m}' is mandatory"),
                attr: None,
            });
        }
    }
    out
}

fn type_problem(k: &str, ty: Ty, v: &Value) -> Problem {
    let (expected, c) = ty.describe();
    Problem {
        fault: fault(c, format_args!("'{}' must be {expected}, got {}", clip(k), v.type_name())),
        error: "EC_INVALIDTYPE",
        field: clip(k),
        field_type: None,
        reason: format!("'{}' must be {expected}, got {}", clip(k), v.type_name()),
        attr: None,
    }
}

/// At most 64 characters of client text, for messages.
pub fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// An `EC_ENUMIN` problem.
pub fn enum_problem(c: i64, field: &str, value: &str, allowed: &str) -> Problem {
    Problem {
        fault: fault(c, format_args!("{field} '{}' is not one of: {allowed}", clip(value))),
        error: "EC_ENUMIN",
        field: field.to_string(),
        field_type: Some("Enum"),
        reason: format!("{field} must be one of: {allowed}"),
        attr: Some(vec![clip(value)]),
    }
}

/// Parses a `'<N>m'` duration (1 to 120 months).
pub fn months(s: &str) -> Option<u32> {
    let n = s.strip_suffix('m')?;
    if n.is_empty() || n.len() > 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = n.parse().ok()?;
    (1..=120).contains(&n).then_some(n)
}

/// The duration problem for a bad value.
pub fn duration_problem(value: &str) -> Problem {
    Problem {
        fault: fault(
            code::DURATION_VALUE,
            format_args!("duration '{}' must be '<N>m' with N from 1 to 120", clip(value)),
        ),
        error: "EC_STRMATCH",
        field: "duration".into(),
        field_type: Some("String"),
        reason: "duration must match '^[0-9]+m$' (1m to 120m)".into(),
        attr: Some(vec![clip(value)]),
    }
}

/// The quantity problem for a negative value.
pub fn quantity_problem(q: i64) -> Problem {
    Problem {
        fault: fault(code::QUANTITY_VALUE, format_args!("quantity {q} must be >= 0")),
        error: "EC_INTLOWER",
        field: "quantity".into(),
        field_type: None,
        reason: "quantity must be greater than or equal to 0".into(),
        attr: Some(vec![q.to_string()]),
    }
}

/// Whether `s` is a plausible FQDN (labels of letters, digits and hyphens, at least two).
pub fn is_fqdn(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The problem for a malformed FQDN.
pub fn fqdn_problem(field: &str, value: &str) -> Problem {
    Problem {
        fault: fault(
            code::BAD_FQDN,
            format_args!("string '{}' does not match '^([a-z0-9-]+\\.)+[a-z0-9-]+$'", clip(value)),
        ),
        error: "EC_STRMATCH",
        field: field.to_string(),
        field_type: Some("String"),
        reason: format!("'{}' is not a valid FQDN", clip(value)),
        attr: Some(vec![clip(value)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_months_from_1_to_120() {
        assert_eq!(months("3m"), Some(3));
        assert_eq!(months("120m"), Some(120));
        for bad in ["0m", "121m", "1y", "m", "3", "-1m", "+1m", " 1m", "1000m"] {
            assert_eq!(months(bad), None, "{bad}");
        }
    }

    #[test]
    fn fqdns_need_two_clean_labels() {
        assert!(is_fqdn("vhost.test.fr"));
        assert!(is_fqdn("a-b.example.com"));
        for bad in ["test", "a..b", "-a.b", "a b.c", "", "a.b."] {
            assert!(!is_fqdn(bad), "{bad}");
        }
    }
}
