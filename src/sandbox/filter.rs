//! List options shared by every `*.list`/`*.count`: filters (equality, "any of" arrays,
//! `<key`/`>key` comparisons, `~key` patterns), paging (`items_per_page` ≤ 500, 0-based `page`)
//! and `sort_by 'field ASC|DESC'` (reference §3).

use std::cmp::Ordering;

use crate::xmlrpc::{DateTime, Fault, Struct, Value};

use super::args::as_bool;
use super::check::clip;
use super::fault::{code, fault};

/// Largest page.
pub const MAX_PER_PAGE: i64 = 500;
/// Default page size.
pub const DEFAULT_PER_PAGE: i64 = 100;

/// The type of a filterable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FTy {
    /// Integer.
    Int,
    /// String.
    Str,
    /// Boolean.
    Bool,
    /// dateTime (filters may send a dateTime or a string).
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Gt,
    Like,
}

#[derive(Debug)]
struct Cond {
    key: String,
    op: Op,
    /// One value, or several for "any of".
    values: Vec<Value>,
}

/// Parsed list options.
#[derive(Debug)]
pub struct ListOpts {
    conds: Vec<Cond>,
    /// Page size.
    pub per_page: usize,
    /// 0-based page.
    pub page: usize,
    sort: Option<(String, bool)>,
}

fn normalize(key: &str, ty: FTy, v: &Value) -> Result<Value, Fault> {
    let bad = |c: i64, what: &str| {
        fault(c, format_args!("filter '{}' must be {what}, got {}", clip(key), v.type_name()))
    };
    match (ty, v) {
        (_, Value::Nil) => Ok(Value::Nil),
        (FTy::Int, Value::Int(i)) => Ok(Value::Int(*i)),
        (FTy::Int, _) => Err(bad(code::NOT_INT, "an integer")),
        (FTy::Str, Value::String(s)) => Ok(Value::String(s.clone())),
        (FTy::Str, _) => Err(bad(code::NOT_STRING, "a string")),
        (FTy::Bool, _) => as_bool(v).map(Value::Bool).ok_or_else(|| bad(code::NOT_BOOL, "a boolean")),
        (FTy::Date, Value::DateTime(d)) => Ok(Value::DateTime(d.naive())),
        (FTy::Date, Value::String(s)) => DateTime::parse(s)
            .map(|d| Value::DateTime(d.naive()))
            .map_err(|e| fault(code::NOT_DATE, format_args!("filter '{}': {e}", clip(key)))),
        (FTy::Date, _) => Err(bad(code::NOT_DATE, "a dateTime")),
    }
}

fn int_opt(opts: &Struct, key: &str) -> Result<Option<i64>, Fault> {
    match opts.get(key) {
        None => Ok(None),
        Some(Value::Int(i)) => Ok(Some(*i)),
        Some(v) => {
            Err(fault(code::NOT_INT, format_args!("'{key}' must be an integer, got {}", v.type_name())))
        }
    }
}

/// Parses `opts` against the list's filterable `fields` (also the sortable ones). Keys in
/// `extra` are skipped (the caller handles them).
pub fn parse(opts: Option<&Struct>, fields: &[(&str, FTy)], extra: &[&str]) -> Result<ListOpts, Fault> {
    let mut out = ListOpts { conds: Vec::new(), per_page: DEFAULT_PER_PAGE as usize, page: 0, sort: None };
    let Some(opts) = opts else { return Ok(out) };
    if let Some(n) = int_opt(opts, "items_per_page")? {
        if !(1..=MAX_PER_PAGE).contains(&n) {
            return Err(fault(
                code::INT_VALUE,
                format_args!("items_per_page must be between 1 and {MAX_PER_PAGE}, got {n}"),
            ));
        }
        out.per_page = n as usize;
    }
    if let Some(p) = int_opt(opts, "page")? {
        if p < 0 {
            return Err(fault(code::INT_VALUE, format_args!("page must be >= 0, got {p}")));
        }
        out.page = usize::try_from(p).unwrap_or(usize::MAX);
    }
    if let Some(v) = opts.get("sort_by") {
        let Some(s) = v.as_str() else {
            return Err(fault(
                code::NOT_STRING,
                format_args!("'sort_by' must be a string, got {}", v.type_name()),
            ));
        };
        let mut parts = s.split_whitespace();
        let field = parts.next().unwrap_or("");
        let desc = match parts.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(_) => {
                return Err(fault(
                    code::STRING_VALUE,
                    format_args!("sort_by '{}' must be 'field ASC' or 'field DESC'", clip(s)),
                ));
            }
        };
        if parts.next().is_some() || !fields.iter().any(|(f, _)| *f == field) {
            return Err(fault(
                code::STRING_VALUE,
                format_args!("cannot sort by '{}'; sortable fields: {}", clip(s), names(fields)),
            ));
        }
        out.sort = Some((field.to_string(), desc));
    }
    for (k, v) in opts.iter() {
        if matches!(k, "items_per_page" | "page" | "sort_by") || extra.contains(&k) {
            continue;
        }
        let (op, name) = match k.as_bytes().first() {
            Some(b'<') => (Op::Lt, &k[1..]),
            Some(b'>') => (Op::Gt, &k[1..]),
            Some(b'~') => (Op::Like, &k[1..]),
            _ => (Op::Eq, k),
        };
        let Some(&(_, ty)) = fields.iter().find(|(f, _)| *f == name) else {
            return Err(fault(
                code::UNKNOWN_KEY,
                format_args!("unexpected filter key '{}'; known: {}", clip(k), names(fields)),
            ));
        };
        let values = match (op, v) {
            (Op::Eq, Value::Array(a)) => {
                a.iter().map(|x| normalize(name, ty, x)).collect::<Result<_, _>>()?
            }
            (Op::Like, _) if ty != FTy::Str || v.as_str().is_none() => {
                return Err(fault(
                    code::NOT_STRING,
                    format_args!("pattern filter '{}' needs a string field and a string value", clip(k)),
                ));
            }
            (Op::Lt | Op::Gt, Value::Nil) | (Op::Lt | Op::Gt, Value::Array(_)) => {
                return Err(fault(
                    code::STRING_VALUE,
                    format_args!("comparison filter '{}' needs a single value", clip(k)),
                ));
            }
            _ => vec![normalize(name, ty, v)?],
        };
        out.conds.push(Cond { key: name.to_string(), op, values });
    }
    Ok(out)
}

fn names(fields: &[(&str, FTy)]) -> String {
    fields.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
}

/// Orders two field values of the same kind; nil sorts first; kinds that differ are equal.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Nil, Value::Nil) => Ordering::Equal,
        (Value::Nil, _) => Ordering::Less,
        (_, Value::Nil) => Ordering::Greater,
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Double(x), Value::Double(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.naive().cmp(&y.naive()),
        _ => Ordering::Equal,
    }
}

fn like(text: &str, pat: &str) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pat.to_lowercase().chars().collect();
    // Iterative wildcard match: % any run, _ one character.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

impl ListOpts {
    /// Whether `item` passes every filter; `lookup` finds a field's value in an item.
    pub fn matches(&self, item: &Value, lookup: &dyn Fn(&Value, &str) -> Option<Value>) -> bool {
        self.conds.iter().all(|c| {
            let field = lookup(item, &c.key).unwrap_or(Value::Nil);
            match c.op {
                Op::Eq => {
                    c.values.iter().any(|v| compare(&field, v) == Ordering::Equal && same_kind(&field, v))
                }
                Op::Lt => !field.is_nil() && compare(&field, &c.values[0]) == Ordering::Less,
                Op::Gt => !field.is_nil() && compare(&field, &c.values[0]) == Ordering::Greater,
                Op::Like => match (field.as_str(), c.values[0].as_str()) {
                    (Some(t), Some(p)) => like(t, p),
                    _ => false,
                },
            }
        })
    }

    /// Filters, sorts and pages `items` (already in default `id ASC` order).
    pub fn select(&self, items: Vec<Value>, lookup: &dyn Fn(&Value, &str) -> Option<Value>) -> Vec<Value> {
        let mut kept: Vec<Value> = items.into_iter().filter(|i| self.matches(i, lookup)).collect();
        if let Some((field, desc)) = &self.sort {
            kept.sort_by(|a, b| {
                let (x, y) = (lookup(a, field).unwrap_or(Value::Nil), lookup(b, field).unwrap_or(Value::Nil));
                let o = compare(&x, &y);
                if *desc { o.reverse() } else { o }
            });
        }
        let start = self.page.saturating_mul(self.per_page);
        kept.into_iter().skip(start).take(self.per_page).collect()
    }

    /// How many of `items` pass the filters (paging and sorting ignored).
    pub fn count<'a>(
        &self,
        items: impl Iterator<Item = &'a Value>,
        lookup: &dyn Fn(&Value, &str) -> Option<Value>,
    ) -> i64 {
        items.filter(|i| self.matches(i, lookup)).count() as i64
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The default lookup: a top-level struct member.
pub fn member(item: &Value, key: &str) -> Option<Value> {
    item.get(key).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("vhost.test.fr", "%.test.fr"));
        assert!(like("Mon PaaS", "mon%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_d"));
        assert!(like("", "%"));
        assert!(!like("abc", "ab"));
    }
}
