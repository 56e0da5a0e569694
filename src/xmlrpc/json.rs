//! The tagged JSON mapping of XML-RPC values, used by `gandish call` and `--json` output.
//!
//! | XML-RPC | JSON |
//! |---|---|
//! | int | integer (`42`) |
//! | double | number with a fraction or exponent (`1.0`, `2.5e-7`); output always has one |
//! | string, boolean, nil | string, `true`/`false`, `null` |
//! | array, struct | array, object (member order kept) |
//! | dateTime.iso8601 | `{"$datetime": "20111014T14:36:30"}` |
//! | base64 | `{"$base64": "AAEC"}` (standard alphabet; padding optional on input) |
//!
//! Reading:
//! - an integer outside the i64 range is an error, never a silent double;
//! - an object whose only member is `$datetime` or `$base64` is that type, and a bad payload is
//!   an error naming where it sits (`arg2.when: invalid $datetime …`); any other object with a
//!   single `$`-prefixed member is refused as an unknown tag (it is most likely a typo);
//! - input nested deeper than [`MAX_DEPTH`] levels is an error.
//!
//! Writing never recurses ([`to_string`], [`to_string_pretty`]), so any value can be printed; a
//! non-finite double, which JSON cannot carry, is an error. A dateTime is written in the compact
//! form without any zone offset the peer may have sent. A struct whose only member is named
//! `$datetime` or `$base64` is written as is and would read back as the tagged type.
//!
//! ```
//! use gandish::xmlrpc::{json, Value};
//!
//! let v = json::parse(r#"[1, 1.0, {"$datetime": "20111014T14:36:30"}]"#).unwrap();
//! assert_eq!(v.as_array().unwrap()[1], Value::Double(1.0));
//! assert_eq!(json::to_string(&v).unwrap(), r#"[1,1.0,{"$datetime":"20111014T14:36:30"}]"#);
//! ```

use super::path::{Step, quote};
use std::fmt::Write as _;

use base64::Engine as _;
use serde::Deserialize as _;
use serde_json::Value as Json;

use super::datetime::DateTime;
use super::value::{Struct, Value};

/// The deepest nesting of JSON arrays and objects accepted on input.
pub const MAX_DEPTH: usize = 128;

/// The tag of a dateTime object.
pub const DATETIME_TAG: &str = "$datetime";
/// The tag of a base64 object.
pub const BASE64_TAG: &str = "$base64";

/// Why JSON could not be turned into a value, or a value into JSON. `at` names where: a path
/// such as `arg2.vhosts[0]`, or a line and column for problems found in the text.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The text is not JSON.
    #[error("{at}: invalid JSON: {message}")]
    Syntax {
        /// The root name given by the caller.
        at: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Arrays and objects nested deeper than the limit.
    #[error("{at}: nested deeper than {limit} levels")]
    TooDeep {
        /// Where the limit was crossed.
        at: String,
        /// The limit.
        limit: usize,
    },
    /// An integer that does not fit in i64.
    #[error("{at}: the integer {text} is outside the 64-bit range (-2^63 to 2^63-1)")]
    IntegerRange {
        /// Where it was.
        at: String,
        /// The integer as written (truncated to 40 characters).
        text: String,
    },
    /// A tagged object (`$datetime`, `$base64`) with a bad payload, or an unknown tag.
    #[error("{at}: invalid {tag}: {reason}")]
    BadTag {
        /// Where the object sits.
        at: String,
        /// The tag (`$datetime`, `$base64`, or the unknown one).
        tag: String,
        /// What was wrong.
        reason: String,
    },
    /// A NaN or infinite double, which JSON cannot carry.
    #[error("{at}: the double {value} is not finite and cannot be written as JSON")]
    NonFiniteDouble {
        /// Where it sits.
        at: String,
        /// The value.
        value: f64,
    },
}

/// One step of a path: an array index or a member name.
enum Seg {
    Index(usize),
    Key(String),
}

fn render_path(root: &str, segs: &[Seg]) -> String {
    super::path::render(
        root,
        segs.iter().map(|s| match s {
            Seg::Index(i) => Step::Index(*i),
            Seg::Key(k) => Step::Member(k),
        }),
    )
}

/// Parses JSON text into a value; errors are located relative to `$`.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    parse_at(text, "$")
}

/// Parses JSON text into a value; errors name their place starting from `root` (for example
/// `arg2`, giving `arg2.when: invalid $datetime …`).
pub fn parse_at(text: &str, root: &str) -> Result<Value, JsonError> {
    prescan(text, root)?;
    let mut de = serde_json::Deserializer::from_str(text);
    // The prescan has bounded the nesting at MAX_DEPTH, which recursion handles comfortably;
    // serde_json's own limit would refuse the 128th level.
    de.disable_recursion_limit();
    let json = Json::deserialize(&mut de)
        .and_then(|j| de.end().map(|()| j))
        .map_err(|e| JsonError::Syntax { at: root.to_owned(), message: e.to_string() })?;
    from_json_at(&json, root)
}

/// Checks nesting depth and integer ranges in the raw text, which serde_json would otherwise
/// refuse with a bare recursion error or turn silently into a double.
fn prescan(text: &str, root: &str) -> Result<(), JsonError> {
    let b = text.as_bytes();
    let at = |pos: usize| {
        let before = &text[..pos];
        let line = before.matches('\n').count() + 1;
        let column =
            before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
        format!("{root} (line {line}, column {column})")
    };
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(JsonError::TooDeep { at: at(i), limit: MAX_DEPTH });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                let tok = &text[start..i];
                let digits = tok.strip_prefix('-').unwrap_or(tok);
                let is_int = !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit());
                if is_int && tok.parse::<i64>().is_err() {
                    return Err(JsonError::IntegerRange {
                        at: at(start),
                        text: tok.chars().take(40).collect(),
                    });
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Converts a `serde_json::Value` into a value; errors are located relative to `$`.
pub fn from_json(json: &Json) -> Result<Value, JsonError> {
    from_json_at(json, "$")
}

/// Converts a `serde_json::Value` into a value, naming error places from `root`. Iterative: the
/// depth of `json` is checked against [`MAX_DEPTH`], never the call stack.
///
/// A number that serde_json holds as a float is a double, even if it was written without a
/// fraction (serde_json turns integers beyond u64 into floats); [`parse_at`] catches those in the
/// text.
pub fn from_json_at(json: &Json, root: &str) -> Result<Value, JsonError> {
    enum Frame<'a> {
        Arr(std::slice::Iter<'a, Json>, Vec<Value>),
        Obj(serde_json::map::Iter<'a>, Vec<(String, Value)>, String),
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut segs: Vec<Seg> = Vec::new();
    let mut next = json;
    loop {
        // Convert `next`: a scalar or tagged object is finished at once; a container opens a frame.
        let mut finished = match next {
            Json::Array(_) | Json::Object(_) if stack.len() >= MAX_DEPTH => {
                return Err(JsonError::TooDeep { at: render_path(root, &segs), limit: MAX_DEPTH });
            }
            Json::Array(a) => {
                stack.push(Frame::Arr(a.iter(), Vec::with_capacity(a.len())));
                None
            }
            Json::Object(m) => match tagged(m, || render_path(root, &segs))? {
                Some(v) => Some(v),
                None => {
                    stack.push(Frame::Obj(m.iter(), Vec::with_capacity(m.len()), String::new()));
                    None
                }
            },
            Json::Null => Some(Value::Nil),
            Json::Bool(b) => Some(Value::Bool(*b)),
            Json::String(s) => Some(Value::String(s.clone())),
            Json::Number(n) => Some(number(n, || render_path(root, &segs))?),
        };
        // Hand finished values to their parents until some frame has another child to convert.
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(finished.expect("the root is finished when the stack is empty"));
            };
            if let Some(v) = finished.take() {
                segs.pop();
                match top {
                    Frame::Arr(_, out) => out.push(v),
                    // serde_json's map has unique keys, so members can be pushed directly.
                    Frame::Obj(_, out, key) => out.push((std::mem::take(key), v)),
                }
            }
            let child = match top {
                Frame::Arr(it, out) => it.next().map(|c| (Seg::Index(out.len()), c)),
                Frame::Obj(it, _, key) => it.next().map(|(k, c)| {
                    key.clone_from(k);
                    (Seg::Key(k.clone()), c)
                }),
            };
            match child {
                Some((seg, c)) => {
                    segs.push(seg);
                    next = c;
                    break;
                }
                None => {
                    finished = Some(match stack.pop().expect("top exists") {
                        Frame::Arr(_, out) => Value::Array(out),
                        Frame::Obj(_, out, _) => Value::Struct(Struct(out)),
                    });
                }
            }
        }
    }
}

fn number(n: &serde_json::Number, at: impl Fn() -> String) -> Result<Value, JsonError> {
    if let Some(i) = n.as_i64() {
        Ok(Value::Int(i))
    } else if n.is_u64() {
        Err(JsonError::IntegerRange { at: at(), text: n.to_string() })
    } else {
        Ok(Value::Double(n.as_f64().unwrap_or(f64::NAN)))
    }
}

/// Reads a tagged object; `None` if `m` is an ordinary object.
fn tagged(m: &serde_json::Map<String, Json>, at: impl Fn() -> String) -> Result<Option<Value>, JsonError> {
    if m.len() != 1 {
        return Ok(None);
    }
    let (tag, payload) = m.iter().next().expect("one member");
    if !tag.starts_with('$') {
        return Ok(None);
    }
    let bad = |reason: String| JsonError::BadTag { at: at(), tag: tag.clone(), reason };
    let text = || match payload {
        Json::String(s) => Ok(s.as_str()),
        other => Err(bad(format!("the payload must be a string, not {}", json_type(other)))),
    };
    match tag.as_str() {
        DATETIME_TAG => {
            let s = text()?;
            DateTime::parse(s)
                .map(|d| Some(Value::DateTime(d)))
                .map_err(|e| bad(format!("{} {} (expected YYYYMMDDTHH:MM:SS)", quote_short(s), e.reason)))
        }
        BASE64_TAG => {
            let s = text()?;
            let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            BASE64
                .decode(compact.as_bytes())
                .map(|b| Some(Value::Base64(b)))
                .map_err(|e| bad(format!("{} is not standard base64 ({e})", quote_short(s))))
        }
        _ => Err(bad(format!(
            "unknown tag; the tags are {DATETIME_TAG} and {BASE64_TAG} (an object whose only member name starts with $ is read as a tag)"
        ))),
    }
}

fn quote_short(s: &str) -> String {
    let short: String = s.chars().take(64).collect();
    let mut q = quote(&short);
    if short.len() < s.len() {
        q.push('…');
    }
    q
}

fn json_type(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Standard alphabet, padding optional on input, written padded.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Converts a value into a `serde_json::Value` under the tagged mapping. Iterative; a value nested
/// deeper than [`MAX_DEPTH`] is refused (a `serde_json::Value` drops recursively), as is a
/// non-finite double.
pub fn to_json(value: &Value) -> Result<Json, JsonError> {
    enum Frame<'a> {
        Arr(std::slice::Iter<'a, Value>, Vec<Json>),
        Obj(Box<dyn Iterator<Item = (&'a str, &'a Value)> + 'a>, serde_json::Map<String, Json>, String),
    }
    let root = "$";
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut segs: Vec<Seg> = Vec::new();
    let mut next = value;
    loop {
        let mut finished = match next {
            Value::Array(_) | Value::Struct(_) if stack.len() >= MAX_DEPTH => {
                return Err(JsonError::TooDeep { at: render_path(root, &segs), limit: MAX_DEPTH });
            }
            Value::Array(a) => {
                stack.push(Frame::Arr(a.iter(), Vec::with_capacity(a.len())));
                None
            }
            Value::Struct(s) => {
                stack.push(Frame::Obj(Box::new(s.iter()), serde_json::Map::new(), String::new()));
                None
            }
            Value::Double(d) => match serde_json::Number::from_f64(*d) {
                Some(n) => Some(Json::Number(n)),
                None => return Err(JsonError::NonFiniteDouble { at: render_path(root, &segs), value: *d }),
            },
            scalar => Some(scalar_json(scalar)),
        };
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(finished.expect("the root is finished when the stack is empty"));
            };
            if let Some(v) = finished.take() {
                segs.pop();
                match top {
                    Frame::Arr(_, out) => out.push(v),
                    Frame::Obj(_, out, key) => {
                        out.insert(std::mem::take(key), v);
                    }
                }
            }
            let child = match top {
                Frame::Arr(it, out) => it.next().map(|c| (Seg::Index(out.len()), c)),
                Frame::Obj(it, _, key) => it.next().map(|(k, c)| {
                    *key = k.to_owned();
                    (Seg::Key(k.to_owned()), c)
                }),
            };
            match child {
                Some((seg, c)) => {
                    segs.push(seg);
                    next = c;
                    break;
                }
                None => {
                    finished = Some(match stack.pop().expect("top exists") {
                        Frame::Arr(_, out) => Json::Array(out),
                        Frame::Obj(_, out, _) => Json::Object(out),
                    });
                }
            }
        }
    }
}

/// The JSON of a scalar other than a double.
fn scalar_json(v: &Value) -> Json {
    match v {
        Value::Int(i) => Json::from(*i),
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Nil => Json::Null,
        Value::DateTime(d) => tag_json(DATETIME_TAG, d.naive().to_string()),
        Value::Base64(b) => tag_json(BASE64_TAG, BASE64.encode(b)),
        Value::Double(_) | Value::Array(_) | Value::Struct(_) => unreachable!("not a plain scalar"),
    }
}

fn tag_json(tag: &str, payload: String) -> Json {
    let mut m = serde_json::Map::with_capacity(1);
    m.insert(tag.to_owned(), Json::String(payload));
    Json::Object(m)
}

/// Writes a value as compact JSON (no whitespace). Iterative, so any depth prints.
pub fn to_string(value: &Value) -> Result<String, JsonError> {
    write(value, None)
}

/// Writes a value as pretty JSON: two-space indentation, one member or element per line, as
/// `serde_json::to_string_pretty` lays it out. Iterative, so any depth prints.
pub fn to_string_pretty(value: &Value) -> Result<String, JsonError> {
    write(value, Some("  "))
}

fn write(value: &Value, indent: Option<&str>) -> Result<String, JsonError> {
    enum Frame<'a> {
        Arr(std::slice::Iter<'a, Value>, usize),
        Obj(Box<dyn Iterator<Item = (&'a str, &'a Value)> + 'a>, usize),
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(ind) = indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(ind);
            }
        }
    };
    let mut out = String::new();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut segs: Vec<Seg> = Vec::new();
    let mut next = value;
    loop {
        // Write `next` whole, or open it; `finished` says which.
        let mut finished = true;
        match next {
            Value::Array(a) if a.is_empty() => out.push_str("[]"),
            Value::Struct(s) if s.is_empty() => out.push_str("{}"),
            Value::Array(a) => {
                out.push('[');
                stack.push(Frame::Arr(a.iter(), 0));
                finished = false;
            }
            Value::Struct(s) => {
                out.push('{');
                stack.push(Frame::Obj(Box::new(s.iter()), 0));
                finished = false;
            }
            Value::Double(d) if !d.is_finite() => {
                return Err(JsonError::NonFiniteDouble { at: render_path("$", &segs), value: *d });
            }
            Value::Double(d) => out.push_str(&serde_json::to_string(d).expect("a finite f64 serializes")),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::String(s) => out.push_str(&quote(s)),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Nil => out.push_str("null"),
            Value::DateTime(d) => write_tag(&mut out, DATETIME_TAG, &d.naive().to_string(), indent.is_some()),
            Value::Base64(b) => write_tag(&mut out, BASE64_TAG, &BASE64.encode(b), indent.is_some()),
        }
        // Move on to the next child to write, closing the containers that are done.
        loop {
            let level = stack.len();
            let Some(top) = stack.last_mut() else {
                return Ok(out);
            };
            if finished {
                segs.pop();
            }
            let (n, child) = match top {
                Frame::Arr(it, n) => (n, it.next().map(|c| (None, c))),
                Frame::Obj(it, n) => (n, it.next().map(|(k, c)| (Some(k), c))),
            };
            match child {
                Some((key, c)) => {
                    if *n > 0 {
                        out.push(',');
                    }
                    segs.push(match key {
                        Some(k) => Seg::Key(k.to_owned()),
                        None => Seg::Index(*n),
                    });
                    *n += 1;
                    newline(&mut out, level);
                    if let Some(k) = key {
                        out.push_str(&quote(k));
                        out.push_str(if indent.is_some() { ": " } else { ":" });
                    }
                    next = c;
                    break;
                }
                None => {
                    let closing = match stack.pop().expect("top exists") {
                        Frame::Arr(..) => ']',
                        Frame::Obj(..) => '}',
                    };
                    newline(&mut out, level - 1);
                    out.push(closing);
                    finished = true;
                }
            }
        }
    }
}

fn write_tag(out: &mut String, tag: &str, payload: &str, pretty: bool) {
    out.push('{');
    out.push_str(&quote(tag));
    out.push_str(if pretty { ": " } else { ":" });
    out.push_str(&quote(payload));
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Value {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn dt(s: &str) -> Value {
        Value::DateTime(DateTime::parse(s).unwrap())
    }

    #[test]
    fn integers_are_ints_within_i64() {
        assert_eq!(p("42"), Value::Int(42));
        assert_eq!(p("-7"), Value::Int(-7));
        assert_eq!(p("9223372036854775807"), Value::Int(i64::MAX));
        assert_eq!(p("-9223372036854775808"), Value::Int(i64::MIN));
    }

    #[test]
    fn integers_outside_i64_are_errors_not_doubles() {
        for text in ["9223372036854775808", "-9223372036854775809", "100000000000000000000000000000"] {
            match parse(text) {
                Err(JsonError::IntegerRange { text: t, at }) => {
                    assert_eq!(t, text);
                    assert_eq!(at, "$ (line 1, column 1)");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let e = parse_at("{\"a\": [1,\n  18446744073709551616]}", "arg1").unwrap_err();
        assert_eq!(
            e,
            JsonError::IntegerRange {
                at: "arg1 (line 2, column 3)".into(),
                text: "18446744073709551616".into()
            }
        );
        assert!(e.to_string().contains("outside the 64-bit range"), "{e}");
        // Digits inside strings are not numbers.
        assert_eq!(p("\"99999999999999999999999\""), Value::from("99999999999999999999999"));
        // A u64 held by serde_json is refused by from_json too, with a path.
        let j: Json = serde_json::json!({"n": [u64::MAX]});
        assert!(matches!(from_json(&j), Err(JsonError::IntegerRange { at, .. }) if at == "$.n[0]"));
    }

    #[test]
    fn fractions_and_exponents_are_doubles() {
        assert_eq!(p("1.0"), Value::Double(1.0));
        assert_eq!(p("-0.5"), Value::Double(-0.5));
        assert_eq!(p("1e3"), Value::Double(1000.0));
        assert_eq!(p("2.5E-3"), Value::Double(0.0025));
        // A double beyond f64's range is refused by the parser rather than becoming infinity.
        assert!(matches!(parse("1e400"), Err(JsonError::Syntax { .. })));
    }

    #[test]
    fn scalars_and_containers() {
        assert_eq!(p("\"h\\u00e9\\n\\\"x\\\"\""), Value::from("hé\n\"x\""));
        assert_eq!(p("true"), Value::Bool(true));
        assert_eq!(p("false"), Value::Bool(false));
        assert_eq!(p("null"), Value::Nil);
        assert_eq!(p("[]"), Value::Array(vec![]));
        assert_eq!(p("{}"), Value::Struct(Struct::new()));
        assert_eq!(
            p(r#"[1, "a", [null], {"k": false}]"#),
            Value::Array(vec![
                Value::Int(1),
                Value::from("a"),
                Value::Array(vec![Value::Nil]),
                Value::Struct(Struct::new().with("k", false)),
            ])
        );
    }

    #[test]
    fn struct_member_order_is_kept() {
        let v = p(r#"{"zeta": 1, "alpha": 2, "mid": 3}"#);
        assert_eq!(v.as_struct().unwrap().keys().collect::<Vec<_>>(), ["zeta", "alpha", "mid"]);
        assert_eq!(to_string(&v).unwrap(), r#"{"zeta":1,"alpha":2,"mid":3}"#);
    }

    #[test]
    fn tagged_datetime_and_base64() {
        assert_eq!(p(r#"{"$datetime": "20111014T14:36:30"}"#), dt("20111014T14:36:30"));
        assert_eq!(p(r#"{"$datetime": "2011-10-14T14:36:30"}"#), dt("20111014T14:36:30"));
        assert_eq!(p(r#"{"$base64": "AAEC/w=="}"#), Value::Base64(vec![0, 1, 2, 255]));
        assert_eq!(p(r#"{"$base64": "AAEC/w"}"#), Value::Base64(vec![0, 1, 2, 255]));
        assert_eq!(p(r#"{"$base64": "AAEC\n/w=="}"#), Value::Base64(vec![0, 1, 2, 255]));
        assert_eq!(p(r#"{"$base64": ""}"#), Value::Base64(vec![]));
        // Two members: an ordinary struct.
        let v = p(r#"{"$datetime": "20111014T14:36:30", "x": 1}"#);
        assert_eq!(v.get("$datetime"), Some(&Value::from("20111014T14:36:30")));
    }

    #[test]
    fn bad_tagged_payloads_name_the_path() {
        let e = parse_at(r#"{"when": {"$datetime": "2011-13-45"}}"#, "params[1]").unwrap_err();
        match &e {
            JsonError::BadTag { at, tag, reason } => {
                assert_eq!(at, "params[1].when");
                assert_eq!(tag, "$datetime");
                assert!(reason.contains("\"2011-13-45\""), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().starts_with("params[1].when: invalid $datetime: \"2011-13-45\""), "{e}");

        let e = parse(r#"[0, {"b": {"$base64": "not base64!"}}]"#).unwrap_err();
        assert!(
            matches!(&e, JsonError::BadTag { at, tag, .. } if at == "$[1].b" && tag == "$base64"),
            "{e:?}"
        );

        let e = parse(r#"{"$datetime": 20111014}"#).unwrap_err();
        assert!(e.to_string().contains("must be a string, not a number"), "{e}");

        let e = parse(r#"{"a b": {"$datetme": "20111014T14:36:30"}}"#).unwrap_err();
        assert!(
            matches!(&e, JsonError::BadTag { at, tag, .. } if at == "$[\"a b\"]" && tag == "$datetme"),
            "{e:?}"
        );
        assert!(e.to_string().contains("unknown tag"), "{e}");
    }

    #[test]
    fn syntax_errors_are_clean() {
        for text in ["[1,", "{\"a\" 1}", "1 2", "", "tru", "'single'", "[1,]"] {
            match parse_at(text, "arg3") {
                Err(JsonError::Syntax { at, message }) => {
                    assert_eq!(at, "arg3");
                    assert!(message.contains("line"), "{message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn doubles_always_print_with_a_fraction_or_exponent() {
        let cases =
            [(1.0, "1.0"), (-0.0, "-0.0"), (0.1, "0.1"), (123456789.0, "123456789.0"), (-2.5, "-2.5")];
        for (d, want) in cases {
            assert_eq!(to_string(&Value::Double(d)).unwrap(), want);
        }
        for d in [1e16, 1e21, 1e-7, f64::MAX, f64::MIN_POSITIVE] {
            let s = to_string(&Value::Double(d)).unwrap();
            assert!(s.contains(['.', 'e']), "{d} printed as {s}");
            assert_eq!(parse(&s).unwrap(), Value::Double(d), "{s} reads back");
        }
        assert_eq!(to_string(&Value::Int(1)).unwrap(), "1");
        // Through serde_json::Value too.
        assert_eq!(serde_json::to_string(&to_json(&Value::Double(1.0)).unwrap()).unwrap(), "1.0");
    }

    #[test]
    fn tagged_output() {
        let d = DateTime::parse("2011-10-14T14:36:30+02:00").unwrap();
        assert!(d.offset_minutes.is_some());
        assert_eq!(to_string(&Value::DateTime(d)).unwrap(), r#"{"$datetime":"20111014T14:36:30"}"#);
        assert_eq!(to_string_pretty(&Value::DateTime(d)).unwrap(), r#"{"$datetime": "20111014T14:36:30"}"#);
        assert_eq!(to_string(&Value::Base64(vec![0, 1, 2, 255])).unwrap(), r#"{"$base64":"AAEC/w=="}"#);
        assert_eq!(
            to_json(&Value::Base64(vec![0, 1, 2, 255])).unwrap(),
            serde_json::json!({"$base64": "AAEC/w=="})
        );
        assert_eq!(
            to_json(&Value::DateTime(d)).unwrap(),
            serde_json::json!({"$datetime": "20111014T14:36:30"})
        );
    }

    #[test]
    fn pretty_output_matches_serde_json_layout() {
        let text = r#"{"name": "x", "list": [1, 2.5, [], {}, [true, null]], "nested": {"a": {"b": "c\"\n"}}, "e": []}"#;
        let v = p(text);
        let json: Json = serde_json::from_str(text).unwrap();
        assert_eq!(to_string_pretty(&v).unwrap(), serde_json::to_string_pretty(&json).unwrap());
        assert_eq!(to_string(&v).unwrap(), serde_json::to_string(&json).unwrap());
        assert_eq!(to_json(&v).unwrap(), json);
    }

    #[test]
    fn non_finite_doubles_cannot_be_written() {
        let v = Value::Struct(
            Struct::new().with("a", Value::Array(vec![Value::Int(1), Value::Double(f64::NAN)])),
        );
        for e in [to_string(&v).unwrap_err(), to_string_pretty(&v).unwrap_err(), to_json(&v).unwrap_err()] {
            assert!(matches!(&e, JsonError::NonFiniteDouble { at, .. } if at == "$.a[1]"), "{e:?}");
        }
        let e = to_string(&Value::Double(f64::INFINITY)).unwrap_err();
        assert!(matches!(&e, JsonError::NonFiniteDouble { at, .. } if at == "$"), "{e:?}");
    }

    fn nested_text(depth: usize) -> String {
        "[".repeat(depth) + "]".repeat(depth).as_str()
    }

    fn nested_value(depth: usize) -> Value {
        let mut v = Value::Array(vec![]);
        for _ in 1..depth {
            v = Value::Array(vec![v]);
        }
        v
    }

    #[test]
    fn depth_128_is_accepted_and_129_refused() {
        assert_eq!(p(&nested_text(MAX_DEPTH)), nested_value(MAX_DEPTH));
        let e = parse_at(&nested_text(MAX_DEPTH + 1), "arg1").unwrap_err();
        assert_eq!(e, JsonError::TooDeep { at: "arg1 (line 1, column 129)".into(), limit: 128 });
        assert_eq!(e.to_string(), "arg1 (line 1, column 129): nested deeper than 128 levels");
        // Objects count too, and a very deep document is refused without overflowing anything.
        let objects = "{\"a\":".repeat(200) + "1" + "}".repeat(200).as_str();
        assert!(matches!(parse(&objects), Err(JsonError::TooDeep { .. })));
        assert!(matches!(parse(&nested_text(1_000_000)), Err(JsonError::TooDeep { .. })));
        // Brackets inside strings do not count.
        assert_eq!(
            p(&format!("[\"{}\"]", "[".repeat(500))),
            Value::Array(vec![Value::from("[".repeat(500))])
        );
    }

    #[test]
    fn from_json_and_to_json_limit_depth_without_recursing() {
        let mut j = Json::Array(vec![]);
        for _ in 1..200 {
            j = Json::Array(vec![j]);
        }
        let e = from_json(&j).unwrap_err();
        assert!(matches!(&e, JsonError::TooDeep { at, limit: 128 } if at.starts_with("$[0][0]")), "{e:?}");
        assert!(matches!(to_json(&nested_value(200)), Err(JsonError::TooDeep { .. })));
        assert!(to_json(&nested_value(MAX_DEPTH)).is_ok());
    }

    #[test]
    fn writing_a_very_deep_value_does_not_recurse() {
        // Run on a small-stack thread: a recursive writer would overflow it.
        let out = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                // Pretty output grows with the square of the depth, so it gets a shallower tree.
                (to_string(&nested_value(100_000)).unwrap(), to_string_pretty(&nested_value(2_000)).unwrap())
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(out.0, nested_text(100_000));
        let pretty = out.1;
        assert_eq!(pretty.split_whitespace().collect::<String>(), nested_text(2_000));
        assert_eq!(pretty.lines().count(), 2 * 2_000 - 1);
        let innermost = pretty.lines().nth(1_999).unwrap();
        assert_eq!(innermost, format!("{}[]", "  ".repeat(1_999)));
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let key = "[a-z_][a-z0-9 _-]{0,8}";
        let leaf = prop_oneof![
            any::<i64>().prop_map(Value::Int),
            any::<bool>().prop_map(Value::Bool),
            any::<String>().prop_map(Value::String),
            any::<f64>().prop_filter("finite", |d| d.is_finite()).prop_map(Value::Double),
            (0u16..=9999, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60).prop_map(|(y, mo, d, h, mi, s)| {
                Value::DateTime(DateTime::new(y, mo, d, h, mi, s).unwrap())
            }),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Base64),
            Just(Value::Nil),
        ];
        leaf.prop_recursive(5, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((key, inner), 0..6)
                    .prop_map(|members| Value::Struct(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn values_round_trip_through_json_text(v in arb_value()) {
            prop_assert_eq!(parse(&to_string(&v).unwrap()).unwrap(), v.clone());
            prop_assert_eq!(parse(&to_string_pretty(&v).unwrap()).unwrap(), v.clone());
            prop_assert_eq!(from_json(&to_json(&v).unwrap()).unwrap(), v.clone());
            // Our writer agrees with serde_json's on the same tree.
            prop_assert_eq!(to_string(&v).unwrap(), serde_json::to_string(&to_json(&v).unwrap()).unwrap());
        }
    }
}
