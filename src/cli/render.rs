//! How results, plans and script errors are shown.
//!
//! - [`render_value`]: the value of a script, readably (an array of maps is a table, a map is
//!   one `key: value` line per member, a string is bare), or with `--json` as the tagged JSON of
//!   [`xmlrpc::json`](crate::xmlrpc::json) (`{"$datetime": …}`, `{"$base64": …}`; durations and
//!   other script-only values as strings).
//! - [`render_plan`]: the calls a dry run would have made.
//! - [`render_error`]: a script error like rustc does: `error: message`, then
//!   `--> file:line:col`, the source line and a caret under the column; coloured on request.

use std::fmt::Write as _;

use rhai::{Array, Blob, Dynamic, EvalAltResult, ImmutableString, Map, Position};

use crate::script::display::to_display;
use crate::script::{Date, Error, PlanEntry, Span};
use crate::xmlrpc::{Struct, Value, json};

/// Deepest nesting converted for JSON output; deeper values print as `"…"`.
const MAX_DEPTH: usize = 100;
/// Longest table cell, in characters; longer ones are cut with `…`.
const MAX_CELL: usize = 60;

/// The script value as an XML-RPC value for tagged JSON output: dates become dateTimes, blobs
/// base64, `()` nil; what the API has no type for (durations, function pointers, host types,
/// non-finite floats) becomes its display string.
pub fn to_tagged_value(v: &Dynamic) -> Value {
    to_tagged_at(v, 0)
}

fn to_tagged_at(v: &Dynamic, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::String("…".into());
    }
    if v.is_unit() {
        return Value::Nil;
    }
    if let Ok(i) = v.as_int() {
        return Value::Int(i);
    }
    if let Ok(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if let Ok(f) = v.as_float() {
        return if f.is_finite() { Value::Double(f) } else { Value::String(f.to_string()) };
    }
    if let Ok(c) = v.as_char() {
        return Value::String(c.to_string());
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return Value::String(s.to_string());
    }
    if let Some(d) = v.read_lock::<Date>() {
        return Value::DateTime(d.to_datetime());
    }
    if let Some(b) = v.read_lock::<Blob>() {
        return Value::Base64(b.clone());
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Value::Array(a.iter().map(|i| to_tagged_at(i, depth + 1)).collect());
    }
    if let Some(m) = v.read_lock::<Map>() {
        let mut s = Struct::with_capacity(m.len());
        for (k, i) in m.iter() {
            s.insert(k.as_str(), to_tagged_at(i, depth + 1));
        }
        return Value::Struct(s);
    }
    if let Some(s) = v.read_lock::<Span>() {
        return Value::String(s.to_string());
    }
    Value::String(to_display(v))
}

/// The value as pretty tagged JSON, with a trailing newline.
pub fn to_json(v: &Dynamic) -> String {
    let mut s = json::to_string_pretty(&to_tagged_value(v)).unwrap_or_else(|e| format!("\"{e}\""));
    s.push('\n');
    s
}

/// How a script's value is printed: tagged JSON if `json`, else readably (see the module
/// docs). `()` prints nothing in text mode, `null` in JSON. The text ends with a newline unless
/// it is empty.
pub fn render_value(v: &Dynamic, json: bool) -> String {
    if json {
        return to_json(v);
    }
    if v.is_unit() {
        return String::new();
    }
    let mut out = if let Some(table) = v.read_lock::<Array>().and_then(|a| table(&a)) {
        table
    } else if let Some(report) = v.read_lock::<Map>().and_then(|m| report(&m)) {
        report
    } else if let Some(m) = v.read_lock::<Map>().filter(|m| !m.is_empty()) {
        members(&m)
    } else {
        to_display(v)
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn cell(v: &Dynamic) -> String {
    let s = if v.is_unit() { String::new() } else { to_display(v) };
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() > MAX_CELL {
        let mut cut: String = s.chars().take(MAX_CELL - 1).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// A report (as the bundled bulk scripts return): a map with `rows` (an array of maps) and a
/// `summary` line, optionally `columns` (the columns to show, in order). Shown as the table of
/// rows followed by the summary; `--json` shows the whole map.
fn report(m: &Map) -> Option<String> {
    let summary = m.get("summary")?.read_lock::<rhai::ImmutableString>()?.to_string();
    let rows = m.get("rows")?.read_lock::<Array>()?.clone();
    let columns: Option<Vec<String>> = m.get("columns").and_then(|c| {
        let a = c.read_lock::<Array>()?;
        a.iter().map(|x| x.clone().into_string().ok()).collect()
    });
    let mut out = if rows.is_empty() { String::new() } else { table_of(&rows, columns)? };
    out.push_str(&summary);
    Some(out)
}

/// An array of maps as a table: one column per key (in first-seen order), one row per map.
fn table(rows: &Array) -> Option<String> {
    table_of(rows, None)
}

/// An array of maps as a table with the given columns (default: every key, in first-seen order).
fn table_of(rows: &Array, columns: Option<Vec<String>>) -> Option<String> {
    if rows.is_empty() || !rows.iter().all(|r| r.is_map()) {
        return None;
    }
    let given = columns.is_some();
    let mut columns: Vec<String> = columns.unwrap_or_default();
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(rows.len());
    let maps: Vec<_> = rows.iter().filter_map(|r| r.read_lock::<Map>()).collect();
    for m in maps.iter().filter(|_| !given) {
        for k in m.keys() {
            if !columns.iter().any(|c| c == k.as_str()) {
                columns.push(k.to_string());
            }
        }
    }
    for m in &maps {
        cells.push(columns.iter().map(|c| m.get(c.as_str()).map(cell).unwrap_or_default()).collect());
    }
    let width = |i: usize| {
        cells.iter().map(|r| r[i].chars().count()).chain([columns[i].chars().count()]).max().unwrap_or(0)
    };
    let widths: Vec<usize> = (0..columns.len()).map(width).collect();
    let mut out = String::new();
    let line = |out: &mut String, items: &[String]| {
        let mut l = String::new();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let _ = write!(l, "{item:<w$}", w = widths[i]);
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, &columns);
    let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&mut out, &rules);
    for r in &cells {
        line(&mut out, r);
    }
    Some(out)
}

/// A map as `key: value` lines, keys aligned.
fn members(m: &Map) -> String {
    let w = m.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in m.iter() {
        let _ = writeln!(out, "{:<w$}  {}", format!("{k}:"), to_display(v), w = w + 1);
    }
    out
}

/// The dry-run plan as a numbered list of intended calls (empty text for an empty plan).
pub fn render_plan(plan: &[PlanEntry]) -> String {
    if plan.is_empty() {
        return String::new();
    }
    let n = plan.len();
    let mut out = format!("dry run: {n} change{} planned, none sent:\n", if n == 1 { "" } else { "s" });
    for (i, e) in plan.iter().enumerate() {
        let args = json::to_string(&Value::Array(e.args.clone())).unwrap_or_default();
        let args = args.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(&args);
        let _ = writeln!(out, "  {}. {}: {}({args})", i + 1, e.summary, e.method);
        if let Some(errors) = &e.errors
            && !errors.is_empty()
        {
            let errs = json::to_string(&Value::Array(errors.clone())).unwrap_or_default();
            let _ = writeln!(out, "     Gandi would refuse it: {errs}");
        }
    }
    out
}

/// ANSI styles, or nothing.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
}

/// Where a script error happened: the source it names (a file as given, `std/NAME`, or none for
/// the top-level text) and the position.
fn locate(e: &Error) -> (Option<String>, Option<Position>) {
    let Error::Script(err) = e else {
        return (None, e.position());
    };
    let mut source: Option<String> = None;
    let mut cur: &EvalAltResult = err;
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(_, src, inner, _) => {
                if !src.is_empty() {
                    source = Some(src.clone());
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, _) => {
                source = Some(name.clone());
                cur = inner;
            }
            _ => break,
        }
    }
    let pos = if cur.position().is_none() { e.position() } else { Some(cur.position()) };
    (source, pos)
}

/// The innermost message, without Rhai's ` (line L, position C)` suffix.
fn message(e: &Error) -> String {
    let text = match e {
        Error::Script(err) => {
            let mut cur: &EvalAltResult = err;
            while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
            | EvalAltResult::ErrorInModule(_, inner, _) = cur
            {
                cur = inner;
            }
            match cur {
                EvalAltResult::ErrorRuntime(v, _) => match v.read_lock::<Map>() {
                    Some(m) if m.contains_key("message") => to_display(&m["message"]),
                    _ => to_display(v),
                },
                other => other.to_string(),
            }
        }
        // The message with its cause: the error's own text is only the context.
        Error::Fault { message, .. } | Error::Transport { message, .. } => message.clone(),
        other => other.to_string(),
    };
    strip_position(&text).to_string()
}

fn strip_position(s: &str) -> &str {
    let s = s.trim_end();
    if s.ends_with(')')
        && let Some(i) = s.rfind(" (line ")
    {
        return &s[..i];
    }
    s
}

/// The source texts an error may point into.
pub trait Sources {
    /// The name to show and the text of the source `name` (`None`: the top-level script).
    fn get(&self, name: Option<&str>) -> Option<(String, String)>;
}

/// The top-level script (shown as `display`) plus the bundled library and files on disk for
/// imported modules.
#[derive(Clone, Debug)]
pub struct ScriptSource {
    /// How the top-level script is named in errors (the path as given, or `<eval>`).
    pub display: String,
    /// Its text.
    pub text: String,
    /// Its canonical path (what Rhai records as the source of its functions), if it is a file.
    pub canonical: Option<String>,
}

impl Sources for ScriptSource {
    fn get(&self, name: Option<&str>) -> Option<(String, String)> {
        match name {
            None => Some((self.display.clone(), self.text.clone())),
            Some(n) if Some(n) == self.canonical.as_deref() || n == self.display => {
                Some((self.display.clone(), self.text.clone()))
            }
            Some(n) => {
                if let Some(std) = n.strip_prefix("std/") {
                    let (_, text) = crate::script::resolver::STDLIB.iter().find(|(k, _)| *k == std)?;
                    return Some((n.to_string(), text.to_string()));
                }
                let mut candidates =
                    vec![std::path::PathBuf::from(n), std::path::PathBuf::from(format!("{n}.rhai"))];
                if let Some(dir) = self.canonical.as_deref().and_then(|c| std::path::Path::new(c).parent()) {
                    candidates.insert(0, dir.join(format!("{n}.rhai")));
                    candidates.insert(0, dir.join(n));
                }
                candidates.into_iter().find_map(|p| {
                    let text = std::fs::read_to_string(&p).ok()?;
                    Some((p.display().to_string(), text))
                })
            }
        }
    }
}

/// Renders a script error like rustc:
///
/// ```text
/// error: Variable not found: y
///  --> job.rhai:2:9
///   |
/// 2 | let x = y + 1;
///   |         ^
/// ```
///
/// Without a position only the first line is printed; without the source text, the first two.
/// `color` adds ANSI colours. The text ends with a newline.
pub fn render_error(e: &Error, sources: &dyn Sources, color: bool) -> String {
    let st = Style { on: color };
    let mut out =
        format!("{}{} {}\n", st.paint("1;31", "error"), st.paint("1", ":"), st.paint("1", &message(e)));
    let (source, pos) = locate(e);
    let Some(pos) = pos else { return out };
    let Some(line_no) = pos.line() else { return out };
    let col = pos.position().unwrap_or(1).max(1);
    let found = sources.get(source.as_deref());
    let name = found.as_ref().map(|(n, _)| n.clone()).or(source).unwrap_or_else(|| "<script>".into());
    let gutter = line_no.to_string().len();
    let pad = " ".repeat(gutter);
    let _ = writeln!(out, "{pad}{} {name}:{line_no}:{col}", st.paint("1;34", "-->"));
    // A syntax error at the very end points one line past the last.
    fn line_text(t: &str, n: usize) -> Option<&str> {
        t.lines().nth(n - 1).or((t.lines().count() + 1 == n).then_some(""))
    }
    let Some(text) = found.and_then(|(_, t)| line_text(&t, line_no).map(str::to_string)) else {
        return out;
    };
    let bar = st.paint("1;34", "|");
    let _ = writeln!(out, "{pad} {bar}");
    let _ = writeln!(out, "{} {bar} {text}", st.paint("1;34", &line_no.to_string()));
    let indent: String = text.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    let _ = writeln!(out, "{pad} {bar} {indent}{}", st.paint("1;31", "^"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> crate::Runtime {
        crate::Runtime::builder().endpoint("http://127.0.0.1:9/").key("k").build().unwrap()
    }

    fn src(text: &str) -> ScriptSource {
        ScriptSource { display: "t.rhai".into(), text: text.into(), canonical: None }
    }

    #[test]
    fn syntax_error_gets_line_column_and_caret() {
        let text = "let a = 1;\nlet x = a + y;\n";
        let e = rt().eval(text).unwrap_err();
        assert_eq!(
            render_error(&e, &src(text), false),
            "error: Syntax error: Undefined variable: y\n --> t.rhai:2:13\n  |\n2 | let x = a + y;\n  |             ^\n"
        );
    }

    #[test]
    fn runtime_error_in_a_function_points_into_it() {
        let text = "fn half(n) {\n    n / 0\n}\nlet a = 1;\nhalf(a)\n";
        let e = rt().eval(text).unwrap_err();
        assert_eq!(
            render_error(&e, &src(text), false),
            "error: Division by zero: 1 / 0\n --> t.rhai:2:7\n  |\n2 |     n / 0\n  |       ^\n"
        );
    }

    #[test]
    fn thrown_maps_show_their_message_and_colour_is_ansi() {
        let text = "throw #{kind: \"x\", message: \"bad thing\"}";
        let e = rt().eval(text).unwrap_err();
        let plain = render_error(&e, &src(text), false);
        assert!(plain.starts_with("error: bad thing\n --> t.rhai:1:1\n"), "{plain}");
        let coloured = render_error(&e, &src(text), true);
        assert!(coloured.contains("\x1b[1;31merror\x1b[0m") && coloured.contains("\x1b[1;31m^\x1b[0m"));
    }

    #[test]
    fn tabs_keep_the_caret_aligned() {
        let text = "\tlet x = nope;";
        let e = rt().eval(text).unwrap_err();
        assert!(render_error(&e, &src(text), false).ends_with("1 | \tlet x = nope;\n  | \t        ^\n"));
    }

    #[test]
    fn arrays_of_maps_are_tables() {
        let v = rt().eval(r#"[#{id: 1, name: "a"}, #{id: 22, name: "bb", extra: true}]"#).unwrap();
        assert_eq!(render_value(&v, false), "id  name  extra\n--  ----  -----\n1   a\n22  bb    true\n");
        let v = rt().eval(r#"#{id: 1, long_name: "x"}"#).unwrap();
        assert_eq!(render_value(&v, false), "id:         1\nlong_name:  x\n");
        assert_eq!(render_value(&rt().eval("()").unwrap(), false), "");
        assert_eq!(render_value(&rt().eval("\"hi\"").unwrap(), false), "hi\n");
    }

    #[test]
    fn json_is_tagged() {
        let v = rt().eval(r#"#{d: date("2027-01-31"), n: 1.5, s: days(2), u: ()}"#).unwrap();
        assert_eq!(
            render_value(&v, true),
            "{\n  \"d\": {\"$datetime\": \"20270131T00:00:00\"},\n  \"n\": 1.5,\n  \"s\": \"P2D\",\n  \"u\": null\n}\n"
        );
    }
}
