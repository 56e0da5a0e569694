//! How results, plans and script errors are shown.
//!
//! - [`render_value`]: the value of a script, readably (an array of maps is a table fitted to
//!   the terminal, a map is one `key: value` line per member, a string is bare), or with
//!   `--json` as plain JSON ([`to_result_json`]: dates in RFC 3339 with the zone's offset,
//!   durations as ISO 8601 strings).
//! - [`to_tagged_value`]: the tagged JSON of [`xmlrpc::json`](crate::xmlrpc::json)
//!   (`{"$datetime": …}`, `{"$base64": …}`), which `gandish call` reads and prints so that its
//!   output can be sent back as arguments.
//! - [`render_plan`]: the calls a dry run would have made.
//! - [`render_error`]: a script error like rustc does: `error: message`, then
//!   `--> file:line:col`, the source line and a caret under the column; coloured on request.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use rhai::{Array, Blob, Dynamic, EvalAltResult, ImmutableString, Map, Position};

use crate::script::display::to_display;
use crate::script::{Date, Error, PlanEntry, Span, Zone};
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

/// A date in RFC 3339 with the offset `zone` has at that moment (`2027-01-31T00:00:00+01:00`;
/// `Z` when the offset is zero), the form JSON results and reports give, which `jq`, JavaScript
/// and most libraries read as an instant.
pub fn rfc3339(d: &Date, zone: &Zone) -> String {
    let offset = zone.offset_seconds(d.to_unix(zone)) / 60;
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    );
    if offset == 0 {
        out.push('Z');
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.unsigned_abs();
        let _ = write!(out, "{sign}{:02}:{:02}", a / 60, a % 60);
    }
    out
}

/// The script value as plain JSON, for `--json` results and `--report` files: maps become
/// objects, arrays arrays, `()` null; dates RFC 3339 strings in `zone` ([`rfc3339`]), durations
/// ISO 8601 strings (`P30D`), blobs base64 strings; a float JSON cannot carry (NaN, infinities)
/// null; what else JSON has no form for (function pointers, host types) its display string.
/// Nothing is tagged: this is for reading, where `gandish call`'s tagged form is for sending
/// back.
pub fn to_result_json(v: &Dynamic, zone: &Zone) -> serde_json::Value {
    crate::script::display::to_json_with(v, &|d| rfc3339(d, zone))
}

/// [`to_result_json`] as pretty text with a trailing newline.
pub fn to_result_text(v: &Dynamic, zone: &Zone) -> String {
    let mut s = serde_json::to_string_pretty(&to_result_json(v, zone)).unwrap_or_else(|e| format!("\"{e}\""));
    s.push('\n');
    s
}

/// How [`render_value`] shows a value.
#[derive(Clone, Debug)]
pub struct Render {
    /// Plain JSON ([`to_result_json`]) instead of text.
    pub json: bool,
    /// The zone dates are read in: JSON dates carry its offset.
    pub zone: Zone,
    /// The width, in columns, that tables are fitted to; `None` fits nothing (as when stdout is
    /// not a terminal: a file or a pipe gets every column in full).
    pub width: Option<usize>,
}

impl Render {
    /// For output on this process's stdout: fitted to [`stdout_width`].
    pub fn stdout(json: bool, zone: Zone) -> Render {
        Render { json, zone, width: if json { None } else { stdout_width() } }
    }
}

/// The width tables on stdout are fitted to: none when stdout is not a terminal; else
/// `COLUMNS` when it holds a positive number (as `ls` and `git` honour it), else the
/// terminal's own width.
pub fn stdout_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok());
    columns.filter(|n| *n > 0).or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
}

/// How a script's value is printed: plain JSON if `how.json`, else readably (see the module
/// docs). `()` prints nothing in text mode, `null` in JSON. The text ends with a newline unless
/// it is empty.
pub fn render_value(v: &Dynamic, how: &Render) -> String {
    if how.json {
        return to_result_text(v, &how.zone);
    }
    if v.is_unit() {
        return String::new();
    }
    let mut out = if let Some(table) = v.read_lock::<Array>().and_then(|a| table_of(&a, None, how.width)) {
        table
    } else if let Some(report) = v.read_lock::<Map>().and_then(|m| report(&m, how.width)) {
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

/// A value as text for a table cell or a `key: value` line: strings bare, an array as its items
/// separated by `, `, a map as `key=value` pairs separated by spaces (`[#{id: 1}]` shows as
/// `id=1`); nested arrays and maps inside are bracketed (`[a, b]`, `{k=v}`), `()` is empty.
/// Rhai's literal syntax is for scripts; a table is read by people.
pub fn readable(v: &Dynamic) -> String {
    readable_at(v, 0, false)
}

/// `depth` 0 is the cell itself; `in_top_list` says the value is an item of the cell's own
/// array, whose `, ` already separates the items (so a map there needs no braces).
fn readable_at(v: &Dynamic, depth: usize, in_top_list: bool) -> String {
    if depth > MAX_DEPTH {
        return "…".into();
    }
    if v.is_unit() {
        return String::new();
    }
    if let Some(a) = v.read_lock::<Array>() {
        let items: Vec<String> = a.iter().map(|i| readable_at(i, depth + 1, depth == 0)).collect();
        let text = items.join(", ");
        return if depth > 0 { format!("[{text}]") } else { text };
    }
    if let Some(m) = v.read_lock::<Map>() {
        let pairs: Vec<String> =
            m.iter().map(|(k, i)| format!("{k}={}", readable_at(i, depth + 1, false))).collect();
        let text = pairs.join(" ");
        return if depth == 0 || in_top_list { text } else { format!("{{{text}}}") };
    }
    to_display(v)
}

/// One cell: [`readable`], on one line.
fn cell(v: &Dynamic) -> String {
    readable(v).replace(['\n', '\r', '\t'], " ")
}

/// Cuts `s` to `width` characters, the last one `…` when something was cut.
fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = s.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// A report (as the bundled bulk scripts return): a map with `rows` (an array of maps) and a
/// `summary` line, optionally `columns` (the columns to show, in order). Shown as the table of
/// rows followed by the summary; `--json` shows the whole map.
fn report(m: &Map, width: Option<usize>) -> Option<String> {
    let summary = m.get("summary")?.read_lock::<rhai::ImmutableString>()?.to_string();
    let rows = m.get("rows")?.read_lock::<Array>()?.clone();
    let columns: Option<Vec<String>> = m.get("columns").and_then(|c| {
        let a = c.read_lock::<Array>()?;
        a.iter().map(|x| x.clone().into_string().ok()).collect()
    });
    let mut out = if rows.is_empty() { String::new() } else { table_of(&rows, columns, width)? };
    out.push_str(&summary);
    Some(out)
}

/// Columns that lead a table, in this order, when the script does not choose: who a row is
/// (`id`, `name`), then what people scan for first (state, kind, size, where, when it ends).
const FIRST_COLUMNS: &[&str] = &[
    "id",
    "name",
    "fqdn",
    "state",
    "status",
    "ok",
    "outcome",
    "step",
    "type",
    "size",
    "datacenter_id",
    "date_end",
];
/// Columns that close a table: long free text, which would push the others off the screen.
const LAST_COLUMNS: &[&str] = &["error", "errors", "last_error", "message"];

/// The default column order: [`FIRST_COLUMNS`], then the others as first seen (Rhai maps
/// iterate in key order, hence alphabetically), then [`LAST_COLUMNS`].
fn order_columns(columns: &mut [String]) {
    let rank = |c: &String| {
        if let Some(i) = FIRST_COLUMNS.iter().position(|f| f == c) {
            (0, i)
        } else if let Some(i) = LAST_COLUMNS.iter().position(|f| f == c) {
            (2, i)
        } else {
            (1, 0)
        }
    };
    columns.sort_by_key(rank);
}

/// Separates the columns of a table.
const GAP: usize = 2;

/// The narrowest a column is squeezed to before columns are dropped: its content if shorter,
/// else the smaller of its header and 10 characters, and never under 5.
fn min_width(natural: usize, header: &str) -> usize {
    natural.min(header.chars().count().clamp(5, 10))
}

/// Fits the column widths into `width` and returns how many columns are kept. The table keeps
/// the longest run of columns (in order, so the leading ones win) that fits when each is
/// narrowed by at most a third of its width, and narrows the widest of them first: a
/// readable `name` beats an extra column cut to a stub. If not even `id` and `name` fit that way,
/// the columns are narrowed down to [`min_width`], and then dropped from the right. A `whole`
/// column (dates, numbers: a cut one misleads) is never narrowed.
fn fit(widths: &mut [usize], headers: &[String], whole: &[bool], width: usize) -> usize {
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
    let hard: Vec<usize> = (0..widths.len())
        .map(|i| if whole[i] { widths[i] } else { min_width(widths[i], &headers[i]) })
        .collect();
    let soft: Vec<usize> =
        widths.iter().zip(&hard).map(|(w, m)| (*m).max((w * 2).div_ceil(3)).min(*w)).collect();
    let fits_softly = (1..=widths.len()).rev().find(|k| total(&soft[..*k]) <= width).unwrap_or(0);
    let (mins, kept) = if fits_softly >= widths.len().min(2) {
        (soft, fits_softly)
    } else {
        // At least one column stays, however narrow the terminal.
        let kept = (1..=widths.len()).rev().find(|k| total(&hard[..*k]) <= width).unwrap_or(1);
        (hard, kept)
    };
    narrow(&mut widths[..kept], &mins[..kept], width);
    if kept == 1 {
        widths[0] = widths[0].min(width.max(1));
    }
    kept
}

/// Narrows the widest of `widths` one character at a time, none below its minimum, until the
/// row fits `width` or nothing can be narrowed.
fn narrow(widths: &mut [usize], mins: &[usize], width: usize) {
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
    while total(widths) > width {
        // The widest, the left-most of equals.
        let widest =
            (0..widths.len()).filter(|i| widths[*i] > mins[*i]).max_by_key(|i| (widths[*i], usize::MAX - i));
        let Some(i) = widest else { break };
        widths[i] -= 1;
    }
}

/// An array of maps as a table with the given columns (default: every key, in the order of
/// [`order_columns`]), fitted to `width` columns when given ([`fit`]): cells too long for their
/// column end in `…`, and a last line names the columns left out.
fn table_of(rows: &Array, columns: Option<Vec<String>>, width: Option<usize>) -> Option<String> {
    if rows.is_empty() || !rows.iter().all(|r| r.is_map()) {
        return None;
    }
    let given = columns.is_some();
    let mut columns: Vec<String> = columns.unwrap_or_default();
    let maps: Vec<_> = rows.iter().filter_map(|r| r.read_lock::<Map>()).collect();
    if !given {
        for m in &maps {
            for k in m.keys() {
                if !columns.iter().any(|c| c == k.as_str()) {
                    columns.push(k.to_string());
                }
            }
        }
        order_columns(&mut columns);
    }
    let cells: Vec<Vec<String>> = maps
        .iter()
        .map(|m| {
            columns
                .iter()
                .map(|c| truncate(&m.get(c.as_str()).map(cell).unwrap_or_default(), MAX_CELL))
                .collect()
        })
        .collect();
    let natural = |i: usize| {
        cells.iter().map(|r| r[i].chars().count()).chain([columns[i].chars().count()]).max().unwrap_or(0)
    };
    let mut widths: Vec<usize> = (0..columns.len()).map(natural).collect();
    // Columns of dates and numbers only: cutting `2011-10-14T14:36:30` or `1024` misleads.
    let whole: Vec<bool> = columns
        .iter()
        .map(|c| {
            maps.iter()
                .filter_map(|m| m.get(c.as_str()))
                .filter(|v| !v.is_unit())
                .all(|v| v.is::<Date>() || v.is_int() || v.is_float() || v.is_bool())
        })
        .collect();
    let kept = match width {
        Some(w) => fit(&mut widths, &columns, &whole, w),
        None => columns.len(),
    };
    let mut out = String::new();
    let line = |out: &mut String, items: &[String]| {
        let mut l = String::new();
        for (i, item) in items.iter().take(kept).enumerate() {
            if i > 0 {
                l.push_str(&" ".repeat(GAP));
            }
            let _ = write!(l, "{:<w$}", truncate(item, widths[i]), w = widths[i]);
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
    if kept < columns.len() {
        let left = &columns[kept..];
        let note = format!(
            "({} more column{}, shown by --json: {})",
            left.len(),
            if left.len() == 1 { "" } else { "s" },
            left.join(", ")
        );
        out.push_str(&truncate(&note, width.unwrap_or(usize::MAX)));
        out.push('\n');
    }
    Some(out)
}

/// A map as `key: value` lines, keys aligned, values [`readable`]; keys in the order of a
/// table's columns ([`order_columns`]: `id` and `name` first).
fn members(m: &Map) -> String {
    let w = m.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    let mut keys: Vec<String> = m.keys().map(|k| k.to_string()).collect();
    order_columns(&mut keys);
    let mut out = String::new();
    for (k, v) in keys.iter().filter_map(|k| m.get(k.as_str()).map(|v| (k, v))) {
        let _ =
            writeln!(out, "{}", format!("{:<w$}  {}", format!("{k}:"), readable(v), w = w + 1).trim_end());
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

    const TEXT: Render = Render { json: false, zone: Zone::EUROPE_PARIS, width: None };

    fn text_at(width: usize) -> Render {
        Render { width: Some(width), ..TEXT }
    }

    #[test]
    fn arrays_of_maps_are_tables() {
        let v = rt().eval(r#"[#{id: 1, name: "a"}, #{id: 22, name: "bb", extra: true}]"#).unwrap();
        assert_eq!(render_value(&v, &TEXT), "id  name  extra\n--  ----  -----\n1   a\n22  bb    true\n");
        let v = rt().eval(r#"#{a: 2, id: 1, long_name: "x", name: "n"}"#).unwrap();
        assert_eq!(render_value(&v, &TEXT), "id:         1\nname:       n\na:          2\nlong_name:  x\n");
        assert_eq!(render_value(&rt().eval("()").unwrap(), &TEXT), "");
        assert_eq!(render_value(&rt().eval("\"hi\"").unwrap(), &TEXT), "hi\n");
    }

    #[test]
    fn id_and_name_lead_and_errors_close() {
        let v = rt().eval(r#"[#{error: "", id: 1, name: "a", ok: true, zz: 0}]"#).unwrap();
        let head = render_value(&v, &TEXT).lines().next().unwrap().to_string();
        assert_eq!(head, "id  name  ok    zz  error");
        // A report's own columns are kept as given, the others left out.
        let v = rt()
            .eval(r#"#{columns: ["zz", "id"], rows: [#{id: 1, name: "a", zz: 2}], summary: "1 row"}"#)
            .unwrap();
        assert_eq!(render_value(&v, &TEXT), "zz  id\n--  --\n2   1\n1 row\n");
    }

    #[test]
    fn nested_values_read_as_text_not_rhai_literals() {
        let v = rt()
            .eval(r#"[#{id: 1, vhosts: ["a.fr", "b.fr"], ops: [#{id: 7, step: "DONE"}], m: #{k: [1, 2], n: #{x: ()}}}]"#)
            .unwrap();
        let out = render_value(&v, &TEXT);
        let row = out.lines().nth(2).unwrap();
        assert_eq!(row, "1   k=[1, 2] n={x=}  id=7 step=DONE  a.fr, b.fr");
    }

    #[test]
    fn tables_fit_the_width_narrowing_the_widest_then_dropping_columns() {
        let long = "x".repeat(50);
        let v = rt().eval(&format!(r#"[#{{id: 1, name: "{long}", size: "m", type: "phpmysql"}}]"#)).unwrap();
        let out = render_value(&v, &text_at(60));
        assert!(out.lines().all(|l| l.chars().count() <= 60), "{out}");
        assert!(out.contains("xxx…  phpmysql  m\n"), "the long name is cut, not the others: {out}");
        let out = render_value(&v, &text_at(40));
        assert!(out.lines().all(|l| l.chars().count() <= 40), "{out}");
        assert!(out.contains("xxx…") && out.contains("\n(2 more columns, shown by --json: "), "{out}");
        // Too many columns for the width even when narrowed: the right-most go, and are named.
        let v = rt()
            .eval(r#"[#{id: 1, name: "n", a_long_header: 1, b_long_header: 2, c_long_header: 3}]"#)
            .unwrap();
        let out = render_value(&v, &text_at(24));
        assert!(out.lines().all(|l| l.chars().count() <= 24), "{out}");
        assert!(out.starts_with("id  name  a_long_header\n"), "{out}");
        assert!(out.contains("more columns"), "{out}");
        // No width (not a terminal): every column in full.
        assert!(render_value(&v, &TEXT).lines().next().unwrap().ends_with("c_long_header"));
    }

    #[test]
    fn json_results_are_plain_with_rfc3339_dates() {
        let v = rt()
            .eval(r#"#{d: date("2027-01-31"), j: date("2027-07-01T12:00:00"), n: 1.5, s: days(2), u: ()}"#)
            .unwrap();
        assert_eq!(
            render_value(&v, &Render { json: true, ..TEXT }),
            "{\n  \"d\": \"2027-01-31T00:00:00+01:00\",\n  \"j\": \"2027-07-01T12:00:00+02:00\",\n  \"n\": 1.5,\n  \"s\": \"P2D\",\n  \"u\": null\n}\n"
        );
        let d = Date::new(2027, 1, 31, 8, 0, 0).unwrap();
        assert_eq!(rfc3339(&d, &Zone::UTC), "2027-01-31T08:00:00Z");
        assert_eq!(rfc3339(&d, &Zone::parse("-05:30").unwrap()), "2027-01-31T08:00:00-05:30");
    }
}
